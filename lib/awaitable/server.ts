/**
 * The server side: `accept()`, and the connections a server with no `'connection'` listener
 * keeps for it (accepted sockets inherit the server's mode). The hooks the patch calls around a
 * server's 'connection', `listen()` and `close()` are in hooks.ts, which loads with the patch.
 */
import * as net from 'node:net';
import { type InternalSocket } from '../engine';
import { SocketClosedError } from '../errors';
import { resumeReading, stopReading } from '../node-internals';
import { checkOptions, type CallOptions } from './checks';
import { LISTEN_PENDING } from './hooks';
import { Job, run, stateOf, type ServerAwaitState } from './queue';


/**
 * How many connections wait for `accept()` before the server warns. Node offers no way to stop
 * accept(2) on a listening handle (libuv's uv_read_stop is a no-op for listeners and Node's
 * onconnection always accepts), so beyond it connections are still kept, never dropped, but
 * held without reading, and a warning says the application accepts too slowly.
 */
export const ACCEPT_QUEUE_LIMIT = 512;

class AcceptJob extends Job<net.Socket> {
  constructor(
    private readonly server: net.Server,
    signal: AbortSignal | undefined,
  ) {
    super('accept', 'accept', signal);
  }

  attempt(): boolean {
    // Like accept(2), a connection the peer already closed or reset is still handed out: its
    // first recv() tells the caller what happened.
    const socket = stateOf(this.server).arrivals.shift();
    if (socket !== undefined) {
      resumeReading(socket as InternalSocket); // held unread past the queue limit
      return this.resolve(socket);
    }
    if (!this.server.listening && !isStartingToListen(this.server)) {
      return this.reject(new SocketClosedError('accept', 'server is not listening'));
    }
    return false;
  }
}

/**
 * `listen(port, 'localhost')` resolves the host first, so `listening` is false for a moment
 * although the server is on its way: Node has not created the handle yet, and will (or emit
 * 'error'). The patch's listen/close wrappers (through hooks.ts) wake accept() when either settles.
 */
function isStartingToListen(server: net.Server): boolean {
  return (server as unknown as { [LISTEN_PENDING]?: boolean })[LISTEN_PENDING] === true;
}

/**
 * Accepts the next connection. Connections that arrive while the server has no `'connection'`
 * listener are kept for it, so none that came before the call is lost. Timeout mode rejects
 * with `SocketTimeoutError` (`syscall 'accept'`), non-blocking mode with `WouldBlockError`.
 * Accepted sockets start in the server's mode.
 *
 * @example
 * ```ts
 * const server = net.createServer().listen(0);
 * const client = await server.accept();
 * const request = await client.recv(1024);
 * ```
 */
export function accept(this: net.Server, options?: CallOptions): Promise<net.Socket> {
  try {
    const { signal } = checkOptions(options, 'accept');
    const state = stateOf(this);
    if (!state.accepting) {
      state.accepting = true;
      for (const socket of state.arrivals) stateOf(socket);
    }
    return run(this, new AcceptJob(this, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Keeps a connection that arrived at a server with no `'connection'` listener for `accept()`
 * (hooks.ts's onServerConnection, called by the patch, has already given it the server's
 * setting), so none that came before the call is lost.
 */
export function keepForAccept(server: net.Server, socket: net.Socket): void {
  const state = stateOf(server);
  state.arrivals.push(socket);
  if (state.accepting) {
    stateOf(socket); // its errors wait for the call that takes it
  } else {
    // A server nobody has called accept() on yet: the socket behaves exactly as in plain Node
    // (no error listener of ours), and is forgotten once closed so the queue holds no garbage.
    socket.once('close', () => {
      const at = state.arrivals.indexOf(socket);
      if (!state.accepting && at !== -1) state.arrivals.splice(at, 1);
    });
  }
  if (state.arrivals.length > ACCEPT_QUEUE_LIMIT) holdArrival(server, socket, state);
  state.pump('accept');
}

function holdArrival(server: net.Server, socket: net.Socket, state: ServerAwaitState): void {
  stopReading(socket as InternalSocket);
  if (!state.overflowWarned) {
    state.overflowWarned = true;
    const where = JSON.stringify(server.address());
    process.emitWarning(
      `more than ${ACCEPT_QUEUE_LIMIT} connections wait for accept() on server ${where}; they are kept, unread`,
      { code: 'TIMEOUTSOCKET_ACCEPT_QUEUE' },
    );
  }
}
