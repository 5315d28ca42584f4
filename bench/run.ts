/**
 * The benchmark orchestrator: `npm run bench` (full, a few minutes) or `npm run bench -- --quick`.
 *
 * Every workload runs in separate client processes, plain Node against the same client code
 * preloaded with `-r dist/lib/register.js` and every deadline armed (`TIMEOUTSOCKET_TIMEOUT=60s`:
 * connect, read and write, long enough never to fire). The order alternates round by round
 * (plain first, then patched first) so drift in the machine's state hits both sides alike. The
 * server is its own unpatched process. Ping-pong and churn run a third side, report mode
 * (`TIMEOUTSOCKET_MODE=report` and a report collector, every deadline armed), compared with the
 * enforce side. Results go to `bench/results/latest.json`, a table to stdout, and a chart to
 * `bench/results/latest.svg`.
 *
 * Options: `--quick`, `--only=pingpong,bulk,...`, `--profile` (clients write `--cpu-prof`
 * profiles to bench/results/profiles), `--chart` (only redraw the SVG from latest.json),
 * `--instructions` (instruction counts per unit of work under valgrind instead, see
 * instructions.ts; `--only=pingpong,churn,http,fetch,bulk,awaitable,startup` narrows them too, `--quick`
 * counts small amounts that only prove the mode runs). The `startup` workload (startup.ts) times
 * the register preload's start-up over loading `node:net`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BULK_TRANSFER, type ClientResult } from './client';
import { renderSvg, renderTable, type Report, type Row, type Stat } from './report';
import { runInstructions } from './instructions';
import { ARMED_TIMEOUT, checkReportFile, childEnv, hardFdLimit, reportModeEnv, runBounded, softFdLimit, startServer } from './processes';
import {
  AWAITABLE_OF_EVENTS,
  AWAITABLE_OVER_PEER,
  HEAP_PER_SOCKET_BYTES,
  LATENESS_P99_MS,
  NOISE_BAND,
  RATIO_TARGETS,
  REPORT_OVER_ENFORCE_INSTRUCTIONS,
  REPORT_OVER_ENFORCE_RATIO,
} from './targets';
import * as TARGETS from './targets';
import { describeStartup, startupRow, STARTUP_RUNS, timeStartup } from './startup';
import type { ServerPorts } from './server';

/** dist/bench/run.js → the repository root. */
const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const REGISTER = path.join(ROOT, 'dist', 'lib', 'register.js');
const CLIENT = path.join(__dirname, 'client.js');

export { NOISE_BAND } from './targets';

export interface Variant {
  readonly id: string;
  readonly label: string;
  readonly patched: boolean;
  readonly params?: Record<string, unknown>;
  /** The deadline mode of a patched side (`enforce` unless said): checked in the client's result. */
  readonly mode?: 'enforce' | 'report';
}

const PLAIN: Variant = { id: 'plain', label: 'plain Node', patched: false };
const PATCHED: Variant = { id: 'patched', label: 'timeoutsocket', patched: true };
/**
 * Report mode as `timeoutsocket run --report` starts a process: `TIMEOUTSOCKET_MODE=report` and
 * a report collector (`TIMEOUTSOCKET_REPORT_FILE`), every timeout armed as on the enforce side.
 */
const REPORT: Variant = { id: 'report', label: 'timeoutsocket, report mode', patched: true, mode: 'report' };

export interface Plan {
  readonly rounds: { pingpong: number; bulk: number; churn: number; memory: number; awaitable: number; accuracy: number; http: number; fetch: number };
  readonly pingpong: { connections: number; warmupMs: number; durationMs: number };
  readonly bulk: { bytes: number; transfers: number; warmupBytes: number; chunkBytes: number };
  readonly churn: { connections: number; warmup: number; concurrency: number };
  readonly memory: { sockets: number; concurrency: number };
  readonly accuracy: { sockets: number; timeoutMs: number; spreadMs: number; loadConnections: number };
  readonly requests: { requests: number; warmup: number };
}

const MiB = 2 ** 20;

