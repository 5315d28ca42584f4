/**
 * The settings a rule can carry, as a table: one row per setting, saying how its value is read
 * from `TIMEOUTSOCKET_RULES` text, how it is checked in an object given to
 * `setSocketTimeoutRules()`, and how it is written back. A new setting is one row here and one
 * field in {@link RuleSettings}.
 */
import { checkMilliseconds, parseDuration } from '../config';
import { DEADLINE_MODES } from '../mode';
import { PROTOCOL_SETTINGS } from '../protocols/names';
import type { RuleSettings } from './types';

/** A bad setting: the message names it, `kind` says which error class the caller throws. */
export class SettingError extends Error {
  constructor(
    message: string,
    readonly kind: 'type' | 'range',
  ) {
    super(message);
  }
}

/** How one setting is read, checked and written. */
interface SettingRow<V> {
  /** Reads the text after `name=`. */
  fromText(text: string, name: string): V;
  /** Checks the value of an object's field (never `undefined`: an absent field is not set). */
  fromValue(value: unknown, name: string): V;
  /** The value as rule text. */
  toText(value: V): string;
}

type Rows = { readonly [K in keyof Required<RuleSettings>]: SettingRow<Exclude<RuleSettings[K], undefined>> };

/** A deadline: a duration as `TIMEOUTSOCKET_TIMEOUT` takes it, or `off` (`null` in an object). */
const deadline: SettingRow<number | null> = {
  fromText(text, name) {
    if (text === 'off') return null;
    try {
      return parseDuration(text, name);
    } catch (error) {
      throw new SettingError(`${(error as Error).message}, or off`, 'range');
    }
  },
  fromValue(value, name) {
    if (value === null) return null;
    try {
      return checkMilliseconds(value, name);
    } catch (error) {
      throw new SettingError((error as Error).message, error instanceof TypeError ? 'type' : 'range');
    }
  },
  toText: (value) => (value === null ? 'off' : formatDuration(value)),
};

/** One of a fixed list of words. */
function oneOf<T extends string>(choices: readonly T[]): SettingRow<T> {
  const check = (value: unknown, name: string): T => {
    if (typeof value !== 'string') throw new SettingError(`${name} must be a string, one of ${listOf(choices)}; got ${String(value)}`, 'type');
    if (!(choices as readonly string[]).includes(value)) {
      throw new SettingError(`${name}=${JSON.stringify(value)} is not one of ${listOf(choices)}`, 'range');
    }
    return value as T;
  };
  return { fromText: check, fromValue: check, toText: (value) => value };
}

/** Every setting, in the order rule text is written back. */
export const SETTINGS: Rows = {
  connect: deadline,
  read: deadline,
  write: deadline,
  protocol: oneOf(PROTOCOL_SETTINGS),
  mode: oneOf(DEADLINE_MODES),
};

/** The setting names, for messages and key checks. */
export const SETTING_NAMES: readonly (keyof RuleSettings)[] = Object.keys(SETTINGS) as (keyof RuleSettings)[];

/** Is `name` a setting? */
export function isSetting(name: string): name is keyof RuleSettings {
  return Object.prototype.hasOwnProperty.call(SETTINGS, name);
}

/** Milliseconds in the largest unit that divides them: `60s`, `1500ms`, `2m`, `1h`. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The settings as rule text: `read=60s protocol=redis`. */
export function settingsText(settings: RuleSettings): string {
  const parts: string[] = [];
  for (const name of SETTING_NAMES) {
    const value = settings[name];
    if (value !== undefined) parts.push(`${name}=${(SETTINGS[name] as SettingRow<unknown>).toText(value)}`);
  }
  return parts.join(' ');
}

/** A list of names for a message: `a, b, c or d`. */
export function listOf(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** Reads the text of `name=` for a setting. */
export function settingFromText(name: keyof RuleSettings, text: string): unknown {
  return (SETTINGS[name] as SettingRow<unknown>).fromText(text, name);
}

/** Checks an object's field for a setting. */
export function settingFromValue(name: keyof RuleSettings, value: unknown): unknown {
  return (SETTINGS[name] as SettingRow<unknown>).fromValue(value, name);
}
