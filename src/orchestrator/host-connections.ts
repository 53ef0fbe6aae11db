import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import { LocalUpstream, UpstreamHost, type Upstream, type UpstreamTls } from '../upstream/index.ts';
import { HostServer } from '../host/index.ts';
import type { Logger } from '../logging/index.ts';

const HOST_SOCKET = 'host.sock';

/**
 * The hosts the gateways call: the default one (the built-in host, started here, or the one at
 * `upstream.address`) and a tenant's own where it has one. Closed together at stop.
 */
export class HostConnections {
  private readonly config: SandboxConfig;
  private readonly log: Logger;
  private host: HostServer | undefined;
  /** Every host reached over gRPC, the default's and the tenants' own. */
  private readonly remoteHosts: UpstreamHost[] = [];
  private readonly byTenant = new Map<string, Upstream>();
  private fallback: Upstream | undefined;

  constructor(config: SandboxConfig, log: Logger) {
    this.config = config;
    this.log = log;
  }

  /** Starts the built-in host (unless an upstream is configured) and opens each tenant's own channel. */
  async open(redis: Redis): Promise<void> {
    this.fallback = await this.startDefault(redis);
    for (const tenant of this.config.tenants) {
      if (tenant.upstream) this.byTenant.set(tenant.id, this.remoteHost(tenant.upstream.address, tenant.upstream.tls));
    }
  }

  /** The host a tenant's calls go to: its own, or the default one. */
  upstreamFor(tenant: TenantConfig): Upstream {
    const upstream = this.byTenant.get(tenant.id) ?? this.fallback;
    if (!upstream) throw new Error(`no host for tenant '${tenant.id}': the host connections are not open yet`);
    return upstream;
  }

  async close(): Promise<void> {
    for (const host of this.remoteHosts) host.close();
    await this.host?.close();
  }

  /**
   * The host gateways call by default: the one at `upstream.address`, or when that is `builtin`,
   * the built-in host, started here. Gateways reach it in this process; it also serves on a socket,
   * for other orchestrator processes and tools.
   */
  private async startDefault(redis: Redis): Promise<Upstream> {
    if (this.config.upstream.address !== 'builtin') return this.remoteHost(this.config.upstream.address);
    this.host = new HostServer(redis, this.log);
    const socketDir = path.join(this.config.runtimeDir, this.config.orchestratorId);
    await mkdir(socketDir, { recursive: true, mode: 0o711 });
    await this.host.listen(`unix://${path.join(socketDir, HOST_SOCKET)}`);
    return new LocalUpstream(this.host);
  }

  private remoteHost(address: string, tls?: UpstreamTls): UpstreamHost {
    const host = new UpstreamHost(address, tls);
    this.remoteHosts.push(host);
    return host;
  }
}