/**
 * Bulk's warm-up before the measured transfers: 2 GiB (32,768 writes of 64 KiB), eight transfers' worth. Instruction
 * counts of whole transfers (`--instructions --only=bulk`) show V8 still compiling the write path
 * long after 64 MiB: on plain Node the first transfer costs about 170 M instructions, the second
 * and third about 69 M each, the fourth to seventh about 14 M, against about 11 M from then on;
 * the armed side compiles more (the shim's code inlined into Node's write path, re-optimised when
 * a rare path such as the first queued write runs first), about 100 M instructions more over the
 * first three transfers. With 64 MiB of warm-up that one-time cost fell inside the measured
 * transfers and was counted as the cost of every byte; 2 GiB is past the seventh transfer, as the
 * counted bulk run's warm-up of eight transfers is.
 */
const BULK_WARMUP_BYTES = 2048 * MiB;

/**
 * Short connections before churn's measured ones: 11,000, as the counted churn run's warm-up
 * (bench/instructions.ts). With 1,000 the measured 10,000 were V8's tier-up, not the cost of a
 * connection: the bench client itself counted under callgrind (deterministic flags, 20 at a
 * time, V8's default old space, so major GCs included), connections 1,001 to 11,000 cost plain
 * 214,871 and armed 242,676 instructions each (+12.9%; 215,116 and 251,561, +16.9%, in a second
 * pair), of which TurboFan (`v8::internal::compiler::`) was 46,225 and 60,295: the shim's own functions and Node's
 * timer code (one Timeout per socket) are some 30 functions more to optimise, once per process,
 * and that one-time cost was billed to every connection. Connections 11,001 to 21,000 cost
 * plain 166,933, armed 164,404 (-1.5%). `--trace-opt`: on either side optimisations go on until
 * about the 10,000th connection. The syscalls per connection are the same on both sides
 * (`strace -f -c`), as are the GCs (`--trace-gc`: 13 and 14 scavenges, 3 and 3 mark-compacts
 * over 20,000 connections).
 */
const CHURN_WARMUP = 11_000;

/**
 * Requests before the measured ones, http.Agent and `fetch()` alike: 10,000. With 500 the
 * measured 2,000 were mostly TurboFan compiling: the bench's http client counted under
 * callgrind (deterministic flags), requests 501 to 2,500 cost plain 490,341 and armed 550,090
 * instructions each (+12.2%), of which TurboFan (`v8::internal::compiler::`) was 263,567 and
 * 305,338. Requests 4,001 to 6,000: plain 153,912, armed 177,956 (+15.6%), the armed side still
 * optimising (`--trace-opt`: six more functions between the 4,000th and the 6,000th request, plain
 * three). Requests 10,001 to 12,000: plain 150,042, armed 165,136, TurboFan 4,850 and 12,103 of
 * it (+5.4% without it; a few late optimisations remain under valgrind, none natively after the
 * 10,000th request on either side).
 */
const REQUESTS_WARMUP = 10_000;

export const PLANS: Record<'quick' | 'full', Plan> = {
  quick: {
    rounds: { pingpong: 3, bulk: 5, churn: 3, memory: 1, awaitable: 3, accuracy: 1, http: 3, fetch: 3 },
    pingpong: { connections: 50, warmupMs: 500, durationMs: 2000 },
    bulk: { ...BULK_TRANSFER, transfers: 5, warmupBytes: BULK_WARMUP_BYTES },
    churn: { connections: 5000, warmup: CHURN_WARMUP, concurrency: 20 },
    memory: { sockets: 10_000, concurrency: 200 },
    accuracy: { sockets: 1000, timeoutMs: 300, spreadMs: 1000, loadConnections: 50 },
    requests: { requests: 2000, warmup: REQUESTS_WARMUP },
  },
  full: {
    rounds: { pingpong: 7, bulk: 11, churn: 7, memory: 3, awaitable: 5, accuracy: 5, http: 7, fetch: 7 },
    pingpong: { connections: 50, warmupMs: 1000, durationMs: 5000 },
    bulk: { ...BULK_TRANSFER, transfers: 9, warmupBytes: BULK_WARMUP_BYTES },
    churn: { connections: 10_000, warmup: CHURN_WARMUP, concurrency: 20 },
    memory: { sockets: 10_000, concurrency: 200 },
    accuracy: { sockets: 1000, timeoutMs: 300, spreadMs: 1000, loadConnections: 50 },
    requests: { requests: 2000, warmup: REQUESTS_WARMUP },
  },
};

export interface Workload {
  readonly name: keyof Plan['rounds'];
  readonly client: string;
  readonly variants: readonly Variant[];
  readonly nodeFlags?: readonly string[];
  /** File descriptors one client needs; the child's `ulimit -n` is raised to it when possible. */
  fdNeed?(plan: Plan): number;
  params(ports: ServerPorts, plan: Plan): Record<string, unknown>;
  rows(runs: Runs, plan: Plan): Row[];
}

