/**
 * Small helpers the specs share: waiting for a socket's fate with a bound, and timing it.
 */
import { spawn } from 'node:child_process';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';

/** How a socket ended: its error (if any), the order of 'error'/'close', and when. */
export interface SocketFate {
  error: (Error & { code?: string; syscall?: string; phase?: string; timeout?: number; address?: string; port?: number }) | undefined;
  events: string[];
  /** ms from `startedAt` to 'close'. */
  elapsed: number;
  /**
   * `performance.now()` when 'error' was emitted (NaN without one): when a deadline fired, which
   * a spec timing the deadline reads rather than the time its await resumed after 'close' (a
   * loaded machine adds its delay to every step after the firing).
   */
  errorAt: number;
}

/**
 * Resolves once `socket` closes, with its error and the time since `startedAt`. Rejects if it is
 * still open after `limitMs` (and destroys it, so nothing is left behind).
 */
export function fateOf(socket: net.Socket, limitMs: number, startedAt = performance.now()): Promise<SocketFate> {
  return new Promise((resolve, reject) => {
    const events: string[] = [];
    let error: SocketFate['error'];
    let errorAt = Number.NaN;
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${limitMs} ms (events: ${events.join(', ') || 'none'})`));
    }, limitMs);
    socket.on('error', (err) => {
      events.push('error');
      errorAt = performance.now();
      error = err;
    });
    socket.on('close', () => {
      events.push('close');
      clearTimeout(limit);
      resolve({ error, events, elapsed: performance.now() - startedAt, errorAt });
    });
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `emitter` emits `event`, rejects after `limitMs`. */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string, limitMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`no '${event}' within ${limitMs} ms`)), limitMs);
    emitter.once(event, (value: T) => {
      clearTimeout(limit);
      resolve(value);
    });
  });
}

/**
 * Adds a 'data' listener to `socket` (so it flows) and resolves with the bytes it got once they
 * reach `bytes`, or with what arrived by `limitMs` (the caller's expectation then fails on it).
 */
export function dataUntil(socket: net.Socket, bytes: number, limitMs = 2000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (): void => {
      clearTimeout(limit);
      socket.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer | string): void => {
      chunks.push(Buffer.from(chunk));
      received += chunks[chunks.length - 1].length;
      if (received >= bytes) finish();
    };
    const limit = setTimeout(finish, limitMs);
    socket.on('data', onData);
  });
}

/** Blocks the event loop for `ms`, as a slow synchronous task would. */
export function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
}

/** Active resources of the kinds a leak would show up as. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** What a child Node process printed and how it ended. */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <args>` in `cwd` with only PATH and `env` in its environment, and kills it (by its
 * PID) if it outlives `limitMs`.
 */
export function runNode(args: string[], env: NodeJS.ProcessEnv, cwd: string, limitMs = 10_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the CLI prints for a usage error (exit 2): the message, then the pointer to --help. */
export const usageError = (what: string): string => `timeoutsocket: ${what}\nRun 'timeoutsocket --help' for usage.\n`;
