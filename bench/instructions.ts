/**
 * `npm run bench -- --instructions`: the cost of the shim in instructions, which repeat to about
 * 0.1% from run to run where CPU time on a small shared machine swings by ±10%.
 *
 * The counter is valgrind's callgrind tool: it runs the client process on a synthetic CPU and
 * reports how many instructions it executed in user space ("Collected : N" on its stderr; the
 * profile itself is thrown away). Only the client process is counted: the server is its own
 * unpatched process, started once.
 *
 * Marginal cost: each client (bench/counted.ts) runs twice, with `low` and `high` units of work
 * (after the same warm-up, long enough for V8 to have optimised the hot code); `(I(HIGH) - I(LOW)) / (HIGH - LOW)` is the cost of one unit, with
 * start-up, module loading and warm-up cancelled. Three sides per workload:
 * - plain Node;
 * - `-r dist/lib/register.js` with every timeout armed (`TIMEOUTSOCKET_TIMEOUT=60s`);
 * - `-r dist/lib/register.js` with no timeout set (installed, nothing armed).
 *
 * A process runs about 50 times slower under valgrind, so the amounts are small (hundreds).
 * Not for a bulk transfer: how often it waits for 'drain' depends on timing, which valgrind
 * changes, so its count is not the cost of the same work. Without valgrind, the mode says so
 * and exits with status 0, counting nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ARMED_TIMEOUT, childEnv, startServer } from './processes';
import type { ServerPorts } from './server';
import { BASELINE_ARGS, countStartup, PRELOAD_ARGS, PRELOAD_PATH_ARGS, STARTUP_TARGET_MS } from './startup';

const ROOT = path.resolve(__dirname, '..', '..');
const REGISTER = path.join(ROOT, 'dist', 'lib', 'register.js');
const COUNTED = path.join(__dirname, 'counted.js');
const RESULT = path.join(ROOT, 'bench', 'results', 'instructions.json');

/** A counted run that has not ended by then (valgrind is slow, but not this slow) fails. */
const RUN_DEADLINE_MS = 300_000;

/** One side of a comparison: how the client process is started. */
interface Side {
  readonly id: 'plain' | 'armed' | 'installed';
  readonly label: string;
  readonly preload: boolean;
  readonly armed: boolean;
}

const SIDES: readonly Side[] = [
  { id: 'plain', label: 'plain Node', preload: false, armed: false },
  { id: 'armed', label: `timeoutsocket, every timeout armed (${ARMED_TIMEOUT})`, preload: true, armed: true },
  { id: 'installed', label: 'timeoutsocket installed, no timeout set', preload: true, armed: false },
];

/** A workload of bench/counted.ts and what one unit of it is. */
interface CountedWorkload {
  readonly name: string;
  readonly unit: string;
  readonly port: keyof ServerPorts;
  /** Units done first in every run, uncounted: V8 tiers code up over thousands of calls. */
  readonly warmup: number;
  readonly low: number;
  readonly high: number;
  /** Targets for the armed and installed sides, as a fraction over plain. */
  readonly armedTarget: number | null;
}

/** Targets: at most +2% per round trip and +3% per short connection armed; +1% installed and idle. */
const WORKLOADS: readonly CountedWorkload[] = [
  { name: 'pingpong', unit: '64-byte round trip', port: 'echo', warmup: 3000, low: 500, high: 1500, armedTarget: 0.02 },
  { name: 'churn', unit: 'short connection', port: 'churn', warmup: 500, low: 100, high: 300, armedTarget: 0.03 },
  { name: 'http', unit: 'http.Agent keep-alive request', port: 'http', warmup: 1000, low: 200, high: 600, armedTarget: null },
  { name: 'fetch', unit: 'fetch() keep-alive request', port: 'http', warmup: 1000, low: 200, high: 600, armedTarget: null },
];
const INSTALLED_TARGET = 0.01;

/**
 * V8 flags that make a count repeat: a fixed hash seed and random seed (a random hash seed
 * changes how many probes every hash table lookup takes: ±1% on start-up alone), and no
 * background threads (concurrent compilation and GC run on timing; with this the same run
 * repeats to about 0.01%). Both sides get the same flags.
 */
const DETERMINISTIC = ['--hash-seed=1', '--random-seed=1', '--single-threaded'];

/** Whether valgrind can be run, and its version line. */
export function valgrindVersion(): string | undefined {
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/**
 * Counts the instructions one process executes: `argv` run under callgrind, bounded.
 * @returns the count valgrind reports ("Collected : N").
 */
export function countInstructions(argv: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<number> {
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), RUN_DEADLINE_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const match = /Collected : (\d+)/.exec(err);
      if (code === 0 && match !== null) resolve(Number(match[1]));
      else reject(new Error(`${argv.join(' ')} failed under valgrind (exit ${code}, signal ${signal}):\n${err.trim().split('\n').slice(-5).join('\n')}`));
    });
  });
}

