import type { Server } from '@grpc/grpc-js';

/** Lets calls in progress finish for up to `graceMs`, then cuts the rest (open streams). */
export function shutdownServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
