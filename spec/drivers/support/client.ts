/**
 * Runs one unmodified client script (clients/*.js) in a child process, with or without the
 * shim preloaded, and turns its stdout into an Outcome: its first success or failure, or
 * "hung" when it is still waiting after the patience it was given and had to be killed.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DRAIN_MS, Spawned, spawnTracked, stopTree } from './procs';

/** The built shim the children preload with `-r` (DRIVER_SUITE_SHIM: another build of it). */
export const REGISTER = process.env.DRIVER_SUITE_SHIM
  ? resolve(process.env.DRIVER_SUITE_SHIM)
  : resolve(__dirname, '..', '..', '..', 'dist', 'lib', 'register.js');

const CLIENTS = join(__dirname, '..', 'clients');

/** What the client script is asked to do (see clients/harness.js). */
export type Scenario = 'request' | 'warm-request' | 'warm-write' | 'idle' | 'subscribe';

/** A summary of one `timeoutsocket:timeout`, `timeoutsocket:late` or `timeoutsocket:never` message the child saw. */
export interface ShimReport {
  channel: string;
  phase?: string;
  timeout?: number;
  elapsed?: number;
  enforced?: boolean;
  protocol?: string;
  rule?: string;
}

/** What the preloaded shim said about itself at the verdict (getStats() and its mode). */
export interface ShimState {
  /** Its getStats(); `reported` exists once the shim has report mode. */
  stats: { sockets: number; armed: number; timeouts: Record<string, number>; reported?: number };
  mode: string;
}

/** How one client run ended. */
export interface Outcome {
  status: 'ok' | 'error' | 'hung' | 'crashed';
  code?: string;
  syscall?: string;
  phase?: string;
  name?: string;
  message?: string;
  /** Where the client saw it: 'error event', 'rejected', ... */
  source?: string;
  /** Milliseconds from the end of the call's synchronous part to the verdict, measured in the child. */
  elapsedMs?: number;
  /** Milliseconds the call itself took synchronously (serialising a large value, say). */
  syncMs?: number;
  /** Milliseconds the test waited after the call before the verdict or the kill. */
  waitedMs: number;
  /** What the client script said it did (messages sent and received back, say). */
  detail?: unknown;
  /** What the shim published in the child: its timeout and late messages. */
  reports?: ShimReport[];
  /** The shim's own state at the verdict; absent without the shim. */
  shim?: ShimState;
  /** How a crashed child ended: its exit code, the signal that killed it, or its spawn error. */
  exit?: number | string;
  /** The child's output, for diagnostics when something is off. */
  output: string;
}

/** Options for one client run. */
export interface ClientOptions {
  driver: string;
  /** One of the matrix's scenarios, or a row's own (clients/<driver>.js names them). */
  scenario: Scenario | string;
  port: number;
  shim: boolean;
  /** Names this run in what the server logs (`got <tag> ...`), so the two runs are told apart. */
  tag?: string;
  /** TIMEOUTSOCKET_RULES for the child (both columns get it; only the shim reads it). */
  rules?: string;
  /** TIMEOUTSOCKET_MODE for the child. */
  mode?: 'enforce' | 'report';
  /** The timeout T given to the shim, in ms. */
  timeoutMs: number;
  idleMs?: number;
  bigBytes?: number;
}

interface Verdict {
  ok: boolean;
  [key: string]: unknown;
}

/** A client script running in a child process. */
export class ClientRun {
  private readonly spawned: Spawned;
  private readonly verdict: Promise<Verdict | undefined>;
  private readonly warmed: Promise<void>;
  private readonly called: Promise<number>;
  private exitStatus: number | string | undefined;
  /** How the child exited when it did so before {@link ClientRun.kill} (its output may be unread). */
  private ownExit: number | string | undefined;
  private killing = false;

