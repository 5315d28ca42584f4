/**
 * `npm run bench -- --instructions`: the cost of the shim in instructions, which repeat to about
 * 0.1% from run to run where CPU time on a small shared machine swings by ±10%.
 *
 * The counter is valgrind's callgrind tool: it runs the client process on a synthetic CPU and
 * reports how many instructions it executed in user space ("Collected : N" on its stderr; the
 * profile itself is thrown away). Only the client process is counted: the server is its own
 * unpatched process, started once.
 *
 * Segments: each client (bench/counted.ts) does a warm-up (long enough for V8 to have optimised
 * the hot code) and then the counted units in equal segments, marking every boundary with a call
 * callgrind dumps its count at (`--dump-before`, {@link MARK_FUNCTION}), so one process gives the
 * instructions of each counted segment, start-up and warm-up left out. A process's figure is its
 * counted segments over their units; a side's, the median over its processes (two for churn,
 * http and fetch, whose counts follow timing; one for the others), one process at a time. It
 * replaced the difference of a low and a high process, which billed whatever timing changed over
 * the whole of both runs to the units between the amounts (bench/README.md, "Instruction counts").
 * Three sides per workload, four for ping-pong and churn:
 * - plain Node;
 * - `-r dist/lib/register.js` with every timeout armed (`TIMEOUTSOCKET_TIMEOUT=60s`);
 * - `-r dist/lib/register.js` with no timeout set (installed, nothing armed);
 * - ping-pong and churn: report mode (`TIMEOUTSOCKET_MODE=report` and a report collector, as
 *   `timeoutsocket run --report` starts a process), every timeout armed, against the armed
 *   (enforce) side: at most +0.5%.
 *
 * Every counted process says at its end whether it was patched, armed and in which mode
 * (counted.ts), and a side that is not what it should be fails the run. `--quick` counts small
 * amounts: it proves the mode runs in a few minutes; its figures are not the cost.
 *
 * The awaitable ping-pong (`awaitable`) is counted as three clients of the same amounts: the
 * event-style ping-pong on plain Node, `await sendAll()` / `await recv()` with every timeout
 * armed, and promise-socket's `write` / `read` on plain Node; it reports events / recv and
 * promise-socket / recv, the instruction-count side of the CPU bench's awaitable ratios.
 *
 * A process runs about 50 times slower under valgrind; the amounts are what it takes to count past
 * V8's tier-up and over enough GC cycles (see bench/README.md, "Warm-up" and "Repeatable counts").
 * Bulk (`bulk`) is counted per whole transfer, the CPU bench's own (256 MiB in 64 KiB writes,
 * each waiting for 'drain'). How many of its writes libuv queues (the kernel's send buffer full)
 * depends on timing, which valgrind changes (the client runs slower, the server does not), and a
 * queued write costs more on either side: each side's queued writes per transfer are reported
 * next to its count (`queuedWritesPerUnit`). Without valgrind, the mode says so and exits with
 * status 0, counting nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MARK_FUNCTION, markCount, type CountedProcess } from './counted';
import { median, partTotals, segmentFigures, spreadOf, type Spread } from './segments';
import { ARMED_TIMEOUT, checkReportFile, childEnv, reportModeEnv, startServer } from './processes';
import type { ServerPorts } from './server';
import { ARMED_INSTRUCTIONS, INSTALLED_INSTRUCTIONS, REPORT_OVER_ENFORCE_INSTRUCTIONS } from './targets';
import { BASELINE_ARGS, countStartup, PRELOAD_ARGS, PRELOAD_PATH_ARGS, STARTUP_FLAGS, STARTUP_TARGET_MS } from './startup';

const ROOT = path.resolve(__dirname, '..', '..');
const REGISTER = path.join(ROOT, 'dist', 'lib', 'register.js');
const COUNTED = path.join(__dirname, 'counted.js');
const RESULT = path.join(ROOT, 'bench', 'results', 'instructions.json');
/** `--quick` writes here, so a smoke run never replaces the figures of a full one. */
const QUICK_RESULT = path.join(ROOT, 'bench', 'results', 'instructions-quick.json');

/** A counted run that has not ended by then (valgrind is slow, but not this slow) fails. */
const RUN_DEADLINE_MS = 600_000;