/** Client results by variant id, in run order. */
export type Runs = Record<string, ClientResult[]>;

function stat(values: readonly number[]): Stat | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

const perCpuSecond = (r: ClientResult): number => r.work / (r.cpuMs / 1000);
const perWallSecond = (r: ClientResult): number => r.work / (r.wallMs / 1000);

function ratioStatus(ratio: number, target: number): Row['status'] {
  if (ratio >= target) return 'met';
  return ratio >= target - NOISE_BAND ? 'within noise' : 'missed';
}

/** A throughput row: work per client CPU-second, patched over plain. */
function throughputRow(workload: string, title: string, unit: string, runs: Runs, target: number, a = 'plain', b = 'patched'): Row {
  const plain = stat((runs[a] ?? []).map(perCpuSecond));
  const patched = stat((runs[b] ?? []).map(perCpuSecond));
  const ratio = plain && patched ? patched.median / plain.median : NaN;
  return {
    workload,
    title,
    metric: `${unit} per client CPU-s`,
    plain,
    patched,
    ratio,
    target: `ratio >= ${target}`,
    status: Number.isFinite(ratio) ? ratioStatus(ratio, target) : 'pending',
    wall: { plain: stat((runs[a] ?? []).map(perWallSecond)), patched: stat((runs[b] ?? []).map(perWallSecond)) },
    pairedRatios: pairedRatios(runs[a] ?? [], runs[b] ?? []),
    sides: [a, b],
  };
}

/**
 * Report mode against enforce mode, both with every timeout armed: the same throughput ratio with
 * the enforce side as A. Judged like every CPU ratio (met at 1.0, "within noise" down to
 * {@link NOISE_BAND} under it), which only catches a cost of several percent: the verdict that
 * sees less is `--instructions` (report at most enforce + 0.5%).
 */
function reportRow(workload: string, title: string, unit: string, runs: Runs): Row {
  const row = throughputRow(workload, title, unit, runs, REPORT_OVER_ENFORCE_RATIO, 'patched', 'report');
  row.target = `ratio >= ${REPORT_OVER_ENFORCE_RATIO.toFixed(1)} within noise; --instructions: <= enforce + ${REPORT_OVER_ENFORCE_INSTRUCTIONS * 100}%`;
  row.note = 'A = enforce mode';
  return row;
}

/** Patched / plain within each round: how much the ratio itself moves from round to round. */
function pairedRatios(plain: readonly ClientResult[], patched: readonly ClientResult[]): number[] {
  return plain.slice(0, patched.length).map((p, i) => perCpuSecond(patched[i]) / perCpuSecond(p));
}

function extraStat(results: readonly ClientResult[] | undefined, key: string): Stat | null {
  return stat((results ?? []).map((r) => Number(r.extra[key])));
}

