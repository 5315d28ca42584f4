/**
 * Configuration: the shapes of a timeout setting, their validation, duration parsing
 * and the `TIMEOUTSOCKET_*` environment.
 *
 * Every public entry point that takes a timeout goes through {@link normalizeTimeout}, so the
 * process default, a socket's own setting and the environment accept and reject exactly the
 * same values, with errors that name the bad value.
 */

/** The phases a deadline can guard. */
export const PHASES = ['connect', 'read', 'write'] as const;

/** One of the guarded phases: `'connect'`, `'read'` (the reply deadline) or `'write'` (the stall deadline). */
export type Phase = (typeof PHASES)[number];

/**
 * A timeout per phase, in milliseconds; `null` means that phase has no deadline.
 *
 * @example
 * ```ts
 * setDefaultSocketTimeout({ connect: 2000, read: 5000 }); // write: no deadline
 * ```
 */
export interface PhaseTimeouts {
  /** From `connect()` (DNS included) until `'connect'`, or `'secureConnect'` for TLS clients. */
  connect: number | null;
  /** From a write with no reply pending until the first byte of the reply. */
  read: number | null;
  /** How long written bytes may stay queued with none of them flushed. */
  write: number | null;
  /**
   * Not a deadline: the initial delay of the TCP keep-alive the shim turns on for every
   * connected TCP socket the application did not configure itself (see `lib/keepalive.ts`).
   * Node takes whole seconds: the delay is floored to seconds, and at least 1 s.
   */
  keepAlive: number | null;
}

/**
 * What `setDefaultSocketTimeout()` and `socket.setSocketTimeout()` take: `null` (no deadline,
 * blocking), a number of milliseconds for every phase, or an object naming at least one phase or
 * `keepAlive`. A number or `null` leaves `keepAlive` off; keys an object leaves out are off.
 * `socket.setSocketTimeout(0)` (sockets and servers only) is non-blocking mode.
 */
export type TimeoutSetting = number | null | Partial<PhaseTimeouts>;

/**
 * The largest delay Node's timers honour. Beyond it `setTimeout` warns and fires after 1 ms
 * (TimeoutOverflowWarning in lib/internal/timers.js), which would turn a long deadline into an
 * instant one, so it is rejected instead.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The environment variables read at start-up, most general first. */
export const ENV = {
  timeout: 'TIMEOUTSOCKET_TIMEOUT',
  connect: 'TIMEOUTSOCKET_CONNECT_TIMEOUT',
  read: 'TIMEOUTSOCKET_READ_TIMEOUT',
  write: 'TIMEOUTSOCKET_WRITE_TIMEOUT',
  keepAlive: 'TIMEOUTSOCKET_KEEPALIVE',
} as const;

/** A setting with no deadline in any phase. Frozen: shared by every socket that has none. */
export const NO_TIMEOUTS: Readonly<PhaseTimeouts> = Object.freeze({ connect: null, read: null, write: null, keepAlive: null });

import { quote } from './quote';
import { runtime } from './runtime';

/** A socket in non-blocking mode (`setSocketTimeout(0)`): every phase 0, no call ever waits. */
export const NON_BLOCKING: Readonly<PhaseTimeouts> = Object.freeze({ connect: 0, read: 0, write: 0, keepAlive: null });

/** Whether a setting is non-blocking mode. */
export function isNonBlocking(timeouts: PhaseTimeouts): boolean {
  return timeouts.connect === 0 && timeouts.read === 0 && timeouts.write === 0;
}

const SETTING_KEYS: ReadonlySet<string> = new Set([...PHASES, 'keepAlive']);

/**
 * Checks one duration in milliseconds: a finite number > 0 and no larger than {@link MAX_TIMEOUT_MS}.
 * @param label - what the value is, for the error message (e.g. `timeout.read`).
 */
export function checkMilliseconds(value: unknown, label: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${label} must be a number of milliseconds or null, got ${quote(value)}`);
  }
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${label} must be a finite number of milliseconds > 0, got ${quote(value)}`);
  }
  if (value > MAX_TIMEOUT_MS) {
    throw new RangeError(`${label} must be at most ${MAX_TIMEOUT_MS} ms (Node's timer limit), got ${quote(value)}`);
  }
  return value;
}

function checkPhaseValue(value: unknown, label: string): number | null {
  return value === null || value === undefined ? null : checkMilliseconds(value, label);
}

/**
 * Validates a timeout setting and returns it as one timeout per phase.
 * Throws a `TypeError` for a wrong type (string, boolean, array, an unknown key, an object
 * naming no phase) and a `RangeError` for NaN, Infinity, values <= 0 or past Node's timer limit.
 *
 * @param label - the name used in error messages, e.g. `'timeout'`.
 * @example
 * ```ts
 * normalizeTimeout(300);             // { connect: 300, read: 300, write: 300, keepAlive: null }
 * normalizeTimeout({ connect: 50 }); // { connect: 50, read: null, write: null, keepAlive: null }
 * ```
 */
