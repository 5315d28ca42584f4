/**
 * The performance targets, in one place: the floors the performance issue sets, which the
 * CPU-time bench (run.ts), its chart (report.ts), the instruction counts (instructions.ts) and
 * the outside A/B (ab-compare.ts) check against. A target here is the number exactly;
 * where the issue names none (report mode's margin, what "within the noise" means) the choice
 * and its reason are written next to it.
 */

/** Work per client CPU-second, patched over plain: at least this. */
export const RATIO_TARGETS = {
  pingpong: 0.97,
  bulk: 0.97,
  churn: 0.95,
  http: 0.97,
  fetch: 0.97,
} as const;

/** Awaitable ping-pong: at least this fraction of event-style code on plain Node... */
export const AWAITABLE_OF_EVENTS = 0.85;
/** ...and at least this many times promise-socket's messages per CPU-second. */
export const AWAITABLE_OVER_PEER = 1.3;

/** Extra heap per idle connected socket, patched minus plain: at most this many bytes. */
export const HEAP_PER_SOCKET_BYTES = 120;

/** Timeout lateness under the accuracy load: p99 at most this many ms. */
export const LATENESS_P99_MS = 5;

/**
 * Report mode costs no more than enforce mode. The CPU-time row (report over enforce, both
 * armed) has target 1.0 and is judged like every ratio, with {@link NOISE_BAND} as its noise:
 * it catches a cost of several percent and no less, since CPU time swings ±10% from round to
 * round. The verdict that can see 1% is the instruction count (`--instructions`): report mode's
 * instructions per unit at most enforce's plus {@link REPORT_OVER_ENFORCE_INSTRUCTIONS}.
 */
export const REPORT_OVER_ENFORCE_RATIO = 1.0;

/**
 * The margin for report mode's instruction count over enforce's: 0.5%. The same counted run
 * repeats to about 0.01%, but the two sides are different processes (another environment
 * variable, a report collector started), so their heaps and hash tables are laid out a little
 * differently; 0.5% is well above that and well below the +2% the whole shim is allowed.
 */
export const REPORT_OVER_ENFORCE_INSTRUCTIONS = 0.005;

/** Instructions per unit over plain Node, every timeout armed: ping-pong round trip, short connection. */
export const ARMED_INSTRUCTIONS = { pingpong: 0.02, churn: 0.03 } as const;
/** Instructions per unit over plain Node with the shim installed and no timeout set. */
export const INSTALLED_INSTRUCTIONS = 0.01;

/**
 * A CPU ratio this close under its target is reported as "within noise", not missed: CPU time
 * on a 2-core machine shared with other work swings about ±10% from pair to pair, and a median
 * over 7 rounds still moves by a few percent from run to run.
 */
export const NOISE_BAND = 0.05;
