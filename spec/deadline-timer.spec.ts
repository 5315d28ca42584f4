import { performance } from 'node:perf_hooks';
import {
  DeadlineTimer,
  DUE_SLACK_MS,
  earliestDue,
  FIRST_LOOK,
  hasExpired,
  NOTHING_DUE,
  type DeadlineOwner,
} from '../lib/deadline-timer';
import { blockEventLoop } from './helpers';

/** A test owner: one deadline (`due`, NOTHING_DUE when settled), and a record of every look. */
interface Subject {
  timer: DeadlineTimer | undefined;
  due: number;
  /**
   * Every look: `at`, and `reached`, whether the deadline was due at it (within DUE_SLACK_MS).
   * A look finds it not reached only when the due time moved later since the timer was set.
   */
  looks: Array<{ lookedAt: number; at: number; fired: boolean; due: number; reached: boolean }>;
  /** Runs inside each check, before the verdict: how a test makes things happen between looks. */
  during?: (look: number) => void;
  done?: () => void;
}

const OWNER: DeadlineOwner<Subject> = {
  timerOf: (subject) => subject.timer,
  check(subject, _timer, at, lookedAt) {
    subject.during?.(subject.looks.length);
    const fired = hasExpired(subject.due, lookedAt);
    const reached = subject.due !== NOTHING_DUE && subject.due - DUE_SLACK_MS <= at;
    subject.looks.push({ lookedAt, at, fired, due: subject.due, reached });
    if (fired) subject.due = NOTHING_DUE;
    if (subject.due === NOTHING_DUE) queueMicrotask(() => subject.done?.());
    return subject.due;
  },
};

const subjects: Subject[] = [];

function subject(due = NOTHING_DUE): Subject {
  const s: Subject = { timer: new DeadlineTimer(), due, looks: [] };
  subjects.push(s);
  return s;
}

/** Resolves once the subject's check has returned NOTHING_DUE (fired or settled); bounded. */
function settled(s: Subject, limitMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`not settled within ${limitMs} ms: ${JSON.stringify(s.looks)}`)), limitMs);
    s.done = () => {
      clearTimeout(limit);
      resolve();
    };
  });
}

function arm(s: Subject, due: number): void {
  s.due = due;
  s.timer!.schedule(due, OWNER, s);
}

/** Resolves once `condition` holds, looked at every turn of the loop; bounded. */
function waitFor(condition: () => boolean, limitMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`condition not met within ${limitMs} ms`)), limitMs);
    const poll = (): void => {
      if (!condition()) return void setImmediate(poll);
      clearTimeout(limit);
      resolve();
    };
    poll();
  });
}

/** The looks that found the deadline due, as `{ first, fired }`. */
const dueLooks = (s: Subject) => s.looks.filter((l) => l.reached).map((l) => ({ first: l.lookedAt === FIRST_LOOK, fired: l.fired }));

const idleTimeoutOf = (timer: DeadlineTimer): number => (timer.timer as unknown as { _idleTimeout: number })._idleTimeout;

afterEach(() => {
  for (const s of subjects.splice(0)) {
    s.timer?.schedule(NOTHING_DUE, OWNER, s);
    s.timer = undefined;
  }
});

