/**
 * The one timer of an awaitable socket or server: refreshed to the earliest due call, checked
 * lazily, lag-proof (a second look after pending I/O ran before a verdict is final).
 *
 * Kept in a file of its own, with the code as it was in the single-file API, so that it can be
 * swapped for a shared deadline timer in one place.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate, setTimeout } from 'node:timers';

/** Milliseconds on the monotonic clock the due times are measured in. */
export const now = (): number => performance.now();

/** What the timer asks when it fires. */
export interface CallTimerOwner {
  /**
   * Checks the due calls. `confirmed` is false on the first look and true on the second (after
   * pending I/O ran). Returns true when a call was found expired on the first look, so a second
   * look is needed; reschedules, through {@link CallTimer.schedule}, the calls not yet due.
   */
  checkDue(confirmed: boolean): boolean;
}

/** One timer per socket (or server), refreshed, never re-created. */
export class CallTimer {
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerDue = 0;
  private confirming = false;

  constructor(private readonly owner: CallTimerOwner) {}

  /** Makes the timer fire by `due` (a {@link now} time), unless it already fires earlier. */
  schedule(due: number): void {
    if (this.timerDue !== 0 && this.timerDue <= due) return;
    const delay = Math.max(1, Math.ceil(due - now()));
    this.timerDue = due;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.onTimer(false), delay).unref();
    } else {
      (this.timer as unknown as { _idleTimeout: number })._idleTimeout = delay;
      this.timer.refresh();
    }
  }

  /**
   * `confirmed`: the second look, after pending I/O ran (as in the engine: a loop blocked across
   * the deadline may hold the answer unread); only then is an expired call's verdict final.
   */
  private onTimer(confirmed: boolean): void {
    if (!confirmed) this.timerDue = 0;
    const expired = this.owner.checkDue(confirmed);
    // The loop may have been blocked while the answer arrived: let pending I/O run, then look again.
    if (expired && !this.confirming) {
      this.confirming = true;
      setImmediate(() => {
        this.confirming = false;
        this.onTimer(true);
      });
    }
  }
}