/** The instructions per unit of `workload` on `side`: two counted runs, their difference. */
async function marginal(workload: CountedWorkload, side: Side, port: number): Promise<number> {
  const argv = (units: number): string[] => [
    process.execPath,
    ...DETERMINISTIC,
    ...(side.preload ? ['-r', REGISTER] : []),
    COUNTED,
    workload.name,
    String(port),
    String(units),
    String(workload.warmup),
  ];
  const env = childEnv(side.armed);
  // The two runs in parallel: counts do not depend on timing, and the machine has 2 cores.
  const [low, high] = await Promise.all([countInstructions(argv(workload.low), env), countInstructions(argv(workload.high), env)]);
  return (high - low) / (workload.high - workload.low);
}

/** One workload's counts, per unit, by side. */
interface CountedRow {
  readonly workload: string;
  readonly unit: string;
  readonly perUnit: Record<Side['id'], number>;
  readonly armedExtra: number;
  readonly installedExtra: number;
  readonly armedTarget: number | null;
  readonly installedTarget: number;
}

function percent(extra: number): string {
  return `${extra >= 0 ? '+' : ''}${(extra * 100).toFixed(2)}%`;
}

function verdict(extra: number, target: number | null): string {
  if (target === null) return 'info';
  return extra <= target ? 'met' : 'MISSED';
}

function table(rows: readonly CountedRow[]): string {
  const lines = [
    '| workload | plain, instr/unit | armed | installed, no timeout |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const armed = `${Math.round(r.perUnit.armed).toLocaleString('en-US')} (${percent(r.armedExtra)}, ${r.armedTarget === null ? 'info' : `target +${r.armedTarget * 100}%: ${verdict(r.armedExtra, r.armedTarget)}`})`;
    const installed = `${Math.round(r.perUnit.installed).toLocaleString('en-US')} (${percent(r.installedExtra)}, target +${r.installedTarget * 100}%: ${verdict(r.installedExtra, r.installedTarget)})`;
    lines.push(`| ${r.unit} | ${Math.round(r.perUnit.plain).toLocaleString('en-US')} | ${armed} | ${installed} |`);
  }
  return lines.join('\n');
}

/** The start-up row: whole processes, not a marginal cost; the target itself is in wall time (startup.ts). */
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
    `Target: <= ${STARTUP_TARGET_MS} ms of wall time over node:net, timed by the CPU-time bench (\`--only=startup\`).`,
  ].join('\n');
}

/**
 * Runs the instruction counts for the workloads in `only` (all when null), prints a table and
 * writes `bench/results/instructions.json`.
 */
export async function runInstructions(only: ReadonlySet<string> | null): Promise<void> {
  const version = valgrindVersion();
  if (version === undefined) {
    process.stdout.write('--instructions: valgrind is not installed, so no instructions were counted (apt-get install valgrind, or your platform\'s package).\n');
    return;
  }
  const chosen = WORKLOADS.filter((w) => only === null || only.has(w.name));
  const countsStartup = only === null || only.has('startup');
  if (chosen.length === 0 && !countsStartup) throw new Error(`--instructions counts ${[...WORKLOADS.map((w) => w.name), 'startup'].join(', ')}`);
  const started = Date.now();
  const rows: CountedRow[] = [];
  if (chosen.length > 0) {
    const server = await startServer();
    try {
      for (const workload of chosen) {
        const perUnit = {} as Record<Side['id'], number>;
        for (const side of SIDES) {
          perUnit[side.id] = await marginal(workload, side, server.ports[workload.port]);
          process.stderr.write(`  ${workload.name} ${side.id}: ${Math.round(perUnit[side.id])} instructions per ${workload.unit}\n`);
        }
        rows.push({
          workload: workload.name,
          unit: workload.unit,
          perUnit,
          armedExtra: perUnit.armed / perUnit.plain - 1,
          installedExtra: perUnit.installed / perUnit.plain - 1,
          armedTarget: workload.armedTarget,
          installedTarget: INSTALLED_TARGET,
        });
      }
    } finally {
      await server.stop();
    }
  }
  const startup = countsStartup ? await countStartup(countInstructions, DETERMINISTIC) : undefined;
  if (startup !== undefined) process.stderr.write(`  startup: ${startup.baseline} instructions for node:net, ${startup.preload} with the preload (${startup.preloadByPath} by path)\n`);
  const report = {
    schema: 1,
    date: new Date().toISOString(),
    node: process.version,
    valgrind: version,
    armed: `TIMEOUTSOCKET_TIMEOUT=${ARMED_TIMEOUT}`,
    method: 'callgrind instructions of the client process, (I(high) - I(low)) / (high - low)',
    nodeFlags: DETERMINISTIC,
    amounts: Object.fromEntries(chosen.map((w) => [w.name, { warmup: w.warmup, low: w.low, high: w.high }])),
    seconds: (Date.now() - started) / 1000,
    rows,
    startup: startup && { ...startup, extra: startup.preload - startup.baseline, baselineArgs: BASELINE_ARGS, preloadArgs: PRELOAD_ARGS, preloadByPathArgs: PRELOAD_PATH_ARGS },
  };
  mkdirSync(path.dirname(RESULT), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify(report, null, 2)}\n`);
  const startupLine = startup === undefined ? '' : `${startupTable(startup)}\n\n`;
  process.stdout.write(`${rows.length > 0 ? `${table(rows)}\n\n` : ''}${startupLine}wrote ${path.relative(ROOT, RESULT)} in ${report.seconds.toFixed(0)} s\n`);
}