describe('one timer per owner', () => {
  it('is created once, unref\'d, and refreshed to an earlier due time', () => {
    const s = subject();
    arm(s, performance.now() + 500);
    const first = s.timer!.timer;
    expect(first).toBeDefined();
    expect(first!.hasRef()).toBe(false);
    arm(s, performance.now() + 50);
    expect(s.timer!.timer).toBe(first);
    expect(idleTimeoutOf(s.timer!)).toBeLessThanOrEqual(50);
  });

  it('leaves an earlier timer as it is for a later due time', () => {
    const s = subject();
    const due = performance.now() + 50;
    arm(s, due);
    arm(s, due + 500);
    expect(s.timer!.timerDue).toBe(Math.ceil(due));
  });

  it('rounds the delay up, and the due time too', () => {
    const s = subject();
    const due = performance.now() + 10.3;
    arm(s, due);
    const delay = idleTimeoutOf(s.timer!);
    expect(Number.isInteger(delay)).toBe(true);
    expect(delay).toBeGreaterThanOrEqual(10.3);
    expect(s.timer!.timerDue).toBe(Math.ceil(due));
  });

  it('fires no earlier than DUE_SLACK_MS before the due time, and its first look finds it reached', async () => {
    // Node truncates a Timeout's start to whole ms: a delay rounded down (3 for 3.9) fired up to
    // 2 ms early, found the deadline not reached and re-armed the timer for a further loop turn
    // (most of these did). Rounded up, each deadline takes one timer callback, then its
    // second look. The deadlines are armed at every fraction of a ms, from a chain of immediates
    // that keeps the loop busy (it never sleeps in the poll phase), so a timer fires at the first
    // ms tick it may, as under load, not when an epoll_wait that started mid-ms wakes.
    const all: Subject[] = [];
    const started = performance.now();
    const spin = (): void => {
      const at = performance.now();
      if (all.length < 40 && at >= started + all.length * 0.23) {
        const s = subject();
        all.push(s);
        arm(s, at + 3.9);
      }
      if (all.length < 40 || all.some((s) => s.due !== NOTHING_DUE)) setImmediate(spin);
    };
    spin();
    await new Promise<void>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error('not all armed within 2000 ms')), 2000);
      const wait = (): void => {
        if (all.length < 40) return void setImmediate(wait);
        clearTimeout(limit);
        resolve();
      };
      wait();
    });
    const dues = all.map((s) => s.due);
    await Promise.all(all.map((s) => (s.due === NOTHING_DUE ? undefined : settled(s))));
    all.forEach((s, i) => {
      expect(s.looks.map((l) => ({ first: l.lookedAt === FIRST_LOOK, reached: l.reached, fired: l.fired }))).toEqual([
        { first: true, reached: true, fired: false },
        { first: false, reached: true, fired: true },
      ]);
      expect(s.looks[0].at).toBeGreaterThanOrEqual(dues[i] - DUE_SLACK_MS);
      // The second look fires what was due at the first look's reading, not at that reading
      // rounded up to the ms (which fired a deadline up to 2 ms short of its due time).
      expect(s.looks[1].lookedAt).toBe(s.looks[0].at);
    });
  });

  it('set for an exact due time, fires when a bare setTimeout would, no earlier than DUE_SLACK_MS before it, with no further turn', async () => {
    // The owner keeps its clock rounded up to the whole ms (as the engine's stamps), so its due
    // time is up to 1 ms after the exact one; the timer is set for the exact one. Its first look
    // may then find the rounded due time a fraction of a ms away, and still takes it as reached:
    // one timer callback, then the second look, for every deadline. Armed at every fraction of
    // a ms from a chain of immediates, as in the test above.
    const all: Subject[] = [];
    const exact: number[] = [];
    const started = performance.now();
    const spin = (): void => {
      const at = performance.now();
      if (all.length < 40 && at >= started + all.length * 0.23) {
        const s = subject(Math.ceil(at) + 3);
        all.push(s);
        exact.push(at + 3);
        s.timer!.schedule(at + 3, OWNER, s, at, true);
        expect(idleTimeoutOf(s.timer!)).toBe(3); // not 4, as for the rounded due time
      }
      if (all.length < 40 || all.some((s) => s.due !== NOTHING_DUE)) setImmediate(spin);
    };
    spin();
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await waitFor(() => all.length > i);
        if (all[i].due !== NOTHING_DUE) await settled(all[i]);
      }),
    );
    all.forEach((s, i) => {
      expect(s.looks.map((l) => ({ first: l.lookedAt === FIRST_LOOK, fired: l.fired }))).toEqual([
        { first: true, fired: false },
        { first: false, fired: true },
      ]);
      expect(s.looks[0].at).toBeGreaterThanOrEqual(exact[i] - DUE_SLACK_MS);
    });
  });

  it('set for an exact due time, is re-armed for a deadline due within its whole ms, and left for a later one', () => {
    const s = subject();
    const at = performance.now(); // one reading for every schedule: the delays follow from it alone
    const base = Math.floor(at) + 50;
    s.timer!.schedule(base + 0.2, OWNER, s, at, true);
    expect(s.timer!.timerDue).toBe(-(base + 1));
    expect(idleTimeoutOf(s.timer!)).toBe(Math.ceil(base + 0.2 - at));
    s.timer!.schedule(base + 0.7, OWNER, s, at, true); // the same whole ms: set for its own exact time
    expect(s.timer!.timerDue).toBe(-(base + 1));
    expect(idleTimeoutOf(s.timer!)).toBe(Math.ceil(base + 0.7 - at));
    s.timer!.schedule(base + 1, OWNER, s); // a rounded due time at that ms: the whole-ms test again
    expect(s.timer!.timerDue).toBe(base + 1);
    s.timer!.schedule(base + 0.5, OWNER, s, undefined, true);
    s.timer!.schedule(base + 1.2, OWNER, s, undefined, true); // a later ms: the earlier timer stays
    expect(s.timer!.timerDue).toBe(-(base + 1));
  });

  it('is left as it is for a plain due time within the whole ms it is set for (a check\'s exact due time a µs before the write\'s)', () => {
    const s = subject();
    const at = performance.now();
    const base = Math.floor(at) + 50;
    s.timer!.schedule(base + 0.7, OWNER, s, at);
    expect(s.timer!.timerDue).toBe(base + 1);
    const refresh = jest.spyOn(s.timer!.timer!, 'refresh');
    s.timer!.schedule(base + 0.3, OWNER, s, at); // the same ms: that timer brings its look
    expect(refresh).not.toHaveBeenCalled();
    s.timer!.schedule(base - 0.5, OWNER, s, at); // an earlier ms: re-armed
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(s.timer!.timerDue).toBe(base);
  });

  it('set for an exact due time, loses the mark when its owner moves a deadline\'s clock', () => {
    const s = subject();
    const due = performance.now() + 50;
    s.timer!.schedule(due, OWNER, s, undefined, true);
    expect(s.timer!.timerDue).toBe(-Math.ceil(due));
    s.timer!.loseExactDue();
    expect(s.timer!.timerDue).toBe(Math.ceil(due));
    s.timer!.loseExactDue();
    expect(s.timer!.timerDue).toBe(Math.ceil(due));
  });

  it('waits at least 1 ms for a due time already past', () => {
    const s = subject();
    arm(s, performance.now() - 100);
    expect(idleTimeoutOf(s.timer!)).toBe(1);
  });

  it('is cleared by NOTHING_DUE', () => {
    const s = subject();
    arm(s, performance.now() + 50);
    const timeout = s.timer!.timer!;
    s.timer!.schedule(NOTHING_DUE, OWNER, s);
    expect(s.timer).toMatchObject({ timer: undefined, timerDue: 0 });
    expect((timeout as unknown as { _destroyed: boolean })._destroyed).toBe(true);
  });

  it('is let go when the check finds nothing armed, and a fresh one is made for the next deadline', async () => {
    const s = subject();
    arm(s, performance.now() + 5);
    s.during = () => (s.due = NOTHING_DUE); // settled before the timer fired
    await settled(s);
    expect(s.timer!.timer).toBeUndefined();
    arm(s, performance.now() + 50);
    expect(s.timer!.timer).toBeDefined();
  });
});

