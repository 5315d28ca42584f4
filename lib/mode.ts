/**
 * The deadline mode: `enforce` (a deadline that runs out destroys its socket) or `report` (it is
 * reported, and the socket goes on as if the shim were not there). The process mode comes from
 * `TIMEOUTSOCKET_MODE` or {@link setDeadlineMode}; a rule's `mode=` overrides it for the
 * destinations the rule matches.
 *
 * The mode lives in the shared runtime record (lib/runtime.ts), like the process default, so
 * every copy of the package in the process sees the same one.
 */
import { quote } from './quote';
import { engageHotPath, runtime } from './runtime';

/** Every deadline mode: the values of `TIMEOUTSOCKET_MODE`, `setDeadlineMode()` and `mode=` in rules. */
export const DEADLINE_MODES = ['enforce', 'report'] as const;

/**
 * What happens when a deadline runs out: `enforce` destroys the socket with `ETIMEDOUT`;
 * `report` destroys nothing, reports it (debug line, `timeoutsocket:timeout` with
 * `enforced: false`, counters) and then reports whether the answer came late or never.
 */
export type DeadlineMode = (typeof DEADLINE_MODES)[number];

/** The environment variable the process mode is read from at start-up. */
export const MODE_ENV = 'TIMEOUTSOCKET_MODE';

/** The mode when none was set. */
export const DEFAULT_MODE: DeadlineMode = 'enforce';

/** Is `value` a deadline mode? */
export function isDeadlineMode(value: unknown): value is DeadlineMode {
  return value === 'enforce' || value === 'report';
}

/**
 * Checks a mode: a `TypeError` for a value that is not a string, a `RangeError` for any other
 * string, both quoting the value. `name` is what the message calls it.
 */
export function checkDeadlineMode(value: unknown, name: string): DeadlineMode {
  if (typeof value !== 'string') throw new TypeError(`${name} must be 'enforce' or 'report', got ${quote(value)}`);
  if (!isDeadlineMode(value)) throw new RangeError(`${name} must be 'enforce' or 'report', got ${quote(value)}`);
  return value;
}

/**
 * Sets the process mode: what every deadline does when it runs out, unless a rule's `mode=`
 * says otherwise for its destination. Takes effect at the next deadline that runs out, on every
 * socket. Throws a `TypeError` (not a string) or `RangeError` (another word) quoting the value.
 *
 * @example
 * ```ts
 * setDeadlineMode('report'); // observe: nothing is destroyed, every deadline that runs out is reported
 * ```
 */
export function setDeadlineMode(mode: DeadlineMode): void {
  const checked = checkDeadlineMode(mode, 'mode');
  if (checked === 'report') engageHotPath(); // report mode watches deadlines: the per-write wrappers go on (lib/runtime.ts)
  runtime().mode = checked;
}

/** The process mode: `'enforce'` (the default) or `'report'`. */
export function getDeadlineMode(): DeadlineMode {
  return runtime().mode ?? DEFAULT_MODE;
}

/**
 * Reads `TIMEOUTSOCKET_MODE` into the process mode, once per process (a second copy of the
 * package must not undo what the application set since). Empty counts as unset. Validates
 * first: a bad value throws a `RangeError` naming the variable and its value.
 */
export function applyModeEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const mode = modeFromEnv(env);
  const shared = runtime();
  if (shared.modeEnvApplied === true) return;
  shared.modeEnvApplied = true;
  if (mode === 'report') engageHotPath();
  if (mode !== undefined) shared.mode = mode;
}

/**
 * The mode `TIMEOUTSOCKET_MODE` in `env` names, without applying it: `undefined` when unset or
 * empty. Throws a `RangeError` naming the variable and its value for anything else.
 */
export function modeFromEnv(env: NodeJS.ProcessEnv = process.env): DeadlineMode | undefined {
  const raw = env[MODE_ENV];
  return raw === undefined || raw.trim() === '' ? undefined : modeFromText(raw);
}

function modeFromText(raw: string): DeadlineMode {
  const mode = raw.trim();
  if (!isDeadlineMode(mode)) throw new RangeError(`${MODE_ENV}=${quote(raw)} is not a mode: use enforce (the default) or report`);
  return mode;
}
