import type { EventEmitter } from 'node:events';
import { constants as http2, type ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** Pings closer together than the minimum interval that are tolerated before the connection is closed. */
const MAX_PING_STRIKES = 2;
/** What gRPC servers tell a client that pings too often (gRPC keepalive, proposal A8). */
const TOO_MANY_PINGS = Buffer.from('too_many_pings');
/** GOAWAY's last stream id meaning "calls already started may finish". */
const LAST_STREAM_ANY = 2 ** 31 - 1;
/** How long a connection told to go away may take to finish its calls. */
const GOAWAY_GRACE_MS = 1_000;

/**
 * Keepalive enforcement, which grpc-js servers lack: a plugin's HTTP/2 PINGs must be at least
 * `minIntervalMs` apart. Each ping sooner than that is a strike (a ping on time clears them); past
 * MAX_PING_STRIKES the connection gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and is closed,
 * as a C++ or Go gRPC server would do.
 *
 * Call it once the server is bound: it listens for new HTTP/2 sessions on grpc-js's own HTTP/2
 * servers, which grpc-js keeps in a private field, so an upgrade that moves it fails here loudly.
 */
export function enforcePingPolicy(server: Server, minIntervalMs: number, onViolation: () => void): void {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map) || http2Servers.size === 0) {
    throw new Error('cannot police client pings: @grpc/grpc-js no longer keeps its HTTP/2 servers in http2Servers');
  }
  for (const h2 of http2Servers.keys() as Iterable<EventEmitter>) {
    h2.on('session', (session: ServerHttp2Session) => policeSession(session, minIntervalMs, onViolation));
  }
}

function policeSession(session: ServerHttp2Session, minIntervalMs: number, onViolation: () => void): void {
  let lastPing = -Infinity;
  let strikes = 0;
  session.on('ping', () => {
    const now = performance.now();
    strikes = now - lastPing < minIntervalMs ? strikes + 1 : 0;
    lastPing = now;
    if (strikes <= MAX_PING_STRIKES || session.closed) return;
    onViolation();
    session.goaway(http2.NGHTTP2_ENHANCE_YOUR_CALM, LAST_STREAM_ANY, TOO_MANY_PINGS);
    session.close();
    setTimeout(() => session.destroy(), GOAWAY_GRACE_MS).unref();
  });
}
