/**
 * Counting a workload in segments of one process (bench/instructions.ts): callgrind dumps its
 * count at every mark the counted process makes (bench/counted.ts, `MARK_FUNCTION`), and each
 * dump holds the instructions since the previous one. A process with `segments` segments leaves
 * `segments + 2` parts: start-up and warm-up, the segments one by one, and what follows the last
 * mark (the exit). This file turns those parts into per-unit figures and summarises them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The instruction totals of the parts callgrind wrote for `base` (its `--callgrind-out-file`),
 * in dump order. callgrind names the parts dumped while the process runs `<base>.1`, `<base>.2`,
 * and so on, and the last, at exit, `<base>`; each names its count on a `totals:` line.
 */
export function partTotals(base: string): number[] {
  const dir = path.dirname(base);
  const name = path.basename(base);
  const parts = readdirSync(dir)
    .map((file) => ({ file, part: partNumber(file, name) }))
    .filter((entry): entry is { file: string; part: number } => entry.part !== undefined)
    .sort((a, b) => a.part - b.part);
  return parts.map(({ file }) => totalOf(readFileSync(path.join(dir, file), 'utf8'), file));
}

/** `<name>.<n>` is part n; `<name>` alone, the dump at exit, comes last. */
function partNumber(file: string, name: string): number | undefined {
  if (file === name) return Infinity;
  if (!file.startsWith(`${name}.`)) return undefined;
  const n = file.slice(name.length + 1);
  return /^\d+$/.test(n) ? Number(n) : undefined;
}

function totalOf(text: string, file: string): number {
  const match = /^(?:totals|summary):\s*(\d+)/m.exec(text);
  if (match === null) throw new Error(`${file}: callgrind part without a totals line`);
  return Number(match[1]);
}

/**
 * The per-unit figure of each counted segment: the `segments` parts before the last (what
 * follows the last mark: the exit). The parts before them are start-up and the warm-up's
 * segments. Throws when there are not `marks + 1` parts (a mark missed or doubled: the process
 * did not mark where it should have).
 */
export function segmentFigures(parts: readonly number[], marks: number, segments: number, unitsPerSegment: number): number[] {
  if (parts.length !== marks + 1 || segments + 1 > parts.length) {
    throw new Error(`expected ${marks + 1} callgrind parts (${marks} marks, the last ${segments} segments counted), got ${parts.length}`);
  }
  return parts.slice(-segments - 1, -1).map((count) => count / unitsPerSegment);
}

/** The median of `values` (the mean of the middle two for an even count); throws on none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** How far `values` spread: lowest, highest, and (highest - lowest) over the median. */
export interface Spread {
  readonly min: number;
  readonly max: number;
  readonly relative: number;
}

/** The {@link Spread} of `values`; throws on none. */
export function spreadOf(values: readonly number[]): Spread {
  const mid = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { min, max, relative: mid === 0 ? 0 : (max - min) / mid };
}
