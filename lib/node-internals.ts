/**
 * Every Node internal the shim wraps or reads, in one place: what Node does with it, and on
 * which lines it behaves as relied on. A Node upgrade is this file to check.
 *
 * Each fact was read from the built-in sources of the official binaries 20.20.2, 22.23.5,
 * 24.22.3 and 26.12.1 (`process.binding('natives')['net']`, `…['internal/stream_base_commons']`,
 * `…['_tls_wrap']` or `…['internal/tls/wrap']` from 22 on, `…['internal/timers']`,
 * `…['internal/streams/writable']`, `…['_http_client']`, `…['internal/child_process']`), or
 * printed with `node -e "console.log(require('net').Socket.prototype._writeGeneric.toString())"`
 * on each; spec/node-internals.spec.ts checks the shapes on whichever line runs it. "20 to 26"
 * below means: the same code on all four.
 *
 * Everything here is small on purpose: the predicates run on hot paths (a write, a chunk read)
 * and are a property read or two that V8 inlines, with no allocation.
 *
 * Not touched, though near: `_final` (ending a socket is Node's own business), `_pendingData`
 * (see {@link WRAPPED_SOCKET_METHODS}), `socket.server` / `socket._server` (onconnection() sets
 * both just before 'connection' on 20 to 26, but a server-side socket handed to another process
 * has neither, so the engine marks its clients itself), `_onTimeout` and `kTimeout` (Node's idle
 * timer behind `socket.setTimeout()`, left alone).
 */
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { getSystemErrorName } from 'node:util';
import { checkHotPathMethods as checkHotPath, HOT_PATH_SOCKET_METHODS as hotPathSocketMethods, LIFECYCLE_SOCKET_METHODS as lifecycleSocketMethods, WRAPPED_SERVER_METHODS as wrappedServerMethods, WRAPPED_SOCKET_METHODS as wrappedSocketMethods } from './node-internals-methods';

// ---------------------------------------------------------------------------------------------
// Prototype methods the patch wraps (lib/patch.ts): the facts are in lib/node-internals-methods.ts,
// which the register preload loads without this file; re-exported here as plain values.
// ---------------------------------------------------------------------------------------------

/** The `net.Socket.prototype` methods the patch wraps (lib/node-internals-methods.ts). */
export const WRAPPED_SOCKET_METHODS = wrappedSocketMethods;
/** Of those, the ones Node runs for every write and every chunk (lib/node-internals-methods.ts). */
export const HOT_PATH_SOCKET_METHODS = hotPathSocketMethods;
/** Throws unless every per-write method can be replaced (lib/node-internals-methods.ts). */
export const checkHotPathMethods = checkHotPath;
/** The rest of the wrapped socket methods: wrapped at install (lib/node-internals-methods.ts). */
export const LIFECYCLE_SOCKET_METHODS = lifecycleSocketMethods;
/** The `net.Server.prototype` methods the patch wraps (lib/node-internals-methods.ts). */
export const WRAPPED_SERVER_METHODS = wrappedServerMethods;

/**
 * Node's rule for a `connect()` argument that names a pipe (net.js `isPipeName`: a string that is
 * not a number >= 0, 20 to 26): such a socket is IPC, never TCP.
 */
export function isPipeName(value: unknown): boolean {
  return typeof value === 'string' && !(Number(value) >= 0);
}

// ---------------------------------------------------------------------------------------------
// The libuv stream handle: `socket._handle`.
// ---------------------------------------------------------------------------------------------

/**
 * The fields of a socket's C++ stream handle the shim reads (classes `TCP` and `TLSWrap`, the
 * same fields on 20 to 26).
 */
export interface StreamHandle {
  /**
   * Whether the handle reads from the kernel. `tryReadStart` (net.js) sets it and calls
   * `readStart()`; `onStreamRead` clears it and calls `readStop()` when `push()` returns false
   * (the readable buffer is over its high-water mark: nobody reads the socket).
   */
  reading?: boolean;
  /** Bytes handed to libuv so far: a write counts when it is dispatched, not when it leaves. */
  bytesWritten?: number;
  /** Bytes libuv still holds, not yet written to the kernel. */
  writeQueueSize?: number;
  readStart?: () => number;
  readStop?: () => number;
  /** A TLSWrap's: the TCP handle under it (`_wrapHandle` in _tls_wrap.js: `res._parent = handle`). */
  _parent?: StreamHandle;
}

