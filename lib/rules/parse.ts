/**
 * Reading rules: the text of `TIMEOUTSOCKET_RULES` and the arrays `setSocketTimeoutRules()`
 * takes, both into {@link CompiledRule}s, with errors that quote the rule and name its bad part.
 *
 * Text: rules separated by `;` (empty ones, such as after a trailing `;`, are skipped), each a
 * destination followed by space-separated `name=value` settings.
 */
import { DestinationError, parseDestination, type Destination } from './destination';
import { CompiledRule } from './rule';
import { isSetting, listOf, SETTING_NAMES, SettingError, settingFromText, settingFromValue, settingsText } from './settings';
import type { RuleSettings, SocketTimeoutRule, SocketTimeoutRuleInput, SocketTimeoutRules } from './types';

/**
 * The keys a rule object may have besides its settings. `index` is what
 * `getSocketTimeoutRules()` adds; it is ignored, so its result can be given back as it is.
 */
const OBJECT_KEYS: ReadonlySet<string> = new Set(['destination', 'text', 'index', ...SETTING_NAMES]);

/** A problem in one rule: which class to throw and what to say. */
class Problem extends Error {
  constructor(
    message: string,
    readonly kind: 'type' | 'range',
  ) {
    super(message);
  }
}

function asProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof DestinationError || error instanceof SettingError) return new Problem(error.message, error.kind);
  throw error;
}

/** Throws the error class of `problem`, its message prefixed by `prefix`. */
function raise(prefix: string, problem: Problem): never {
  const message = `${prefix}: ${problem.message}`;
  throw problem.kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/**
 * Reads rules. `name` is what messages call the whole (`TIMEOUTSOCKET_RULES`, `rules`).
 * Throws a `TypeError` (not a string or an array, a malformed destination, an unknown or
 * repeated setting, a word that is not `name=value`, a rule with no setting) or a `RangeError`
 * (a bad duration, port, prefix length or protocol), quoting the rule: for text, one line like
 * `TIMEOUTSOCKET_RULES: rule 2 "db:99999 read=1s": the port must be 1 to 65535, got 99999`.
 */
export function parseRules(input: SocketTimeoutRules, name: string): CompiledRule[] {
  if (input === null) return [];
  if (typeof input === 'string') return parseText(input, name);
  if (!Array.isArray(input)) {
    throw new TypeError(`${name} must be a string of rules, an array of rule objects or null, got ${describe(input)}`);
  }
  return input.map((item, i) => parseObject(item, i, name));
}

function parseText(text: string, name: string): CompiledRule[] {
  const rules: CompiledRule[] = [];
  for (const piece of text.split(';')) {
    const ruleText = piece.trim();
    if (ruleText === '') continue;
    const index = rules.length + 1;
    try {
      rules.push(parseRuleText(ruleText, index));
    } catch (error) {
      raise(`${name}: rule ${index} ${JSON.stringify(ruleText)}`, asProblem(error));
    }
  }
  return rules;
}

function parseRuleText(text: string, index: number): CompiledRule {
  const [destinationText, ...words] = text.split(/\s+/);
  const destination = parseDestination(destinationText);
  const settings: Record<string, unknown> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq === -1) {
      const hint = words.indexOf(word) > 0 && !/^\d/.test(word) ? ` (a ";" missing before the next rule?)` : '';
      throw new Problem(`${JSON.stringify(word)} is not a setting: write name=value with name ${listOf(SETTING_NAMES)}${hint}`, 'type');
    }
    const key = word.slice(0, eq);
    if (!isSetting(key)) throw new Problem(`unknown setting ${JSON.stringify(key)}: expected ${listOf(SETTING_NAMES)}`, 'type');
    if (key in settings) throw new Problem(`${key} is set twice`, 'type');
    settings[key] = settingFromText(key, word.slice(eq + 1));
  }
  return compile(destinationText, destination, settings as RuleSettings, text, index);
}

function parseObject(item: unknown, i: number, name: string): CompiledRule {
  const prefix = `${name}[${i}]`;
  try {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new Problem(`must be an object { destination, connect?, read?, write?, protocol?, mode? }, got ${describe(item)}`, 'type');
    }
    const fields = item as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => !OBJECT_KEYS.has(key));
    if (unknown !== undefined) throw new Problem(`unknown key ${JSON.stringify(unknown)}: expected destination, text, ${listOf(SETTING_NAMES)}`, 'type');
    const { destination: destinationText, text } = fields as Partial<SocketTimeoutRuleInput>;
    if (typeof destinationText !== 'string') throw new Problem(`destination must be a string such as "db.internal:5432", got ${describe(destinationText)}`, 'type');
    if (text !== undefined && typeof text !== 'string') throw new Problem(`text must be a string, got ${describe(text)}`, 'type');
    const destination = parseDestination(destinationText.trim());
    const settings: Record<string, unknown> = {};
    for (const key of SETTING_NAMES) if (fields[key] !== undefined) settings[key] = settingFromValue(key, fields[key]);
    const written = text ?? `${destinationText.trim()} ${settingsText(settings)}`;
    return compile(destinationText.trim(), destination, settings as RuleSettings, written, i + 1);
  } catch (error) {
    raise(prefix, asProblem(error));
  }
}

function compile(destinationText: string, destination: Destination, settings: RuleSettings, text: string, index: number): CompiledRule {
  if (Object.keys(settings).length === 0) {
    throw new Problem(`the destination ${JSON.stringify(destinationText)} has no setting: add ${listOf(SETTING_NAMES.map((key) => `${key}=`))}`, 'type');
  }
  const rule: SocketTimeoutRule = Object.freeze({ destination: destinationText, ...settings, text, index });
  return new CompiledRule(rule, destination);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
