/**
 * The rollout report: records in (lib/report/records.ts), the table (aggregate.ts) and the
 * suggested rules (suggest.ts) out, as text (table.ts) or as JSON for machines.
 */
import { aggregate, type Aggregate, type ReportRow } from './aggregate';
import { parseRecords } from './records';
import { suggest, type Suggestion } from './suggest';
import { formatReport } from './table';

export { REPORT_FILE_ENV } from './environment';
export { startCollecting, type Collector } from './collect';
export type { Aggregate, ReportRow } from './aggregate';
export type { DeadlineRecord, ProcessRecord, ReportRecord } from './records';
export type { SuggestedRule, Suggestion } from './suggest';

/** What `--json` prints: the table's rows and the suggestion, with the counts they come from. */
export interface RolloutReport extends Aggregate {
  readonly suggestion: Suggestion;
}

/** The report of a report file's text. */
export function buildReport(text: string): RolloutReport {
  const report = aggregate(parseRecords(text));
  return { ...report, suggestion: suggest(report) };
}

/** The report as people read it. */
export function describeReport(report: RolloutReport): string {
  return formatReport(report, report.suggestion);
}

/** A row named without its numbers: which destination, phase, protocol and rule (by index). */
export interface RowKey {
  readonly destination: string;
  readonly phase: ReportRow['phase'];
  readonly protocol: string | null;
  readonly rule: number | null;
}

/** What `--json` prints: the aggregate, and the suggestion with its hangs named by {@link RowKey}. */
export interface RolloutReportJson extends Aggregate {
  readonly suggestion: { readonly rules: string | null; readonly added: Suggestion['added']; readonly hangs: RowKey[] };
}

/** For `--json`: the hangs are named, not repeated (their rows are in `rows`). */
export function reportJson(report: RolloutReport): RolloutReportJson {
  const { suggestion, ...rest } = report;
  return { ...rest, suggestion: { rules: suggestion.rules, added: suggestion.added, hangs: suggestion.hangs.map(rowKey) } };
}

function rowKey(row: ReportRow): RowKey {
  return { destination: row.destination, phase: row.phase, protocol: row.protocol, rule: row.rule?.index ?? null };
}
