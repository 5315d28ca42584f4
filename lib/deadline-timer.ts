/**
 * The one deadline timer of an owner (a socket's engine state; an awaitable socket or server),
 * and the lag-proof second look that comes before any deadline fires.
 *
 * One Node `Timeout` per owner, created on first need, then refreshed (never re-created) to the
 * earliest due time, unref'd, and let go when nothing is armed. Everything goes through one
 * method, {@link DeadlineTimer.schedule}: a due time arms or refreshes it, {@link NOTHING_DUE}
 * clears it (undici's HTTP/1 parser owns its timer the same way, through one `setTimeout()`).
 *
 * When the timer fires, the owner's {@link DeadlineOwner.check} looks at its deadlines and
 * returns the earliest one still armed. A deadline found due is never fired on that first look:
 * a timer that fires on time does not prove that the loop has just polled for I/O (a synchronous
 * task may have run across the deadline, and the timers phase runs before the poll phase), so
 * the answer may be waiting unread in the kernel. The verdict waits one `setImmediate`, which
 * runs after the poll phase, and the second look fires only a deadline that was already due at
 * the first look ({@link hasExpired}). A deadline that came due since (the callback that
 * delivered the previous answer wrote the next request and blocked the loop again), or that
 * moved (its window was settled, or renewed), gets a second look of its own. undici's connect
 * timeout defers its verdict with `setImmediate` for the same reason.
 *
 * Nothing here allocates on the hot path: the timer calls module-level functions with the owner
 * hooks and the owner's key as arguments (no closure per owner), and the fields are small
 * integers. Times are milliseconds of `performance.now()` (lib/clock.ts).
 */
// Timers from the module, not the global: in module sandboxes (Jest) the global belongs to
// whichever file loaded this copy and may be torn down while sockets still need the timer.
import { clearTimeout, setImmediate, setTimeout } from 'node:timers';
import { now } from './clock';
import { refreshTimer } from './node-internals';

/**
 * A deadline due within this many ms counts as reached: the granularity of Node's timers, and so
 * the most a deadline may fire before its due time (as Python's `settimeout`: never early by more
 * than the platform timer's granularity). A Timeout's start is libuv's loop time in whole ms,
 * truncated (lib/internal/timers.js `insert()`: `start = getLibuvNow()`, which updates the loop
 * time first, so it is not stale by the loop turn), and it fires at the first timers phase whose
 * loop time, truncated too, is at least start + delay: up to 1 ms before `performance.now()` says
 * the delay is over. A bare `setTimeout(fn, 300)` fires 0–1 ms early by this clock; so may we.
 */
export const DUE_SLACK_MS = 1;

/** The due time that means "nothing armed": {@link DeadlineTimer.schedule} clears the timer. */
export const NOTHING_DUE = 0;

/** `lookedAt` of a first look: no deadline has had a look yet, so none may fire. */
export const FIRST_LOOK = -1;

/**
 * How an owner's deadlines are looked at. One shared object per kind of owner, holding
 * module-level functions: the timer passes it and the owner's key along, so no owner needs a
 * closure or a back pointer.
 *
 * @typeParam K - What the timer is called with: the socket or server the deadlines belong to.
 * @typeParam T - The owner's record that holds the timer.
 */
export interface DeadlineOwner<K, T extends TimerFields = DeadlineTimer> {
  /** The timer record of `key`, or `undefined` once it has gone (then the callback does nothing). */
  timerOf(key: K): T | undefined;
  /**
   * Looks at every deadline at `at`: settles what has settled, fires each deadline for which
   * {@link hasExpired}`(due, lookedAt)` holds, and returns the earliest due time among those
   * still armed, due or not ({@link earliestDue}), or {@link NOTHING_DUE}. A returned time
   * already due gets a second look; a later one is where the timer goes next.
   */
  check(key: K, timer: T, at: number, lookedAt: number): number;
}

/**
 * The timer fields of an owner: {@link DeadlineTimer}'s, for an owner that does not extend it
 * (the engine's per-socket state declares them itself: a class that extends another calls its
 * constructor, which V8 did not inline, about 200 instructions per socket).
 */
export interface TimerFields {
  /** The single Timeout, created on first need, refreshed, and dropped when nothing is armed. */
  timer: NodeJS.Timeout | undefined;
  /** When the timer is due; see {@link DeadlineTimer.timerDue}. */
  timerDue: number;
}