/**
 * The private fields of `net.Socket` and `tls.TLSSocket` read through this module. `_handle` is
 * null until `connect()` creates it and after `_destroy`.
 */
export interface NodeSocket extends net.Socket {
  _handle: StreamHandle | null;
  /** TLSSocket: `_finishInit` sets it once the handshake is verified, just before 'secure'. */
  _secureEstablished?: boolean;
  /** TLSSocket: the options it was made with; `isServer` on the server side. */
  _tlsOptions?: { isServer?: boolean };
  /** TLSSocket: set to `true` by its constructor (documented, read as the "is TLS" test). */
  encrypted?: boolean;
  /** TLSSocket: the protocol ALPN chose, set in `_finishInit` (documented). */
  alpnProtocol?: string | false | null;
  /** Node's http client: the request on this socket (tickOnSocket), null once it is done with it. */
  _httpMessage?: unknown;
}

interface StreamStates {
  _readableState?: { ended?: boolean };
  _writableState?: WritableInternals;
}

/** The parts of a Writable's state read or written here (writable.js, 20 to 26). */
interface WritableInternals {
  writecb?: ((error?: Error | null) => void) | null;
  /** A write is handed to `_write`/`_writev` and not called back yet. */
  writing?: boolean;
  /** Writes held while one is in flight (or corked), from `bufferedIndex` on. */
  buffered?: Array<{ chunk: unknown; encoding: string; callback: (error?: Error | null) => void } | null>;
  bufferedIndex?: number;
  /** Every held write's callback is Node's no-op: a `_writev` of them is called back once, with `nop`. */
  allNoop?: boolean;
}

/** The handle classes of TCP sockets: plain TCP, and TLS over it (`handle.constructor.name`). */
export const TCP_HANDLE_CLASSES: ReadonlySet<string> = new Set(['TCP', 'TLSWrap']);

/** The classes of TCP handles once seen (`TCP` of the `tcp_wrap` binding, `TLSWrap`): known by identity from then on. */
let tcpClass: unknown;
let tlsWrapClass: unknown;

/**
 * Has the socket a handle that is not TCP (a `Pipe` for IPC, a `TTY`, child stdio)? A socket
 * with no handle yet (before `connect()`) is not ruled out. A function's `name` is an accessor
 * that V8 serves from its runtime (about 250 instructions with the set lookup, once per armed
 * connection), so it is read once per handle class, then the class is compared by identity.
 */
export function hasNonTcpHandle(socket: NodeSocket): boolean {
  const handleClass = (socket._handle as object | null)?.constructor;
  if (handleClass === undefined) return false;
  if (handleClass === tcpClass || handleClass === tlsWrapClass) return false;
  const name = (handleClass as { name?: unknown }).name;
  if (name === 'TCP') tcpClass = handleClass;
  else if (name === 'TLSWrap') tlsWrapClass = handleClass;
  return name !== undefined && !TCP_HANDLE_CLASSES.has(name as string);
}

/**
 * A socket with no handle that is not connecting: it never connected, it was destroyed, or its
 * handle was sent to another process (`child.send(message, socket)`: internal/child_process.js
 * sets `socket._handle = null` and `setTimeout(0)` but neither destroys nor closes it, 20 to 26).
 * A socket that is connecting has a handle from `connect()` on.
 */
export function hasNoHandle(socket: NodeSocket): boolean {
  return !socket.connecting && socket._handle == null;
}

/** The socket's stream handle, `null` when it has none. */
export function handleOf(socket: NodeSocket): StreamHandle | null {
  return socket._handle;
}

/** Bytes libuv still holds for the socket (`_handle.writeQueueSize`); 0 with no handle. */
export function queuedBytes(socket: NodeSocket): number {
  return socket._handle?.writeQueueSize ?? 0;
}

/** Bytes the socket's handle has dispatched so far (`_handle.bytesWritten`); 0 with no handle. */
export function dispatchedBytes(socket: NodeSocket): number {
  return socket._handle?.bytesWritten ?? 0;
}

/** The handle's own view: it stopped reading because nobody drained the readable buffer. */
export function isReadingStopped(socket: NodeSocket): boolean {
  return socket._handle?.reading === false;
}

