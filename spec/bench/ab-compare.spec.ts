import { agreeWithinNoise, benchRow, pairRatios, spread, type AbProcess } from '../../bench/ab-compare';
import type { Report, Row } from '../../bench/report';
import type { ClientResult } from '../../bench/client';

function result(cpuMs: number, work: number, patched: boolean): ClientResult {
  return {
    workload: 'pingpong',
    variant: 'events',
    patched,
    armed: patched ? { connect: 60_000, read: 60_000, write: 60_000 } : null,
    mode: patched ? 'enforce' : null,
    work,
    unit: 'messages',
    cpuMs,
    wallMs: cpuMs,
    extra: {},
  };
}

function proc(side: AbProcess['side'], pair: number, cpuS: number): AbProcess {
  return { side, pair, cpuS, result: result(cpuS * 900, 1000, side === 'patched') };
}

function row(partial: Partial<Row>): Row {
  return { workload: 'pingpong', title: 't', metric: 'm', plain: null, patched: null, target: 'ratio >= 0.97', status: 'met', ...partial };
}

describe('the outside A/B summary (bench/ab-compare.ts)', () => {
  describe('spread', () => {
    it('gives the median, min and max, the mean of the middle two for an even count', () => {
      expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
      expect(spread([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    });

    it('refuses an empty list with a RangeError', () => {
      expect(() => spread([])).toThrow(RangeError);
    });
  });

  describe('pairRatios', () => {
    it('is plain CPU over patched CPU per pair, whichever side ran first', () => {
      const processes = [proc('plain', 1, 2), proc('patched', 1, 2.5), proc('patched', 2, 4), proc('plain', 2, 3)];
      expect(pairRatios(processes, (p) => p.cpuS)).toEqual([0.8, 0.75]);
    });

    it('leaves out a pair with one side missing', () => {
      expect(pairRatios([proc('plain', 1, 2)], (p) => p.cpuS)).toEqual([]);
    });
  });

  describe('agree within the noise', () => {
    it('agrees when each median is inside the other span', () => {
      expect(agreeWithinNoise(spread([0.9, 0.95, 1.0]), spread([0.92, 0.96, 0.99]))).toBe(true);
    });

    it('disagrees when the A/B median is outside the bench span', () => {
      expect(agreeWithinNoise(spread([0.95, 0.96, 0.97]), spread([0.85, 0.9, 0.96]))).toBe(false);
    });

    it('disagrees when the bench median is outside the A/B span, even if the A/B median is inside the bench span', () => {
      expect(agreeWithinNoise(spread([0.9, 1.0, 1.1]), spread([0.92, 0.93, 0.94]))).toBe(false);
    });
  });

  describe('benchRow', () => {
    const report = (rows: Row[]): Report => ({ rows }) as unknown as Report;

    it('picks the plain against patched row, not the report-mode row of the same workload', () => {
      const enforce = row({ ratio: 0.98, sides: ['plain', 'patched'] });
      const reportMode = row({ ratio: 1.01, sides: ['patched', 'report'] });
      expect(benchRow(report([reportMode, enforce]), 'pingpong')).toBe(enforce);
    });

    it('takes the first ratio row of a run written before rows named their sides', () => {
      const old = row({ ratio: 0.99 });
      expect(benchRow(report([row({ workload: 'bulk', ratio: 1 }), old]), 'pingpong')).toBe(old);
    });

    it('finds nothing for a workload the run did not have', () => {
      expect(benchRow(report([row({ ratio: 0.99, sides: ['plain', 'patched'] })]), 'fetch')).toBeUndefined();
    });
  });
});