export function normalizeTimeout(
  setting: unknown,
  label = 'timeout',
  { allowNonBlocking = false }: { allowNonBlocking?: boolean } = {},
): PhaseTimeouts {
  if (setting === null) return { ...NO_TIMEOUTS };
  if (setting === 0 && allowNonBlocking) return { ...NON_BLOCKING };
  if (typeof setting === 'number') {
    const ms = checkMilliseconds(setting, label);
    return { connect: ms, read: ms, write: ms, keepAlive: null };
  }
  if (typeof setting !== 'object' || setting === undefined || Array.isArray(setting)) {
    throw new TypeError(
      `${label} must be null, a number of milliseconds or an object { connect?, read?, write?, keepAlive? }, got ${quote(setting)}`,
    );
  }
  return normalizePhaseObject(setting as Record<string, unknown>, label);
}

function normalizePhaseObject(setting: Record<string, unknown>, label: string): PhaseTimeouts {
  const keys = Object.keys(setting);
  const unknown = keys.filter((key) => !SETTING_KEYS.has(key));
  if (unknown.length > 0) {
    const named = unknown.map((key) => quote(key)).join(', ');
    throw new TypeError(`${label} has unknown key${unknown.length > 1 ? 's' : ''} ${named}: expected connect, read, write or keepAlive`);
  }
  if (!keys.some((key) => setting[key] !== undefined)) {
    throw new TypeError(`${label} must name at least one of connect, read, write or keepAlive, got ${quote(setting)}`);
  }
  return {
    connect: checkPhaseValue(setting.connect, `${label}.connect`),
    read: checkPhaseValue(setting.read, `${label}.read`),
    write: checkPhaseValue(setting.write, `${label}.write`),
    keepAlive: checkPhaseValue(setting.keepAlive, `${label}.keepAlive`),
  };
}

const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration as the environment and the CLI write it: `400` and `400ms` are
 * milliseconds, `2s`, `1.5s`, `1m`, `1h` carry their unit. Throws a `RangeError` naming
 * `name` and the value for anything else (including 0 and values past Node's timer limit).
 *
 * @example
 * ```ts
 * parseDuration('1.5s', 'TIMEOUTSOCKET_TIMEOUT'); // 1500
 * ```
 */
export function parseDuration(text: string, name: string): number {
  if (typeof text !== 'string') {
    throw new TypeError(`${name} must be a duration string such as 400ms or 2s, got ${quote(text)}`);
  }
  const match = DURATION.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms'] : NaN;
  if (!match || !(ms > 0) || ms > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `${name}=${quote(text)} is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m`,
    );
  }
  return ms;
}

/**
 * Reads the `TIMEOUTSOCKET_*` variables from `env`. Returns `undefined` when none is set (the
 * process default is then left alone); otherwise the timeouts they name, where a per-phase
 * variable overrides `TIMEOUTSOCKET_TIMEOUT`. `TIMEOUTSOCKET_KEEPALIVE` is separate (not a deadline,
 * so `TIMEOUTSOCKET_TIMEOUT` does not set it). An empty variable counts as unset.
 * Throws a `RangeError` naming the variable and its value for anything unparsable.
 */
export function timeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): PhaseTimeouts | undefined {
  const read = (name: string): number | null | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : parseDuration(raw, name);
  };
  const general = read(ENV.timeout);
  const perPhase = { connect: read(ENV.connect), read: read(ENV.read), write: read(ENV.write) };
  const keepAlive = read(ENV.keepAlive);
  if (general === undefined && keepAlive === undefined && PHASES.every((phase) => perPhase[phase] === undefined)) return undefined;
  const fallback = general ?? null;
  return {
    connect: perPhase.connect ?? fallback,
    read: perPhase.read ?? fallback,
    write: perPhase.write ?? fallback,
    keepAlive: keepAlive ?? null,
  };
}

/**
 * Sets the process default: the deadlines of every socket that has no setting of its own
 * (`socket.setSocketTimeout`). `null` turns them off.
 *
 * @example
 * ```ts
 * setDefaultSocketTimeout(5000);                      // every phase, 5 s
 * setDefaultSocketTimeout({ connect: 2000, read: 10_000 });
 * ```
 */
export function setDefaultSocketTimeout(setting: TimeoutSetting): void {
  runtime().defaults = Object.freeze(normalizeTimeout(setting, 'timeout'));
}

/** The process default, one value per phase (`null` = no deadline). */
export function getDefaultSocketTimeout(): PhaseTimeouts {
  return { ...runtime().defaults };
}

/**
 * Applies the `TIMEOUTSOCKET_*` environment to the process default, once per process (a second
 * copy of the package must not undo what the application set since). Validates first, so a bad
 * value throws a `RangeError` and changes nothing.
 */
export function applyEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const fromEnv = timeoutsFromEnv(env);
  const shared = runtime();
  if (shared.envApplied) return;
  shared.envApplied = true;
  if (fromEnv !== undefined) shared.defaults = Object.freeze(fromEnv);
}
