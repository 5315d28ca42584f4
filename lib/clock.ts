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
 * reading, and readings are on the hot path (every armed write, every awaitable call that has
 * to wait). Counted under callgrind in a loop of readings, instructions per reading over an
 * empty loop (Node 20 / 22 / 24 / 26; the empty loop's own count moves between lines, so about):
 * `performance.now()` 140 / 250 / 130 / 85 (its receiver check, a `hasOwnProperty` call, is a
 * third of it on 20); `process.hrtime()` 460 / 440 / 260 / 320 (it builds an array each call);
 * `process.uptime()` (the same monotonic clock, in seconds) 550 / 650 / 890 / 600, a plain C++
 * call. `performance.now()` is the cheapest on every line. `Date.now()` is no candidate: it is
 * not monotonic.
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
