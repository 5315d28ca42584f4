/**
 * Install and uninstall: the only code that touches `net.Socket.prototype` and
 * `net.Server.prototype`.
 *
 * Patching the prototypes (not replacing the exported classes) is what reaches every socket:
 * `net.connect()`, http's Agent, `tls.connect()` (TLSSocket inherits from net.Socket) and the
 * server's `onconnection()` all construct through net.js's module-local `Socket` binding.
 */
import * as net from 'node:net';
import { isNonBlocking, normalizeTimeout, type PhaseTimeouts, type TimeoutSetting } from './config';
import {
  armAfterWrite,
  armConnect,
  effectiveTimeouts,
  markNotTcp,
  noteActivity,
  release,
  SETTING,
  shapeAtConnect,
  type InternalSocket,
} from './engine';
import { checkHotPathMethods, HOT_PATH_SOCKET_METHODS, isPipeName, LIFECYCLE_SOCKET_METHODS, WRAPPED_SERVER_METHODS, WRAPPED_SOCKET_METHODS } from './node-internals';
import { matchOnConnect } from './rules/index';
import { adoptServer, keepAliveBeforeConnect, keepAliveForAccepted, keepAliveForOwnSetting, wrapSetKeepAlive } from './keepalive';
import { noteInstall, noteUninstall } from './observe';
import { watchHttpClients } from './protocols/http';
import { quote } from './quote';
import { engageIfDeadline, hotPathWanted, markHotPathOn, runtime, type SavedProperty } from './runtime';
import {
  accept,
  connectEx,
  onServerConnection,
  onServerListenEvent,
  onServerListenState,
  onSocketDestroy,
  recv,
  recvInto,
  send,
  sendAll,
} from './awaitable/hooks';
import type { CallOptions, ConnectExResult } from './awaitable';
import { ADDED_METHODS, ADDED_SOCKET_METHODS } from './lazy-install';

/** The methods the patch adds to every socket. */
export interface TimeoutSocketMethods {
  /**
   * Sets this socket's deadlines, overriding the process default: `null` for none, a number
   * of milliseconds for every phase, or `{ connect?, read?, write? }`.
   * @example
   * ```ts
   * socket.setSocketTimeout({ read: 5000 });
   * ```
   */
  setSocketTimeout(setting: TimeoutSetting): this;
  /**
   * This socket's deadlines in force: its own setting, else the rule its destination matched
   * (`TIMEOUTSOCKET_RULES`, merged over the process default), else the process default.
   */
  getSocketTimeout(): PhaseTimeouts;
}

/** The awaitable calls the patch adds to every socket (see lib/awaitable/ for each; lib/awaitable/hooks.ts loads them on first use). */
export interface AwaitableSocketMethods {
  /** Receives up to `n` bytes; an empty Buffer at orderly EOF. */
  recv(n: number, options?: CallOptions): Promise<Buffer>;
  /** Receives into `buffer`; resolves with the count, 0 at orderly EOF. */
  recvInto(buffer: Uint8Array, options?: CallOptions): Promise<number>;
  /** Accepts what fits the free write buffer; resolves with the count. */
  send(data: Buffer | Uint8Array | string, options?: CallOptions): Promise<number>;
  /** Sends everything, or rejects with `bytesSent`. */
  sendAll(data: Buffer | Uint8Array | string, options?: CallOptions): Promise<void>;
  /** Python's connect_ex: `0` or a Node error code string. */
  connectEx(port: number, host?: string, options?: CallOptions): Promise<ConnectExResult>;
  connectEx(options: net.TcpSocketConnectOpts, callOptions?: CallOptions): Promise<ConnectExResult>;
  /** `true` = blocking (`setSocketTimeout(null)`), `false` = non-blocking (`setSocketTimeout(0)`). */
  setBlocking(flag: boolean): this;
  /** `false` only in non-blocking mode. */
  getBlocking(): boolean;
}

/** What the patch adds to every `net.Server`: a mode its accepted sockets inherit, and accept(). */
export interface TimeoutServerMethods {
  /** The server's mode (same shapes as `socket.setSocketTimeout`); bounds accept() and is inherited by accepted sockets. */
  setSocketTimeout(setting: TimeoutSetting): this;
  /** The server's setting in force: its own, else the process default. */
  getSocketTimeout(): PhaseTimeouts;
  /** `true` = blocking, `false` = non-blocking. */
  setBlocking(flag: boolean): this;
  /** `false` only in non-blocking mode. */
  getBlocking(): boolean;
  /** Accepts the next connection. */
  accept(options?: CallOptions): Promise<net.Socket>;
}

