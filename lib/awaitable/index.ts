/**
 * The awaitable socket API: Python's socket contract (blocking, timeout and non-blocking
 * modes; recv, send, sendall, connect_ex, accept, create_connection) as promises on every
 * `net.Socket` and `net.Server`.
 *
 * - `queue.ts`: the per-socket job queues that every call runs through, and their one timer (lib/deadline-timer.ts, shared with the engine);
 * - `checks.ts`: the argument checks;
 * - `recv.ts`: `recv`, `recvInto`;
 * - `send.ts`: `send`, `sendAll`;
 * - `connect.ts`: `connectEx` (with its own waiters) and `createConnection`;
 * - `server.ts`: `accept`, and the connections a server keeps for it;
 * - `hooks.ts`: what the patch installs and calls (the methods, and hooks on every socket and
 *   server), the only part loaded with the patch: it loads this file on the first call.
 *
 * The modes themselves (`setSocketTimeout`, `setBlocking`) are set in lib/patch.ts.
 */
export { type CallOptions } from './checks';
export { recv, recvInto } from './recv';
export { send, sendAll } from './send';
export { connectEx, createConnection, type ConnectExResult, type CreateConnectionOptions } from './connect';
export { ACCEPT_QUEUE_LIMIT, accept, keepForAccept } from './server';