/** One side of a comparison: how the client process is started. */
interface Side {
  readonly id: 'plain' | 'armed' | 'installed' | 'report';
  readonly label: string;
  readonly preload: boolean;
  readonly armed: boolean;
  /** The deadline mode of a preloaded side. */
  readonly mode?: 'enforce' | 'report';
}

const SIDES: readonly Side[] = [
  { id: 'plain', label: 'plain Node', preload: false, armed: false },
  { id: 'armed', label: `timeoutsocket, every timeout armed (${ARMED_TIMEOUT})`, preload: true, armed: true },
  { id: 'installed', label: 'timeoutsocket installed, no timeout set', preload: true, armed: false },
  { id: 'report', label: `timeoutsocket in report mode, every timeout armed (${ARMED_TIMEOUT})`, preload: true, armed: true, mode: 'report' },
];

/** The workloads that count the report side too (report mode against enforce mode). */
const WITH_REPORT_SIDE: ReadonlySet<string> = new Set(['pingpong', 'churn']);
/** The workloads with a target for the installed side (+1%); the others' figure is for information. */
const INSTALLED_TARGETS: Readonly<Record<string, number>> = { pingpong: INSTALLED_INSTRUCTIONS, churn: INSTALLED_INSTRUCTIONS };

function sidesOf(workload: CountedWorkload): Side[] {
  return SIDES.filter((side) => side.id !== 'report' || WITH_REPORT_SIDE.has(workload.name));
}

/** How much a side's processes do, and how their counted units are cut up. */
interface Amounts {
  /** Units done first in every process, uncounted: V8 tiers code up over thousands of calls. */
  readonly warmup: number;
  /** Units counted after the warm-up, in {@link segments} equal segments. */
  readonly units: number;
  /** Segments per process: callgrind dumps its count at each boundary (bench/counted.ts marks them). */
  readonly segments: number;
  /** Processes per side, one after another; the side's figure is the median of their figures. */
  readonly repeats: number;
}

/** A workload of bench/counted.ts and what one unit of it is. */
interface CountedWorkload extends Amounts {
  readonly name: string;
  readonly unit: string;
  readonly port: keyof ServerPorts;
  /** Targets for the armed and installed sides, as a fraction over plain. */
  readonly armedTarget: number | null;
  /** Node flags for this workload's counted processes, every side alike, after {@link DETERMINISTIC}. */
  readonly nodeFlags?: readonly string[];
  /** `--quick` amounts where a tenth of the full ones does not fit (a few large units). */
  readonly quick?: Partial<Amounts>;
}

/**
 * churn: an old generation large enough that no major collection (mark-compact) runs in the
 * whole process, on any side. A short connection leaves 1.5 to 2 KB in the old generation
 * (promoted by a scavenge, garbage later), so with V8's default limit a mark-compact came every
 * 5,000 or so connections, its place moving by hundreds of connections from one run to the
 * next. One that fell (with the old low and high runs) between the two amounts, in the high run only, billed its whole cost,
 * about 30 M instructions, to the 1,500 connections counted: some +20,000 per connection, on
 * either patched side, depending on what the counting process had loaded. Its aftermath moves
 * a count too: a mark-compact deoptimises optimised code whose embedded maps died
 * (`--trace-deopt`: "reason: weak objects"), and V8 compiles it again over the next 1,500 or so
 * connections. A counted range cannot be long enough to average over many of them (a
 * connection takes about 14 ms under valgrind: ten mark-compacts' worth, 50,000 connections,
 * would take 12 minutes per run), so the count leaves them out of every side. The warm-up and
 * the counted units, 13,000 connections, grow the old generation to about 25 MB (`--trace-gc`),
 * well inside this size (bench/README.md, "Instruction counts").
 */
const NO_MAJOR_GC = '--initial-old-space-size=64';

/** Processes per side for the workload whose count follows timing most (churn). */
const REPEATS = 2;