describe('the second look', () => {
  it('fires a due deadline only on the second look, after a turn of the loop', async () => {
    const s = subject();
    let between = false;
    const due = performance.now() + 10;
    // Queued during the first look that finds the deadline due, so it runs before the second
    // (immediates run in the order they were queued).
    s.during = () => {
      if (performance.now() >= due - DUE_SLACK_MS && s.looks.every((l) => !l.reached)) setImmediate(() => (between = true));
    };
    arm(s, due);
    await settled(s);
    expect(dueLooks(s)).toEqual([
      { first: true, fired: false },
      { first: false, fired: true },
    ]);
    expect(between).toBe(true);
    expect(s.looks[s.looks.length - 1].lookedAt).toBeGreaterThanOrEqual(due - DUE_SLACK_MS);
    expect(s.timer!.timer).toBeUndefined(); // nothing armed after the fire
  });

  it('fires nothing when the deadline settled between the looks', async () => {
    const s = subject();
    s.during = () => s.due - DUE_SLACK_MS <= performance.now() && setImmediate(() => (s.due = NOTHING_DUE)); // the answer arrived
    arm(s, performance.now() + 10);
    await settled(s);
    expect(s.looks.some((l) => l.fired)).toBe(false);
    expect(s.looks[s.looks.length - 1].lookedAt).not.toBe(FIRST_LOOK); // the second look settled it
  });

  it('belongs to its deadline: one that came due after the first look gets a second look of its own', async () => {
    const s = subject();
    let renewedDue = 0;
    // Between the looks, the deadline looked at settles and a new one opens, and the loop is
    // blocked past the new one too (a callback that delivered an answer, wrote the next request
    // and blocked again).
    s.during = () =>
      renewedDue === 0 &&
      s.due - DUE_SLACK_MS <= performance.now() &&
      setImmediate(() => {
        renewedDue = Math.ceil(performance.now()) + 5;
        s.due = renewedDue;
        blockEventLoop(10);
      });
    arm(s, performance.now() + 10);
    await settled(s);
    expect(s.looks.filter((l) => l.reached).map(({ fired, due }) => ({ fired, renewed: due === renewedDue }))).toEqual([
      { fired: false, renewed: false }, // the first look, at the old deadline
      { fired: false, renewed: true }, // the old deadline's second look: the new one is not its own
      { fired: true, renewed: true }, // the new deadline's own second look
    ]);
    const ownLook = s.looks.findIndex((l) => l.due === renewedDue);
    expect(s.looks[ownLook].lookedAt).toBeLessThan(renewedDue - DUE_SLACK_MS); // the old deadline's mark
  });

  it('puts a deadline not yet due back on the timer', async () => {
    const s = subject();
    s.during = (look) => look === 0 && (s.due = performance.now() + 30); // moved later before the first look
    arm(s, performance.now() + 5);
    await settled(s);
    expect(s.looks[0]).toMatchObject({ reached: false, fired: false }); // not due: back on the timer
    expect(dueLooks(s)).toEqual([
      { first: true, fired: false }, // the timer again, at the later time
      { first: false, fired: true },
    ]);
  });

  it('does nothing once the owner has gone', async () => {
    const s = subject();
    const timer = s.timer!;
    arm(s, performance.now() + 5);
    const timeout = timer.timer!;
    s.timer = undefined; // released: timerOf finds nothing
    // Timers run in the order they are due: once a later one ran, ours has fired.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((timeout as unknown as { _destroyed: boolean })._destroyed).toBe(true); // it did fire
    expect(s.looks).toEqual([]);
    timer.schedule(NOTHING_DUE, OWNER, s);
  });
});

describe('hasExpired and earliestDue', () => {
  it('never holds on a first look, nor for nothing armed', () => {
    expect(hasExpired(1, FIRST_LOOK)).toBe(false);
    expect(hasExpired(NOTHING_DUE, 1000)).toBe(false);
  });

  it('holds for a deadline due at the first look, within DUE_SLACK_MS', () => {
    expect(hasExpired(1000, 1000)).toBe(true);
    expect(hasExpired(1000 + DUE_SLACK_MS, 1000)).toBe(true);
    expect(hasExpired(1000 + DUE_SLACK_MS + 1, 1000)).toBe(false);
  });

  it('takes NOTHING_DUE as none', () => {
    expect(earliestDue(NOTHING_DUE, 5)).toBe(5);
    expect(earliestDue(5, NOTHING_DUE)).toBe(5);
    expect(earliestDue(7, 5)).toBe(5);
    expect(earliestDue(NOTHING_DUE, NOTHING_DUE)).toBe(NOTHING_DUE);
  });
});
