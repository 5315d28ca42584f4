import type { ClientResult } from '../../bench/client';
import { PLANS, WORKLOADS, type Runs } from '../../bench/run';

const plan = PLANS.full;

/** A client result doing `work` units in `cpuMs`, with `extra` figures. */
function result(work: number, cpuMs = 1000, extra: Record<string, number | string> = {}): ClientResult {
  return { workload: 'w', variant: 'events', patched: false, armed: null, mode: null, work, unit: 'u', cpuMs, wallMs: cpuMs, extra };
}

function rowsOf(name: string, runs: Runs) {
  const workload = WORKLOADS.find((w) => w.name === name);
  if (workload === undefined) throw new Error(`no workload ${name}`);
  return workload.rows(runs, plan);
}

describe('the rows of the CPU-time bench (bench/run.ts)', () => {
  it('judges ping-pong at 0.97: 0.975 met, 0.93 within noise, 0.91 missed', () => {
    const at = (patched: number) => rowsOf('pingpong', { plain: [result(1000)], patched: [result(patched)], report: [result(patched)] })[0];
    expect(at(975)).toMatchObject({ target: 'ratio >= 0.97', status: 'met' });
    expect(at(930).status).toBe('within noise');
    expect(at(910).status).toBe('missed');
  });

  it('judges bulk at 0.97, churn at 0.95, http and fetch at 0.97', () => {
    const target = (name: string) => rowsOf(name, { plain: [result(1)], patched: [result(1)], report: [result(1)] })[0].target;
    expect(target('bulk')).toBe('ratio >= 0.97');
    expect(target('churn')).toBe('ratio >= 0.95');
    expect(target('http')).toBe('ratio >= 0.97');
    expect(target('fetch')).toBe('ratio >= 0.97');
  });

  it('compares report mode with enforce mode for ping-pong and churn, at 1.0 within noise', () => {
    for (const name of ['pingpong', 'churn']) {
      const variants = WORKLOADS.find((w) => w.name === name)!.variants.map((v) => v.id);
      expect(variants).toEqual(['plain', 'patched', 'report']);
      const rows = rowsOf(name, { plain: [result(1000)], patched: [result(1000)], report: [result(980)] });
      expect(rows[1]).toMatchObject({ ratio: 0.98, status: 'within noise', sides: ['patched', 'report'] });
      expect(rows[1].target).toMatch(/^ratio >= 1\.0 within noise/);
    }
  });

  it('needs awaitable ping-pong at 0.85 of event-style code and 1.3 x promise-socket, on two rows', () => {
    const rows = (recv: number, peer: number) =>
      rowsOf('awaitable', { events: [result(1000)], recv: [result(recv)], 'promise-socket': [result(peer)] });
    const [ofEvents, overPeer] = rows(900, 650);
    expect(ofEvents).toMatchObject({ target: 'ratio >= 0.85', status: 'met' });
    expect(overPeer).toMatchObject({ target: 'ratio >= 1.3', status: 'met', sides: ['promise-socket', 'recv'] });
    expect(rows(900, 800)[1].status).toBe('missed'); // 1.125 x promise-socket
  });

  it('allows +120 B of heap per idle socket', () => {
    const heap = (extra: number) =>
      rowsOf('memory', { plain: [result(1, 1, { heapPerSocket: 1000, rssPerSocket: 0 })], patched: [result(1, 1, { heapPerSocket: 1000 + extra, rssPerSocket: 0 })] })[0];
    expect(heap(120)).toMatchObject({ target: 'extra <= 120 B', status: 'met' });
    expect(heap(121).status).toBe('missed');
  });

  it('allows a timeout lateness p99 of 5 ms', () => {
    const p99 = (ms: number) =>
      rowsOf('accuracy', {
        plain: [result(1, 1, { p50: 0, p99: 1, max: 1 })],
        patched: [result(1, 1, { p50: 0, p99: ms, max: ms, fired: 1000, wrongErrors: 0 })],
      })[1];
    expect(p99(5)).toMatchObject({ target: 'p99 <= 5 ms', status: 'met' });
    expect(p99(5.5).status).toBe('missed');
  });
});
