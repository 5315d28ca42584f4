/**
 * Start-up: what `-r timeoutsocket/register` costs a process before the application runs,
 * over what the application pays anyway for loading `node:net` (the preload loads it too).
 *
 * The two commands, both with nothing to do after start-up:
 * - A: `node -e 'require("node:net")'`;
 * - B: `node -r timeoutsocket/register -e 0`, resolved by the package name from the repository
 *   root (a package resolves its own name through its `exports`), as a user's `-r` resolves it.
 *
 * Wall time: whole processes (`spawnSync`, the same cost on both sides), alternating which goes
 * first, the median of each side; the cost is B's median minus A's. Instructions (the
 * `--instructions` mode): one callgrind count of each command, with the same deterministic V8
 * flags as the other counts; they repeat to about 0.01%, so one run of each is enough.
 *
 * No `TIMEOUTSOCKET_*` variable is set for either side: the start-up a user who only preloads pays.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { childEnv } from './processes';
import type { Row, Stat } from './report';

const ROOT = path.resolve(__dirname, '..', '..');

/** The target: the preload costs at most this much wall time over loading `node:net`. */
export const STARTUP_TARGET_MS = 3;

/** Alternating runs of each command: `--quick` and the full run. */
export const STARTUP_RUNS = { quick: 15, full: 41 } as const;

/** The plain command's arguments to `node`: an application that loads `node:net` and ends. */
export const BASELINE_ARGS: readonly string[] = ['-e', 'require("node:net")'];

/** The preloaded command's arguments to `node`. */
export const PRELOAD_ARGS: readonly string[] = ['-r', 'timeoutsocket/register', '-e', '0'];

/**
 * The same preload named by its path: what resolving the package name through its `exports`
 * costs is the difference (Node loads its ESM resolver for any package with an `exports` map).
 */
export const PRELOAD_PATH_ARGS: readonly string[] = ['-r', './dist/lib/register.js', '-e', '0'];

/** A start-up that has not ended by then has hung: the bench fails rather than waits. */
const RUN_DEADLINE_MS = 30_000;

function runOnce(args: readonly string[], flags: readonly string[] = []): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, [...flags, ...args], { cwd: ROOT, env: childEnv(false), stdio: ['ignore', 'ignore', 'pipe'], timeout: RUN_DEADLINE_MS });
  const wall = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed (status ${result.status}, signal ${result.signal}): ${String(result.stderr).trim()}`);
  return wall;
}

function stat(values: readonly number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** The wall times of both commands, ms. */
export interface StartupTimes {
  readonly baseline: Stat;
  readonly preload: Stat;
  /** B's median minus A's, ms. */
  readonly extra: number;
  /** B minus A within each round, ms. */
  readonly paired: number[];
}

/** Times `runs` alternating rounds of both commands (after one uncounted round that warms the file cache). */
export function timeStartup(runs: number): StartupTimes {
  runOnce(BASELINE_ARGS);
  runOnce(PRELOAD_ARGS);
  const baseline: number[] = [];
  const preload: number[] = [];
  for (let round = 0; round < runs; round += 1) {
    if (round % 2 === 0) {
      baseline.push(runOnce(BASELINE_ARGS));
      preload.push(runOnce(PRELOAD_ARGS));
    } else {
      preload.push(runOnce(PRELOAD_ARGS));
      baseline.push(runOnce(BASELINE_ARGS));
    }
  }
  const a = stat(baseline);
  const b = stat(preload);
  return { baseline: a, preload: b, extra: b.median - a.median, paired: preload.map((ms, i) => ms - baseline[i]) };
}

/** The bench's row for the wall-time start-up figure. */
export function startupRow(times: StartupTimes): Row {
  return {
    workload: 'startup',
    title: `start-up, -r timeoutsocket/register -e 0 over -e 'require("node:net")', ${times.baseline.n} alternating runs`,
    metric: 'ms wall per process',
    plain: times.baseline,
    patched: times.preload,
    extra: times.extra,
    target: `extra <= ${STARTUP_TARGET_MS} ms`,
    status: times.extra <= STARTUP_TARGET_MS ? 'met' : 'missed',
    note: `paired differences ${stat(times.paired).min.toFixed(1)}..${stat(times.paired).max.toFixed(1)} ms`,
  };
}

/** Prints the start-up row's figures while the bench runs. */
export function describeStartup(times: StartupTimes): string {
  return `node:net ${times.baseline.median.toFixed(1)} ms, preload ${times.preload.median.toFixed(1)} ms: +${times.extra.toFixed(1)} ms (target <= ${STARTUP_TARGET_MS} ms)`;
}

/**
 * The instructions of both commands, counted with `count` (instructions.ts's callgrind
 * counter) under the given V8 flags.
 */
export async function countStartup(
  count: (argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string) => Promise<number>,
  flags: readonly string[],
): Promise<{ baseline: number; preload: number; preloadByPath: number }> {
  const env = childEnv(false);
  // `-r timeoutsocket/register` resolves from the working directory: all run in ROOT.
  const run = (args: readonly string[]): Promise<number> => count([process.execPath, ...flags, ...args], env, ROOT);
  const [baseline, preload] = await Promise.all([run(BASELINE_ARGS), run(PRELOAD_ARGS)]);
  const preloadByPath = await run(PRELOAD_PATH_ARGS);
  return { baseline, preload, preloadByPath };
}