/** Stops reading from the kernel, as `onStreamRead` does when the readable buffer is full. */
export function stopReading(socket: NodeSocket): void {
  const handle = socket._handle;
  if (handle && typeof handle.readStop === 'function') {
    handle.reading = false;
    handle.readStop();
  }
}

/**
 * Starts reading again a socket stopped by {@link stopReading}, as net.js `tryReadStart` does
 * (`_handle.reading = true; _handle.readStart()`, destroying the socket on an error, 20 to 26).
 * Not `read(0)`: the stream's own `reading` flag stays set while the handle is stopped from
 * outside (no chunk was pushed to clear it), so Readable never calls `_read` again and the
 * socket would stay deaf, paused or flowing.
 */
export function resumeReading(socket: NodeSocket): void {
  const handle = socket._handle;
  if (!handle || handle.reading !== false || typeof handle.readStart !== 'function' || socket.destroyed) return;
  handle.reading = true;
  const status = handle.readStart();
  if (status < 0) {
    // Node's own shape for it (ErrnoException(err, 'read')): `read <CODE>`, code, errno, syscall.
    const code = getSystemErrorName(status);
    socket.destroy(Object.assign(new Error(`read ${code}`), { code, errno: status, syscall: 'read' }));
  }
}

/** The TCP handle under a TLS socket's TLSWrap; `undefined` for a plain TCP socket. */
export function tcpHandleUnder(handle: StreamHandle | null): StreamHandle | undefined {
  return handle?._parent;
}

/** Where the kernel is in a handle's stream: libuv writes in order, so every dispatched byte not still queued. */
export function kernelPosition(handle: StreamHandle): number {
  return (handle.bytesWritten ?? 0) - (handle.writeQueueSize ?? 0);
}

// ---------------------------------------------------------------------------------------------
// TLS and "connected".
// ---------------------------------------------------------------------------------------------

/**
 * The event a TLSSocket emits once its handshake is verified (`_finishInit`, 20 to 26).
 * Undocumented, but every TLS socket emits it, a hand-built `new tls.TLSSocket(socket)` too,
 * which gets no 'secureConnect'; a socket that failed verification is destroyed before it.
 */
export const SECURE_EVENT = 'secure';

/** A TLS socket (`tls.TLSSocket` sets `encrypted = true`). */
export function isTls(socket: NodeSocket): boolean {
  return socket.encrypted === true;
}

/** A TLS socket on the client side: `_tlsOptions.isServer` is set on the server's. */
export function isTlsClient(socket: NodeSocket): boolean {
  return socket.encrypted === true && socket._tlsOptions?.isServer !== true;
}

/** A TLS client whose handshake is still running (no `_secureEstablished` yet). */
export function isHandshaking(socket: NodeSocket): boolean {
  return isTlsClient(socket) && socket._secureEstablished !== true;
}

/**
 * The engine's "connected": the connect deadline is settled. Not `connecting` any more (cleared
 * by afterConnect(), also after an autoSelectFamily attempt won, and by `_destroy`), and for a
 * TLS client the handshake verified, since the connect deadline covers it. Says nothing of
 * `destroyed`: a destroyed socket has no deadline left to settle.
 */
export function isEstablished(socket: NodeSocket): boolean {
  return !socket.connecting && (!isTlsClient(socket) || socket._secureEstablished === true);
}

/**
 * connectEx's "connected" (Python's `EISCONN`): the TCP connection is up and the socket is still
 * alive, with a peer (`remoteAddress` reads the handle's getpeername, so it is `undefined` before
 * connect and after destroy). A TLS client counts once TCP is up, as connect_ex answers for the
 * plain socket; public fields only, unlike {@link isEstablished}.
 */
export function hasPeer(socket: net.Socket): boolean {
  return !socket.connecting && !socket.destroyed && socket.remoteAddress !== undefined;
}

/** A socket carrying a request of Node's http client (`_httpMessage`, set by tickOnSocket in _http_client.js). */
export function carriesHttpRequest(socket: NodeSocket): boolean {
  return socket._httpMessage !== undefined && socket._httpMessage !== null;
}

/**
 * The response of the Node http request on this socket: `_httpMessage.res`, which
 * parserOnIncomingClient (_http_client.js) sets when the response's head has been parsed, before
 * it publishes `http.client.response.finish` and emits 'response' (20 to 26); `undefined` once
 * the socket is free (the agent's 'free' handler sets `_httpMessage = null`, _http_agent.js, 20
 * to 26, after the response ended) or while the next request on it has no response yet.
 */
