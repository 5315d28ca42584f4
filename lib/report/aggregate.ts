/**
 * The rollout report's table: the records of every process, one row per destination (host:port,
 * protocol, the rule that applied) and phase. Pure: records in, rows out.
 */
import { isIPv6 } from 'node:net';
import type { Phase } from '../config';
import type { DeadlineRecord, ParsedRecords } from './records';

/** One row: a destination and phase, and what became of its deadlines that ran out. */
export interface ReportRow {
  /** How the table names the destination: `host:port` (`[::1]:6379`), or `accepted on :8080` for sockets a server accepted. */
  readonly destination: string;
  /** The host given to `connect()`, `null` for accepted sockets. */
  readonly host: string | null;
  /** The port connected to (for accepted sockets, the local port they were accepted on). */
  readonly port: number | null;
  /** True for sockets a server accepted: no rule can name them. */
  readonly accepted: boolean;
  readonly protocol: string | null;
  /** The rule that applied, or `null`. */
  readonly rule: { readonly index: number; readonly text: string } | null;
  readonly phase: Phase;
  /** The longest timeout in force for this row, ms (processes may have run with different ones). */
  readonly timeout: number;
  /** Deadlines that ran out. */
  readonly ranOut: number;
  /** Of those, answered late. */
  readonly late: number;
  /** Lateness of those answers (elapsed − timeout), ms: the 99th percentile (nearest rank) and the largest; `null` with none. */
  readonly lateP99: number | null;
  readonly lateMax: number | null;
  /** The longest time an answer took (elapsed), ms; `null` with none late. */
  readonly answeredMax: number | null;
  /** Of those, never answered. */
  readonly never: number;
  /**
   * Of the never answered, those whose application went on writing after the deadline ran out
   * and that ended without an error (closed cleanly, or open when the process ended): a stream
   * nobody answers, not a hang.
   */
  readonly neverButWriting: number;
}

/** The whole report: the table, and what it was made from. */
export interface Aggregate {
  /** Processes that wrote to the report (by their records). */
  readonly processes: number;
  /** Deadlines that ran out, over every row. */
  readonly ranOut: number;
  /** Lines of the file that could not be read (a line cut by a crash). */
  readonly unreadable: number;
  /** Rows by destination, then phase (connect, read, write). */
  readonly rows: ReportRow[];
  /** The rules in force in the processes (their `TIMEOUTSOCKET_RULES` text), each once, `[]` for none. */
  readonly rules: string[];
}

const PHASE_ORDER: Readonly<Record<Phase, number>> = { connect: 0, read: 1, write: 2 };

/** How the table names where a record's socket went. */
export function destinationLabel(record: Pick<DeadlineRecord, 'host' | 'address' | 'port' | 'acceptedOn'>): string {
  if (record.acceptedOn !== null) return `accepted on :${record.acceptedOn}`;
  const host = record.host ?? record.address ?? '?';
  const shown = isIPv6(host) ? `[${host}]` : host;
  return record.port === null ? shown : `${shown}:${record.port}`;
}

/** The 99th percentile by nearest rank: the smallest value at or above 99% of the others. */
export function percentile99(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)];
}

/** Groups the records into rows. */
export function aggregate(parsed: ParsedRecords): Aggregate {
  const groups = new Map<string, DeadlineRecord[]>();
  for (const record of parsed.deadlines) {
    const key = JSON.stringify([destinationLabel(record), record.protocol, record.rule?.index ?? null, record.rule?.text ?? null, record.phase]);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [record]);
    else group.push(record);
  }
  const rows = [...groups.values()].map(rowOf);
  rows.sort((a, b) => compare(a.destination, b.destination) || PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || compare(a.rule?.text ?? '', b.rule?.text ?? ''));
  const pids = new Set<number>([...parsed.processes.map((p) => p.pid), ...parsed.deadlines.map((d) => d.pid)]);
  const rules = [...new Set(parsed.processes.map((p) => p.rules).filter((text): text is string => text !== null && text.trim() !== ''))];
  return { processes: pids.size, ranOut: parsed.deadlines.length, unreadable: parsed.unreadable, rows, rules };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function rowOf(records: DeadlineRecord[]): ReportRow {
  const first = records[0];
  const late = records.filter((record) => record.kind === 'late');
  const never = records.filter((record) => record.kind === 'never');
  const lateness = late.map((record) => Math.max(0, record.elapsed - record.timeout)).sort((a, b) => a - b);
  const accepted = first.acceptedOn !== null;
  return {
    destination: destinationLabel(first),
    host: first.host,
    port: accepted ? first.acceptedOn : first.port,
    accepted,
    protocol: first.protocol,
    rule: first.rule,
    phase: first.phase,
    timeout: Math.max(...records.map((record) => record.timeout)),
    ranOut: records.length,
    late: late.length,
    lateP99: percentile99(lateness),
    lateMax: lateness.length === 0 ? null : lateness[lateness.length - 1],
    answeredMax: late.length === 0 ? null : Math.max(...late.map((record) => record.elapsed)),
    never: never.length,
    neverButWriting: never.filter((record) => (record.wroteAfter ?? 0) > 0 && record.ended !== 'error').length,
  };
}
