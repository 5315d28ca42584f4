/**
 * The one clock every deadline is measured by: milliseconds of `performance.now()` (monotonic,
 * with a fraction of a ms; the engine, the awaitable calls, the debug log and the report
 * collector compare their times with each other, so they all read this one).
 *
 * `node:perf_hooks` is loaded on the first reading, not at start-up: it is not among what
 * `node:net` loads, and loading it (nine of Node's internal modules, `perf_hooks`,
 * `internal/perf/performance`, `internal/histogram` and the rest, as `process.moduleLoadList`
 * shows) costs about 8 million instructions, a fifth of what loading node:net itself costs. The global `performance` is no way
 * around it: its first use loads the same modules. A process that never arms a deadline never
 * loads them; one that does pays once, at its first deadline. Other clocks cost more per
 * reading (`process.hrtime()` builds an array each call, about three times the instructions),
 * and readings are on the hot path (every armed write).
 */
import type { Performance } from 'node:perf_hooks';

let clock: Performance | undefined;

/**
 * The time now, ms of `performance.now()`.
 * @example
 * ```ts
 * const due = now() + timeout;
 * ```
 */
export function now(): number {
  if (clock === undefined) clock = (require('node:perf_hooks') as typeof import('node:perf_hooks')).performance;
  return clock.now();
}
