/**
 * The calling side of the gateway benchmark, in its own process as a plugin would be: makes the
 * parent's calls over the real sockets and reports the timings. Started by gateway.bench.ts.
 */
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadProtocol, type HostApiRequest, type PluginApiResponse } from '../src/protocol/index.ts';
import { TestGatewayClient } from '../test/helpers/gateway-client.ts';

/** The host's unary Invoke: one call, one HTTP/2 stream, as a plugin's CallApi to a host would be. */
type DirectClient = Client & {
  Invoke(
    request: HostApiRequest,
    metadata: Metadata,
    options: object,
    callback: (err: ServiceError | null, response?: PluginApiResponse) => void,
  ): void;
};

/**
 * `gateway`: through the plugin's gateway to the built-in host in the gateway's process;
 * `gateway-remote`: through a gateway to a host over a socket, as an operator's own upstream is.
 */
export type CallPath = 'direct' | 'gateway' | 'gateway-remote';
type GatewayPath = Exclude<CallPath, 'direct'>;

export interface CallerSetup {
  hostAddress: string;
  pluginId: string;
  /** Each gateway's socket, and the session token the plugin registered there. */
  gateways: Record<GatewayPath, { socket: string; token: string }>;
}

export type CallerCommand =
  | { kind: 'sequential'; path: CallPath; calls: number }
  | { kind: 'concurrent'; path: CallPath; calls: number; concurrency: number };

/** Latencies of sequential calls, or the wall time of concurrent ones (ms). */
export type CallerAnswer = { latencies: number[]; elapsedMs: number } | { error: string };

const DEADLINE_MS = 10_000;

function connect(setup: CallerSetup): Record<CallPath, () => Promise<void>> & { close(): void } {
  const payload = {};
  const clients: TestGatewayClient[] = [];
  const viaGateway = (path: GatewayPath) => {
    const { socket, token } = setup.gateways[path];
    const client = new TestGatewayClient(socket);
    clients.push(client);
    return async () => {
      const r = await client.callApi('get_courses', payload, token);
      if (r.code !== 'OK') throw new Error(`${path} call failed: ${r.code} ${r.message}`);
    };
  };
  const { HostService } = loadProtocol();
  const direct = new HostService(setup.hostAddress, credentials.createInsecure()) as unknown as DirectClient;
  const request = { tenant: 'bench', plugin_id: setup.pluginId, instance_id: 'bench', api_name: 'get_courses' };
  return {
    gateway: viaGateway('gateway'),
    'gateway-remote': viaGateway('gateway-remote'),
    // The same work on the caller's side as on the gateway path (TestGatewayClient): the payload
    // encoded per call, and the answer decoded.
    direct: () =>
      new Promise((resolve, reject) =>
        direct.Invoke(
          { ...request, payload: Buffer.from(JSON.stringify(payload)) },
          new Metadata(),
          { deadline: Date.now() + DEADLINE_MS },
          (err, response) => {
            if (err || !response) return reject(err ?? new Error('direct call: no answer'));
            JSON.parse(response.result.toString('utf8'));
            return resolve();
          },
        ),
      ),
    close: () => {
      for (const client of clients) client.close();
      direct.close();
    },
  };
}

async function run(paths: Record<CallPath, () => Promise<void>>, command: CallerCommand): Promise<CallerAnswer> {
  const call = paths[command.path];
  const started = performance.now();
  if (command.kind === 'sequential') {
    const latencies: number[] = [];
    for (let i = 0; i < command.calls; i++) {
      const t0 = performance.now();
      await call();
      latencies.push(performance.now() - t0);
    }
    return { latencies, elapsedMs: performance.now() - started };
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: command.concurrency }, async () => {
      while (next++ < command.calls) await call();
    }),
  );
  return { latencies: [], elapsedMs: performance.now() - started };
}

if (process.send) {
  const setup = JSON.parse(process.argv[2] ?? '{}') as CallerSetup;
  const paths = connect(setup);
  process.on('message', (command: CallerCommand | 'stop') => {
    if (command === 'stop') {
      paths.close();
      process.disconnect();
      return;
    }
    run(paths, command).then(
      (answer) => process.send?.(answer),
      (err: unknown) => process.send?.({ error: (err as Error).message }),
    );
  });
}