declare module 'node:net' {
  interface Socket extends TimeoutSocketMethods, AwaitableSocketMethods {}
  interface Server extends TimeoutServerMethods {}
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** The arguments `connect()` was given, as far as the engine needs them. */
interface ConnectTarget {
  ipc: boolean;
  host: string | undefined;
  port: number | undefined;
}

/**
 * Reads the destination out of `connect()`'s many forms: `(options[, cb])`, `(port[, host][, cb])`,
 * `(path[, cb])`, and the normalized `[options, cb]` array that `net.connect()` passes.
 */
export function connectTarget(args: readonly unknown[]): ConnectTarget {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  if (typeof first === 'object' && first !== null) {
    const options = first as { path?: unknown; port?: unknown; host?: unknown };
    if (options.path !== undefined && options.path !== null) return { ipc: true, host: undefined, port: undefined };
    return { ipc: false, host: hostOf(options.host), port: portOf(options.port) };
  }
  if (isPipeName(first)) return { ipc: true, host: undefined, port: undefined };
  return { ipc: false, host: hostOf(args[1]), port: portOf(first) };
}

function hostOf(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : 'localhost';
}

function portOf(value: unknown): number | undefined {
  // Only numbers and strings: anything else is Node's to reject, with its own error.
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const port = Number(value);
  return Number.isInteger(port) ? port : undefined;
}

function wrapConnect(original: AnyFunction): AnyFunction {
  return function connect(this: unknown, ...args: unknown[]) {
    const socket = this as InternalSocket;
    const target = connectTarget(args);
    if (target.ipc) {
      markNotTcp(socket);
      return original.apply(socket, args);
    }
    // The rule first: the connect deadline armed below may be the rule's, and whether the
    // socket gets a state depends on it.
    matchOnConnect(socket, target.host, target.port);
    shapeAtConnect(socket);
    keepAliveBeforeConnect(socket, args);
    const result = original.apply(socket, args);
    // Armed once connect() has set `connecting` (it calls _unrefTimer() just before, which
    // must not look like a connection that is up); a connect that failed synchronously has
    // already destroyed the socket and gets no deadline.
    armConnect(socket, target.host, target.port);
    return result;
  };
}

/**
 * Node calls `_writeGeneric(writev, data, encoding, cb)` with its four arguments from `_write`,
 * `_writev` and the 'connect' re-run of a parked write (lib/node-internals-methods.ts), so the
 * wrapper takes four and passes them on with `call`: V8 inlines Node's whole write path into it,
 * as it does into `writeOrBuffer` on plain Node, and the engine's work after the write is one
 * call of `armAfterWrite`, which V8 keeps out of line (see there why). A rest parameter and
 * `apply` kept Node's code a separate function, called through V8's varargs forwarding.
 */
function wrapWriteGeneric(original: AnyFunction): AnyFunction {
  return function _writeGeneric(this: unknown, writev: unknown, data: unknown, encoding: unknown, cb: unknown) {
    const result = original.call(this, writev, data, encoding, cb);
    // (writev, data, encoding): the engine looks at the bytes once per connection, or per redis reply window.
    armAfterWrite(this as InternalSocket, writev, data, encoding);
    return result;
  };
}

/**
 * Node calls `_unrefTimer()` on I/O activity, the first time in afterConnect() right after the
 * connection is up (net.js); the engine settles the connect deadline there. Reads reach it
 * too, through `Socket.prototype[kUpdateTimer]`, a getter that returns `this._unrefTimer`.
 */
function wrapUnrefTimer(original: AnyFunction): AnyFunction {
  return function _unrefTimer(this: unknown) {
    noteActivity(this as InternalSocket);
    return original.call(this);
  };
}

function wrapDestroy(original: AnyFunction): AnyFunction {
  // `arguments`, not a rest parameter: once per connection, and V8 forwards
  // `apply(this, arguments)` without building an array (Node calls it as `_destroy(err, cb)`).
  return function _destroy(this: unknown) {
    release(this as InternalSocket);
    onSocketDestroy(this as net.Socket); // while the handle is open: a sendAll in flight reads the kernel's count
    return original.apply(this, arguments as unknown as unknown[]);
  };
}

function setSocketTimeout<T extends net.Socket | net.Server>(this: T, setting: TimeoutSetting): T {
  const timeouts = Object.freeze(normalizeTimeout(setting, 'timeout', { allowNonBlocking: true }));
  engageIfDeadline(timeouts); // a socket's or server's deadline: the per-write wrappers go on (lib/runtime.ts)
  (this as unknown as InternalSocket)[SETTING] = timeouts;
  if (this instanceof net.Socket) keepAliveForOwnSetting(this as unknown as InternalSocket, timeouts.keepAlive);
  return this;
}

function getSocketTimeout(this: net.Socket | net.Server): PhaseTimeouts {
  return { ...effectiveTimeouts(this as unknown as InternalSocket) };
}


/**
 * Python's `setblocking`: `true` is blocking (`setSocketTimeout(null)`), `false` non-blocking
 * (`setSocketTimeout(0)`).
 */
export function setBlocking<T extends net.Socket | net.Server>(this: T, flag: boolean): T {
  if (typeof flag !== 'boolean') throw new TypeError(`setBlocking(flag): flag must be a boolean, got ${quote(flag)}`);
  (this as unknown as InternalSocket)[SETTING] = Object.freeze(normalizeTimeout(flag ? null : 0, 'timeout', { allowNonBlocking: true }));
  return this;
}

/** `false` only in non-blocking mode (timeout mode blocks, for at most the timeout). */
export function getBlocking(this: net.Socket | net.Server): boolean {
  return !isNonBlocking(effectiveTimeouts(this as unknown as InternalSocket));
}

/**
 * Servers emit rarely ('listening', 'connection', 'close', and for http.Server 'request'), so
 * one string comparison here is the cheapest point to see each accepted socket: Node sets
 * `socket.server` and emits 'connection' in onconnection(), with no other hook in between.
 */
function wrapServerEmit(original: AnyFunction): AnyFunction {
  return function emit(this: unknown, event: unknown, socket: unknown) {
    // A connection kept for accept() had no listener: emit() answers false, as plain Node would.
    if (event === 'connection' && socket instanceof net.Socket) {
      keepAliveForAccepted(this as net.Server, socket);
      if (onServerConnection(this as net.Server, socket)) return false;
    }
    if (event === 'listening' || event === 'error') onServerListenEvent(this as net.Server);
    // `arguments`, not a rest parameter: emit runs for every event of every server, and V8
    // forwards `apply(this, arguments)` without building an array for each call.
    return original.apply(this, arguments as unknown as unknown[]);
  };
}

function wrapServerListen(original: AnyFunction): AnyFunction {
  return function listen(this: unknown, ...args: unknown[]) {
    const server = this as net.Server;
    adoptServer(server);
    const result = original.apply(server, args);
    onServerListenState(server, true);
    return result;
  };
}

function wrapServerClose(original: AnyFunction): AnyFunction {
  return function close(this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    onServerListenState(this as net.Server, false); // a pending accept() learns at once, not when the last connection ends
    return result;
  };
}

type Wrap = (original: AnyFunction) => AnyFunction;

/** The wrapper of each Node method the patch wraps (lib/node-internals.ts says what Node does with each). */
const SOCKET_WRAPPERS: Record<(typeof WRAPPED_SOCKET_METHODS)[number], Wrap> = {
  connect: wrapConnect,
  _writeGeneric: wrapWriteGeneric,
  _destroy: wrapDestroy,
  _unrefTimer: wrapUnrefTimer,
  setKeepAlive: wrapSetKeepAlive,
};
const SERVER_WRAPPERS: Record<(typeof WRAPPED_SERVER_METHODS)[number], Wrap> = {
  emit: wrapServerEmit,
  listen: wrapServerListen,
  close: wrapServerClose,
};

/** The methods the patch adds to sockets and servers alike (the lists are lib/lazy-install.ts's). */
const ADDED: Record<(typeof ADDED_METHODS)[number], AnyFunction> = {
  setSocketTimeout: setSocketTimeout as AnyFunction,
  getSocketTimeout: getSocketTimeout as AnyFunction,
  setBlocking: setBlocking as AnyFunction,
  getBlocking: getBlocking as AnyFunction,
};
/** The awaitable methods the patch adds to sockets (the server's one is `accept`). */
const ADDED_TO_SOCKETS: Record<(typeof ADDED_SOCKET_METHODS)[number], AnyFunction> = {
  recv: recv as AnyFunction,
  recvInto: recvInto as AnyFunction,
  send: send as AnyFunction,
  sendAll: sendAll as AnyFunction,
  connectEx: connectEx as AnyFunction,
};

/**
 * What `install()` puts at `key` on `net.Server.prototype` (`server`) or `net.Socket.prototype`:
 * the wrapper of `original` for a wrapped method, the added method otherwise. The register
 * preload's stubs (lib/lazy-install.ts) put it there on their first call.
 */
export function patchedMethod(server: boolean, key: string, original: unknown): unknown {
  const wrap = ((server ? SERVER_WRAPPERS : SOCKET_WRAPPERS) as Record<string, Wrap | undefined>)[key];
  if (wrap !== undefined) {
    if (typeof original !== 'function') throw new TypeError(`net internals changed: ${key} is not a function`);
    return wrap(original as AnyFunction);
  }
  if (server && key === 'accept') return accept;
  const added = (ADDED as Record<string, AnyFunction>)[key] ?? (server ? undefined : (ADDED_TO_SOCKETS as Record<string, AnyFunction>)[key]);
  if (added === undefined) throw new TypeError(`the patch puts nothing at ${key}`);
  return added;
}

/** Replaces `target[key]` with `replacement`, recording the original for uninstall. */
function replace(saved: SavedProperty[], target: object, key: string, replacement: unknown): void {
  saved.push({ target, key, original: Object.getOwnPropertyDescriptor(target, key) });
  Object.defineProperty(target, key, { value: replacement, writable: true, configurable: true, enumerable: false });
}

/** Wraps the method `target[key]` with `wrap(original)`, recording the original for uninstall. */
function wrapMethod(saved: SavedProperty[], target: object, key: string, wrap: Wrap): void {
  const original = (target as Record<string, unknown>)[key];
  if (typeof original !== 'function') throw new TypeError(`net internals changed: ${key} is not a function`);
  replace(saved, target, key, wrap(original as AnyFunction));
}

/**
 * Puts the per-write wrappers (`_writeGeneric`, `_unrefTimer`) on `net.Socket.prototype`,
 * recorded in `saved` (the installed patch's record) for uninstall. Called at install when a
 * deadline is already in force, else by `engageHotPath()` (lib/runtime.ts) when the first one
 * comes into force, from whichever copy of the package sets it.
 */
export function putOnHotPath(saved: SavedProperty[]): void {
  const socketProto = net.Socket.prototype as unknown as Record<string, unknown>;
  // Both or neither: checked first, so a failed engage can be tried again.
  checkHotPathMethods(socketProto);
  for (const key of HOT_PATH_SOCKET_METHODS) wrapMethod(saved, socketProto, key, SOCKET_WRAPPERS[key]);
}

/**
 * Patches `net.Socket.prototype` so every TCP socket in the process gets deadlines. Idempotent,
 * also across two copies of the package in one process: the first install patches, the rest
 * are no-ops. The per-write wrappers go on with the first deadline put in force (at once if one
 * already is): see `engageHotPath` in lib/runtime.ts.
 * @returns `true` if this call patched, `false` if the patch was already in place.
 */
export function install(): boolean {
  const shared = runtime();
  if (shared.patched !== undefined) return false;
  const saved: SavedProperty[] = [];
  const socketProto = net.Socket.prototype;
  for (const key of LIFECYCLE_SOCKET_METHODS) wrapMethod(saved, socketProto, key, SOCKET_WRAPPERS[key]);
  const serverProto = net.Server.prototype;
  for (const key of WRAPPED_SERVER_METHODS) wrapMethod(saved, serverProto, key, SERVER_WRAPPERS[key]);
  for (const key of ADDED_METHODS) {
    replace(saved, socketProto, key, ADDED[key]);
    replace(saved, serverProto, key, ADDED[key]);
  }
  for (const key of ADDED_SOCKET_METHODS) replace(saved, socketProto, key, ADDED_TO_SOCKETS[key]);
  replace(saved, serverProto, 'accept', accept);
  shared.patched = saved;
  if (hotPathWanted(shared)) {
    putOnHotPath(saved);
    markHotPathOn(shared);
  } else shared.engageHotPath = () => putOnHotPath(saved);
  shared.unwatchHttp = watchHttpClients();
  noteInstall(shared.defaults);
  return true;
}

/**
 * Puts back the exact original functions (same identity) and removes the added methods.
 * Deadlines already armed stand down when their timer next fires.
 * @returns `true` if this call uninstalled, `false` if nothing was installed.
 */
export function uninstall(): boolean {
  const shared = runtime();
  const saved = shared.patched;
  if (saved === undefined) return false;
  for (const { target, key, original } of [...saved].reverse()) {
    if (original === undefined) delete (target as Record<string | symbol, unknown>)[key];
    else Object.defineProperty(target, key, original);
  }
  shared.patched = undefined;
  shared.engageHotPath = undefined; // a deadline set while uninstalled goes on at the next install (hotPathWanted)
  shared.unwatchHttp?.();
  shared.unwatchHttp = undefined;
  noteUninstall();
  return true;
}

/** Whether the patch is in place (installed by this or another copy of the package). */
export function isInstalled(): boolean {
  return runtime().patched !== undefined;
}