export function httpResponseOf(socket: NodeSocket): { complete?: boolean; aborted?: boolean; destroyed?: boolean } | undefined {
  const request = socket._httpMessage as { res?: { complete?: boolean } | null } | null | undefined;
  const response = request === undefined || request === null ? undefined : request.res;
  return response === null ? undefined : response;
}

// ---------------------------------------------------------------------------------------------
// The stream states.
// ---------------------------------------------------------------------------------------------

/**
 * The peer's EOF has been received (`_readableState.ended`, set when `push(null)` ran), though
 * 'end' may not have been emitted yet (bytes still buffered, or nobody read to the end).
 */
export function eofReceived(socket: net.Socket): boolean {
  return (socket as StreamStates)._readableState?.ended === true;
}

/** A Readable's `push(chunk, encoding?)`: what Node calls with each chunk a socket reads. */
export type PushFunction = (this: net.Socket, chunk: unknown, encoding?: BufferEncoding) => boolean;

/** `Readable.prototype.push` as this module found it when it loaded: Node's own (20 to 26). */
const NODE_PUSH = Readable.prototype.push as PushFunction;
/** `net.Socket.prototype._read` as this module found it (tls.TLSSocket inherits it, 20 to 26). */
const NODE_SOCKET_READ = (net.Socket.prototype as unknown as { _read: unknown })._read;

/**
 * The `push` every Readable inherits now, looked up at each call: whatever patched
 * `Readable.prototype.push` since (an instrumentation agent loaded late) gets every chunk an own
 * push passes on. One property load.
 */
export function readablePush(): PushFunction {
  return Readable.prototype.push as PushFunction;
}

/** Whether `push` is Node's own `Readable.prototype.push`, as this module found it. */
export function isNodePush(push: unknown): boolean {
  return push === NODE_PUSH;
}

/**
 * Whether `socket` reads through Node's own `push` and `_read`, so that an own push may stand
 * in for them ({@link interceptPush}): neither a subclass nor the instance replaced either, nor
 * has anything patched `Readable.prototype.push`. A subclass's push (a decoder, a byte counter)
 * must see every chunk, and a replaced `_read` is what a read() of the chunk would have called.
 */
export function readsThroughNodePush(socket: net.Socket): boolean {
  const own = socket as unknown as { push: unknown; _read: unknown };
  return own.push === NODE_PUSH && own._read === NODE_SOCKET_READ && Readable.prototype.push === NODE_PUSH;
}

/**
 * Puts `push` on `socket` as its own property (only where {@link readsThroughNodePush}; `push`
 * must call {@link readablePush}'s with every chunk it does not take). Node hands each chunk a
 * socket reads to `stream.push(buf)`, looked up on the socket at every call
 * (stream_base_commons.js `onStreamRead`, after `stream[kUpdateTimer]()`, for plain TCP and for
 * TLSWrap alike; a socket made with the `onread` option bypasses the stream and push, 20 to 26),
 * and a push's return value says whether the handle may go on reading (false: onStreamRead stops
 * it with `readStop()`, and the next read()'s `_read` starts it again).
 */
export function interceptPush(socket: net.Socket, push: PushFunction): void {
  Object.defineProperty(socket, 'push', { value: push, writable: true, configurable: true, enumerable: false });
}

/**
 * A chunk of `length` bytes (more than none) pushed now would only be buffered for the socket's
 * 'readable' listener, and its read of the whole chunk would leave the stream as it found it: a
 * byte stream not flowing, with no decoder, nothing buffered, not at EOF nor destroyed, read from
 * before (`readableDidRead`, the stream's `dataEmitted`, which a read sets), still reading through
 * Node's `_read` ({@link readsThroughNodePush}), and the chunk below the high-water mark. The
 * caller knows the listeners: with one 'readable' listener and no 'data' listener, Readable's
 * push of a non-empty Buffer (readable.js `readableAddChunkPushByteMode` → `addChunk`, 20 to 26;
 * 26 first tries its `kFastPush` path, set only while flowSync() runs a flowing stream's `_read`)
 * clears `reading`, buffers the chunk, and, with `needReadable` set (a read that emptied the
 * buffer set it), schedules 'readable' for the next tick; maybeReadMore() schedules a `read(0)`,
 * which finds the handle reading. It returns true: `state.length` (the chunk) is below
 * `highWaterMark` (`canPushMore`); at or above the mark it would return false and onStreamRead
 * would stop the handle, which is why such a chunk is not handed over. The listener's
 * `read(length)` (a receive reads `min(n, readableLength)`, so its `n`, however far above the
 * mark, plays no part) then leaves `highWaterMark` as it was (read(n) raises it only for n above
 * it, `computeNewHighWaterMark`), sets `needReadable` and `dataEmitted` again and calls `_read`, which
 * sets `reading` again and finds the handle reading (net.js `Socket.prototype._read`): the
 * readable state afterwards is field for field what it was before (spec/node-internals.spec.ts
 * compares them, 20 to 26). The 'readable' and the 'data' (emitted by read()) events reach no
 * listener but that one. So a push that gives the chunk to what that listener would have given
 * it to, and returns true, leaves the socket as Readable's would have once the listener had read;
 * only the two events are not emitted.
 */
