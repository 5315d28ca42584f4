/**
 * The rollout report as people read it: the table, then the suggested rules. Pure: the
 * aggregate and the suggestion in, lines of text out.
 */
import { formatDuration } from '../rules/settings';
import type { Aggregate, ReportRow } from './aggregate';
import { formatElapsed, type Suggestion } from './suggest';

const HEADERS = ['destination', 'protocol', 'phase', 'timeout', 'ran out', 'late', 'late p99', 'late max', 'never', 'rule'] as const;
/** Columns aligned right (numbers). */
const RIGHT: ReadonlySet<number> = new Set([3, 4, 5, 6, 7, 8]);

function cells(row: ReportRow): string[] {
  return [
    row.destination,
    row.protocol ?? '-',
    row.phase,
    formatDuration(row.timeout),
    String(row.ranOut),
    String(row.late),
    row.lateP99 === null ? '-' : `+${formatElapsed(row.lateP99)}`,
    row.lateMax === null ? '-' : `+${formatElapsed(row.lateMax)}`,
    String(row.never),
    row.rule === null ? '-' : `${row.rule.index} ${JSON.stringify(row.rule.text)}`,
  ];
}

/** The table with its columns padded to their widest cell; the last column is not padded. */
export function formatTable(rows: readonly ReportRow[]): string[] {
  const body = rows.map(cells);
  const all = [[...HEADERS], ...body];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((line) => line[i].length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : RIGHT.has(i) ? value.padStart(widths[i]) : value.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return all.map(line);
}

/** The whole report as text: a summary line, the table, the suggestion. */
export function formatReport(report: Aggregate, suggestion: Suggestion): string {
  const lines: string[] = [];
  const processes = `${report.processes} process${report.processes === 1 ? '' : 'es'}`;
  lines.push(`timeoutsocket report: ${processes}, ${report.ranOut} deadline${report.ranOut === 1 ? '' : 's'} ran out (reported, not enforced)`);
  if (report.unreadable > 0) lines.push(`(${report.unreadable} unreadable line${report.unreadable === 1 ? '' : 's'} skipped: cut by a crash?)`);
  if (report.rows.length === 0) {
    lines.push('', 'No deadline ran out: enforce mode would have cut nothing.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('', ...formatTable(report.rows));
  lines.push('', 'late: answered after the deadline (by how much past it); never: closed, or still waiting at exit, with no answer.');
  if (suggestion.rules === null) {
    lines.push('', 'No rule to suggest: nothing answered late, and no destination looked like a stream.');
  } else {
    lines.push('', 'Suggested rules, for enforce mode:', `  TIMEOUTSOCKET_RULES=${JSON.stringify(suggestion.rules)}`);
    for (const rule of suggestion.added) lines.push(`  ${rule.text}: ${rule.why.join('; ')}`);
  }
  if (suggestion.hangs.length > 0) {
    const hangs = suggestion.hangs.map((row) => `${row.destination} ${row.phase}`);
    lines.push('', `Hangs enforce mode will end (no rule suggested): ${[...new Set(hangs)].join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
