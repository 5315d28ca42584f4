/**
 * Processes the driver suite starts: spawn them, find their process trees, freeze, thaw and
 * stop them by PID, and remember every PID so a crashed run can still be cleaned up.
 *
 * Linux-only on purpose (the suite runs real Debian servers): process trees come from
 * /proc/<pid>/stat, and a PID is only ever signalled while its start time still matches the
 * one recorded at spawn, so a recycled PID is never hit.
 */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What /proc/<pid>/stat says about a process: its parent and its start time (clock ticks). */
interface ProcStat {
  ppid: number;
  start: string;
  state: string;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, grandchildren, ...), parents before children. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = procStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(pid);
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** A process this suite started, signalled only while it is still the same process. */
export class Started {
  readonly pid: number;
  private readonly start: string;

  constructor(pid: number) {
    this.pid = pid;
    this.start = procStat(pid)?.start ?? '';
  }

  get alive(): boolean {
    const st = procStat(this.pid);
    return st !== undefined && st.start === this.start && st.state !== 'Z';
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // Exited between the check and the kill: nothing left to signal.
    }
  }
}

/** The root process plus every descendant alive right now, each pinned to its start time. */
function tree(root: Started): Started[] {
  if (!root.alive) return [];
  return [root, ...descendants(root.pid).map((pid) => new Started(pid))];
}

/** SIGSTOP a whole process tree: the root first (so it forks no more), then a rescan. */
export function freezeTree(root: Started): void {
  root.signal('SIGSTOP');
  for (let pass = 0; pass < 2; pass++) for (const p of tree(root)) p.signal('SIGSTOP');
}

/** SIGCONT a whole process tree. */
export function thawTree(root: Started): void {
  for (const p of tree(root)) p.signal('SIGCONT');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Stop a process tree: SIGCONT first (a stopped process cannot act on SIGTERM), then `sig`
 * to the root, then SIGKILL to whatever of the tree is still there after `graceMs`.
 */
export async function stopTree(root: Started, sig: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  const members = tree(root);
  for (const p of members) p.signal('SIGCONT');
  root.signal(sig);
  const deadline = Date.now() + graceMs;
  while (members.some((p) => p.alive) && Date.now() < deadline) await sleep(25);
  for (const p of members) p.signal('SIGKILL');
}

/** Synchronous last resort (process 'exit', watchdog): SIGCONT then SIGKILL, tree and all. */
export function killTreeNow(root: Started): void {
  const members = tree(root);
  for (const p of members) p.signal('SIGCONT');
  for (const p of members) p.signal('SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// The registry: every PID this worker spawned, in memory and (when the run has one) in the
// run directory's `pids` file, so the global teardown and the watchdog can clean up after a
// worker that died.

const live = new Set<Started>();

function remember(p: Started): void {
  live.add(p);
  const base = process.env.DRIVER_SUITE_RUN_DIR;
  if (base) appendFileSync(join(base, 'pids'), `${p.pid} ${procStat(p.pid)?.start ?? ''}\n`);
}

/**
 * Record a temporary directory a server uses, so the global teardown or the watchdog removes
 * it even if the worker that made it died before its afterAll.
 */
export function rememberDir(dir: string): void {
  const base = process.env.DRIVER_SUITE_RUN_DIR;
  if (base) appendFileSync(join(base, 'dirs'), `${dir}\n`);
}

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Kill every process tree recorded in a run directory's `pids` file that is still the process
 * that was recorded, and remove every recorded temporary directory (teardown, watchdog).
 * Returns how many process trees were still alive.
 */
export function cleanUpRecorded(runDir: string): number {
  let killed = 0;
  for (const line of lines(join(runDir, 'pids'))) {
    const [pidText, start] = line.split(' ');
    const pid = Number(pidText);
    const st = pid ? procStat(pid) : undefined;
    if (!st || st.start !== start || st.state === 'Z') continue;
    killTreeNow(new Started(pid));
    killed++;
  }
  for (const dir of lines(join(runDir, 'dirs'))) {
    // Only what the suite made: temporary directories named for it.
    if (dir.startsWith(join(tmpdir(), 'timeoutsocket-'))) rmSync(dir, { recursive: true, force: true });
  }
  return killed;
}

/**
 * The watchdog's hammer, run in Jest's parent process: SIGSTOP its direct children (the
 * workers) so none of them starts anything more, then SIGKILL every descendant, workers last.
 * Everything under this process was started by this run.
 */
export function killOwnDescendants(): number {
  const workers = descendants(process.pid)
    .filter((pid) => procStat(pid)?.ppid === process.pid)
    .map((pid) => new Started(pid));
  for (const w of workers) w.signal('SIGSTOP');
  const everything = descendants(process.pid).map((pid) => new Started(pid));
  for (const p of everything.reverse()) p.signal('SIGKILL');
  return everything.length;
}

process.on('exit', () => {
  for (const p of live) killTreeNow(p);
});

/** A spawned process, registered for cleanup, with its output collected. */
export interface Spawned {
  child: ChildProcess;
  proc: Started;
  /** Everything written to stdout and stderr so far (for diagnostics). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /**
   * Resolves with the exit code (or signal name) once the process has exited and everything it
   * wrote to stdout and stderr has been read (Node's 'close'), or DRAIN_MS after the exit if
   * something else (a grandchild) still holds its pipes. Wait for this, not `exited`, before
   * concluding the process said nothing more.
   */
  finished: Promise<number | string>;
  /** Calls `listener` with each complete stdout line, from now on. */
  onLine(listener: (line: string) => void): void;
}

/**
 * How long after a process's exit its last output may still be unread. 'exit' comes from
 * SIGCHLD, apart from the pipes: a child that writes a line and calls process.exit() at once
 * can be reaped before the parent has read that line (seen under load on Node 20 and 24).
 */
export const DRAIN_MS = 1000;

/** Spawn a process, record its PID, and collect its output. */
export function spawnTracked(cmd: string, args: string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) {
    throw new Error(`could not spawn ${cmd}`);
  }
  const proc = new Started(child.pid);
  remember(proc);
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-16384);
  };
  const listeners: Array<(line: string) => void> = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    keep(chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const l of listeners) l(line);
  });
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      live.delete(proc);
      resolve(String(err));
    });
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const finished = exited.then(async (status) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)))]);
    clearTimeout(timer);
    return status;
  });
  return { child, proc, output: () => out, exited, finished, onLine: (l) => listeners.push(l) };
}
