/**
 * The public shapes of a rule per destination: what `setSocketTimeoutRules()` takes and what
 * `getSocketTimeoutRules()` returns.
 */
import type { DeadlineMode } from '../mode';
import type { ProtocolSetting } from '../protocols/names';

/**
 * What a rule sets. Every key is optional: a phase the rule does not name keeps the process
 * default. A phase set to `null` (`off` in `TIMEOUTSOCKET_RULES`) has no deadline for that
 * destination.
 */
export interface RuleSettings {
  /** The connect deadline, ms, or `null` for none. */
  readonly connect?: number | null;
  /** The reply deadline, ms, or `null` for none. */
  readonly read?: number | null;
  /** The write stall deadline, ms, or `null` for none. */
  readonly write?: number | null;
  /** The protocol of connections to this destination, or `auto` to let the engine choose per connection. */
  readonly protocol?: ProtocolSetting;
  /** What a deadline of this destination does when it runs out, over the process mode (`TIMEOUTSOCKET_MODE`). */
  readonly mode?: DeadlineMode;
}

/**
 * One rule as `setSocketTimeoutRules()` takes it in an array: a destination and its settings.
 *
 * @example
 * ```ts
 * setSocketTimeoutRules([
 *   { destination: 'db.internal:5432', read: 60_000 },
 *   { destination: '*:6379', protocol: 'redis' },
 *   { destination: '10.0.0.0/8:9000', read: null, protocol: 'stream' },
 * ]);
 * ```
 */
export interface SocketTimeoutRuleInput extends RuleSettings {
  /**
   * `host:port`, `host`, `*:port` or `*`. A host is a name (`db.internal`), a `*.suffix`
   * wildcard, an IPv4 or IPv6 literal (with a port, IPv6 goes in brackets: `[::1]:6379`) or a
   * CIDR block (`10.0.0.0/8`, `[fd00::/8]:5432`).
   */
  readonly destination: string;
  /** How logs name the rule; by default its text, e.g. `db.internal:5432 read=60s`. */
  readonly text?: string;
}

/** A rule in force, as `getSocketTimeoutRules()` and `ruleFor()` return it (frozen). */
export interface SocketTimeoutRule extends SocketTimeoutRuleInput {
  /** The rule as written in `TIMEOUTSOCKET_RULES` (trimmed), or built from the object's fields. */
  readonly text: string;
  /** Its place in the list, from 1: with `text`, how debug lines and the CLI name it. */
  readonly index: number;
}

/**
 * What `setSocketTimeoutRules()` takes: the text of `TIMEOUTSOCKET_RULES`, an array of rule
 * objects, or `null` (also `''` or `[]`) for no rules.
 */
export type SocketTimeoutRules = string | readonly SocketTimeoutRuleInput[] | null;
