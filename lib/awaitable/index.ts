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
 * - `server.ts`: `accept`, and the hooks the patch calls on servers.
 *
 * The modes themselves (`setSocketTimeout`, `setBlocking`) are set in lib/patch.ts.
 */
export { type CallOptions } from './checks';
export { recv, recvInto } from './recv';
export { onSocketDestroy, send, sendAll } from './send';
export { connectEx, createConnection, type ConnectExResult, type CreateConnectionOptions } from './connect';
export { ACCEPT_QUEUE_LIMIT, accept, onServerConnection, onServerListenEvent, onServerListenState } from './server';
