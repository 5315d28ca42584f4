/**
 * The end of `bash bench/ab.sh`: sums up its pairs and sets them against the bench.
 *
 * `node dist/bench/ab-compare.js <workload> <pairs.jsonl> [latest.json]` reads the pairs ab.sh
 * recorded (one {@link AbProcess} per line, two per pair), prints the outside ratio (plain CPU
 * over patched CPU of whole processes, as the shell timed them) and the inside one (the same
 * processes' own measured window, as the bench computes it), then the bench's row for the
 * workload from `bench/results/latest.json` and whether the two agree within the noise
 * ({@link agreeWithinNoise}).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ClientResult } from './client';
import type { Report, Row } from './report';

/** One process ab.sh ran: its side, its pair, the CPU the shell measured and the client's own line. */
export interface AbProcess {
  readonly side: 'plain' | 'patched';
  readonly pair: number;
  /** User + system CPU seconds of the whole process (bash's `time`). */
  readonly cpuS: number;
  readonly result: ClientResult;
}

/** Median, min and max of a list of ratios. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** The median and the span of `values` (which must not be empty). */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spread: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/**
 * "Agree within the noise": the median of each measure's ratios (the bench's per-round ones, the
 * A/B's per-pair ones) lies inside the other's min–max span. The spans are the noise as this machine showed it
 * in these very runs (about ±10% on a shared 2-core machine, a few percent on a quiet one), so
 * no fixed margin is assumed; a measure that counts something the other does not (start-up, a
 * window that misses work) moves its whole span, and the medians leave each other's spans.
 */
export function agreeWithinNoise(bench: Spread, ab: Spread): boolean {
  const inside = (value: number, span: Spread): boolean => value >= span.min && value <= span.max;
  return inside(ab.median, bench) && inside(bench.median, ab);
}

/** Per-pair ratios, plain over patched CPU: above 1 when the patched process used less. */
export function pairRatios(processes: readonly AbProcess[], cpuOf: (p: AbProcess) => number): number[] {
  const pairs = new Map<number, Partial<Record<AbProcess['side'], AbProcess>>>();
  for (const p of processes) pairs.set(p.pair, { ...pairs.get(p.pair), [p.side]: p });
  const ratios: number[] = [];
  for (const { plain, patched } of pairs.values()) {
    if (plain !== undefined && patched !== undefined) ratios.push(cpuOf(plain) / cpuOf(patched));
  }
  return ratios;
}

/** The bench's row for the shim's own cost on `workload`: plain against patched. */
export function benchRow(report: Report, workload: string): Row | undefined {
  const rows = report.rows.filter((row) => row.workload === workload && row.ratio !== undefined);
  // Rows written before `sides` existed: the first ratio row of the workload is plain against patched.
  return rows.find((row) => row.sides?.[0] === 'plain' && row.sides[1] === 'patched') ?? rows.find((row) => row.sides === undefined);
}

function show(s: Spread): string {
  return `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)}, ${s.n})`;
}

function main(argv: readonly string[]): void {
  const [workload, pairsFile, latest = path.resolve(__dirname, '..', '..', 'bench', 'results', 'latest.json')] = argv;
  if (workload === undefined || pairsFile === undefined) throw new Error('usage: ab-compare.js <workload> <pairs.jsonl> [latest.json]');
  const processes = readFileSync(pairsFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AbProcess);
  // Guard the comparison itself, as the bench does: the patched side really patched and armed, the plain side not.
  for (const p of processes) {
    const armed = p.result.armed;
    const ok = p.side === 'patched' ? p.result.patched && armed?.connect === 60_000 && armed.read === 60_000 && armed.write === 60_000 : !p.result.patched;
    if (!ok) throw new Error(`pair ${p.pair} ${p.side}: the process ran patched=${p.result.patched}, armed ${JSON.stringify(armed)}`);
  }
  const outside = spread(pairRatios(processes, (p) => p.cpuS));
  // The client's own window, as the bench figures it: CPU per unit of work (the work is fixed, so this is CPU).
  const inside = spread(pairRatios(processes, (p) => p.result.cpuMs / p.result.work));
  const lines = [
    `outside, whole processes (shell CPU), plain / patched: median ${show(outside)}`,
    `inside, the client's measured window (as the bench): median ${show(inside)}`,
  ];
  let report: Report | undefined;
  try {
    report = JSON.parse(readFileSync(latest, 'utf8')) as Report;
  } catch {
    lines.push(`no bench run to compare with (${latest}): run npm run bench first`);
  }
  const row = report === undefined ? undefined : benchRow(report, workload);
  if (report !== undefined && (row === undefined || row.pairedRatios === undefined || row.pairedRatios.length === 0)) {
    lines.push(`${path.basename(latest)} (${report.date}) has no ${workload} row to compare with`);
  } else if (report !== undefined && row !== undefined) {
    const bench = spread(row.pairedRatios!.filter(Number.isFinite));
    const verdict = agreeWithinNoise(bench, outside) ? 'agree within the noise' : "DISAGREE: the medians are not each inside the other's span";
    lines.push(
      `bench, ${report.mode} run ${report.date.slice(0, 16)} (${path.basename(latest)}): ratio ${row.ratio!.toFixed(3)}, per-round ${show(bench)}`,
      `outside A/B vs bench: ${verdict} (difference of medians ${(outside.median - bench.median).toFixed(3)})`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`ab-compare: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