/** Every workload of the CPU-time bench, in run order (exported for the spec of its rows). */
export const WORKLOADS: readonly Workload[] = [
  {
    name: 'pingpong',
    client: 'pingpong',
    params: (ports, plan) => ({ port: ports.echo, ...plan.pingpong }),
    variants: [PLAIN, PATCHED, REPORT],
    rows: (runs) => [
      throughputRow('pingpong', '64 B ping-pong, 50 connections', 'messages', runs, RATIO_TARGETS.pingpong),
      reportRow('pingpong', '64 B ping-pong: report mode vs enforce', 'messages', runs),
    ],
  },
  {
    name: 'bulk',
    client: 'bulk',
    variants: [PLAIN, PATCHED],
    params: (ports, plan) => ({ port: ports.discard, ...plan.bulk }),
    rows: (runs, plan) => [
      throughputRow('bulk', `bulk ${plan.bulk.transfers} x ${plan.bulk.bytes / MiB} MiB one way, backpressure, whole transfers`, 'MiB', runs, RATIO_TARGETS.bulk),
    ],
  },
  {
    name: 'churn',
    client: 'churn',
    variants: [PLAIN, PATCHED, REPORT],
    params: (ports, plan) => ({ port: ports.churn, ...plan.churn }),
    rows: (runs, plan) => [
      throughputRow('churn', `connect churn, ${plan.churn.connections} connections, 20 at a time`, 'connections', runs, RATIO_TARGETS.churn),
      reportRow('churn', 'connect churn: report mode vs enforce', 'connections', runs),
    ],
  },
  {
    name: 'http',
    client: 'http',
    variants: [PLAIN, PATCHED],
    params: (ports, plan) => ({ port: ports.http, ...plan.requests }),
    rows: (runs, plan) => [
      throughputRow('http', `http keep-alive client, ${plan.requests.requests} requests through an http.Agent`, 'requests', runs, RATIO_TARGETS.http),
    ],
  },
  {
    name: 'fetch',
    client: 'fetch',
    variants: [PLAIN, PATCHED],
    params: (ports, plan) => ({ port: ports.http, ...plan.requests }),
    rows: (runs, plan) => [throughputRow('fetch', `fetch() keep-alive, ${plan.requests.requests} requests`, 'requests', runs, RATIO_TARGETS.fetch)],
  },
  {
    name: 'memory',
    client: 'memory',
    variants: [PLAIN, PATCHED],
    nodeFlags: ['--expose-gc'],
    fdNeed: (plan) => plan.memory.sockets + 256,
    params: (ports, plan) => ({ port: ports.hold, ...plan.memory }),
    rows: (runs, plan) => {
      const sockets = runs.plain?.[0]?.extra.sockets ?? plan.memory.sockets;
      const row = (key: string, title: string, target: number | null): Row => {
        const plain = extraStat(runs.plain, key);
        const patched = extraStat(runs.patched, key);
        const extra = plain && patched ? patched.median - plain.median : NaN;
        return {
          workload: 'memory',
          title: `${title}, ${sockets} idle sockets`,
          metric: 'bytes per socket',
          plain,
          patched,
          extra,
          target: target === null ? 'info' : `extra <= ${target} B`,
          status: !Number.isFinite(extra) ? 'pending' : target === null ? 'info' : extra <= target ? 'met' : 'missed',
        };
      };
      return [row('heapPerSocket', 'heap', HEAP_PER_SOCKET_BYTES), row('rssPerSocket', 'RSS', null)];
    },
  },
  {
    name: 'awaitable',
    client: 'pingpong',
    variants: [
      { id: 'events', label: 'plain Node, event style', patched: false, params: { variant: 'events' } },
      { id: 'recv', label: 'timeoutsocket recv/sendAll', patched: true, params: { variant: 'recv' } },
      { id: 'promise-socket', label: 'promise-socket', patched: false, params: { variant: 'promise-socket' } },
    ],
    params: (ports, plan) => ({ port: ports.echo, ...plan.pingpong }),
    rows: (runs) => {
      const peer = throughputRow('awaitable', 'awaitable ping-pong: promise-socket', 'messages', runs, 0, 'events', 'promise-socket');
      const ours = throughputRow('awaitable', 'awaitable ping-pong: recv/sendAll', 'messages', runs, AWAITABLE_OF_EVENTS, 'events', 'recv');
      // The second floor, on its own row: recv/sendAll over promise-socket, both measured in the same rounds.
      const overPeer = throughputRow(
        'awaitable',
        'awaitable ping-pong: recv/sendAll vs promise-socket',
        'messages',
        runs,
        AWAITABLE_OVER_PEER,
        'promise-socket',
        'recv',
      );
      const pending = runs.recv?.find((r) => r.pending !== undefined)?.pending;
      if (pending !== undefined) {
        for (const row of [ours, overPeer]) {
          row.status = 'pending';
          row.note = pending;
        }
      }
      overPeer.note = [overPeer.note, 'A = promise-socket'].filter(Boolean).join('; ');
      return [ours, overPeer, { ...peer, target: 'info', status: 'info' }];
    },
  },
  {
    name: 'accuracy',
    client: 'accuracy',
    variants: [
      { id: 'plain', label: 'bare setTimeout, same load', patched: false },
      { id: 'patched', label: 'reply deadline', patched: true },
    ],
    fdNeed: (plan) => plan.accuracy.sockets + plan.accuracy.loadConnections + 256,
    params: (ports, plan) => ({ silentPort: ports.hold, loadPort: ports.echo, ...plan.accuracy }),
    rows: (runs, plan) =>
      (['p50', 'p99', 'max'] as const).map((key): Row => {
        const plain = extraStat(runs.plain, key);
        const patched = extraStat(runs.patched, key);
        const fired = runs.patched?.map((r) => r.extra.fired).join('/') ?? '0';
        const wrong = (runs.patched ?? []).reduce((sum, r) => sum + Number(r.extra.wrongErrors), 0);
        const ok = patched !== null && patched.median <= LATENESS_P99_MS && wrong === 0;
        return {
          workload: 'accuracy',
          title: `timeout lateness ${key}, ${plan.accuracy.sockets} x ${plan.accuracy.timeoutMs} ms under load`,
          metric: 'ms late',
          plain,
          patched,
          target: key === 'p99' ? `p99 <= ${LATENESS_P99_MS} ms` : 'info',
          status: key !== 'p99' ? 'info' : patched === null ? 'pending' : ok ? 'met' : 'missed',
          note: key === 'p99' ? `fired ${fired} of ${plan.accuracy.sockets}${wrong ? `, ${wrong} wrong errors` : ''}` : undefined,
        };
      }),
  },
];