/** Targets: at most +2% per round trip and +3% per short connection armed; +1% installed and idle. */
const WORKLOADS: readonly CountedWorkload[] = [
  // pingpong: 9,000 of warm-up, then the 10,000 the old low and high runs counted between them (after 8,000 + 1,000).
  { name: 'pingpong', unit: '64-byte round trip', port: 'echo', warmup: 9000, units: 10000, segments: 5, repeats: 1, armedTarget: ARMED_INSTRUCTIONS.pingpong },
  // churn: with no mark-compact, V8's last compiles of per-connection code came at about the
  // 9,500th connection (`--trace-opt`: a closure on every side, `armConnect` installed), inside
  // the counted units of a 9,000-connection warm-up; 11,000 puts them before the counted ones.
  // churn: REPEATS processes per side (its count follows timing; see bench/README.md,
  // "Instruction counts").
  { name: 'churn', unit: 'short connection', port: 'churn', warmup: 11000, units: 2000, segments: 4, repeats: REPEATS, armedTarget: ARMED_INSTRUCTIONS.churn, nodeFlags: [NO_MAJOR_GC] },
  // http and fetch: `--trace-opt` still showed optimisations (2 to 14 per side) after the
  // 4,000th request and none after the 10,000th; one process per side keeps the run's length
  // (their segments agree to about 0.4%), and their rows are information, not targets.
  { name: 'http', unit: 'http.Agent keep-alive request', port: 'http', warmup: 10000, units: 2000, segments: 4, repeats: 1, armedTarget: null },
  { name: 'fetch', unit: 'fetch() keep-alive request', port: 'http', warmup: 10000, units: 2000, segments: 4, repeats: 1, armedTarget: null },
  // A transfer is 4,096 writes: 8 of warm-up put the counted ones past V8's tier-up of the write
  // path, and 10 counted ones (about two minutes under valgrind) span many scavenges.
  { name: 'bulk', unit: 'bulk transfer, 256 MiB in 64 KiB writes', port: 'discard', warmup: 8, units: 10, segments: 5, repeats: 1, armedTarget: null, quick: { warmup: 1, units: 2, segments: 2 } },
];

/**
 * `--quick`: amounts a tenth of the full ones (warm-up included), enough to run every side of
 * every workload in minutes and prove the mode works. V8 has not finished tiering up by then,
 * so the figures are mostly compiler work, not the cost.
 */
function quickAmounts(workload: CountedWorkload): CountedWorkload {
  if (workload.quick !== undefined) return { ...workload, repeats: 1, ...workload.quick };
  return { ...workload, ...quickOf(workload) };
}

/** A tenth of `amounts` (at least 10 units of each), in 2 segments, 1 process per side. */
function quickOf(amounts: Amounts): Amounts {
  const tenth = (n: number): number => Math.max(10, 2 * Math.round(n / 20));
  return { warmup: tenth(amounts.warmup), units: tenth(amounts.units), segments: 2, repeats: 1 };
}

/** One client of the awaitable comparison: a workload of counted.ts on one side. */
interface AwaitableClient {
  readonly id: 'events' | 'recv' | 'promise-socket';
  readonly label: string;
  readonly workload: string;
  readonly side: Side;
}

const AWAITABLE_CLIENTS: readonly AwaitableClient[] = [
  { id: 'events', label: 'event style, plain Node', workload: 'pingpong', side: SIDES[0] },
  { id: 'recv', label: `await sendAll/recv, every timeout armed (${ARMED_TIMEOUT})`, workload: 'awaitable-recv', side: SIDES[1] },
  { id: 'promise-socket', label: 'promise-socket write/read, plain Node', workload: 'awaitable-promise-socket', side: SIDES[0] },
];
/** Same amounts for the three, so that their per-unit counts compare (see bench/README.md, caveat). */
// 9,000 of warm-up, as ping-pong's: after 3,000, V8 still completed 8 optimisations of the
// write path in recv's counted range (`--trace-opt`), none after 9,000.
const AWAITABLE_AMOUNTS: Amounts = { warmup: 9000, units: 10000, segments: 5, repeats: 1 };
/** Targets, as throughput ratios: recv runs at >= 0.85 of event style and >= 1.3x promise-socket. */
const AWAITABLE_TARGETS = { events: 0.85, promiseSocket: 1.3 };

/**
 * V8 flags that make a count repeat: a fixed hash seed and random seed (a random hash seed
 * changes how many probes every hash table lookup takes: ±1% on start-up alone), no
 * background threads (concurrent compilation and GC run on timing), and a fixed GC schedule
 * (without it, when a young-generation collection falls depends on how the heap happened to
 * grow, and the marginal cost of one unit moved by a few hundred instructions, up to ±5% for a
 * short connection, from one pair of runs to the next; with it, about 60 instructions per
 * ping-pong round trip). Both sides get the same flags.
 */
const DETERMINISTIC = ['--hash-seed=1', '--random-seed=1', '--single-threaded', '--predictable-gc-schedule'];

