/**
 * Start-up: what `-r timeoutsocket/register` costs a process before the application runs,
 * over what the application pays anyway for loading `node:net` (the preload loads it too).
 *
 * The two commands, both with nothing to do after start-up:
 * - A: `node -e 'require("node:net")'`;
 * - B: `node -r timeoutsocket/register -e 0`, resolved by the package name from the repository
 *   root (a package resolves its own name through its `exports`), as a user's `-r` resolves it.
 *
 * CPU time (the bench's row): whole processes (`spawnSync`), each printing its own user + system
 * CPU time (`process.cpuUsage()`, every thread, from the start of the process) at the end of
 * its `-e` code, which is the same on both sides; so the child's CPU is measured, not the wall
 * clock of a shared machine, nor its own exit. Alternating which goes first, many rounds; the
 * cost is the median of the differences B - A within a round (a round's two runs see about the
 * same load). On a machine others use, CPU time still swings (a loaded core runs the same
 * instructions slower): the row says how far the paired differences spread, and the instruction
 * counts (`--instructions`) are the figure to trust there.
 * Instructions (the `--instructions` mode): callgrind counts of each command under
 * {@link STARTUP_FLAGS}, not the other counts' deterministic flags: those change V8's flag hash,
 * so V8 rejects Node's embedded code cache and every built-in module loaded after start-up is
 * compiled from source in the count, which no user's process does (bench/README.md, "Start-up").
 * Three counts of each, the median taken; they repeat to about 0.01%. bench/README.md says how
 * they convert to milliseconds on this machine.
 *
 * No `TIMEOUTSOCKET_*` variable is set for either side: the start-up a user who only preloads pays.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { childEnv } from './processes';
import type { Row, Stat } from './report';

const ROOT = path.resolve(__dirname, '..', '..');

/** The target: the preload costs at most this much time over loading `node:net`. */
export const STARTUP_TARGET_MS = 3;

/** Alternating runs of each command: `--quick` and the full run. */
export const STARTUP_RUNS = { quick: 21, full: 101 } as const;

/** The plain command's arguments to `node`: an application that loads `node:net` and ends. */
export const BASELINE_ARGS: readonly string[] = ['-e', 'require("node:net")'];

/** The preloaded command's arguments to `node`. */
export const PRELOAD_ARGS: readonly string[] = ['-r', 'timeoutsocket/register', '-e', '0'];

/**
 * The same preload named by its path: what resolving the package name through its `exports`
 * costs is the difference (Node loads its ESM resolver for any package with an `exports` map).
 */
export const PRELOAD_PATH_ARGS: readonly string[] = ['-r', './dist/lib/register.js', '-e', '0'];

/**
 * The V8 flags of the start-up counts: V8's deterministic mode and a fixed random seed. Unlike
 * the other counts' `--hash-seed`, `--single-threaded` and `--predictable-gc-schedule` (each
 * changes V8's flag hash), they keep Node's embedded code cache: the built-in modules load from
 * it, as in a user's process without flags (`NODE_DEBUG_NATIVE=CODE_CACHE` prints each one
 * "accepted" with these, "rejected" with those, 20 to 26). And they repeat (to about 0.005% on
 * 2026-12-02), where a count without any flag swings by several million instructions from run
 * to run.
 */
export const STARTUP_FLAGS: readonly string[] = ['--predictable', '--random-seed=1'];

/** Counts of each start-up command; the median is the figure (one odd count cannot move it). */
const STARTUP_COUNTS = 3;

/** A start-up that has not ended by then has hung: the bench fails rather than waits. */
const RUN_DEADLINE_MS = 30_000;

/** What both sides run last: print the process's own CPU time so far (user + system, µs). */
const PRINT_CPU = 'const u = process.cpuUsage(); process.stdout.write(String(u.user + u.system));';

/** The CPU-time form of each command: the same start-up, then {@link PRINT_CPU} in the `-e` code. */
const BASELINE_CPU_ARGS: readonly string[] = ['-e', `require("node:net"); ${PRINT_CPU}`];
const PRELOAD_CPU_ARGS: readonly string[] = ['-r', 'timeoutsocket/register', '-e', `require("node:net"); ${PRINT_CPU}`];

