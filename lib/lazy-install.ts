/**
 * The register preload's install: the same prototype methods as `install()` (lib/patch.ts;
 * the per-write ones once a deadline is in force, `engageHotPath` in lib/runtime-record.ts), but at
 * first as stubs, and the engine behind them loads the first time any of them runs.
 *
 * Why: the preload must cost little at start-up (issue 16, "Start-up": at most 3 ms over
 * loading `node:net`), and compiling the engine, the protocol detectors, keep-alive and the
 * http watcher was most of what it cost. A stub is a few instructions: on its first call it
 * loads lib/patch.ts and with it the engine (under the register bundle, all from the one
 * first-use bundle scripts/bundle-register.js writes), puts the real wrapper in its own place on the
 * prototype, and forwards the call; every later call goes to the real wrapper directly, so the
 * socket path costs exactly what it costs with `install()`.
 *
 * Same behaviour as `install()`: the originals recorded for `uninstall()` are Node's own, in the
 * same order; `isInstalled()` is true at once; the counters start at install. The http client
 * channels (lib/protocols/http.ts) are subscribed when the patch loads, not at install: every
 * handler there acts only on a socket the engine has a state for (`stateFor(socket, false)`),
 * and a socket gets one only from the patch, which the first patched call (its `connect()`, or
 * the server's `emit` of it) has loaded by then; a message before that concerns a socket the
 * engine never tracks, which `install()`'s handlers ignore too. (Subscribing costs about 0.8 M
 * instructions on Node 20, the first subscription most of it: a preload that never opens a
 * socket does not pay it.)
 * Loaded at once instead, exactly as `install()` does it, when:
 * - someone listens for the install message (`timeoutsocket:install`) or `NODE_DEBUG` is set:
 *   the message and the debug line come at install, with the defaults then in force;
 * - this file was not loaded by Node's own CommonJS loader (Jest's module registry, a bundler):
 *   a module registry of its own may refuse to load anything once its sandbox is torn down, and
 *   a stub may first run from a timer or a socket event after that.
 *
 * A stub that someone took off the prototype before its first call (a second patcher that wraps
 * our method) keeps working: it forwards to the real wrapper for ever.
 */
import { hasSubscribers } from 'node:diagnostics_channel';
import { Server, Socket } from 'node:net';
import { checkHotPathMethods, HOT_PATH_SOCKET_METHODS, LIFECYCLE_SOCKET_METHODS, WRAPPED_SERVER_METHODS } from './node-internals-methods';
import { hotPathWanted, markHotPathOn, newCounters, runtime, type SavedProperty } from './runtime-record';
import type * as Patch from './patch';
import type * as Http from './protocols/http';

/** The methods the patch adds to both `net.Socket.prototype` and `net.Server.prototype`. */
export const ADDED_METHODS = ['setSocketTimeout', 'getSocketTimeout', 'setBlocking', 'getBlocking'] as const;
/** The awaitable methods the patch adds to `net.Socket.prototype`. */
export const ADDED_SOCKET_METHODS = ['recv', 'recvInto', 'send', 'sendAll', 'connectEx'] as const;
/** The awaitable method the patch adds to `net.Server.prototype`. */
export const ADDED_SERVER_METHODS = ['accept'] as const;

/** The channel of the install message (lib/observe.ts's `CHANNELS.install`). */
const INSTALL_CHANNEL = 'timeoutsocket:install';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** One prototype property the stubs stand in for. */
interface Stubbed {
  readonly target: object;
  readonly key: string;
  readonly server: boolean;
  /** Node's own value (for a wrapped method) or undefined (an added one). */
  readonly original: unknown;
  readonly stub: AnyFunction;
  /** The real wrapper or added method, once lib/patch.ts has loaded. */
  real?: AnyFunction;
}

