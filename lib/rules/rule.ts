/**
 * A rule ready to match: its public form, its parsed destination, and the deadlines it gives a
 * socket once merged over the process default.
 */
import type { PhaseTimeouts } from '../config';
import type { DeadlineMode } from '../mode';
import type { ProtocolSetting } from '../protocols/names';
import { matchDestination, type Destination, type Match, type Target } from './destination';
import type { SocketTimeoutRule } from './types';

/** One rule as the engine holds it. Shared by every socket it matched; never changed after creation but for its cache. */
export class CompiledRule {
  /** The merged deadlines, cached for the process default they were merged over. */
  private mergedOver: PhaseTimeouts | undefined = undefined;
  private merged: PhaseTimeouts | undefined = undefined;

  constructor(
    /** The rule as `getSocketTimeoutRules()` and `ruleFor()` show it (frozen). */
    readonly rule: SocketTimeoutRule,
    readonly destination: Destination,
  ) {}

  /** The rule's `protocol=`, if it names one. */
  get protocol(): ProtocolSetting | undefined {
    return this.rule.protocol;
  }

  /** The rule's `mode=`, if it names one. */
  get mode(): DeadlineMode | undefined {
    return this.rule.mode;
  }

  /** Does this rule's destination match? */
  matches(target: Target): Match {
    return matchDestination(this.destination, target);
  }

  /**
   * The deadlines of a socket this rule matched: the phases the rule names, the process default
   * for the rest (keep-alive included: rules do not set it). The engine reads this on every
   * write, so it is cached per rule for the default object (which is frozen and replaced, never
   * changed, when the default is set): two property reads and a comparison, no allocation.
   */
  timeoutsOver(defaults: PhaseTimeouts): PhaseTimeouts {
    if (this.mergedOver === defaults) return this.merged!;
    const { connect, read, write } = this.rule;
    this.merged = Object.freeze({
      connect: connect === undefined ? defaults.connect : connect,
      read: read === undefined ? defaults.read : read,
      write: write === undefined ? defaults.write : write,
      keepAlive: defaults.keepAlive,
    });
    this.mergedOver = defaults;
    return this.merged;
  }
}
