/**
 * The process-wide record every loaded copy of timeoutsocket shares (lib/runtime.ts says why it
 * lives on `net.Socket`), and the switch that puts the per-write wrappers on.
 *
 * A file of its own, apart from the process default and the environment (lib/runtime.ts), so
 * that the register preload loads this and not the parsing behind those (lib/config.ts): the
 * preload's start-up is what issue 16 bounds, and V8 compiles every line a start-up file holds.
 * lib/runtime.ts re-exports the record and the switch, lib/config.ts `isOn` and `hasAnyTimeout`.
 */
import { Socket } from 'node:net';
import type { KeepAliveProbes, PhaseTimeouts } from './config';
import type { DeadlineMode } from './mode';

/** One replaced or added property: what to put back on uninstall. */
export interface SavedProperty {
  readonly target: object;
  readonly key: string | symbol;
  /** The original descriptor, or `undefined` when the property did not exist (uninstall deletes it). */
  readonly original: PropertyDescriptor | undefined;
}

/**
 * What all copies of the package in this process share. Every copy that puts a deadline in
 * force (a default, rules, a socket's or server's setting, report mode) must call
 * {@link engageHotPath} first, through this record, or its deadlines may meet a prototype
 * without the per-write wrappers: a change of that duty needs a new record key (`.v2`).
 */
export interface Runtime {
  /** The properties the installed patch replaced or added; `undefined` when not installed. */
  patched: SavedProperty[] | undefined;
  /** The process default, used by every socket that has no setting of its own. */
  defaults: PhaseTimeouts;
  /** Keep-alive's probe interval and count from `TIMEOUTSOCKET_KEEPALIVE=delay,interval,count`; `null`: libuv's own. */
  keepAliveProbes: KeepAliveProbes | null;
  /** Whether the `TIMEOUTSOCKET_*` environment was already applied (only the first load applies it). */
  envApplied: boolean;
  /** The counters behind `getStats()`: shared, so every copy of the package counts into one record. */
  stats: Counters;
  /** The process deadline mode (lib/mode.ts); `undefined` until set: `enforce`. */
  mode?: DeadlineMode;
  /** Whether `TIMEOUTSOCKET_MODE` was already applied (only the first load applies it). */
  modeEnvApplied?: boolean;
  /** Whether a report collector runs in this process (lib/report/collect.ts): one per process. */
  collecting?: boolean;
  /**
   * Ends the diagnostics_channel subscriptions of the copy that installed (lib/protocols/http.ts),
   * so whichever copy uninstalls removes exactly those; `undefined` when none are in place.
   */
  unwatchHttp?: (() => void) | undefined;
  /**
   * Whether a deadline was ever put in force in this process ({@link engageHotPath}): from then
   * on the per-write wrappers are on the prototype whenever the patch is installed. Never reset,
   * not even by uninstall: sockets keep their own settings, and the rules and the default stay.
   */
  hotPath?: boolean;
  /**
   * Puts the per-write wrappers on the prototype: left here by the copy that installed, while
   * {@link hotPath} is unset, so that whichever copy puts a deadline in force engages that
   * copy's wrappers; `undefined` once they are on, or when nothing is installed.
   */
  engageHotPath?: (() => void) | undefined;
}

/**
 * Plain integer fields, bumped in place (never replaced, so a reference taken at load stays
 * valid; `install()` zeroes them). `getStats()` in lib/observe.ts turns them into the public shape.
 */
export interface Counters {
  /** `Date.now()` when the counters were last reset (at install). */
  since: number;
  sockets: number;
  armed: number;
  connectTimeouts: number;
  readTimeouts: number;
  writeTimeouts: number;
  falseAlarmsAvoided: number;
  /** Report mode: deadlines that ran out and were reported, not enforced. */
  reported: number;
  /** Report mode: of those, the ones whose answer came after all. */
  late: number;
  /** Report mode: of those, the ones whose socket closed before the answer came. */
  never: number;
  /** Per protocol id (lib/protocols/index.ts): connections whose protocol was chosen as it. */
  protocolSockets: number[];
  /** Per protocol id: deadlines that fired (and were enforced) on a connection running it. */
  protocolTimeouts: number[];
}

/** How many protocols the per-protocol counters hold (ids 0..4). */
const PROTOCOL_COUNT = 5;

/** Fresh counters, all zero. */
export function newCounters(): Counters {
  return {
    since: Date.now(),
    sockets: 0,
    armed: 0,
    connectTimeouts: 0,
    readTimeouts: 0,
    writeTimeouts: 0,
    falseAlarmsAvoided: 0,
    reported: 0,
    late: 0,
    never: 0,
    protocolSockets: new Array<number>(PROTOCOL_COUNT).fill(0),
    protocolTimeouts: new Array<number>(PROTOCOL_COUNT).fill(0),
  };
}

