/**
 * The rollout report's file: one JSON object per line, appended by every process that ran in
 * report mode (lib/report/collect.ts), read back by `timeoutsocket report` and `run --report`.
 *
 * Appended with `O_APPEND`, one `write()` per line: lines of several processes never interleave
 * inside a line (each is far below a page), and a process killed mid-write leaves at most one
 * cut line, which {@link parseRecords} counts and skips.
 */
import type { Phase } from '../config';

/** The version of the record format: a reader skips lines of another version. */
export const RECORD_VERSION = 1;

/** Where a deadline's socket went, as a record writes it (`null` for what is not known). */
export interface RecordDestination {
  /** The host given to `connect()`; `null` for a socket a server accepted. */
  readonly host: string | null;
  /** The peer's address, when known. */
  readonly address: string | null;
  /** The peer's port. */
  readonly port: number | null;
  /** For a socket a server accepted: the local port; `null` for a client. */
  readonly acceptedOn: number | null;
}

/**
 * How a deadline that ran out in report mode ended: `late` (what it waited for came after all)
 * or `never` (the socket closed first, or the process ended with it still waiting).
 */
export interface DeadlineRecord extends RecordDestination {
  readonly v: typeof RECORD_VERSION;
  readonly kind: 'late' | 'never';
  /** The process that saw it. */
  readonly pid: number;
  readonly phase: Phase;
  /** The timeout that ran out, ms. */
  readonly timeout: number;
  /** Ms from the phase's clock start until the answer (late) or the end (never). */
  readonly elapsed: number;
  /** The protocol the connection ran under, when known. */
  readonly protocol: string | null;
  /** The rule per destination that applied: its place in the list (from 1) and its text. */
  readonly rule: { readonly index: number; readonly text: string } | null;
  /** never: `close` (closed with no error), `error` (destroyed with one), `exit` (still waiting when the process ended). */
  readonly ended?: 'close' | 'error' | 'exit';
  /** never: the code of the error the socket was destroyed with. */
  readonly error?: string | null;
  /** never: bytes the application wrote after the deadline ran out. */
  readonly wroteAfter?: number;
}

/** One per process, written when it ends: what it ran with. */
export interface ProcessRecord {
  readonly v: typeof RECORD_VERSION;
  readonly kind: 'process';
  readonly pid: number;
  readonly ppid: number;
  /** `process.argv`, for telling the processes apart. */
  readonly argv: readonly string[];
  /** The rules in force at the end (`TIMEOUTSOCKET_RULES` text), or `null` for none. */
  readonly rules: string | null;
  /** How it ended: `exit`, or the signal it was ending on (`SIGTERM`). */
  readonly ended: string;
}

/** A line of the report file. */
export type ReportRecord = DeadlineRecord | ProcessRecord;

/** What a report file held. */
export interface ParsedRecords {
  readonly deadlines: DeadlineRecord[];
  readonly processes: ProcessRecord[];
  /** Lines that are not a record of this version (a line cut by a crash, another version). */
  readonly unreadable: number;
}

const PHASES: ReadonlySet<unknown> = new Set(['connect', 'read', 'write']);

/** Reads the lines of a report file; blank lines are skipped, bad ones counted. */
export function parseRecords(text: string): ParsedRecords {
  const deadlines: DeadlineRecord[] = [];
  const processes: ProcessRecord[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const record = parseLine(line);
    if (record === undefined) unreadable++;
    else if (record.kind === 'process') processes.push(record);
    else deadlines.push(record);
  }
  return { deadlines, processes, unreadable };
}

function parseLine(line: string): ReportRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<ReportRecord>;
  if (record.v !== RECORD_VERSION) return undefined;
  if (record.kind === 'process') return typeof record.pid === 'number' ? (record as ProcessRecord) : undefined;
  if (record.kind !== 'late' && record.kind !== 'never') return undefined;
  const deadline = record as Partial<DeadlineRecord>;
  if (!PHASES.has(deadline.phase) || typeof deadline.timeout !== 'number' || typeof deadline.elapsed !== 'number') return undefined;
  return deadline as DeadlineRecord;
}

/** A record as one line of the file. */
export function recordLine(record: ReportRecord): string {
  return `${JSON.stringify(record)}\n`;
}
