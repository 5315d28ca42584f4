import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, partTotals, segmentFigures, spreadOf } from '../../bench/segments';

describe('counting in segments (bench/segments.ts)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'segments-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A callgrind part as callgrind writes it: a header, then the totals line. */
  const part = (file: string, total: number): void => writeFileSync(path.join(dir, file), `# callgrind format\nversion: 1\nsummary: ${total}\n\nfn=main\n1 ${total}\n\ntotals: ${total}\n`);

  it('reads the parts in dump order: <base>.1, .2, ... .10, then <base> (the dump at exit)', () => {
    part('cg.out', 7);
    for (let n = 1; n <= 10; n += 1) part(`cg.out.${n}`, n * 100);
    part('other.out.1', 5); // another process's parts are not this one's
    expect(partTotals(path.join(dir, 'cg.out'))).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 7]);
  });

  it('names the file of a part that holds no totals line', () => {
    writeFileSync(path.join(dir, 'cg.out.1'), 'version: 1\n');
    expect(() => partTotals(path.join(dir, 'cg.out'))).toThrow(/cg\.out\.1: callgrind part without a totals line/);
  });

  it('takes the counted segments: the last ones before the exit part, per unit', () => {
    // start-up, two warm-up segments, three counted ones, the exit: seven parts, six marks
    expect(segmentFigures([9_000_000, 5000, 4000, 1000, 1200, 1100, 42], 6, 3, 10)).toEqual([100, 120, 110]);
  });

  it('refuses parts that are not one more than the marks (a mark missed or doubled)', () => {
    expect(() => segmentFigures([9_000_000, 1000, 42], 3, 2, 10)).toThrow('expected 4 callgrind parts (3 marks, the last 2 segments counted), got 3');
  });

  it('gives the median of an odd and of an even count, and refuses none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('gives the spread: lowest, highest, and their distance over the median', () => {
    expect(spreadOf([100, 110, 90])).toEqual({ min: 90, max: 110, relative: 0.2 });
  });
});
