import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './test-orchestrator.ts';

const run = promisify(execFile);

/** Debian's interpreter, which has python3-grpcio (the first python3 on PATH may not). */
const PYTHON = '/usr/bin/python3';
const SPEC_DIR = path.join(REPO_ROOT, 'test/fixtures/spec');
const CLIENTS_DIR = path.join(REPO_ROOT, 'test/fixtures/clients');
const CACHE_DIR = path.join(REPO_ROOT, '.cache/spec-clients');
const BUILD_TIMEOUT_MS = 240_000;

/** What a spec client printed: see test/fixtures/clients/spec_client.py. */
export interface SpecClientReport {
  registered: boolean;
  example: { success: boolean; error_message: string; result: unknown };
  refused: { success: boolean; error_message: string } | null;
  /** The Python client also registers as another plugin on this socket. */
  forged_register?: { success: boolean; message: string };
  events: {
    sent: number;
    received: number;
    stream_open_at_end: boolean;
    stream_ended: string | null;
    timestamps_in_seconds: boolean;
  };
  errors: string[];
}

export type SpecClientKind = 'python' | 'cpp';

/** A command that runs one kind of client, built from the specification's proto alone. */
export interface SpecClient {
  kind: SpecClientKind;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** Builds (once per content, cached under .cache/) the Python and the C++ client. */
export async function buildSpecClients(): Promise<Record<SpecClientKind, SpecClient>> {
  const sources = ['spec_client.py', 'spec_client.cc'].map((f) => readFileSync(path.join(CLIENTS_DIR, f)));
  const hash = createHash('sha256')
    .update(readFileSync(path.join(SPEC_DIR, 'classtop_plugin.proto')))
    .update(Buffer.concat(sources))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(CACHE_DIR, hash);
  if (!existsSync(path.join(dir, 'done'))) await build(dir);
  return {
    python: {
      kind: 'python',
      command: PYTHON,
      args: [path.join(CLIENTS_DIR, 'spec_client.py')],
      env: { ...process.env, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' },
    },
    cpp: { kind: 'cpp', command: path.join(dir, 'spec_client'), args: [], env: process.env },
  };
}

async function build(dir: string): Promise<void> {
  const work = `${dir}.tmp-${process.pid}`;
  mkdirSync(work, { recursive: true });
  const options = { cwd: work, timeout: BUILD_TIMEOUT_MS };
  const proto = ['-I', SPEC_DIR, 'classtop_plugin.proto'];
  await run(PYTHON, ['-m', 'grpc_tools.protoc', '--python_out=.', '--grpc_python_out=.', ...proto], options);
  const { stdout: plugin } = await run('sh', ['-c', 'command -v grpc_cpp_plugin']);
  await run('protoc', ['--cpp_out=.', '--grpc_out=.', `--plugin=protoc-gen-grpc=${plugin.trim()}`, ...proto], options);
  // gRPC 1.51's CMake files are broken on Debian; pkg-config finds it.
  const { stdout: flags } = await run('pkg-config', ['--cflags', '--libs', 'grpc++', 'protobuf']);
  const sources = [path.join(CLIENTS_DIR, 'spec_client.cc'), 'classtop_plugin.pb.cc', 'classtop_plugin.grpc.pb.cc'];
  await run(
    'g++',
    ['-std=c++17', '-O1', '-I.', '-o', 'spec_client', ...sources, ...flags.trim().split(/\s+/), '-lpthread'],
    options,
  );
  await run('touch', ['done'], options);
  renameSync(work, dir);
}

/** Runs a client to the end (bounded by `timeoutMs`) and parses its report. */
export function runSpecClient(client: SpecClient, args: string[], timeoutMs: number): Promise<SpecClientReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(client.command, [...client.args, ...args], { env: client.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as SpecClientReport);
      } catch {
        reject(new Error(`${client.kind} client ended (${code ?? signal}) without a report:\n${stdout}\n${stderr}`));
      }
    });
  });
}
