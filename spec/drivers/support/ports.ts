/** Loopback ports for the driver suite: free ones, refused ones, and waiting for a listener. */
import { createServer, connect } from 'node:net';

/** The only host the suite ever talks to. */
export const HOST = '127.0.0.1';

/**
 * A port nothing listens on right now: bind port 0 on loopback, read it, close. The servers
 * that cannot listen on port 0 themselves (redis, memcached, postgres) get one of these, and
 * their launchers retry with another if it was taken in between.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to `port` succeeds; rejects after `withinMs`. */
export async function waitForPort(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${HOST}:${port} after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
