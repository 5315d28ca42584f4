/**
 * The rollout report end to end: `timeoutsocket run --report` over a parent and two child
 * processes, `timeoutsocket report F`, the records a signal leaves behind, and the suggested
 * rules applied in enforce mode.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  closeAll,
  startBlackhole,
  startSilentServer,
  startSlowAnswerServer,
  type BlackholeServer,
  type Closable,
  type TrackedServer,
} from '../../fixtures/servers';
import { parseRecords } from '../../lib/report/records';
import { roundAbove } from '../../lib/report/suggest';
import { checkRules } from '../../lib/rules/index';
import { formatDuration } from '../../lib/rules/settings';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli.js');
const REGISTER = path.join(ROOT, 'dist', 'lib', 'register.js');
const APP = path.join(ROOT, 'fixtures', 'rollout-app.js');
const NODE = process.execPath;
/** How much later than the write the engine's clock may start on a loaded machine (see its use). */
const PREEMPTED_MS = 25;
/** The deadline the app runs under; the slow answer takes 3 T, log lines go out every 2 T. */
const T = 200;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` with only PATH and `env`; kills it (by its PID) if it outlives 15 s. */
function node(args: readonly string[], env: NodeJS.ProcessEnv = {}, onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const fixtures: Closable[] = [];
let dir: string;

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does) before jest`);
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-report-'));
});
afterEach(async () => {
  await closeAll(fixtures.splice(0));
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Faults {
  slow: TrackedServer;
  sink: TrackedServer;
  silent: TrackedServer;
  hole: BlackholeServer;
}

async function startFaults(): Promise<Faults> {
  const [slow, sink, silent, hole] = await Promise.all([
    startSlowAnswerServer({ delayMs: 3 * T }),
    startSilentServer(),
    startSilentServer(),
    startBlackhole(),
  ]);
  fixtures.push(slow, sink, silent, hole);
  return { slow, sink, silent, hole };
}

function appArgs(faults: Faults): string[] {
  return [APP, 'parent', ...[faults.slow, faults.sink, faults.silent, faults.hole].map((server) => String(server.port)), String(2 * T), '3'];
}

/** The app's outcome lines, by role. */
function outcomes(stdout: string): Record<string, { outcome: string; code?: string; phase?: string }> {
  const lines = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { role: string; outcome: string; code?: string; phase?: string });
  return Object.fromEntries(lines.map(({ role, ...rest }) => [role, rest]));
}

describe('timeoutsocket run --report over a parent and two child processes', () => {
  it('leaves every process alone and aggregates their records into one table and a suggestion', async () => {
    const faults = await startFaults();
    const file = path.join(dir, 'report.jsonl');
    const result = await node([CLI, 'run', '--timeout', `${T}ms`, '--report', '--report-file', file, '--json', '--', NODE, ...appArgs(faults)]);
    expect(result.code).toBe(0);
    // Nothing destroyed: the slow answer came, the log lines all went out, the hangs were still waiting.
    expect(outcomes(result.stdout)).toEqual({
      slow: { outcome: 'reply' },
      ship: { outcome: 'done' },
      hang: { outcome: 'still waiting' },
      blackhole: { outcome: 'still waiting' },
    });
    const report = JSON.parse(result.stderr.trim().split('\n').pop()!);
    expect(report.file).toBe(file);
    expect(report.processes).toBe(3);
    const row = (port: number, phase: string) => report.rows.find((r: { port: number; phase: string }) => r.port === port && r.phase === phase);
    expect(row(faults.slow.port, 'read')).toMatchObject({ ranOut: 1, late: 1, never: 0, timeout: T });
    // The server's own 3 T timer may fire up to a ms early, and the engine's clock starts up to
    // a ms late (stamps round up) and after the write's syscall: a client preempted between the
    // two (a loaded machine; 595.4 ms was seen in CI for 3 T = 600) starts it later still, while
    // the server already counts. So 3 T less a margin, well above the 2 T of any other answer.
    expect(row(faults.slow.port, 'read').answeredMax).toBeGreaterThanOrEqual(3 * T - PREEMPTED_MS);
    expect(row(faults.slow.port, 'read').lateMax).toBeGreaterThanOrEqual(2 * T - PREEMPTED_MS);
    expect(row(faults.sink.port, 'read')).toMatchObject({ ranOut: 1, late: 0, never: 1, neverButWriting: 1 });
    expect(row(faults.silent.port, 'read')).toMatchObject({ ranOut: 1, late: 0, never: 1, neverButWriting: 0 });
    expect(row(faults.hole.port, 'connect')).toMatchObject({ ranOut: 1, late: 0, never: 1 });
    expect(report.rows).toHaveLength(4);
    // read= a round duration at least a quarter above the longest answer (750 ms for 600 ms, 1 s just above).
    const read = roundAbove(row(faults.slow.port, 'read').answeredMax);
    expect(read).toBeGreaterThanOrEqual(3 * T * 1.25);
    const suggested = [`127.0.0.1:${faults.slow.port} read=${formatDuration(read)}`, `127.0.0.1:${faults.sink.port} protocol=stream`].sort(); // by destination
    expect(report.suggestion.rules).toBe(suggested.join('; '));
    expect(report.suggestion.hangs).toEqual([
      { destination: `127.0.0.1:${faults.hole.port}`, phase: 'connect', protocol: 'request-reply', rule: null },
      { destination: `127.0.0.1:${faults.silent.port}`, phase: 'read', protocol: 'request-reply', rule: null },
    ].sort((a, b) => (a.destination < b.destination ? -1 : 1)));
    // Each process wrote its own records and one process record.
    const parsed = parseRecords(fs.readFileSync(file, 'utf8'));
    expect(parsed.unreadable).toBe(0);
    expect(new Set(parsed.processes.map((p) => p.pid)).size).toBe(3);
    expect(new Set(parsed.deadlines.map((d) => d.pid)).size).toBe(3);

    // `timeoutsocket report F` prints the same data from the file, and the table as text.
    const again = await node([CLI, 'report', file, '--json']);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    const { file: _file, ...fromRun } = report;
    expect(JSON.parse(again.stdout)).toEqual(fromRun);
    const text = await node([CLI, 'report', file]);
    expect(text.stdout).toContain('timeoutsocket report: 3 processes, 4 deadlines ran out (reported, not enforced)');
    expect(text.stdout).toContain(`  TIMEOUTSOCKET_RULES="${report.suggestion.rules}"`);
  });

  /** Runs the app in report mode, then again in enforce mode with the rules the report suggested. */
  async function reportThenEnforce(): Promise<ReturnType<typeof outcomes>> {
    const faults = await startFaults();
    const file = path.join(dir, 'report.jsonl');
    const reported = await node([CLI, 'run', '--timeout', `${T}ms`, '--report', '--report-file', file, '--json', '--', NODE, ...appArgs(faults)]);
    const { suggestion } = JSON.parse(reported.stderr.trim().split('\n').pop()!);
    expect(() => checkRules(suggestion.rules)).not.toThrow();
    const enforced = await node([CLI, 'run', '--timeout', `${T}ms`, '--rules', suggestion.rules, '--', NODE, ...appArgs(faults)]);
    expect(enforced.code).toBe(0);
    return outcomes(enforced.stdout);
  }

  it('applying the suggested rules in enforce mode: the slow answer (read=) and the log shipper (protocol=stream) pass, the real hangs still end', async () => {
    expect(await reportThenEnforce()).toEqual({
      slow: { outcome: 'reply' },
      ship: { outcome: 'done' },
      hang: { outcome: 'error', code: 'ETIMEDOUT', phase: 'read' },
      blackhole: { outcome: 'error', code: 'ETIMEDOUT', phase: 'connect' },
    });
  });

  it('without the suggested rules, enforce mode cuts the slow answer and the log shipper too', async () => {
    const faults = await startFaults();
    const enforced = await node([CLI, 'run', '--timeout', `${T}ms`, '--', NODE, ...appArgs(faults)]);
    expect(outcomes(enforced.stdout)).toEqual({
      slow: { outcome: 'error', code: 'ETIMEDOUT', phase: 'read' },
      ship: { outcome: 'error', code: 'ETIMEDOUT', phase: 'read' },
      hang: { outcome: 'error', code: 'ETIMEDOUT', phase: 'read' },
      blackhole: { outcome: 'error', code: 'ETIMEDOUT', phase: 'connect' },
    });
  });

  it('prints the table on stderr, keeping stdout the command\'s own', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const script = `const s = require('net').connect(${silent.port}, '127.0.0.1', () => s.write('x'));
      require('diagnostics_channel').subscribe('timeoutsocket:timeout', () => { console.log('app output'); s.destroy(); });`;
    const result = await node([CLI, 'run', '--timeout', `${T}ms`, '--report', '--report-file', path.join(dir, 'r.jsonl'), '--', NODE, '-e', script]);
    expect(result.stdout).toBe('app output\n');
    expect(result.stderr).toContain('timeoutsocket report: 1 process, 1 deadline ran out (reported, not enforced)');
    expect(result.stderr).toContain(`Hangs enforce mode will end (no rule suggested): 127.0.0.1:${silent.port} read`);
  });
});