/** Whether valgrind can be run, and its version line. */
export function valgrindVersion(): string | undefined {
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/**
 * Counts the instructions one process executes: `argv` run under callgrind, bounded.
 * @returns the count valgrind reports ("Collected : N").
 */
export async function countInstructions(argv: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<number> {
  return (await countProcess(argv, env, cwd)).instructions;
}

/** {@link countInstructions}, with the last line the process printed on stdout; `callgrind` are callgrind's own options. */
function countProcess(argv: readonly string[], env: NodeJS.ProcessEnv, cwd?: string, callgrind: readonly string[] = ['--callgrind-out-file=/dev/null']): Promise<{ instructions: number; lastLine: string }> {
  const args = ['--tool=callgrind', ...callgrind, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), RUN_DEADLINE_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const match = /Collected : (\d+)/.exec(err);
      if (code === 0 && match !== null) resolve({ instructions: Number(match[1]), lastLine: out.trim().split('\n').pop() ?? '' });
      else reject(new Error(`${argv.join(' ')} failed under valgrind (exit ${code}, signal ${signal}):\n${err.trim().split('\n').slice(-5).join('\n')}`));
    });
  });
}

/** What {@link countSide} found per unit: the figure, every segment's, and for bulk the writes libuv queued. */
interface SideCount {
  /** The median over the side's processes of each one's counted range per unit. */
  readonly instructions: number;
  /** Each process's segments, per unit, in order: the repeats a reader can see the spread of. */
  readonly segments: number[][];
  /** Each process's whole counted range per unit (the mean of its segments). */
  readonly processes: number[];
  readonly queuedWrites?: number;
}

/**
 * The instructions per unit of `workload` on `side`: `repeats` processes one after another, each
 * doing the warm-up and then `units` in `segments` equal segments, callgrind dumping its count at
 * every mark between them (bench/counted.ts). A process's figure is its whole counted range per
 * unit (the mean of its segments: a segment holds a scavenge or none, so a median of segments would
 * pick one of the two); the side's is the median over its processes.
 */
async function countSide(workload: Amounts & Pick<CountedWorkload, 'name' | 'nodeFlags'>, side: Side, port: number, scratch: () => string): Promise<SideCount> {
  const argv = [
    process.execPath,
    ...DETERMINISTIC,
    ...(workload.nodeFlags ?? []),
    ...(side.preload ? ['-r', REGISTER] : []),
    COUNTED,
    workload.name,
    String(port),
    String(workload.units),
    String(workload.warmup),
    String(workload.segments),
  ];
  const what = `${workload.name} ${side.id}`;
  const perSegment = workload.units / workload.segments;
  const segments: number[][] = [];
  let queued = 0;
  for (let repeat = 0; repeat < workload.repeats; repeat += 1) {
    const env = childEnv(side.armed);
    const run = mkdtempSync(path.join(scratch(), `${workload.name}-${side.id}-`));
    const reportFile = side.mode === 'report' ? path.join(run, 'report.jsonl') : undefined;
    if (reportFile !== undefined) Object.assign(env, reportModeEnv(reportFile));
    const base = path.join(run, 'callgrind.out');
    // One process at a time: the machine has 2 cores and a process's events per poll follow its timing.
    const { lastLine } = await countProcess(argv, env, undefined, [`--callgrind-out-file=${base}`, `--dump-before=${MARK_FUNCTION}`]);
    const seen = checkSide(side, lastLine, what);
    if (reportFile !== undefined) checkReportFile(reportFile, what);
    segments.push(segmentFigures(partTotals(base), markCount(workload.warmup, workload.units, workload.segments), workload.segments, perSegment));
    queued += seen.queuedWrites ?? 0;
    rmSync(run, { recursive: true, force: true });
  }
  const processes = segments.map((figures) => figures.reduce((sum, n) => sum + n, 0) / figures.length);
  const queuedWrites = workload.name === 'bulk' ? { queuedWrites: queued / (workload.units * workload.repeats) } : {};
  return { instructions: median(processes), segments, processes, ...queuedWrites };
}

