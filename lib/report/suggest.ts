/**
 * The rollout report's suggestion: the `TIMEOUTSOCKET_RULES` line that lets the healthy traffic
 * the report saw pass in enforce mode, while the real hangs still end. Pure: rows in, rules out.
 *
 * - A destination that answered late gets that phase's deadline (`read=`, also `connect=` and
 *   `write=`) above its longest answer, rounded up to a round duration with some headroom.
 * - A destination whose reply deadline ran out and that was never answered, while the
 *   application went on writing to it and the connection ended without an error, is a stream
 *   (a log shipper, a push feed): `protocol=stream`.
 * - Everything else that ran out (never answered, nothing more written, or ended by an error)
 *   is a hang: enforce mode is what ends it, so no rule is suggested.
 */
import { PHASES } from '../config';
import { checkRules, type RuleSettings, type SocketTimeoutRule } from '../rules/index';
import { settingsText } from '../rules/settings';
import type { Aggregate, ReportRow } from './aggregate';

/** One suggested rule. */
export interface SuggestedRule {
  /** The destination, as a rule writes it (`host:port`, `[::1]:6379`). */
  readonly destination: string;
  /** What the suggestion sets (durations in ms), over the settings of the rule that applied. */
  readonly settings: RuleSettings;
  /** The rule as `TIMEOUTSOCKET_RULES` text. */
  readonly text: string;
  /** Why, one short sentence per setting. */
  readonly why: string[];
}

/** What the report suggests. */
export interface Suggestion {
  /** The rules to add, in front of those in force (the first rule that matches wins). */
  readonly added: SuggestedRule[];
  /** The whole `TIMEOUTSOCKET_RULES` value: the added rules, then the rules that were in force; `null` when nothing is to add. */
  readonly rules: string | null;
  /** Rows left to enforce mode: deadlines that ran out and were never answered (hangs). */
  readonly hangs: ReportRow[];
}

/** Headroom over the longest late answer before rounding: a quarter more. */
const HEADROOM = 1.25;

/** The round durations a suggestion picks from, ms. */
const ROUND_MS: readonly number[] = [
  100, 200, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 90_000, 120_000,
  180_000, 300_000, 600_000, 900_000, 1_200_000, 1_800_000, 2_700_000, 3_600_000,
];

/**
 * A round duration above `ms` with headroom: the first of 100 ms, 200 ms, 250 ms, 500 ms,
 * 750 ms, 1 s, 1.5 s, 2 s, 3 s, 5 s, 7.5 s, 10 s … 1 h that is at least `ms` × 1.25; beyond, whole hours.
 *
 * @example
 * ```ts
 * roundAbove(2510); // 5000: 2.51 s × 1.25 = 3.14 s, the next round value is 5 s
 * ```
 */
export function roundAbove(ms: number): number {
  const wanted = ms * HEADROOM;
  for (const round of ROUND_MS) if (round >= wanted) return round;
  return Math.ceil(wanted / 3_600_000) * 3_600_000;
}

/** The suggestion for the rows of a report. */
export function suggest(report: Aggregate): Suggestion {
  const byDestination = new Map<string, ReportRow[]>();
  const hangs: ReportRow[] = [];
  for (const row of report.rows) {
    // A stream's unanswered reads are not hangs; every other never is.
    if (row.never - (row.phase === 'read' ? row.neverButWriting : 0) > 0) hangs.push(row);
    if (row.accepted || row.host === null) continue; // no rule names a socket a server accepted
    const key = row.destination; // for clients the table's label is rule syntax: host:port, IPv6 in brackets
    const rows = byDestination.get(key);
    if (rows === undefined) byDestination.set(key, [row]);
    else rows.push(row);
  }
  const added: SuggestedRule[] = [];
  for (const [destination, rows] of byDestination) {
    const rule = suggestFor(destination, rows);
    if (rule !== undefined) added.push(rule);
  }
  const inForce = report.rules[0];
  const texts = added.map((rule) => rule.text);
  return { added, rules: texts.length === 0 ? null : [...texts, ...(inForce === undefined ? [] : [inForce])].join('; '), hangs };
}

function suggestFor(destination: string, rows: readonly ReportRow[]): SuggestedRule | undefined {
  const settings: { -readonly [K in keyof RuleSettings]: RuleSettings[K] } = {};
  const why: string[] = [];
  for (const phase of PHASES) {
    const late = rows.filter((row) => row.phase === phase && row.answeredMax !== null);
    if (late.length === 0) continue;
    const longest = Math.max(...late.map((row) => row.answeredMax!));
    settings[phase] = roundAbove(longest);
    why.push(`${phase}: answered late, the longest after ${formatElapsed(longest)}`);
  }
  const reads = rows.filter((row) => row.phase === 'read');
  const streamLike = reads.length > 0 && reads.every((row) => row.late === 0 && row.never > 0 && row.neverButWriting === row.never);
  if (streamLike && settings.read === undefined) {
    settings.protocol = 'stream';
    why.push('protocol: written to after the reply deadline ran out, never answered, ended without an error');
  }
  if (Object.keys(settings).length === 0) return undefined;
  // Keep what the rule that applied set, so the new rule (which comes first) does not undo it.
  const applied = carriedSettings(rows);
  const merged: RuleSettings = { ...applied, ...settings };
  return { destination, settings: merged, text: `${destination} ${settingsText(merged)}`, why };
}

/** The settings of the rule that applied to these rows, if one did and it can be read back. */
function carriedSettings(rows: readonly ReportRow[]): RuleSettings {
  const text = rows.find((row) => row.rule !== null)?.rule?.text;
  if (text === undefined) return {};
  let rule: SocketTimeoutRule | undefined;
  try {
    rule = checkRules(text)[0];
  } catch {
    return {};
  }
  if (rule === undefined) return {};
  const { connect, read, write, protocol, mode } = rule;
  return Object.fromEntries(Object.entries({ connect, read, write, protocol, mode }).filter(([, value]) => value !== undefined)) as RuleSettings;
}

/** A duration for people: `640 ms`, `2.51 s`, `3.5 min`. */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
