/**
 * Faults that need more than freezing a server: a listener whose accept queue is full (every
 * further SYN is dropped, so connect() never completes) and a port that refuses.
 * All on 127.0.0.1.
 */
import { Socket, connect } from 'node:net';
import { HOST, freePort } from './ports';
import { startNodeServer } from './servers';

/** A listening port that drops SYNs. */
export interface DroppingPort {
  readonly port: number;
  stop(): Promise<void>;
}

function tryConnect(port: number, withinMs: number): Promise<{ socket: Socket; connected: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    socket.on('error', () => {});
    const timer = setTimeout(() => resolve({ socket, connected: false }), withinMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, connected: true });
    });
  });
}

/**
 * A Node listener with backlog 1 in its own process, SIGSTOPped so it never accepts, its accept
 * queue then filled from here. Linux keeps backlog + 1 completed connections queued; once the
 * queue is full, tcp_conn_request() drops further SYNs (net.ipv4.tcp_abort_on_overflow=0, the
 * default), and the client retransmits its SYN for about two minutes before connect() fails.
 */
export async function fullAcceptQueue(): Promise<DroppingPort> {
  const server = await startNodeServer('backlog');
  server.freeze();
  const sockets: Socket[] = [];
  const stop = async () => {
    for (const s of sockets) s.destroy();
    await server.stop();
  };
  try {
    for (let i = 0; i < 12; i++) {
      const { socket, connected } = await tryConnect(server.port, 300);
      sockets.push(socket);
      if (connected) continue;
      // A busy test process can miss a connect for 300 ms: look again before calling it dropped.
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (socket.readyState === 'opening') return { port: server.port, stop };
    }
    throw new Error('accept queue never filled: SYNs are not being dropped');
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A loopback port nothing listens on: connecting to it is refused at once. */
export function refusedPort(): Promise<number> {
  return freePort();
}