/** The side's process must have been what the side says: patched or not, armed or not, in its mode. */
function checkSide(side: Side, lastLine: string, what: string): CountedProcess {
  let seen: CountedProcess;
  try {
    seen = JSON.parse(lastLine) as CountedProcess;
  } catch {
    throw new Error(`${what}: the counted process did not say what it ran (${JSON.stringify(lastLine)})`);
  }
  const armed = seen.armed !== null && seen.armed.connect !== null && seen.armed.read !== null && seen.armed.write !== null;
  const mode = side.preload ? (side.mode ?? 'enforce') : null;
  if (seen.patched !== side.preload || armed !== side.armed || seen.mode !== mode) {
    throw new Error(`${what}: expected patched=${side.preload} armed=${side.armed} mode=${mode}, the process ran ${lastLine}`);
  }
  return seen;
}

/** One workload's counts, per unit, by side. */
interface CountedRow {
  readonly workload: string;
  readonly unit: string;
  /** By side; `report` only for the workloads that count it. */
  readonly perUnit: Partial<Record<Side['id'], number>> & Record<'plain' | 'armed' | 'installed', number>;
  readonly armedExtra: number;
  readonly installedExtra: number;
  /** Report mode over enforce mode (the armed side), both armed; null when not counted. */
  readonly reportExtra: number | null;
  readonly armedTarget: number | null;
  readonly installedTarget: number | null;
  readonly reportTarget: number | null;
  /** Per side: every segment's figure, by process, and their spread (what the median is of). */
  readonly repeats: Partial<Record<Side['id'], Repeats>>;
  /** bulk: the writes libuv queued per transfer, by side (timing decides it; see the header). */
  readonly queuedWritesPerUnit?: Partial<Record<Side['id'], number>>;
}

/** What a side's figure is the median of, for the JSON: so that a reader sees how far the counts move. */
interface Repeats {
  /** Per process, each segment's instructions per unit, in order. */
  readonly segments: number[][];
  /** Per process, its whole counted range per unit (the mean of its segments). */
  readonly processes: number[];
  /** Of all the segments (a segment with a scavenge and one without differ by several percent). */
  readonly spread: Spread;
  /** Of the processes' figures: how far two counts of the same build differ. */
  readonly processSpread: Spread;
}

function repeatsOf(count: SideCount): Repeats {
  return { segments: count.segments, processes: count.processes, spread: spreadOf(count.segments.flat()), processSpread: spreadOf(count.processes) };
}

function percent(extra: number): string {
  return `${extra >= 0 ? '+' : ''}${(extra * 100).toFixed(2)}%`;
}

function verdict(extra: number, target: number | null): string {
  if (target === null) return 'info';
  return extra <= target ? 'met' : 'MISSED';
}

/** One cell: the count per unit, its extra over the side it is compared with, and the verdict. */
function countCell(perUnit: number | undefined, extra: number | null, target: number | null): string {
  if (perUnit === undefined || extra === null) return '–';
  const judged = target === null ? 'info' : `target +${target * 100}%: ${verdict(extra, target)}`;
  return `${Math.round(perUnit).toLocaleString('en-US')} (${percent(extra)}, ${judged})`;
}

function table(rows: readonly CountedRow[]): string {
  const lines = [
    '| workload | plain, instr/unit | armed (enforce), vs plain | installed, no timeout, vs plain | report mode, armed, vs enforce |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const armed = countCell(r.perUnit.armed, r.armedExtra, r.armedTarget);
    const installed = countCell(r.perUnit.installed, r.installedExtra, r.installedTarget);
    const report = countCell(r.perUnit.report, r.reportExtra, r.reportTarget);
    lines.push(`| ${r.unit} | ${Math.round(r.perUnit.plain).toLocaleString('en-US')} | ${armed} | ${installed} | ${report} |`);
  }
  for (const r of rows) {
    if (r.queuedWritesPerUnit === undefined) continue;
    const sides = Object.entries(r.queuedWritesPerUnit).map(([id, n]) => `${id} ${n.toFixed(1)}`);
    lines.push('', `${r.workload}: writes libuv queued per transfer (the rest were written at once): ${sides.join(', ')}`);
  }
  return lines.join('\n');
}

/** The awaitable comparison's counts per round trip, and the throughput ratios they imply. */
interface AwaitableRow {
  readonly unit: string;
  readonly perUnit: Record<AwaitableClient['id'], number>;
  /** Every segment's figure per client, by process, and their spread. */
  readonly repeats: Record<AwaitableClient['id'], Repeats>;
  /** events / recv: recv's speed relative to event-style code, by instructions. */
  readonly ofEvents: number;
  /** promise-socket / recv: how many times promise-socket's speed, by instructions. */
  readonly ofPromiseSocket: number;
  readonly targets: typeof AWAITABLE_TARGETS;
}