interface Options {
  readonly mode: 'quick' | 'full';
  readonly only: ReadonlySet<string> | null;
  readonly profile: boolean;
  readonly chartOnly: boolean;
  readonly instructions: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  let mode: Options['mode'] = 'full';
  let only: Set<string> | null = null;
  let profile = false;
  let chartOnly = false;
  let instructions = false;
  for (const arg of argv) {
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--full') mode = 'full';
    else if (arg === '--profile') profile = true;
    else if (arg === '--chart') chartOnly = true;
    else if (arg === '--instructions') instructions = true;
    else if (arg.startsWith('--only=')) only = new Set(arg.slice('--only='.length).split(','));
    else throw new Error(`unknown option ${arg}: use --quick, --only=a,b, --profile, --chart or --instructions`);
  }
  if (only !== null && !instructions) {
    for (const name of only) {
      if (name !== 'startup' && !WORKLOADS.some((w) => w.name === name)) throw new Error(`unknown workload ${name}`);
    }
  }
  return { mode, only, profile, chartOnly, instructions };
}

/** Where the report-mode clients write their report files; made on first use, removed at the end. */
let reportDir: string | undefined;
let reportFiles = 0;

async function runClient(workload: Workload, variant: Variant, params: Record<string, unknown>, options: Options, fdLimit: number | null): Promise<ClientResult> {
  const flags = [...(workload.nodeFlags ?? [])];
  if (options.profile) flags.push('--cpu-prof', `--cpu-prof-dir=${path.join(RESULTS, 'profiles', `${workload.name}-${variant.id}`)}`);
  if (variant.patched) flags.push('-r', REGISTER);
  const argv = [process.execPath, ...flags, CLIENT, workload.client, JSON.stringify({ ...params, ...variant.params })];
  const mode = variant.patched ? (variant.mode ?? 'enforce') : null;
  let reportFile: string | undefined;
  const env = childEnv(variant.patched);
  if (mode === 'report') {
    if (reportDir === undefined) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-bench-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      reportDir = dir;
    }
    reportFile = path.join(reportDir, `${workload.name}-${(reportFiles += 1)}.jsonl`);
    Object.assign(env, reportModeEnv(reportFile));
  }
  const line = await runBounded(argv, env, fdLimit, `${workload.name}/${variant.id}`);
  const result = JSON.parse(line) as ClientResult;
  // Guard the comparison itself: the patched side must really be patched, armed and in its mode, the plain side not.
  if (result.patched !== variant.patched) throw new Error(`${workload.name}/${variant.id}: patched=${result.patched}`);
  const armed = result.armed;
  if (variant.patched && (armed === null || armed.connect !== 60_000 || armed.read !== 60_000 || armed.write !== 60_000)) {
    throw new Error(`${workload.name}/${variant.id}: deadlines not all armed: ${JSON.stringify(armed)}`);
  }
  if (result.mode !== mode) throw new Error(`${workload.name}/${variant.id}: mode ${result.mode}, expected ${mode}`);
  if (reportFile !== undefined) checkReportFile(reportFile, `${workload.name}/${variant.id}`);
  return result;
}