describe('a process in report mode ending on a signal', () => {
  // The child waits for a reply that never comes; once its deadline was reported it says so.
  const waiting = (port: number, handler: string) => `
    ${handler}
    const s = require('net').connect(${port}, '127.0.0.1', () => s.write('GET'));
    require('diagnostics_channel').subscribe('timeoutsocket:timeout', () => console.log('reported'));
    setInterval(() => {}, 1000);
  `;

  it.each<NodeJS.Signals>(['SIGTERM', 'SIGINT'])('%s with no handler of its own: writes its records, then ends by the signal as it would have', async (signal) => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const file = path.join(dir, 'r.jsonl');
    const env = { TIMEOUTSOCKET_MODE: 'report', TIMEOUTSOCKET_READ_TIMEOUT: `${T}ms`, TIMEOUTSOCKET_REPORT_FILE: file };
    let sent = false;
    const result = await node(['-r', REGISTER, '-e', waiting(silent.port, '')], env, (stdout, child) => {
      if (!sent && stdout.includes('reported')) child.kill(signal);
      sent ||= stdout.includes('reported');
    });
    expect(result).toMatchObject({ code: null, signal });
    const parsed = parseRecords(fs.readFileSync(file, 'utf8'));
    expect(parsed.deadlines).toEqual([expect.objectContaining({ kind: 'never', phase: 'read', ended: 'exit', port: silent.port })]);
    expect(parsed.processes).toEqual([expect.objectContaining({ ended: signal })]);
  });

  it('SIGTERM with a handler of its own: the handler decides (here: go on, then exit), records are written', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const file = path.join(dir, 'r.jsonl');
    const env = { TIMEOUTSOCKET_MODE: 'report', TIMEOUTSOCKET_READ_TIMEOUT: `${T}ms`, TIMEOUTSOCKET_REPORT_FILE: file };
    const handler = `process.on('SIGTERM', () => { console.log('handled'); setImmediate(() => process.exit(3)); });`;
    let sent = false;
    const result = await node(['-r', REGISTER, '-e', waiting(silent.port, handler)], env, (stdout, child) => {
      if (!sent && stdout.includes('reported')) child.kill('SIGTERM');
      sent ||= stdout.includes('reported');
    });
    expect(result).toMatchObject({ code: 3, signal: null });
    expect(result.stdout).toContain('handled');
    const parsed = parseRecords(fs.readFileSync(file, 'utf8'));
    expect(parsed.deadlines).toEqual([expect.objectContaining({ kind: 'never', ended: 'exit' })]);
    expect(parsed.processes).toEqual([expect.objectContaining({ ended: 'exit' })]);
  });
});

describe('command-line mistakes', () => {
  it.each([
    [['run', '--json', '--', NODE, '-e', '0'], 'run: --json goes with --report'],
    [['run', '--report-file', 'x', '--', NODE, '-e', '0'], 'run: --report-file goes with --report'],
    [['report'], 'report: expected one report file: timeoutsocket report <file> [--json]'],
  ])('%j is a usage error', async (args, message) => {
    const result = await node([CLI, ...args]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: `timeoutsocket: ${message}\nRun 'timeoutsocket --help' for usage.\n` });
  });

  it('a report file that cannot be read: exit 1, naming it', async () => {
    const missing = path.join(dir, 'missing.jsonl');
    const result = await node([CLI, 'report', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`timeoutsocket: report: cannot read ${JSON.stringify(missing)}: ENOENT`);
  });
});