/** One process: its own CPU time up to the end of its `-e` code, ms. */
function runOnce(args: readonly string[]): number {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, env: childEnv(false), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: RUN_DEADLINE_MS });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed (status ${result.status}, signal ${result.signal}): ${String(result.stderr).trim()}`);
  const micros = Number(result.stdout);
  if (!Number.isFinite(micros) || micros <= 0) throw new Error(`node ${args.join(' ')} printed no CPU time: ${JSON.stringify(result.stdout)}`);
  return micros / 1000;
}

function stat(values: readonly number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** The value at fraction `q` (0..1) of the sorted values (nearest rank). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.round(q * (sorted.length - 1))];
}

/** The CPU times of both commands, ms. */
export interface StartupTimes {
  readonly baseline: Stat;
  readonly preload: Stat;
  /** The median of B - A within each round, ms. */
  readonly extra: number;
  /** B minus A within each round, ms. */
  readonly paired: number[];
}

/** Times `runs` alternating rounds of both commands (after one uncounted round that warms the file cache). */
export function timeStartup(runs: number): StartupTimes {
  runOnce(BASELINE_CPU_ARGS);
  runOnce(PRELOAD_CPU_ARGS);
  const baseline: number[] = [];
  const preload: number[] = [];
  for (let round = 0; round < runs; round += 1) {
    if (round % 2 === 0) {
      baseline.push(runOnce(BASELINE_CPU_ARGS));
      preload.push(runOnce(PRELOAD_CPU_ARGS));
    } else {
      preload.push(runOnce(PRELOAD_CPU_ARGS));
      baseline.push(runOnce(BASELINE_CPU_ARGS));
    }
  }
  const a = stat(baseline);
  const b = stat(preload);
  const paired = preload.map((ms, i) => ms - baseline[i]);
  return { baseline: a, preload: b, extra: stat(paired).median, paired };
}

/** The bench's row for the CPU-time start-up figure. */
export function startupRow(times: StartupTimes): Row {
  return {
    workload: 'startup',
    title: `start-up, -r timeoutsocket/register over require("node:net"), ${times.baseline.n} alternating rounds, median of paired differences`,
    metric: 'ms CPU (user + system) per process',
    plain: times.baseline,
    patched: times.preload,
    extra: times.extra,
    target: `extra <= ${STARTUP_TARGET_MS} ms`,
    status: times.extra <= STARTUP_TARGET_MS ? 'met' : 'missed',
    note: `paired differences ${stat(times.paired).min.toFixed(1)}..${stat(times.paired).max.toFixed(1)} ms, quartiles ${quantile(times.paired, 0.25).toFixed(1)}..${quantile(times.paired, 0.75).toFixed(1)} ms; --instructions counts it without the noise`,
  };
}

/** Prints the start-up row's figures while the bench runs. */
export function describeStartup(times: StartupTimes): string {
  return `CPU: node:net ${times.baseline.median.toFixed(1)} ms, preload ${times.preload.median.toFixed(1)} ms: paired median +${times.extra.toFixed(1)} ms (target <= ${STARTUP_TARGET_MS} ms)`;
}

/** The median of an odd number of counts. */
function medianCount(counts: readonly number[]): number {
  return [...counts].sort((a, b) => a - b)[counts.length >> 1];
}

/**
 * The instructions of both commands (and of the preload by path), counted with `count`
 * (instructions.ts's callgrind counter) under {@link STARTUP_FLAGS}, {@link STARTUP_COUNTS}
 * times each: the median of each, and every count.
 */
export async function countStartup(
  count: (argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string) => Promise<number>,
): Promise<{ baseline: number; preload: number; preloadByPath: number; counts: { baseline: number[]; preload: number[]; preloadByPath: number[] } }> {
  const env = childEnv(false);
  // `-r timeoutsocket/register` resolves from the working directory: all run in ROOT.
  const run = (args: readonly string[]): Promise<number> => count([process.execPath, ...STARTUP_FLAGS, ...args], env, ROOT);
  const counts = { baseline: [] as number[], preload: [] as number[], preloadByPath: [] as number[] };
  for (let i = 0; i < STARTUP_COUNTS; i += 1) {
    const [baseline, preload] = await Promise.all([run(BASELINE_ARGS), run(PRELOAD_ARGS)]);
    counts.baseline.push(baseline);
    counts.preload.push(preload);
    counts.preloadByPath.push(await run(PRELOAD_PATH_ARGS));
  }
  return { baseline: medianCount(counts.baseline), preload: medianCount(counts.preload), preloadByPath: medianCount(counts.preloadByPath), counts };
}