/** The timer fields of an owner; extend it (no extra object per owner) or hold one. */
export class DeadlineTimer implements TimerFields {
  /** The single Timeout, created on first need, refreshed, and dropped when nothing is armed. */
  timer: NodeJS.Timeout | undefined = undefined;
  /**
   * When the timer is due (whole ms, rounded up), 0 while it is not running, and negative (minus
   * that time) while it runs for one deadline's exact due time ({@link DeadlineTimer.schedule}'s
   * `exact`). A sign, not a field of its own: every idle socket's record would carry 8 bytes more.
   */
  timerDue = 0;

  /** {@link scheduleTimer} of this record. */
  schedule<K, T extends TimerFields>(due: number, owner: DeadlineOwner<K, T>, key: K, at?: number, exact = false): void {
    scheduleTimer(this, due, owner, key, at, exact);
  }

  /** {@link loseExactDue} of this record. */
  loseExactDue(): void {
    loseExactDue(this);
  }
}

/**
 * The one way to change the timer: makes sure it fires no later than `due` (a later due time
 * waits for the check the earlier one brings), or clears it for {@link NOTHING_DUE}. `owner`
 * and `key` are what the timer calls back with; only read when a Timeout is created. `at`: the
 * clock as the caller just read it ({@link now}), when it did, so that arming a deadline reads
 * the clock once, not twice (a reading costs about 140 instructions on Node 20: Node's
 * `performance.now()` checks its receiver with a `hasOwnProperty` call first). A reading taken
 * a moment ago makes the delay at most that moment longer, never shorter.
 *
 * `exact`: `due` is a deadline's own due time to the fraction of a ms (its clock's reading plus
 * its timeout), not one rounded up from a whole-ms stamp. An owner that keeps its clocks in
 * whole ms, rounded up (never early), computes due times up to 1 ms after the exact ones; a
 * timer set for such a rounded time (itself rounded up, see below) fired 0–1 ms after the
 * exact due time plus the loop's lateness, where a bare `setTimeout` fires 0–1 ms before it.
 * (The engine's checks return exact due times themselves: lib/engine.ts `leadOf`.)
 * Set for the exact time, the timer fires when a bare `setTimeout` would, and its first look
 * takes a deadline due within the timer's whole ms as reached ({@link look}), which also
 * covers a timer that Node fires a little more than DUE_SLACK_MS early (libuv's loop time
 * from a coarse kernel clock, on kernels whose tick is 1 ms). The mark
 * lasts until the timer fires, is re-armed without it, a look runs, or the owner moves a
 * deadline's clock ({@link loseExactDue}).
 */
export function scheduleTimer<K, T extends TimerFields>(t: TimerFields, due: number, owner: DeadlineOwner<K, T>, key: K, at?: number, exact = false): void {
  if (due === NOTHING_DUE) {
    if (t.timer === undefined) return;
    clearTimeout(t.timer);
    t.timer = undefined;
    t.timerDue = 0;
    return;
  }
  // A running timer due no later than `due` brings the check that finds it. A plain due time
  // is compared at whole ms: a timer set for its own ms (for another deadline due a fraction of
  // a ms earlier, or for this one's exact due time as the write that opened it computed it, a
  // µs from what a check returns) brings its look, and is not refreshed. An exact due time
  // re-arms a timer set for a later fraction of its ms, and one set for an exact due time covers
  // only a due time past its whole ms: a deadline due within that ms re-arms it, so that the
  // look which takes that ms as reached is the deadline's own.
  const armed = t.timerDue;
  if (armed > 0 ? armed <= (exact ? due : Math.ceil(due)) : armed < 0 && -armed < due) return;
  // Rounded up, so the timer can never fire more than DUE_SLACK_MS before `due` (it fires at
  // most 1 ms before now + delay, see DUE_SLACK_MS) and its first look always finds the deadline
  // reached. Rounded down, a timer that also lost most of a ms to the truncated start fired up
  // to 2 ms early, found the deadline not reached, and was re-armed for 1 ms: a whole further
  // loop turn (with its poll phase) before the second look could even be queued, which is what
  // made a deadline's lateness p99 under load several ms worse than a bare setTimeout's (about a
  // sixth of the deadlines took that extra turn in the accuracy bench).
  const delay = Math.max(1, Math.ceil(due - (at ?? now())));
  t.timerDue = exact ? -Math.ceil(due) : Math.ceil(due);
  if (t.timer === undefined) {
    // Unref'd: the socket keeps the process alive if it should, a deadline never does.
    t.timer = setTimeout(onTimeout, delay, owner, key).unref();
  } else {
    // The same Timeout, re-armed for `delay` (one that already fired is reactivated).
    refreshTimer(t.timer, delay);
  }
}