export function pushWouldOnlyBuffer(socket: net.Socket, length: number): boolean {
  return (
    socket.readableLength === 0 &&
    length < socket.readableHighWaterMark &&
    socket.readableDidRead &&
    socket.readableFlowing !== true &&
    socket.readableEncoding === null &&
    !socket.destroyed &&
    !eofReceived(socket) &&
    (socket as unknown as { _read: unknown })._read === NODE_SOCKET_READ
  );
}

/**
 * No more bytes can come: 'end' was emitted, or the EOF is in. One test, {@link eofReceived}:
 * `readableEnded` (`endEmitted`) is never set without `ended` (readable.js `endReadable()` sets
 * `kEnded` before it queues `endReadableNT`, which alone sets `kEndEmitted` on a stream that reads;
 * destroy.js `undestroy()` and duplex.js's `readable: false` set both alike; 20 to 26). Asked on every armed write.
 */
export function readEnded(socket: net.Socket): boolean {
  return eofReceived(socket);
}

/**
 * The error a destroyed socket was destroyed with (`errored`, public on streams since 18), or
 * `undefined`.
 */
export function erroredWith(socket: net.Socket): Error | undefined {
  return socket.errored ?? undefined;
}

/**
 * Gives the write in flight when the socket is destroyed with `error` that error, instead of
 * what Node would report. Destroying closes the handle, and libuv then completes the queued
 * write with `UV_ECANCELED`; what Node hands the write's callback differs by line
 * (stream_base_commons.js `onWriteComplete`):
 * - 20 checks `stream.destroyed` first and calls back with `null`, whatever the status: the
 *   write would report success for bytes that never went out.
 * - 22, 24 and 26 check `status < 0` first (nodejs/node#54032) and call back with
 *   `write ECANCELED`, an error that says nothing of why.
 * `_writableState.writecb` is the in-flight write's callback (an accessor over the state's bit
 * field; `nop` when none), which `onwrite` reads and calls with what onWriteComplete reported
 * (writable.js, 20 to 26). Buffered writes behind it already get the destroy error
 * (`errorBuffer`).
 */
export function failInFlightWrite(socket: net.Socket, error: Error): void {
  const state = (socket as StreamStates)._writableState;
  const callback = state?.writecb;
  if (state && typeof callback === 'function') state.writecb = () => callback(error);
}

/**
 * Gives the write of `chunk` just made without a callback the callback `callback`, after the
 * fact: a write with a callback that completes at once costs a tick (onwrite() defers any
 * callback but Node's own `nop`), so a caller writes without one and asks for it only when the
 * write did not complete at once. Then the write is either
 * - held in the stream's buffer (another write was in flight, or the stream is corked): its own
 *   entry, the last one, gets the callback, and `allNoop` is cleared, since `clearBuffer()`
 *   hands a `_writev` of held writes a single `nop` while it is set;
 * - or the write in flight (`writing`), whose callback is `writecb` (an accessor over the bit
 *   field on 22 and later), which onwrite() reads when the write completes.
 * Returns false when it is neither (the write failed at once and was already called back):
 * the caller then learns the outcome another way.
 */