const RUNTIME_KEY = Symbol.for('timeoutsocket.runtime.v1');

type HostWithRuntime = typeof Socket & { [RUNTIME_KEY]?: Runtime };

/**
 * This copy's handle on the shared record, found once: the record is never replaced (a
 * non-configurable property of `net.Socket`), and every deadline decision asks for it, so a
 * lookup per call (a property of the `node:net` module, then a symbol-keyed one) is not repeated.
 */
let sharedRuntime: Runtime | undefined;

/** The shared runtime record, created on first use. */
export function runtime(): Runtime {
  if (sharedRuntime !== undefined) return sharedRuntime;
  const host = Socket as HostWithRuntime;
  let shared = host[RUNTIME_KEY];
  if (shared === undefined) {
    shared = {
      patched: undefined,
      defaults: { connect: null, read: null, write: null, keepAlive: null },
      keepAliveProbes: null,
      envApplied: false,
      stats: newCounters(),
    };
    Object.defineProperty(host, RUNTIME_KEY, { value: shared, enumerable: false });
  }
  sharedRuntime = shared;
  return shared;
}

/**
 * A phase has a deadline when its value is > 0: `null` is blocking, 0 non-blocking (never a
 * timer). Here, with the record, because the preload (whether the process default engages the
 * per-write wrappers at install) and the engine (on every write, through lib/config.ts, which
 * re-exports it) ask the same question.
 */
export function isOn(ms: number | null): ms is number {
  return ms !== null && ms > 0;
}

/** Has any phase of `timeouts` a deadline ({@link isOn})? */
export function hasAnyTimeout(timeouts: PhaseTimeouts): boolean {
  return isOn(timeouts.connect) || isOn(timeouts.read) || isOn(timeouts.write);
}

/**
 * The hot path: the patch's wrappers of the methods Node runs for every write and every chunk
 * (`_writeGeneric`, `_unrefTimer`; lib/node-internals.ts `HOT_PATH_SOCKET_METHODS`) go on the
 * prototype only once a deadline is in force somewhere in the process, and stay on from then.
 *
 * Why: while no deadline is in force anywhere (the shim installed, nothing set) both wrappers
 * do nothing at all: the write's one finds no timeout and returns (about 100 instructions per
 * round trip), the activity one finds no connect deadline, since none was ever armed (about
 * 25). Each way a deadline comes into force calls this first, synchronously, before the value
 * is stored: the process default (`setDefaultSocketTimeout`, the `TIMEOUTSOCKET_*`
 * environment), rules (`setSocketTimeoutRules`, `TIMEOUTSOCKET_RULES`), a socket's or
 * server's own setting (`setSocketTimeout`, `createConnection`'s `timeout`, which the
 * awaitable calls' deadlines come from too), report mode. So no write is ever made with a
 * deadline in force and the wrapper off, and a socket written before behaves exactly as with
 * the wrappers on from the start: they did nothing for its earlier writes either, and its next
 * write (Node's `_write`, `_writev` and the re-run of a write parked while connecting all look
 * `this._writeGeneric` up at the call) goes through the wrapper. Connect and destroy stay
 * wrapped from install: they run once per socket and must see every socket.
 *
 * What it does not reach: code that took Node's own `_writeGeneric` off the prototype after the
 * install and before the first deadline, and calls it directly instead of through the socket,
 * skips the wrapper for good (with the wrappers on from the install it would have taken ours).
 * A second patcher that wraps the method on the prototype in that window gets ours over its
 * wrapper, which works while it stays; one that later takes its wrapper off by putting back what
 * it saved (an assignment, not shimmer's `unwrap`, which refuses since ours is on top) puts back
 * Node's own method and takes ours with it: deadlines of reply and write then stop, silently.
 * With the wrappers on from install that patcher would have sat over ours and left it (any
 * patcher that restores by assignment around our own install has the same effect either way).
 */
export function engageHotPath(): void {
  const shared = runtime();
  if (shared.hotPath === true) return;
  // Marked on only once the wrappers are on: a patch that cannot wrap (Node's internals changed)
  // throws here, the setter that called stores nothing, and the next one tries again.
  shared.engageHotPath?.();
  markHotPathOn(shared);
}

/**
 * Whether the hot path must be on at install: a deadline was put in force before (by this
 * copy or another), or the default has one. Marks nothing: the installing copy marks
 * {@link Runtime.hotPath} once its wrappers are on ({@link markHotPathOn}).
 */
export function hotPathWanted(shared: Runtime): boolean {
  return shared.hotPath === true || hasAnyTimeout(shared.defaults);
}

/** Records that the per-write wrappers are on: called once they are ({@link hotPathWanted}). */
export function markHotPathOn(shared: Runtime): void {
  shared.hotPath = true;
  shared.engageHotPath = undefined;
}