/**
 * A deadline's clock moved without a {@link scheduleTimer} of its new exact due time
 * (its window renewed within the same ms, or replaced): the timer's exact due may no longer be
 * that deadline's, so its look goes back to the whole-ms test.
 */
export function loseExactDue(t: TimerFields): void {
  if (t.timerDue < 0) t.timerDue = -t.timerDue;
}

/**
 * On a second look (`lookedAt` from {@link DeadlineOwner.check}): has the deadline due at `due`
 * run out for good? True only for a deadline that was already due at the first look; the
 * pending I/O has had its turn since. Never true on a first look. (A deadline opened after the
 * first look always comes due after it, unless its timeout is under 2 ms.)
 */
export function hasExpired(due: number, lookedAt: number): boolean {
  return due !== NOTHING_DUE && due - DUE_SLACK_MS <= lookedAt;
}

/** The earlier of two due times, where {@link NOTHING_DUE} means none. */
export function earliestDue(a: number, b: number): number {
  if (a === NOTHING_DUE) return b;
  if (b === NOTHING_DUE) return a;
  return a < b ? a : b;
}

/**
 * While a second look is queued for a timer record: when the first look was made (the clock's
 * reading, not rounded: rounded up, it let the second look fire a deadline of the same owner
 * that was up to 2 ms short of its due time at the first, which another deadline had brought),
 * so the second fires only what was already due then (or, for a timer set for an exact due
 * time, what its first look took as reached: see {@link look}). Kept aside, not a field of
 * {@link DeadlineTimer}: a record has one only between a look that found a deadline due and the
 * `setImmediate` after it, while every idle socket's record would carry the field (8 bytes).
 */
const secondLooks = new WeakMap<TimerFields, number>();

function onTimeout<K, T extends TimerFields>(owner: DeadlineOwner<K, T>, key: K): void {
  const timer = owner.timerOf(key);
  if (timer === undefined) return;
  const armed = timer.timerDue;
  timer.timerDue = 0;
  look(owner, key, timer, FIRST_LOOK, armed < 0 ? -armed : NOTHING_DUE);
}

function onSecondLook<K, T extends TimerFields>(owner: DeadlineOwner<K, T>, key: K): void {
  const timer = owner.timerOf(key);
  if (timer === undefined) return;
  const lookedAt = secondLooks.get(timer) ?? FIRST_LOOK;
  secondLooks.delete(timer);
  look(owner, key, timer, lookedAt);
}

/**
 * One look: the owner checks, then the timer goes to the earliest due time, or a second look is
 * queued if that time is already due. A look that finds due deadlines while another look is
 * queued moves the queued one's mark to now: that look runs after this turn's poll phase, so
 * the deadlines seen due now have had their turn of I/O by then too.
 *
 * `exactDue`: on the first look of a timer set for a deadline's exact due time (`exact`), that
 * time rounded up, the latest due time the owner can then return for that deadline (its
 * rounded-up stamp plus its timeout; the exact time itself, from an owner that keeps it). Such
 * a timer fires no earlier than DUE_SLACK_MS before the exact time (Node counts its delay from
 * the whole ms; see DUE_SLACK_MS), so a deadline due by that whole ms counts as reached even
 * where the look came a fraction of a ms sooner than DUE_SLACK_MS allows (a rounded-up stamp;
 * a timer Node fired early by a coarse loop clock): no further turn of the loop just to cross
 * the ms. Its second look takes it as reached too (the mark is set back to make it so).
 * A mark the timer got since it fired (a deadline armed between the two looks) goes before the
 * check, which may move the owner's clocks; what the timer is set to next is rounded as ever.
 */
function look<K, T extends TimerFields>(owner: DeadlineOwner<K, T>, key: K, timer: T, lookedAt: number, exactDue = NOTHING_DUE): void {
  const at = now();
  loseExactDue(timer);
  const next = owner.check(key, timer, at, lookedAt);
  if (next !== NOTHING_DUE && (next - DUE_SLACK_MS <= at || next <= exactDue)) {
    const queued = secondLooks.has(timer);
    // A deadline taken as reached through its exact due time is reached at the second look too.
    secondLooks.set(timer, next - DUE_SLACK_MS > at ? next - DUE_SLACK_MS : at);
    if (!queued) setImmediate(onSecondLook, owner, key);
    return;
  }
  scheduleTimer(timer, next, owner, key);
}