export function callBackWrite(socket: net.Socket, chunk: unknown, callback: (error?: Error | null) => void): boolean {
  const state = (socket as StreamStates)._writableState;
  if (state === undefined) return false;
  const buffered = state.buffered;
  const last = buffered !== undefined && buffered.length > (state.bufferedIndex ?? 0) ? buffered[buffered.length - 1] : null;
  if (last != null && last.chunk === chunk) {
    last.callback = callback;
    state.allNoop = false;
    return true;
  }
  if (state.writing === true) {
    state.writecb = callback;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Timers.
// ---------------------------------------------------------------------------------------------

interface TimeoutInternals {
  _idleTimeout: number;
}

/*
 * Two more facts the deadline timer and the fire path rest on, no code of their own here:
 * - A Timeout's start, new (`setTimeout`) or refreshed, is `binding.getLibuvNow()` in whole ms:
 *   internal/timers.js `insert(item, msecs, start = binding.getLibuvNow())`, which `refresh()`
 *   reaches through `active()`/`unrefActive()` → `insertGuarded()` with no start (20 to 26; on
 *   20 `insertGuarded(item, refed, start)` passes an undefined start on, so the default applies).
 *   So a timer set for an exact due time fires no earlier than 1 ms before it
 *   (lib/deadline-timer.ts `DUE_SLACK_MS`, and its `exact` schedule, rest on this).
 * - `socket.destroy(err)` reads `err.stack` at once: internal/streams/destroy.js `checkError()`
 *   (`err.stack; // eslint-disable-line`, 20 to 26), so a destroyed socket's error stack is
 *   formatted then, not when someone reads it (lib/errors.ts `timerTimeoutError`).
 */

/**
 * Re-arms a Node `Timeout` to fire `delay` ms from now, reusing it: `refresh()` re-inserts it
 * with its `_idleTimeout` as the delay, from libuv's cached loop time, keeps it unref'd, and
 * reactivates one that already fired (internal/timers.js `refresh()` → `insertGuarded()`, 20 to 26).
 */
export function refreshTimer(timer: NodeJS.Timeout, delay: number): void {
  (timer as unknown as TimeoutInternals)._idleTimeout = delay;
  timer.refresh();
}

// ---------------------------------------------------------------------------------------------
// Keep-alive (lib/keepalive.ts).
// ---------------------------------------------------------------------------------------------

/**
 * Node's per-socket keep-alive flag: `kSetKeepAlive`, a module-local `Symbol('kSetKeepAlive')`
 * (in net.js on 20 and 22, in internal/net.js from 24 on, same description) that the Socket
 * constructor sets from its `keepAlive` option, `setKeepAlive()` from its argument, and
 * onconnection() to `true` on a socket accepted by a keep-alive server. Found once by its
 * description on the first socket asked about (every socket has it as an own property); `null`
 * if this Node has none.
 */
let keepAliveFlag: symbol | null | undefined;

/** Has Node's own flag asked for keep-alive on this socket (by option, call or server)? */
export function keepAliveRequested(socket: net.Socket): boolean {
  if (keepAliveFlag === undefined) {
    keepAliveFlag = Object.getOwnPropertySymbols(socket).find((key) => key.description === 'kSetKeepAlive') ?? null;
  }
  return keepAliveFlag !== null && (socket as unknown as Record<symbol, unknown>)[keepAliveFlag] === true;
}

/**
 * Does this `setKeepAlive` (Node's own, not a wrapper) take a probe interval and count?
 * `setKeepAlive(enable, initialDelay, interval, count)` (or one options object) on 24 and
 * later, `setKeepAlive(enable, initialDelay)` on 20 and 22: told by its declared parameters.
 */
export function setKeepAliveTakesProbes(setKeepAlive: (...args: never[]) => unknown): boolean {
  return setKeepAlive.length >= 4;
}

/**
 * A server's keep-alive fields, as Node's Server constructor makes them: own data properties
 * `keepAlive` (boolean) and `keepAliveInitialDelay` (whole seconds), which onconnection() reads
 * for every accepted socket (`clientHandle.setKeepAlive(true, self.keepAliveInitialDelay)`,
 * 20 to 26). `undefined` when they are not that shape (already replaced by accessors).
 */
export function serverKeepAliveFields(server: net.Server): { enabled: PropertyDescriptor; delay: PropertyDescriptor } | undefined {
  const enabled = Object.getOwnPropertyDescriptor(server, 'keepAlive');
  const delay = Object.getOwnPropertyDescriptor(server, 'keepAliveInitialDelay');
  if (enabled === undefined || delay === undefined || !('value' in enabled) || !('value' in delay)) return undefined;
  return { enabled, delay };
}
