/**
 * The process-wide state every loaded copy of timeoutsocket shares, and the process default
 * that lives in it (`setDefaultSocketTimeout`, applying the `TIMEOUTSOCKET_*` environment).
 *
 * An application can end up with two copies of the package (two `node_modules` trees), yet
 * `net.Socket.prototype` exists once per process. So the record of what is patched, the
 * original functions and the process default live on the `net.Socket` constructor itself under
 * a registry symbol, not in module scope: whichever copy installs first patches, every copy sees
 * the same default. (Not on `globalThis`: module sandboxes such as Jest's give each file its own
 * global while `net` stays the one process-wide module.)
 *
 * The record itself and the hot-path switch are in lib/runtime-record.ts, which the register
 * preload loads without this file (issue 16, start-up); they are re-exported here, as plain
 * values (not getters: the engine reads `runtime` from here).
 */
import { Socket } from 'node:net';
import { setKeepAliveTakesProbes } from './node-internals';
import { keepAliveProbesFromEnv, normalizeTimeout, timeoutsFromEnv, type PhaseTimeouts, type TimeoutSetting } from './config';
import { engageHotPath as engage, hasAnyTimeout, hotPathWanted as wanted, markHotPathOn as markOn, newCounters as counters, runtime as shared } from './runtime-record';

export type { Counters, Runtime, SavedProperty } from './runtime-record';
/** The shared runtime record, created on first use (lib/runtime-record.ts). */
export const runtime = shared;
/** Fresh counters, all zero (lib/runtime-record.ts). */
export const newCounters = counters;
/** Puts the per-write wrappers on, once (lib/runtime-record.ts says why that is safe). */
export const engageHotPath = engage;
/** Whether the hot path must be on at install (lib/runtime-record.ts). */
export const hotPathWanted = wanted;
/** Records that the per-write wrappers are on (lib/runtime-record.ts). */
export const markHotPathOn = markOn;

/**
 * Where a socket keeps its engine state (lib/engine.ts). A registry symbol, so every copy of the
 * package finds it; defined here so the observability hooks read a socket's protocol without
 * importing the engine.
 */
export const STATE = Symbol.for('timeoutsocket.state.v1');

/**
 * Sets the process default: the deadlines of every socket that has no setting of its own
 * (`socket.setSocketTimeout`). `null` turns them off.
 *
 * @example
 * ```ts
 * setDefaultSocketTimeout(5000);                      // every phase, 5 s
 * setDefaultSocketTimeout({ connect: 2000, read: 10_000 });
 * ```
 */
export function setDefaultSocketTimeout(setting: TimeoutSetting): void {
  const defaults = Object.freeze(normalizeTimeout(setting, 'timeout'));
  engageIfDeadline(defaults);
  runtime().defaults = defaults;
}

/** The process default, one value per phase (`null` = no deadline). */
export function getDefaultSocketTimeout(): PhaseTimeouts {
  return { ...runtime().defaults };
}

/**
 * Applies the `TIMEOUTSOCKET_*` environment to the process default, once per process (a second
 * copy of the package must not undo what the application set since). Validates first, so a bad
 * value throws a `RangeError` and changes nothing.
 */
export function applyEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const fromEnv = timeoutsFromEnv(env);
  const probes = keepAliveProbesFromEnv(env, { version: process.versions.node, takesProbes: takesKeepAliveProbes() });
  const shared = runtime();
  if (shared.envApplied) return;
  shared.envApplied = true;
  if (fromEnv !== undefined) {
    engageIfDeadline(fromEnv);
    shared.defaults = Object.freeze(fromEnv);
  }
  shared.keepAliveProbes = probes;
}

/** {@link engageHotPath} if `timeouts` has a deadline (a phase > 0: `null` blocks, 0 is non-blocking). */
export function engageIfDeadline(timeouts: PhaseTimeouts): void {
  if (hasAnyTimeout(timeouts)) engageHotPath();
}

/**
 * Whether this Node's `socket.setKeepAlive()` takes a probe interval and count (24 and later;
 * {@link setKeepAliveTakesProbes}), asked of Node's own function: the one the patch saved, once
 * installed (the wrapper declares no parameters).
 */
export function takesKeepAliveProbes(): boolean {
  const proto = Socket.prototype;
  const saved = runtime().patched?.find((entry) => entry.target === proto && entry.key === 'setKeepAlive')?.original?.value;
  return setKeepAliveTakesProbes(typeof saved === 'function' ? saved : proto.setKeepAlive);
}
