/**
 * What the density benchmark reads from the machine: each plugin container's memory (cgroup v1 or
 * v2, as `docker stats` counts it: usage less inactive file pages) and CPU throttling under its
 * quota, and a process's RSS and CPU time (/proc/PID), so that the orchestrator and its embedded
 * Redis are measured apart from the benchmark's own process.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { LABELS } from '../src/sandbox/index.ts';

const run = promisify(execFile);
const MIB = 1024 * 1024;
/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

export interface ContainerProbe {
  memoryMib: number;
  /** CFS periods in which the container was throttled, and all its periods, since it started. */
  throttled: number;
  periods: number;
}

function readStat(file: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key && value) stats.set(key, Number(value));
  }
  return stats;
}

function probe(id: string): ContainerProbe | undefined {
  const v1 = `/sys/fs/cgroup/memory/docker/${id}`;
  if (existsSync(v1)) {
    const usage = Number(readFileSync(`${v1}/memory.usage_in_bytes`, 'utf8'));
    const inactive = readStat(`${v1}/memory.stat`).get('total_inactive_file') ?? 0;
    const cpu = readStat(`/sys/fs/cgroup/cpu/docker/${id}/cpu.stat`);
    return {
      memoryMib: (usage - inactive) / MIB,
      throttled: cpu.get('nr_throttled') ?? 0,
      periods: cpu.get('nr_periods') ?? 0,
    };
  }
  for (const v2 of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
    if (!existsSync(v2)) continue;
    const usage = Number(readFileSync(`${v2}/memory.current`, 'utf8'));
    const inactive = readStat(`${v2}/memory.stat`).get('inactive_file') ?? 0;
    const cpu = readStat(`${v2}/cpu.stat`);
    return {
      memoryMib: (usage - inactive) / MIB,
      throttled: cpu.get('nr_throttled') ?? 0,
      periods: cpu.get('nr_periods') ?? 0,
    };
  }
  return undefined;
}

/** Every running container of orchestrator `orchestratorId`, by its plugin id. */
export async function probeContainers(orchestratorId: string): Promise<Map<string, ContainerProbe>> {
  const { stdout } = await run('docker', [
    'ps',
    '--no-trunc',
    '--filter',
    `label=${LABELS.orchestrator}=${orchestratorId}`,
    '--format',
    `{{.ID}} {{.Label "${LABELS.pluginId}"}}`,
  ]);
  const probes = new Map<string, ContainerProbe>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [id, pluginId] = line.split(' ');
    const found = id ? probe(id) : undefined;
    if (found && pluginId) probes.set(pluginId, found);
  }
  return probes;
}

export interface ProcessProbe {
  rssMib: number;
  /** User + system CPU time, seconds. */
  cpuS: number;
}

export function probeProcess(pid: number): ProcessProbe {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  return { rssMib: rssKib / 1024, cpuS };
}

/** The redis-server among the descendants of `pid` (the embedded Redis `up` starts), if any. */
export function findRedis(pid: number): number | undefined {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone since readdir
    }
  }
  const descends = (p: number, depth = 0): boolean =>
    depth < 8 && (parents.get(p) === pid || descends(parents.get(p) ?? 0, depth + 1));
  return [...names].find(([p, name]) => name === 'redis-server' && descends(p))?.[0];
}