async function countAwaitable(port: number, reportDir: () => string): Promise<AwaitableRow> {
  const perUnit = {} as Record<AwaitableClient['id'], number>;
  const repeats = {} as Record<AwaitableClient['id'], Repeats>;
  for (const client of AWAITABLE_CLIENTS) {
    const count = await countSide({ name: client.workload, ...AWAITABLE_AMOUNTS }, client.side, port, reportDir);
    perUnit[client.id] = count.instructions;
    repeats[client.id] = repeatsOf(count);
    process.stderr.write(`  awaitable ${client.id}: ${Math.round(perUnit[client.id])} instructions per 64-byte round trip\n`);
  }
  return {
    unit: '64-byte round trip',
    perUnit,
    repeats,
    ofEvents: perUnit.events / perUnit.recv,
    ofPromiseSocket: perUnit['promise-socket'] / perUnit.recv,
    targets: AWAITABLE_TARGETS,
  };
}

function awaitableTable(row: AwaitableRow): string {
  const count = (id: AwaitableClient['id']): string => Math.round(row.perUnit[id]).toLocaleString('en-US');
  const met = (ratio: number, target: number, unit = ''): string => `${ratio.toFixed(3)}${unit} (target >= ${target}${unit}: ${ratio >= target ? 'met' : 'MISSED'})`;
  return [
    '| awaitable ping-pong | instr per round trip | recv/sendAll speed, by instructions |',
    '| --- | ---: | ---: |',
    ...AWAITABLE_CLIENTS.map((c) => {
      const ratio = c.id === 'events' ? met(row.ofEvents, row.targets.events) : c.id === 'promise-socket' ? met(row.ofPromiseSocket, row.targets.promiseSocket, 'x') : '';
      return `| ${c.label} | ${count(c.id)} | ${ratio} |`;
    }),
  ].join('\n');
}

/** The start-up row: whole processes, not a marginal cost; the target is in time, and bench/README.md says how these convert to ms. */
function startupTable(startup: { baseline: number; preload: number; preloadByPath: number }): string {
  const row = (label: string, count: number): string => {
    const extra = count - startup.baseline;
    return `| ${label} | ${startup.baseline.toLocaleString('en-US')} | ${count.toLocaleString('en-US')} | +${extra.toLocaleString('en-US')} (+${((extra / startup.baseline) * 100).toFixed(1)}%) |`;
  };
  return [
    "| start-up, instructions per process | -e 'require(\"node:net\")' | with the preload, -e 0 | extra |",
    '| --- | ---: | ---: | ---: |',
    row(PRELOAD_ARGS.slice(0, 2).join(' '), startup.preload),
    row(`${PRELOAD_PATH_ARGS.slice(0, 2).join(' ')} (no exports lookup)`, startup.preloadByPath),
    '',
    `Counted with ${STARTUP_FLAGS.join(' ')} (Node's code cache kept, as in a user's process), the median of three. Target: <= ${STARTUP_TARGET_MS} ms over node:net. bench/README.md ("Start-up") converts these counts to ms; the CPU-time bench (\`--only=startup\`) times it too.`,
  ].join('\n');
}

/**
 * Runs the instruction counts for the workloads in `only` (all when null; `awaitable` for the
 * awaitable comparison), prints a table and writes `bench/results/instructions.json`.
 */
