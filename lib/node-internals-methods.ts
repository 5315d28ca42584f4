/**
 * The Node methods the patch wraps: part of lib/node-internals.ts's inventory of the Node
 * internals the shim relies on (that file's header says how each fact was read, and from which
 * lines), in a file of its own so that the register preload, whose stubs stand in for these
 * methods at start-up (lib/lazy-install.ts), loads these lists without the rest of that file
 * (issue 16, start-up: V8 compiles every line a start-up file holds). lib/node-internals.ts
 * re-exports all of it; a Node upgrade is both files to check.
 */

// ---------------------------------------------------------------------------------------------
// Prototype methods the patch wraps (lib/patch.ts). Each wrapper calls the original first or
// last with the same arguments, and changes nothing it returns.
// ---------------------------------------------------------------------------------------------

/**
 * The `net.Socket.prototype` methods the patch wraps (TLSSocket inherits them):
 * - `connect`: every client connect goes through it, `net.connect()`, http's Agent and
 *   `tls.connect()` included (they construct through net.js's own `Socket` binding). It creates
 *   the handle before the DNS lookup, then calls `_unrefTimer()`, then sets `connecting = true`
 *   (20 to 26).
 * - `_writeGeneric(writev, data, encoding, cb)`: every write and writev of the stream, always
 *   called with those four arguments (`_write`, `_writev`, the 'connect' re-run; it reads no
 *   others and returns `false` or `undefined`: the wrapper is of fixed arity). While
 *   `connecting` it parks the write in `_pendingData` and calls itself again on 'connect'
 *   (through the prototype, so the wrapper sees it a second time, once connected) (20 to 26).
 *   `data` is a Buffer or a string in `encoding`; for a writev, the stream's array of
 *   `{ chunk, encoding }`, which writevGeneric (stream_base_commons.js) rewrites in place into
 *   bare Buffers when every chunk is one (`data.allBuffers`) (lib/protocols/bytes.ts reads them).
 * - `_destroy(exception, cb)`: clears the idle timers, saves `bytesRead`/`bytesWritten`, closes
 *   the handle and sets `_handle = null` (20 to 26). The wrapper runs first, while the handle's
 *   counters can still be read.
 * - `_unrefTimer()`: Node's "I/O happened" hook. Called by `connect()` before `connecting` is set,
 *   by afterConnect() after `connecting` is cleared (before 'connect'), by `_writeGeneric`, and
 *   per chunk read and write completed through `stream[kUpdateTimer]()` (stream_base_commons.js
 *   `onStreamRead`, `onWriteComplete`), where `Socket.prototype[kUpdateTimer]` is a getter that
 *   returns `this._unrefTimer`, so the wrapped one is what runs (20 to 26).
 * - `setKeepAlive`: wrapped to learn that the application chose for itself (lib/keepalive.ts).
 */
export const WRAPPED_SOCKET_METHODS = ['connect', '_writeGeneric', '_destroy', '_unrefTimer', 'setKeepAlive'] as const;

/**
 * Of {@link WRAPPED_SOCKET_METHODS}, the ones Node runs for every write and every chunk
 * (`_writeGeneric`; `_unrefTimer` per chunk read and write completed): the patch puts their
 * wrappers on only once a deadline is in force somewhere in the process (`engageHotPath` in
 * lib/runtime-record.ts says why that is safe). Node looks both up on the socket at each call
 * (`this._writeGeneric(...)` from `_write`, `_writev` and the 'connect' re-run of a parked
 * write; `this._unrefTimer` through the `kUpdateTimer` getter), so a wrapper put on the
 * prototype later is what the next call runs (20 to 26).
 */
export const HOT_PATH_SOCKET_METHODS = ['_writeGeneric', '_unrefTimer'] as const;

/**
 * Throws unless every per-write method is a function the patch can replace (a configurable
 * property, or one inherited): checked before any is replaced, so an engage either puts all of
 * them on or none, and a failed one can be tried again without wrapping one of them twice.
 */
export function checkHotPathMethods(socketProto: Record<string, unknown>): void {
  for (const key of HOT_PATH_SOCKET_METHODS) {
    if (typeof socketProto[key] !== 'function') throw new TypeError(`net internals changed: ${key} is not a function`);
    if (Object.getOwnPropertyDescriptor(socketProto, key)?.configurable === false) throw new TypeError(`net.Socket.prototype.${key} cannot be replaced (not configurable)`);
  }
}

/** The rest of {@link WRAPPED_SOCKET_METHODS}: once per socket, wrapped at install, since they must see every socket from the start. */
export const LIFECYCLE_SOCKET_METHODS = ['connect', '_destroy', 'setKeepAlive'] as const;

/**
 * The `net.Server.prototype` methods the patch wraps:
 * - `emit` (inherited from `EventEmitter.prototype`: the patch puts its wrapper on
 *   `net.Server.prototype` itself, and uninstall deletes it again): onconnection() sets `socket.server` and emits 'connection' with no other hook in
 *   between (a server over `maxConnections` emits 'drop' and closes the handle instead) (20 to 26).
 * - `listen`, `close`: accept() learns when a server starts or stops listening.
 */
export const WRAPPED_SERVER_METHODS = ['emit', 'listen', 'close'] as const;
