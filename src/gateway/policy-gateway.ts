import { status as GrpcStatus, type sendUnaryData, type Server } from '@grpc/grpc-js';
import { loadProtocol, shutdownServer, type PluginRegisterRequest } from '../protocol/index.ts';
import { callApiHandler } from './call-api-handler.ts';
import { CallPipeline } from './call-pipeline.ts';
import { callStreamHandler, MAX_CALL_STREAMS } from './call-stream-handler.ts';
import { DecisionRecorder } from './decision-recorder.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { bindGateway, createGatewayServer } from './gateway-transport.ts';
import { registerHandler } from './register-handler.ts';
import { OpenStreams } from './stream-slots.ts';
import { subscribeEventsHandler } from './subscribe-events-handler.ts';
import { VerifiedSession } from './verified-session.ts';

const SHUTDOWN_GRACE_MS = 2_000;
const TOO_MANY_PINGS_REASON = 'the plugin pinged more often than minPingIntervalMs allows; its connection was closed';

/**
 * The policy gateway of one plugin instance: a gRPC server on a unix socket in that instance's
 * socket directory, so every call's identity is the socket it arrived on. It serves Register,
 * CallApi, CallStream and SubscribeEvents; every call but Register needs this socket's session
 * token. This class wires the parts: transport, admission (in the call pipeline and the stream
 * slots), one handler per RPC, and the decision recorder every part reports to.
 */
export class PolicyGateway {
  private readonly options: GatewayOptions;
  private readonly server: Server;
  private readonly decisions: DecisionRecorder;
  private readonly calls: CallPipeline;
  private registeredResolve!: (request: PluginRegisterRequest) => void;
  /** Settles when the plugin has registered on this socket. */
  readonly registered: Promise<PluginRegisterRequest>;
  private closing: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    this.options = options;
    const log = options.log.child({ component: 'gateway' });
    this.registered = new Promise((resolve) => (this.registeredResolve = resolve));
    const { identity, metrics, limits, manifest } = options;
    this.decisions = new DecisionRecorder({ identity, metrics, audit: options.audit, log });
    const session = new VerifiedSession(options.tokens, identity);
    this.calls = new CallPipeline(options, session, this.decisions);
    const slots = (rpc: string, max: number, kind: string) =>
      new OpenStreams({
        rpc,
        max,
        kind,
        pluginId: manifest.id,
        gauge: metrics.activeStreams.labels({ tenant: identity.tenant, plugin: identity.pluginId, rpc }),
        session,
        decisions: this.decisions,
      });
    this.server = createGatewayServer(limits, (rpc, failure, started) =>
      this.decisions.decided(rpc, failure.code, started, failure.message),
    );
    this.server.addService(loadProtocol().PluginService.service, {
      Register: registerHandler({
        options,
        decisions: this.decisions,
        log,
        registered: (request) => this.registeredResolve(request),
      }),
      CallApi: callApiHandler(this.calls),
      CallStream: callStreamHandler(this.calls, slots('CallStream', MAX_CALL_STREAMS, 'call streams')),
      SubscribeEvents: subscribeEventsHandler({
        options,
        streams: slots('SubscribeEvents', limits.maxStreams, 'event streams'),
        log,
      }),
      Lifecycle: (_call: unknown, callback: sendUnaryData<never>) =>
        callback({ code: GrpcStatus.UNIMPLEMENTED, details: 'Lifecycle is served by the plugin, not by the gateway' }),
    });
  }

  /** Serves on the unix socket `socketPath`, reachable by the sandbox's user. */
  listen(socketPath: string): Promise<void> {
    return bindGateway(this.server, socketPath, this.options.limits.minPingIntervalMs, () =>
      this.decisions.decided('keepalive', 'RATE_LIMIT_EXCEEDED', performance.now(), TOO_MANY_PINGS_REASON),
    );
  }

  close(): Promise<void> {
    this.closing ??= shutdownServer(this.server, SHUTDOWN_GRACE_MS).then(() => this.calls.close());
    return this.closing;
  }
}
