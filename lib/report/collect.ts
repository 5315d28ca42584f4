/**
 * Collecting a process's report records: what `TIMEOUTSOCKET_REPORT_FILE` switches on (and
 * `timeoutsocket run --report` sets, with `TIMEOUTSOCKET_MODE=report`, for every Node process it
 * starts).
 *
 * The collector is a `diagnostics_channel` subscriber like any other: a reported timeout opens a
 * pending entry, `timeoutsocket:late` or `timeoutsocket:never` closes it into a record. Records
 * wait in memory and are appended to the file, one line each (lib/report/records.ts), when the
 * process exits, when it gets SIGTERM or SIGINT, and whenever {@link FLUSH_EVERY} have gathered,
 * so a crash loses at most that process's last records.
 *
 * Signals: listening for SIGTERM or SIGINT would replace their default action (end the process),
 * so the listener re-raises: when it is the only listener (the application has none), it writes,
 * removes itself and sends the signal again, and the default action happens as without the shim.
 * When the application listens too, its handlers decide what happens; the collector only writes
 * what it has, and the rest at exit.
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import { now } from '../clock';
import { CHANNELS, type DeadlineDestination, type LateMessage, type NeverMessage, type TimeoutMessage } from '../observe';
import { getSocketTimeoutRules, type SocketTimeoutRule } from '../rules/index';
import { runtime } from '../runtime';
import { RECORD_VERSION, recordLine, type DeadlineRecord, type ProcessRecord, type RecordDestination, type ReportRecord } from './records';

/** Records gathered before they are written without waiting for the exit. */
export const FLUSH_EVERY = 256;

/** The signals whose arrival writes the records (the ones a supervisor or a terminal sends). */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** A reported deadline still waiting for its answer. */
interface Pending {
  readonly message: TimeoutMessage;
  /** `performance.now()` at the phase's clock start. */
  readonly since: number;
  /** `socket.bytesWritten` when it ran out. */
  readonly wrote: number;
}

/** A running collector. */
export interface Collector {
  /** The file it appends to. */
  readonly file: string;
  /** Writes what has gathered (and, with `atEnd`, the still waiting deadlines and the process record). */
  flush(atEnd?: string): void;
  /** Stops collecting: unsubscribes and removes its process listeners (nothing is written). */
  stop(): void;
}

/**
 * Starts collecting into `file` (appended to, created if missing), once per process: a second
 * call, from this or another copy of the package, returns `undefined`.
 */
export function startCollecting(file: string): Collector | undefined {
  const shared = runtime();
  if (shared.collecting === true) return undefined;
  shared.collecting = true;
  const pending = new Map<net.Socket, Pending>();
  let buffer: ReportRecord[] = [];
  let warned = false;

  const write = (): void => {
    if (buffer.length === 0) return;
    const records = buffer;
    buffer = [];
    try {
      const fd = fs.openSync(file, 'a');
      try {
        for (const record of records) fs.writeSync(fd, recordLine(record));
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if (!warned) process.stderr.write(`timeoutsocket: cannot write the report to ${file}: ${(error as Error).message}\n`);
      warned = true;
    }
  };
  const add = (record: ReportRecord): void => {
    buffer.push(record);
    if (buffer.length >= FLUSH_EVERY) write();
  };

  const onTimeout = (message: unknown): void => {
    const timeout = message as TimeoutMessage;
    if (timeout.enforced) return;
    const since = now() - timeout.elapsed;
    pending.set(timeout.socket, { message: timeout, since, wrote: timeout.socket.bytesWritten });
  };
  const onLate = (message: unknown): void => {
    const late = message as LateMessage;
    pending.delete(late.socket);
    add(deadlineRecord('late', late.phase, late.timeout, late.elapsed, late.destination, late.protocol, late.rule));
  };
  const onNever = (message: unknown): void => {
    const never = message as NeverMessage;
    pending.delete(never.socket);
    add({
      ...deadlineRecord('never', never.phase, never.timeout, never.elapsed, never.destination, never.protocol, never.rule),
      ended: never.error === undefined ? 'close' : 'error',
      error: never.error ?? null,
      wroteAfter: never.wroteAfter,
    });
  };

  /** The end: what still waits is never answered as far as this process saw, then the process record. */
  const flush = (atEnd?: string): void => {
    if (atEnd !== undefined) {
      const at = now();
      for (const [socket, entry] of pending) {
        const { message } = entry;
        add({
          ...deadlineRecord('never', message.phase, message.timeout, at - entry.since, message.destination, message.protocol, message.rule),
          ended: 'exit',
          error: null,
          wroteAfter: socket.bytesWritten - entry.wrote,
        });
      }
      pending.clear();
      add(processRecord(atEnd));
    }
    write();
  };

  const onExit = (): void => flush('exit');
  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) {
      flush(); // the application handles it: it may go on running, so nothing is settled yet
      return;
    }
    flush(signal);
    stop();
    // Alone, this listener stood in for the default action; without it the signal ends the process as it would have.
    process.kill(process.pid, signal);
  };

  diagnosticsChannel.subscribe(CHANNELS.timeout, onTimeout);
  diagnosticsChannel.subscribe(CHANNELS.late, onLate);
  diagnosticsChannel.subscribe(CHANNELS.never, onNever);
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);

  const stop = (): void => {
    diagnosticsChannel.unsubscribe(CHANNELS.timeout, onTimeout);
    diagnosticsChannel.unsubscribe(CHANNELS.late, onLate);
    diagnosticsChannel.unsubscribe(CHANNELS.never, onNever);
    process.off('exit', onExit);
    for (const signal of SIGNALS) process.off(signal, onSignal);
    shared.collecting = false;
  };
  return { file, flush, stop };
}

function destinationRecord(destination: DeadlineDestination): RecordDestination {
  return {
    host: destination.host ?? null,
    address: destination.address ?? null,
    port: destination.port ?? null,
    acceptedOn: destination.acceptedOn ?? null,
  };
}

function deadlineRecord(
  kind: 'late' | 'never',
  phase: DeadlineRecord['phase'],
  timeout: number,
  elapsed: number,
  destination: DeadlineDestination,
  protocol: string | undefined,
  rule: SocketTimeoutRule | undefined,
): DeadlineRecord {
  return {
    v: RECORD_VERSION,
    kind,
    pid: process.pid,
    phase,
    timeout,
    elapsed: Math.round(elapsed * 10) / 10,
    ...destinationRecord(destination),
    protocol: protocol ?? null,
    rule: rule === undefined ? null : { index: rule.index, text: rule.text },
  };
}

function processRecord(ended: string): ProcessRecord {
  const rules = getSocketTimeoutRules().map((rule) => rule.text);
  return {
    v: RECORD_VERSION,
    kind: 'process',
    pid: process.pid,
    ppid: process.ppid,
    argv: process.argv,
    rules: rules.length === 0 ? null : rules.join('; '),
    ended,
  };
}

