import type { EventEmitter } from 'node:events';
import { constants as http2, type ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** Pings too soon tolerated before the connection is closed (gRPC's default max_ping_strikes). */
const MAX_PING_STRIKES = 2;
/**
 * With no call open, a ping is too soon within this long of the last: gRPC core's rule when the
 * server does not permit keepalive without calls (a client pings without calls only when told to).
 */
const IDLE_MIN_PING_INTERVAL_MS = 2 * 60 * 60 * 1_000;
/** An HTTP/2 PING frame: a 9-byte frame header and 8 bytes of payload. */
const PING_FRAME_BYTES = 17;
/** An HTTP/2 SETTINGS acknowledgement: a frame header alone. */
const SETTINGS_ACK_BYTES = 9;
/**
 * What the gateway writes between two pings when it sends nothing else: its acknowledgement of
 * the earlier ping, and at most one keepalive ping of its own. Any HEADERS or DATA frame on top
 * makes the difference larger.
 */
const PING_ONLY_BYTES = 2 * PING_FRAME_BYTES;
/** What gRPC servers tell a client that pings too often (gRPC keepalive, proposal A8). */
const TOO_MANY_PINGS = Buffer.from('too_many_pings');
/** GOAWAY's last stream id meaning "calls already started may finish". */
const LAST_STREAM_ANY = 2 ** 31 - 1;
/** How long a connection told to go away may take to finish its calls. */
const GOAWAY_GRACE_MS = 1_000;

/**
 * Keepalive enforcement, which grpc-js servers lack, by gRPC core's and grpc-go's rules: a ping
 * sooner than `minIntervalMs` after the previous one (two hours when no call is open) is a strike,
 * and past MAX_PING_STRIKES the connection gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings". Sending
 * headers or data clears the strikes, as those servers do: a stock gRPC-core client (C++, Python)
 * sends a BDP ping whenever data arrives, and no more than two pings until it has received more
 * data, so only a client that pings without being answered with data is ever closed.
 *
 * Node's HTTP/2 session reports no frames sent, so "headers or data sent" is read off the bytes
 * written on the connection since the previous ping: more than the control frames the client can
 * make us write account for (ping and SETTINGS acknowledgements, one keepalive ping of ours), so
 * a client cannot clear its strikes by making us acknowledge something.
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
  let openStreams = 0;
  session.on('stream', (stream: EventEmitter) => {
    openStreams++;
    stream.once('close', () => openStreams--);
  });
  let lastPing = -Infinity;
  let strikes = 0;
  let writtenAtLastPing = 0;
  let settingsAcked = 0;
  session.on('remoteSettings', () => settingsAcked++);
  session.on('ping', () => {
    const written = session.socket?.bytesWritten ?? 0;
    if (written - writtenAtLastPing > PING_ONLY_BYTES + settingsAcked * SETTINGS_ACK_BYTES) {
      lastPing = -Infinity;
      strikes = 0;
    }
    writtenAtLastPing = written;
    settingsAcked = 0;
    const now = performance.now();
    const allowedMs = openStreams > 0 ? minIntervalMs : IDLE_MIN_PING_INTERVAL_MS;
    if (now - lastPing < allowedMs) strikes++;
    lastPing = now;
    if (strikes <= MAX_PING_STRIKES || session.closed) return;
    onViolation();
    session.goaway(http2.NGHTTP2_ENHANCE_YOUR_CALM, LAST_STREAM_ANY, TOO_MANY_PINGS);
    session.close();
    setTimeout(() => session.destroy(), GOAWAY_GRACE_MS).unref();
  });
}
