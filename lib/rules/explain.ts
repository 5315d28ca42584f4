/**
 * Which rule, protocol and deadlines a destination gets, without a socket: what
 * `timeoutsocket probe host:port --explain` prints.
 */
import { PHASES, type PhaseTimeouts } from '../config';
import { DEFAULT_MODE, type DeadlineMode } from '../mode';
import type { ProtocolName } from '../protocols/names';
import { findRule } from './index';
import { formatDuration } from './settings';
import type { SocketTimeoutRule, SocketTimeoutRules } from './types';

/** Where one deadline of an explanation comes from. */
export type DeadlineSource = 'rule' | 'default';

/** What {@link explainDestination} answers (and `probe --explain --json` prints under `explain`). */
export interface Explanation {
  /** The rule that applies, or `null`. */
  readonly rule: SocketTimeoutRule | null;
  /**
   * True when an IP or CIDR rule before the chosen one could match the address the host
   * resolves to, and that address was not known: the rule shown is what applies until connected.
   */
  readonly dependsOnAddress: boolean;
  /** The protocol the rule names (not `auto`), or `null` when it is chosen per connection. */
  readonly protocol: ProtocolName | null;
  /** When chosen per connection: what the well-known port table gives this port, if a table was supplied and has a row. */
  readonly portProtocol: ProtocolName | null;
  /** The deadlines in force: the rule's phases over the process default. */
  readonly timeouts: PhaseTimeouts;
  /** For each deadline, whether the rule or the process default sets it. */
  readonly sources: { readonly connect: DeadlineSource; readonly read: DeadlineSource; readonly write: DeadlineSource };
  /** What a deadline that runs out does here: the rule's `mode=`, else the process mode. */
  readonly mode: DeadlineMode;
  /** Whether the rule or the process mode sets {@link Explanation.mode}. */
  readonly modeSource: DeadlineSource;
}

/** What {@link explainDestination} may be told besides the destination. */
export interface ExplainOptions {
  /** The address connected to, when known: IP and CIDR rules match it too. */
  readonly address?: string;
  /** The rules to explain; by default the rules in force. */
  readonly rules?: SocketTimeoutRules;
  /** The process default to merge over; by default `{ connect: null, read: null, write: null, keepAlive: null }`. */
  readonly defaults?: PhaseTimeouts;
  /** The process mode to fall back on; by default `enforce`. */
  readonly mode?: DeadlineMode;
  /**
   * The protocol engine's table of well-known ports, when there is one: the protocol a
   * connection to `port` falls back on when neither a rule, the client layer nor the first
   * bytes decide it.
   */
  readonly protocolForPort?: (port: number) => ProtocolName | undefined;
}

const NONE: PhaseTimeouts = Object.freeze({ connect: null, read: null, write: null, keepAlive: null });

/**
 * Explains what a connection to `host:port` gets: the first rule that matches, its protocol,
 * and the deadlines merged over the default.
 *
 * @example
 * ```ts
 * explainDestination('db.internal', 5432, { rules: 'db.internal:5432 read=60s', defaults });
 * // { rule: { destination: 'db.internal:5432', read: 60000, … }, protocol: null, timeouts: { …, read: 60000 }, … }
 * ```
 */
export function explainDestination(host: string, port: number, options: ExplainOptions = {}): Explanation {
  const defaults = options.defaults ?? NONE;
  const { rule, compiled, dependsOnAddress } = findRule(host, port, options.address, options.rules);
  const timeouts = compiled === undefined ? { ...defaults } : { ...compiled.timeoutsOver(defaults) };
  const source = (phase: (typeof PHASES)[number]): DeadlineSource => (rule !== undefined && rule[phase] !== undefined ? 'rule' : 'default');
  const protocol = rule?.protocol !== undefined && rule.protocol !== 'auto' ? rule.protocol : null;
  return {
    rule: rule ?? null,
    dependsOnAddress,
    protocol,
    portProtocol: protocol === null ? (options.protocolForPort?.(port) ?? null) : null,
    timeouts,
    sources: { connect: source('connect'), read: source('read'), write: source('write') },
    mode: rule?.mode ?? options.mode ?? DEFAULT_MODE,
    modeSource: rule?.mode === undefined ? 'default' : 'rule',
  };
}

/** An explanation as the CLI prints it: one line per item, indented. */
export function describeExplanation(explanation: Explanation): string[] {
  const { rule, protocol, portProtocol, timeouts, sources } = explanation;
  const lines = [`  rule      ${rule === null ? 'none matches' : `${rule.index} ${JSON.stringify(rule.text)}`}`];
  if (explanation.dependsOnAddress) lines.push('            (until connected: an IP or CIDR rule may match the address the name resolves to)');
  if (protocol !== null) lines.push(`  protocol  ${protocol} (rule)`);
  else if (portProtocol !== null) lines.push(`  protocol  chosen per connection; this port falls back on ${portProtocol}`);
  else lines.push('  protocol  chosen per connection');
  for (const phase of PHASES) {
    const value = timeouts[phase];
    lines.push(`  ${phase.padEnd(9)} ${value === null ? 'off' : formatDuration(value)} (${sources[phase]})`);
  }
  lines.push(`  keepalive ${timeouts.keepAlive === null ? 'off' : formatDuration(timeouts.keepAlive)} (default)`);
  lines.push(`  mode      ${explanation.mode} (${explanation.modeSource})`);
  return lines;
}