/** Rotates the variants each round: plain first, then patched first, and so on. */
function orderFor(variants: readonly Variant[], round: number): Variant[] {
  const shift = round % variants.length;
  return [...variants.slice(shift), ...variants.slice(0, shift)];
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

async function runWorkload(workload: Workload, plan: Plan, options: Options, notes: string[]): Promise<Runs> {
  let fdLimit: number | null = null;
  let params: Record<string, unknown> | undefined;
  const server = await startServer();
  try {
    params = workload.params(server.ports, plan);
    if (workload.fdNeed !== undefined) {
      const need = workload.fdNeed(plan);
      const hard = hardFdLimit();
      if (softFdLimit() < need) {
        if (hard < need) {
          notes.push(`${workload.name}: ulimit -Hn is ${hard}, below the ${need} descriptors needed; socket count reduced`);
          params = { ...params, sockets: Math.max(100, hard - 256 - Number(params.loadConnections ?? 0)) };
          fdLimit = hard;
        } else {
          fdLimit = need;
        }
      }
    }
    const runs: Runs = {};
    const rounds = plan.rounds[workload.name];
    for (let round = 0; round < rounds; round += 1) {
      for (const variant of orderFor(workload.variants, round)) {
        const result = await runClient(workload, variant, params, options, fdLimit);
        (runs[variant.id] ??= []).push(result);
        const figure = result.pending !== undefined ? `pending (${result.pending})` : describe(workload, result);
        process.stderr.write(`  ${workload.name} round ${round + 1}/${rounds} ${variant.id}: ${figure}\n`);
      }
    }
    return runs;
  } finally {
    await server.stop();
  }
}

function describe(workload: Workload, r: ClientResult): string {
  if (workload.name === 'memory') return `heap ${fmt(Number(r.extra.heapPerSocket))} B/socket, RSS ${fmt(Number(r.extra.rssPerSocket))} B/socket`;
  if (workload.name === 'accuracy') return `p50 ${fmt(Number(r.extra.p50))} ms, p99 ${fmt(Number(r.extra.p99))} ms, max ${fmt(Number(r.extra.max))} ms`;
  return `${fmt(perCpuSecond(r))} ${r.unit}/CPU-s, ${fmt(perWallSecond(r))} ${r.unit}/s (cpu ${fmt(r.cpuMs)} ms, wall ${fmt(r.wallMs)} ms)`;
}

function machine(): Report['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    fdLimit: softFdLimit(),
  };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parseArgs(argv);
  if (options.instructions) {
    await runInstructions(options.only, options.mode === 'quick');
    return;
  }
  const jsonPath = path.join(RESULTS, 'latest.json');
  const svgPath = path.join(RESULTS, 'latest.svg');
  if (options.chartOnly) {
    writeFileSync(svgPath, renderSvg(JSON.parse(readFileSync(jsonPath, 'utf8')) as Report));
    process.stdout.write(`wrote ${path.relative(ROOT, svgPath)}\n`);
    return;
  }
  const plan = PLANS[options.mode];
  const started = Date.now();
  const notes: string[] = [];
  const workloads: Report['workloads'] = {};
  const rows: Row[] = [];
  for (const workload of WORKLOADS) {
    if (options.only !== null && !options.only.has(workload.name)) continue;
    process.stderr.write(`${workload.name}:\n`);
    const t0 = Date.now();
    const runs = await runWorkload(workload, plan, options, notes);
    workloads[workload.name] = { seconds: (Date.now() - t0) / 1000, runs };
    rows.push(...workload.rows(runs, plan));
  }
  if (options.only === null || options.only.has('startup')) {
    process.stderr.write('startup:\n');
    const t0 = Date.now();
    const times = timeStartup(STARTUP_RUNS[options.mode]);
    process.stderr.write(`  ${describeStartup(times)}\n`);
    workloads.startup = { seconds: (Date.now() - t0) / 1000, runs: {} };
    rows.push(startupRow(times));
  }
  const report: Report = {
    schema: 1,
    mode: options.mode,
    date: new Date().toISOString(),
    node: process.version,
    timeoutsocket: packageVersion(),
    armed: `TIMEOUTSOCKET_TIMEOUT=${ARMED_TIMEOUT} (connect, read and write)`,
    machine: machine(),
    seconds: (Date.now() - started) / 1000,
    noiseBand: NOISE_BAND,
    targets: { ...TARGETS },
    plan,
    notes,
    rows,
    workloads,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(svgPath, renderSvg(report));
  process.stdout.write(`${renderTable(report)}\n`);
  process.stdout.write(`\nwrote ${path.relative(ROOT, jsonPath)} and ${path.relative(ROOT, svgPath)} in ${report.seconds.toFixed(0)} s\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