  constructor(readonly options: ClientOptions) {
    const script = join(CLIENTS, `${options.driver}.js`);
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      // A shim preloaded through NODE_OPTIONS, or settings meant for another run, would blur
      // the one difference between the two columns: the -r flag.
      if (key === 'NODE_OPTIONS' || key.startsWith('TIMEOUTSOCKET_')) continue;
      env[key] = value;
    }
    env.TIMEOUTSOCKET_TIMEOUT = `${options.timeoutMs}ms`;
    if (options.rules) env.TIMEOUTSOCKET_RULES = options.rules;
    if (options.mode) env.TIMEOUTSOCKET_MODE = options.mode;
    if (options.shim && !existsSync(REGISTER)) {
      throw new Error(`${REGISTER} is missing: run \`npm run build\` first`);
    }
    const args = [...(options.shim ? ['-r', REGISTER] : []), script, JSON.stringify(options)];
    this.spawned = spawnTracked(process.execPath, args, { env, cwd: CLIENTS });
    let onWarm: () => void = () => {};
    let onCall: (at: number) => void = () => {};
    let onVerdict: (v: Verdict | undefined) => void = () => {};
    this.warmed = new Promise((res) => (onWarm = res));
    this.called = new Promise((res) => (onCall = res));
    this.verdict = new Promise((res) => (onVerdict = res));
    this.spawned.onLine((line) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (record.event === 'warm') onWarm();
      else if (record.event === 'call') onCall(Date.now());
      else if (typeof record.ok === 'boolean') onVerdict(record as Verdict);
    });
    // No verdict means a crash only once the child's output has been read to the end: its
    // verdict line can still be in the pipe when 'exit' comes (the scripts exit right after it).
    void this.spawned.exited.then((status) => {
      if (!this.killing) this.ownExit = status;
    });
    void this.spawned.finished.then((status) => {
      this.exitStatus = status;
      onVerdict(undefined);
    });
  }

  /** Resolves once the client has warmed up; rejects if it ends or takes longer than `withinMs`. */
  async warm(withinMs = 15000): Promise<void> {
    const first = await within(
      Promise.race([this.warmed.then(() => 'warm' as const), this.verdict]),
      withinMs,
    );
    if (first !== 'warm') {
      await this.kill();
      const why = first === TIMED_OUT ? `no "warm" within ${withinMs} ms` : `ended first: ${JSON.stringify(first)}`;
      throw new Error(`${this.options.driver} ${this.options.scenario} did not warm up (${why}): ${this.spawned.output()}`);
    }
  }

  /** Resolves (with the time) once the client has called the operation under test. */
  whenCalled(): Promise<number> {
    return this.called;
  }

  /** Let a warmed-up client go on to the operation under test. */
  go(): void {
    this.spawned.proc.signal('SIGUSR2');
  }

  /**
   * The client's verdict. After it has called the operation under test, the client gets
   * `patienceMs`; if it is still waiting then, it is killed and the outcome is "hung".
   */
  async outcome(patienceMs: number, startWithinMs = 15000): Promise<Outcome> {
    const output = () => this.spawned.output().slice(-4000);
    const calledAt = await within(Promise.race([this.called, this.verdict.then(() => undefined)]), startWithinMs);
    if (typeof calledAt !== 'number') {
      // Ended (or stalled) before calling the operation under test.
      const v = await within(this.verdict, 0);
      const ownExit = this.ownExit;
      await this.kill();
      if (v === TIMED_OUT && ownExit === undefined) {
        // Still starting: the SIGKILL it ended with is this kill's, not the child's own end.
        return { status: 'crashed', waitedMs: 0, message: `no call within ${startWithinMs} ms, killed`, output: output() };
      }
      if (v !== TIMED_OUT && v !== undefined) return toOutcome(v, 0, output());
      return { status: 'crashed', waitedMs: 0, exit: this.exitStatus ?? ownExit, output: output() };
    }
    const v = await within(this.verdict, Math.max(0, calledAt + patienceMs - Date.now()));
    const waitedMs = Date.now() - calledAt;
    const ownExit = this.ownExit;
    await this.kill();
    // Hung only if it was still running: a child that exited on its own while its pipes stayed
    // open (a grandchild holds them) has crashed, even though its output was not read to the end.
    if (v === TIMED_OUT && ownExit === undefined) return { status: 'hung', waitedMs, output: output() };
    // Its verdict line may have been read since (the kill waits for the output's end).
    const verdict = v === TIMED_OUT ? await within(this.verdict, 0) : v;
    if (verdict !== TIMED_OUT && verdict !== undefined) return toOutcome(verdict, waitedMs, output());
    return { status: 'crashed', waitedMs, exit: this.exitStatus ?? ownExit, output: output() };
  }

  /**
   * Kill the child (and anything it started, while it still runs: once it has exited, its tree
   * cannot be found, and a grandchild it left survives), by PID; its output is then read to the
   * end. The clients start no processes of their own.
   */
  async kill(): Promise<void> {
    this.killing = true;
    await stopTree(this.spawned.proc, 'SIGKILL', 1000);
    await within(this.spawned.finished, 1000 + DRAIN_MS);
  }
}

function toOutcome(v: Verdict, waitedMs: number, output: string): Outcome {
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  const num = (x: unknown) => (typeof x === 'number' ? x : undefined);
  return {
    status: v.ok ? 'ok' : 'error',
    code: str(v.code),
    syscall: str(v.syscall),
    phase: str(v.phase),
    name: str(v.name),
    message: str(v.message),
    source: str(v.source),
    elapsedMs: num(v.elapsedMs),
    syncMs: num(v.syncMs),
    detail: v.detail,
    reports: Array.isArray(v.reports) ? (v.reports as ShimReport[]) : undefined,
    shim: v.shim && typeof v.shim === 'object' ? (v.shim as ShimState) : undefined,
    waitedMs,
    output,
  };
}

const TIMED_OUT = Symbol('timed out');

/** `promise`'s value, or TIMED_OUT if it has not settled within `ms` (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((res) => (timer = setTimeout(() => res(TIMED_OUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
