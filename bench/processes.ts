/**
 * The bench's child processes: the environment they get, a bounded run of one client, and the
 * unpatched server (bench/server.ts), shared by the CPU-time bench (run.ts) and the instruction
 * counts (instructions.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ServerPorts } from './server';

const SERVER = path.join(__dirname, 'server.js');

/** Armed in every patched client: every phase, long enough never to fire. */
export const ARMED_TIMEOUT = '60s';
/** A client that has not finished by then is killed and the run fails. */
const CLIENT_DEADLINE_MS = 120_000;

/** The environment of every child: no inherited preload or timeouts, plus ours for patched clients. */
export function childEnv(patched: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('TIMEOUTSOCKET_')) continue;
    env[key] = value;
  }
  if (patched) env.TIMEOUTSOCKET_TIMEOUT = ARMED_TIMEOUT;
  return env;
}

/**
 * The extra environment of a report-mode side, as `timeoutsocket run --report` sets it for every
 * process it starts: the mode, and the collector writing its records to `file`.
 */
export function reportModeEnv(file: string): Record<string, string> {
  return { TIMEOUTSOCKET_MODE: 'report', TIMEOUTSOCKET_REPORT_FILE: file };
}

/**
 * Checks a report-mode client's file: the collector ran (its process record is there) and no
 * deadline ran out (no other record), so the side measured report mode's healthy path and
 * nothing else. Throws naming `what` otherwise.
 */
export function checkReportFile(file: string, what: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${what}: no report file written (${file}): the collector did not run`);
  }
  const kinds = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { kind?: string }).kind);
  if (!kinds.includes('process')) throw new Error(`${what}: the report file holds no process record`);
  const reported = kinds.filter((kind) => kind !== 'process');
  if (reported.length > 0) throw new Error(`${what}: ${reported.length} deadlines ran out in report mode (${reported.join(', ')})`);
}

export function hardFdLimit(): number {
  const out = spawnSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? Infinity : Number(out);
}

export function softFdLimit(): number {
  const out = spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? Infinity : Number(out);
}

/** Runs `argv` (node and its arguments) to completion, bounded; resolves with its last stdout line. */
export function runBounded(argv: readonly string[], env: NodeJS.ProcessEnv, fdLimit: number | null, what: string, deadlineMs = CLIENT_DEADLINE_MS): Promise<string> {
  // With a limit, a shell raises `ulimit -n` and then execs node: same pid, so the kill below still hits it.
  const [command, args] =
    fdLimit === null
      ? [argv[0], argv.slice(1)]
      : ['/bin/sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, ...argv]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, deadlineMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = out.trim().split('\n');
      if (code === 0 && lines.length > 0 && lines[lines.length - 1] !== '') resolve(lines[lines.length - 1]);
      else reject(new Error(`${what} failed (exit ${code}, signal ${signal})`));
    });
  });
}

/** The bench server, running. */
export interface ServerProcess {
  readonly ports: ServerPorts;
  stop(): Promise<void>;
}

/** Starts the unpatched bench server and waits (bounded) for its ports. */
export function startServer(): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    // ulimit for the memory workload's 10,000 accepted sockets, as for the client.
    const limit = Math.min(hardFdLimit(), 65_536);
    const child = spawn('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, SERVER], {
      env: childEnv(false),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error('bench server did not start within 10 s'));
    }, 10_000);
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      const ports = JSON.parse(out.slice(0, out.indexOf('\n'))) as ServerPorts;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      resolve({
        ports,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
          const killTimer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5000);
          await exited;
          clearTimeout(killTimer);
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited with ${code} before listening`));
    });
  });
}

