import type { DockerSandboxRuntime } from '../../sandbox/index.ts';

/**
 * The plugin container's memory high-water mark and process count, sampled before each container goes
 * (docker stats). Where the engine keeps a high-water mark (cgroup v1) it covers the container's
 * whole life; otherwise the highest sample is reported as such.
 */
export class UsageSampler {
  peakBytes = 0;
  highWaterMark = false;
  maxPids = 0;
  samples = 0;
  private readonly runtime: DockerSandboxRuntime;

  constructor(runtime: DockerSandboxRuntime) {
    this.runtime = runtime;
  }

  async sample(containerId: string | null): Promise<void> {
    if (!containerId) return;
    // A container gone between the status and the request has nothing left to measure.
    const usage = await this.runtime.usage(containerId).catch(() => undefined);
    if (!usage) return;
    this.samples++;
    this.peakBytes = Math.max(this.peakBytes, usage.memoryPeakBytes ?? usage.memoryBytes);
    this.highWaterMark ||= usage.memoryPeakBytes !== null;
    this.maxPids = Math.max(this.maxPids, usage.pids);
  }
}
