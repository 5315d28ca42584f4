/**
 * The awaitable API as the patch installs it: the methods it puts on every socket and server,
 * and the hooks it calls around every socket's destroy and every server's connection, listen
 * and close. This file is all of lib/awaitable/ that loads with the patch; the rest (the job
 * queues, the calls, their checks) loads on the first awaitable call, or when a server with no
 * `'connection'` listener keeps a connection for `accept()`.
 *
 * Why: the preload (`-r timeoutsocket/register`) must cost little at start-up, and most
 * processes that preload it never make an awaitable call. The hooks run for every socket, so
 * they answer from the socket alone while no call has been made on it: an awaitable state
 * exists on a socket or server ({@link AWAIT}) only once a call was made, and by then the rest
 * of the API is loaded (by this copy of the package or another: the symbol is a registry symbol).
 *
 * The methods forward to the real ones with the same `this` and arguments, so they behave, throw
 * and reject exactly as those do (each real one is documented in its own file: recv.ts, send.ts,
 * connect.ts, server.ts).
 */
import type * as net from 'node:net';
import { SETTING, type InternalSocket } from '../engine';
import type * as Awaitable from './index';
import type { AwaitState, ServerAwaitState, SocketAwaitState } from './queue';

/** Where a socket or server keeps its awaitable state (a registry symbol: shared by every copy of the package). */
export const AWAIT = Symbol.for('timeoutsocket.await.v1');

/** Set on a server while a `listen()` is on its way (see `isStartingToListen` in server.ts). */
export const LISTEN_PENDING = Symbol.for('timeoutsocket.listenPending.v1');

/** A socket or server as the hooks see it. */
type Marked = { [AWAIT]?: AwaitState; [LISTEN_PENDING]?: boolean };

/** What the methods and hooks call in the rest of the API. */
type Api = Pick<typeof Awaitable, 'recv' | 'recvInto' | 'send' | 'sendAll' | 'connectEx' | 'accept' | 'keepForAccept'>;

let api: Api | undefined;

/**
 * The rest of the awaitable API, loaded on first use. Its functions are copied into a plain
 * object once: index.ts re-exports them, and TypeScript compiles a re-export to a getter on the
 * module's exports object, so reading one there costs a generic property lookup and a getter
 * call on every call (about 300 instructions per round trip of `sendAll` and `recv`).
 */
function awaitable(): Api {
  if (api === undefined) {
    const loaded = require('./index') as typeof Awaitable;
    api = {
      recv: loaded.recv,
      recvInto: loaded.recvInto,
      send: loaded.send,
      sendAll: loaded.sendAll,
      connectEx: loaded.connectEx,
      accept: loaded.accept,
      keepForAccept: loaded.keepForAccept,
    };
  }
  return api;
}

// The methods. `apply(this, arguments)`: the real method gets exactly the arguments given
// (connectEx tells its forms apart by them), and V8 forwards `arguments` without an array.

/** `socket.recv(n, options?)`: see lib/awaitable/recv.ts. */
export function recv(this: net.Socket, n: number, options?: Awaitable.CallOptions): Promise<Buffer> {
  return awaitable().recv.apply(this, arguments as unknown as [number, Awaitable.CallOptions?]);
}

/** `socket.recvInto(buffer, options?)`: see lib/awaitable/recv.ts. */
export function recvInto(this: net.Socket, buffer: Uint8Array, options?: Awaitable.CallOptions): Promise<number> {
  return awaitable().recvInto.apply(this, arguments as unknown as [Uint8Array, Awaitable.CallOptions?]);
}

/** `socket.send(data, options?)`: see lib/awaitable/send.ts. */
export function send(this: net.Socket, data: Buffer | Uint8Array | string, options?: Awaitable.CallOptions): Promise<number> {
  return awaitable().send.apply(this, arguments as unknown as [Buffer | Uint8Array | string, Awaitable.CallOptions?]);
}

/** `socket.sendAll(data, options?)`: see lib/awaitable/send.ts. */
export function sendAll(this: net.Socket, data: Buffer | Uint8Array | string, options?: Awaitable.CallOptions): Promise<void> {
  return awaitable().sendAll.apply(this, arguments as unknown as [Buffer | Uint8Array | string, Awaitable.CallOptions?]);
}

/** `socket.connectEx(...)`: see lib/awaitable/connect.ts. */
export function connectEx(this: net.Socket, ...args: unknown[]): Promise<Awaitable.ConnectExResult> {
  return awaitable().connectEx.apply(this, args);
}

/** `server.accept(options?)`: see lib/awaitable/server.ts. */
export function accept(this: net.Server, options?: Awaitable.CallOptions): Promise<net.Socket> {
  return awaitable().accept.apply(this, arguments as unknown as [Awaitable.CallOptions?]);
}

// The hooks.

/**
 * Called by the patch when a socket is destroyed, before its handle closes: a `sendAll` in flight
 * takes the kernel's count then, the last moment it can be read (see `bytesSent` in send.ts).
 */
export function onSocketDestroy(socket: net.Socket): void {
  ((socket as Marked)[AWAIT] as SocketAwaitState | undefined)?.noteDestroy();
}

/**
 * Called by the patch around `server.listen()` (`pending`) and `server.close()`: wakes pending
 * accept() calls when the listen settles or the server closes.
 */
export function onServerListenState(server: net.Server, pending: boolean): void {
  const marked = server as Marked;
  if (pending) {
    // No listener of ours: an 'error' listener would swallow EADDRINUSE for a server that has
    // none. The patch's emit wrapper reports 'listening' and 'error' through onServerListenEvent.
    if (!server.listening) marked[LISTEN_PENDING] = true;
    // A server nobody listens to keeps its connections for accept(): the API loads now, while
    // the application starts it, not at its first connection (a module sandbox such as Jest's
    // may be torn down by then, and nothing may load).
    if (server.listenerCount('connection') === 0) awaitable();
    return;
  }
  marked[LISTEN_PENDING] = false;
  marked[AWAIT]?.pump('accept');
}

/** A server emitted 'listening' or 'error': a listen that was on its way has settled. */
export function onServerListenEvent(server: net.Server): void {
  const marked = server as Marked;
  if (marked[LISTEN_PENDING] !== true) return;
  marked[LISTEN_PENDING] = false;
  const state = marked[AWAIT] as ServerAwaitState | undefined;
  if (state !== undefined) queueMicrotask(() => state.pump('accept'));
}

/**
 * Called by the patch for each `'connection'` a server emits: the socket inherits the server's
 * setting, and with nobody listening it waits for `accept()` (server.ts keeps it). Returns true
 * when it was kept.
 */
export function onServerConnection(server: net.Server, socket: net.Socket): boolean {
  const setting = (server as InternalSocket & net.Server)[SETTING];
  if (setting !== undefined) (socket as InternalSocket)[SETTING] = setting;
  if (server.listenerCount('connection') > 0) return false;
  awaitable().keepForAccept(server, socket);
  return true;
}
