/**
 * The table the driver suite prints: one line per driver and row, with and without the shim.
 * Each test file writes its rows to the run directory; the global teardown prints them all.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome } from './client';

/** One row of the table. */
export interface Row {
  driver: string;
  row: string;
  withShim: Outcome;
  withoutShim: Outcome;
  /** Whether the row met its expectation (filled in by the test). */
  pass: boolean;
  /** Set on the rows run with the shim in report mode: the with-shim cell then counts its reports. */
  mode?: 'report';
  /** Why the row could not run on this machine (a well-known port taken): shown instead of a verdict. */
  skipped?: string;
}

/** The run directory shared by the global setup, the test files and the global teardown. */
export function runDir(): string | undefined {
  return process.env.DRIVER_SUITE_RUN_DIR;
}

/** Save a test file's rows for the global teardown (or print them now if there is no run directory). */
export function saveRows(driver: string, rows: Row[]): void {
  const dir = runDir();
  if (dir) writeFileSync(join(dir, `rows-${driver}.json`), JSON.stringify(rows));
  else process.stdout.write(`${formatTable(rows)}\n`);
}

/** All rows saved in a run directory, in file-name order. */
export function loadRows(dir: string): Row[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('rows-') && f.endsWith('.json'))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Row[]);
}

function cell(o: Outcome): string {
  switch (o.status) {
    case 'ok':
      return 'ok';
    case 'error':
      // A library that reports no error, only the close it led to (ws: 1006), is named by where it surfaced.
      if (!o.code && o.source) return o.source.replace(/ event$/, '');
      return [o.code ?? o.name ?? 'error', o.phase ?? o.syscall].filter(Boolean).join(' ');
    case 'hung':
      return `hung, killed at ${(o.waitedMs / 1000).toFixed(1)} s`;
    default:
      if (o.exit !== undefined) return `crashed (exit ${o.exit})`;
      return o.message ? `crashed (${o.message})` : 'crashed';
  }
}

/** A report-mode run: its verdict, and what the shim reported (or that it was not in report mode). */
function reportCell(o: Outcome): string {
  if (o.shim && o.shim.mode !== 'report') return `${cell(o)}, not in report mode`;
  const n = o.reports?.length ?? 0;
  return `${cell(o)}, ${n} report${n === 1 ? '' : 's'}`;
}

function elapsed(o: Outcome): string {
  if (o.status !== 'ok' && o.status !== 'error') return '-';
  // Time the library spent before its bytes reached the socket is not the shim's: show it apart.
  const lib = o.syncMs !== undefined && o.syncMs >= 10 ? ` (+${o.syncMs} ms in the library first)` : '';
  return `${o.elapsedMs ?? '?'} ms${lib}`;
}

/** The rows as an aligned plain-text table. */
export function formatTable(rows: Row[]): string {
  const header = ['driver', 'row', 'with shim', 'without shim', 'elapsed (shim)', ''];
  const lines = rows.map((r) =>
    r.skipped !== undefined
      ? [r.driver, r.row, '-', '-', '-', `NOT RUN: ${r.skipped}`]
      : [r.driver, r.row, r.mode === 'report' ? reportCell(r.withShim) : cell(r.withShim), cell(r.withoutShim), elapsed(r.withShim), r.pass ? 'PASS' : 'FAIL'],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => l.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