let stubbed: Stubbed[] | undefined;
/** The install's record of what it replaced (the runtime's `patched`): the http channels are subscribed when the patch loads only while it is still the one in place. */
let installed: SavedProperty[] | undefined;
/** Set when the load begins: a call made while it runs, or after it failed, never starts another. */
let loaded = false;
/** lib/patch.ts once loaded; `null` when it failed to load (the stubs stood down). */
let patchModule: typeof Patch | null | undefined;

/**
 * Whether Node's own CommonJS loader loaded this module: only then is a later `require()`
 * sure to work whenever a stub first runs. (The register bundle gives its modules a plain
 * `require`, but their `module` is Node's, cached under its file name, as Node's loader does.)
 */
function underNodeLoader(): boolean {
  const Module = module.constructor as { _cache?: Record<string, unknown>; _load?: unknown };
  return typeof Module._load === 'function' && Module._cache !== undefined && Module._cache[module.filename] === module;
}

/** Whether the install must happen at once, exactly as `install()` does it (see the header). */
function mustInstallAtOnce(): boolean {
  // hasSubscribers(name), not channel(name).hasSubscribers: it makes no channel for a name nobody subscribed to.
  return !underNodeLoader() || hasSubscribers(INSTALL_CHANNEL) || (process.env.NODE_DEBUG ?? '') !== '';
}

/**
 * Loads lib/patch.ts and puts the real methods where the stubs still are; then the stubs only
 * forward (for anyone who took one off the prototype); and, if this install is still the one in
 * place, subscribes the http client channels, as `install()` does (see the header). Runs once. A load that fails (the
 * package's files replaced or removed after start-up) puts Node's own methods back instead, so
 * that the process goes on without deadlines rather than with every socket call throwing, and
 * says so once with a process warning.
 */
function loadPatch(): void {
  if (loaded) return;
  loaded = true;
  let patch: typeof Patch;
  try {
    patch = require('./patch') as typeof Patch;
  } catch (error) {
    patchModule = null;
    standDown(error);
    return;
  }
  patchModule = patch;
  for (const entry of stubbed ?? []) settle(entry, patch.patchedMethod(entry.server, entry.key, entry.original) as AnyFunction);
  const shared = runtime();
  if (installed !== undefined && shared.patched === installed) shared.unwatchHttp = (require('./protocols/http') as typeof Http).watchHttpClients();
}

/** Puts `real` where the entry's stub still is on the prototype, and has the stub forward to it. */
function settle(entry: Stubbed, real: AnyFunction): void {
  entry.real = real;
  const now = Object.getOwnPropertyDescriptor(entry.target, entry.key);
  if (now !== undefined && now.value === entry.stub) {
    Object.defineProperty(entry.target, entry.key, { value: real, writable: true, configurable: true, enumerable: false });
  }
}

/** The patch did not load: Node's own methods go back; a method only the patch adds throws why. */
function standDown(error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  for (const entry of stubbed ?? []) {
    settle(entry, typeof entry.original === 'function' ? (entry.original as AnyFunction) : unavailable(entry.key, reason));
  }
  process.emitWarning(`timeoutsocket could not load its patch, so sockets have no deadlines: ${reason}`, { code: 'TIMEOUTSOCKET_LOAD_FAILED' });
}

function unavailable(key: string, reason: string): AnyFunction {
  return function () {
    throw new Error(`timeoutsocket: ${key}() is unavailable: the patch could not load (${reason})`);
  };
}

/**
 * The method a stub's call goes to: the real one, or, for a call made while the patch is still
 * loading (a module-load hook that logs to a piped stdout writes through the `_writeGeneric`
 * stub), Node's own, as before the install; a method only the patch adds has none to fall back
 * on, and says so.
 */
function target(record: Stubbed): AnyFunction {
  if (record.real !== undefined) return record.real;
  if (typeof record.original === 'function') return record.original as AnyFunction;
  throw new Error(`timeoutsocket: ${record.key}() was called while timeoutsocket was still loading`);
}