export async function runInstructions(only: ReadonlySet<string> | null, quick = false): Promise<void> {
  const version = valgrindVersion();
  if (version === undefined) {
    process.stdout.write('--instructions: valgrind is not installed, so no instructions were counted (apt-get install valgrind, or your platform\'s package).\n');
    return;
  }
  const chosen = WORKLOADS.filter((w) => only === null || only.has(w.name)).map((w) => (quick ? quickAmounts(w) : w));
  const awaitable = only === null || only.has('awaitable');
  const countsStartup = only === null || only.has('startup');
  if (chosen.length === 0 && !awaitable && !countsStartup) {
    throw new Error(`--instructions counts ${[...WORKLOADS.map((w) => w.name), 'awaitable', 'startup'].join(', ')}`);
  }
  const started = Date.now();
  const rows: CountedRow[] = [];
  let awaitableRow: AwaitableRow | undefined;
  let reportDir: string | undefined;
  const reportDirFor = (): string => (reportDir ??= mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-instructions-')));
  const server = chosen.length > 0 || awaitable ? await startServer() : undefined;
  try {
    for (const workload of chosen) {
      const perUnit = {} as CountedRow['perUnit'];
      const repeats: CountedRow['repeats'] = {};
      const queued: Partial<Record<Side['id'], number>> = {};
      for (const side of sidesOf(workload)) {
        const figures = await countSide(workload, side, server!.ports[workload.port], reportDirFor);
        perUnit[side.id] = figures.instructions;
        repeats[side.id] = repeatsOf(figures);
        if (figures.queuedWrites !== undefined) queued[side.id] = figures.queuedWrites;
        const processes = figures.processes.map((n) => Math.round(n)).join(', ');
        process.stderr.write(`  ${workload.name} ${side.id}: ${Math.round(perUnit[side.id]!)} instructions per ${workload.unit} (processes: ${processes})\n`);
      }
      const hasReport = perUnit.report !== undefined;
      rows.push({
        workload: workload.name,
        unit: workload.unit,
        perUnit,
        armedExtra: perUnit.armed / perUnit.plain - 1,
        installedExtra: perUnit.installed / perUnit.plain - 1,
        reportExtra: hasReport ? perUnit.report! / perUnit.armed - 1 : null,
        armedTarget: workload.armedTarget,
        installedTarget: INSTALLED_TARGETS[workload.name] ?? null,
        reportTarget: hasReport ? REPORT_OVER_ENFORCE_INSTRUCTIONS : null,
        repeats,
        ...(Object.keys(queued).length === 0 ? {} : { queuedWritesPerUnit: queued }),
      });
    }
    if (awaitable) awaitableRow = await countAwaitable(server!.ports.echo, reportDirFor);
  } finally {
    await server?.stop();
    if (reportDir !== undefined) rmSync(reportDir, { recursive: true, force: true });
  }
  const startup = countsStartup ? await countStartup(countInstructions) : undefined;
  if (startup !== undefined) process.stderr.write(`  startup: ${startup.baseline} instructions for node:net, ${startup.preload} with the preload (${startup.preloadByPath} by path)\n`);
  const report = {
    schema: 2, // 2: amounts are warmup/units/segments/repeats, rows carry `repeats` (segments per process)
    date: new Date().toISOString(),
    node: process.version,
    valgrind: version,
    quick,
    armed: `TIMEOUTSOCKET_TIMEOUT=${ARMED_TIMEOUT}`,
    report: 'TIMEOUTSOCKET_MODE=report with a report collector (TIMEOUTSOCKET_REPORT_FILE), every timeout armed; compared with the armed (enforce) side',
    method: 'callgrind instructions of the client process, dumped at marks between segments of its units (bench/counted.ts); a process\'s figure is its counted segments\' instructions over their units; a side\'s, the median over its processes (rows[].repeats holds every segment and process)',
    nodeFlags: DETERMINISTIC,
    amounts: {
      ...Object.fromEntries(chosen.map((w) => [w.name, { warmup: w.warmup, units: w.units, segments: w.segments, repeats: w.repeats, ...(w.nodeFlags === undefined ? {} : { nodeFlags: w.nodeFlags }) }])),
      ...(awaitableRow === undefined ? {} : { awaitable: AWAITABLE_AMOUNTS }),
    },
    seconds: (Date.now() - started) / 1000,
    rows,
    ...(awaitableRow === undefined ? {} : { awaitable: awaitableRow }),
    startup: startup && { ...startup, extra: startup.preload - startup.baseline, flags: STARTUP_FLAGS, baselineArgs: BASELINE_ARGS, preloadArgs: PRELOAD_ARGS, preloadByPathArgs: PRELOAD_PATH_ARGS },
  };
  const file = quick ? QUICK_RESULT : RESULT;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const caveat = quick ? 'quick: amounts too small for V8 to have tiered up, so these figures only show that the mode runs, not the cost\n\n' : '';
  const tables = [
    ...(rows.length > 0 ? [table(rows)] : []),
    ...(awaitableRow === undefined ? [] : [awaitableTable(awaitableRow)]),
    ...(startup === undefined ? [] : [startupTable(startup)]),
  ];
  process.stdout.write(`${caveat}${tables.join('\n\n')}\n\nwrote ${path.relative(ROOT, file)} in ${report.seconds.toFixed(0)} s\n`);
}
