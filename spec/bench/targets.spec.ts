import * as targets from '../../bench/targets';

// The performance issue's floors, written out again: the bench must check exactly these.
describe('the bench targets (bench/targets.ts)', () => {
  it('are the floors of the performance issue', () => {
    expect(targets.RATIO_TARGETS).toEqual({ pingpong: 0.97, bulk: 0.97, churn: 0.95, http: 0.97, fetch: 0.97 });
    expect(targets.AWAITABLE_OF_EVENTS).toBe(0.85);
    expect(targets.AWAITABLE_OVER_PEER).toBe(1.3);
    expect(targets.HEAP_PER_SOCKET_BYTES).toBe(120);
    expect(targets.LATENESS_P99_MS).toBe(5);
    expect(targets.ARMED_INSTRUCTIONS).toEqual({ pingpong: 0.02, churn: 0.03 });
    expect(targets.INSTALLED_INSTRUCTIONS).toBe(0.01);
  });

  it('let report mode cost no more than enforce mode', () => {
    expect(targets.REPORT_OVER_ENFORCE_RATIO).toBe(1);
    expect(targets.REPORT_OVER_ENFORCE_INSTRUCTIONS).toBeLessThanOrEqual(0.005);
  });
});