function makeStub(entry: Omit<Stubbed, 'stub'>): Stubbed {
  const record = entry as Stubbed;
  // `apply(this, arguments)`: the real method gets exactly the arguments given (connect and
  // connectEx tell their forms apart by them), and V8 forwards `arguments` without an array.
  // Named after the method by its computed key (no defineProperty on the function).
  const stub = {
    [entry.key]: function (this: unknown) {
      if (record.real === undefined) loadPatch();
      return target(record).apply(this, arguments as unknown as unknown[]);
    },
  }[entry.key];
  (record as { stub: AnyFunction }).stub = stub;
  return record;
}

/** Puts `stub` in place of `target[key]`, recording the original for uninstall. */
function place(saved: SavedProperty[], entry: Stubbed): void {
  saved.push({ target: entry.target, key: entry.key, original: Object.getOwnPropertyDescriptor(entry.target, entry.key) });
  Object.defineProperty(entry.target, entry.key, { value: entry.stub, writable: true, configurable: true, enumerable: false });
}

/**
 * The hot path for the preload (`engageHotPath` in lib/runtime-record.ts): the per-write methods get
 * stubs like the rest while the patch is not loaded yet (the first call loads it), its real
 * wrappers once it is, and nothing once it failed to load (Node's own methods stay).
 */
function putOnHotPath(saved: SavedProperty[], socketProto: Record<string, unknown>): void {
  if (patchModule === null) return;
  // Both or neither: checked first, so a failed engage can be tried again.
  checkHotPathMethods(socketProto);
  for (const key of HOT_PATH_SOCKET_METHODS) {
    const original = socketProto[key];
    const entry = makeStub({ target: socketProto, key, server: false, original });
    place(saved, entry);
    (stubbed ??= []).push(entry);
    if (patchModule !== undefined) settle(entry, patchModule.patchedMethod(false, key, original) as AnyFunction);
  }
}

/**
 * `install()` for the register preload: stubs now, the engine on first use (see the header).
 * @returns `true` if this call patched, `false` if the patch was already in place.
 */
export function installLazily(): boolean {
  const shared = runtime();
  if (shared.patched !== undefined) return false;
  if (mustInstallAtOnce()) return (require('./patch') as typeof Patch).install();
  const socketProto = Socket.prototype as unknown as Record<string, unknown>;
  const serverProto = Server.prototype as unknown as Record<string, unknown>;
  const entries: Stubbed[] = [];
  const wrapped = (target: Record<string, unknown>, server: boolean, key: string): void => {
    const original = target[key];
    if (typeof original !== 'function') throw new TypeError(`net internals changed: ${key} is not a function`);
    entries.push(makeStub({ target, key, server, original }));
  };
  for (const key of LIFECYCLE_SOCKET_METHODS) wrapped(socketProto, false, key);
  for (const key of WRAPPED_SERVER_METHODS) wrapped(serverProto, true, key);
  for (const key of ADDED_METHODS) {
    entries.push(makeStub({ target: socketProto, key, server: false, original: undefined }));
    entries.push(makeStub({ target: serverProto, key, server: true, original: undefined }));
  }
  for (const key of ADDED_SOCKET_METHODS) entries.push(makeStub({ target: socketProto, key, server: false, original: undefined }));
  for (const key of ADDED_SERVER_METHODS) entries.push(makeStub({ target: serverProto, key, server: true, original: undefined }));
  const saved: SavedProperty[] = [];
  for (const entry of entries) place(saved, entry);
  stubbed = entries;
  shared.patched = installed = saved;
  if (hotPathWanted(shared)) {
    putOnHotPath(saved, socketProto);
    markHotPathOn(shared);
  } else shared.engageHotPath = () => putOnHotPath(saved, socketProto);
  // What noteInstall() does when nobody listens and NODE_DEBUG is unset: the counters start now.
  Object.assign((shared.stats ??= newCounters()), newCounters());
  return true;
}

/** Whether the stubs have loaded the patch (for spec/startup.spec.ts). */
export function patchLoaded(): boolean {
  return loaded;
}
