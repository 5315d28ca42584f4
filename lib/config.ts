/**
 * Configuration: the shapes of a timeout setting, their validation, duration parsing
 * and the reading of the `TIMEOUTSOCKET_*` environment. Parsing only: no process state here
 * (the process default and applying the environment live in `lib/runtime.ts`).
 *
 * Every public entry point that takes a timeout goes through {@link normalizeTimeout}, so the
 * process default, a socket's own setting and the environment accept and reject exactly the
 * same values, with errors that name the bad value.
 */
import { quote } from './quote';
import { hasAnyTimeout as anyPhaseIsOn, isOn as phaseIsOn } from './runtime-record';

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

/** A socket in non-blocking mode (`setSocketTimeout(0)`): every phase 0, no call ever waits. */
export const NON_BLOCKING: Readonly<PhaseTimeouts> = Object.freeze({ connect: 0, read: 0, write: 0, keepAlive: null });

/** Whether a setting is non-blocking mode. */
export function isNonBlocking(timeouts: PhaseTimeouts): boolean {
  return timeouts.connect === 0 && timeouts.read === 0 && timeouts.write === 0;
}

/**
 * A phase has a deadline when its value is > 0: `null` is blocking, 0 non-blocking (never a
 * timer). Defined in lib/runtime-record.ts, which the register preload loads without this file;
 * a plain value here (not a getter), since the engine calls it on every write.
 */
export const isOn = phaseIsOn;

/** Has any phase of `timeouts` a deadline ({@link isOn})? (Defined in lib/runtime-record.ts.) */
export const hasAnyTimeout = anyPhaseIsOn;

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
 * `name` and the value for anything else: 0, a fraction of a millisecond (`1.5ms`, `0.4ms`,
 * `1.0005s`), and values past Node's timer limit ({@link MAX_TIMEOUT_MS}, which it names).
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
  if (!match || !(ms > 0)) {
    throw new RangeError(
      `${name}=${quote(text)} is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m`,
    );
  }
  if (ms > MAX_TIMEOUT_MS) {
    throw new RangeError(`${name}=${quote(text)} is not a valid timeout: the longest is ${MAX_TIMEOUT_MS} ms (Node's timer limit, about 24.8 days)`);
  }
  // Whole milliseconds only: Node's timers and the engine's clocks count whole ms, and a
  // fraction would be rounded without a word (1.5ms) or become 0 (0.4ms).
  if (!Number.isInteger(Math.round(ms * 1e6) / 1e6)) {
    throw new RangeError(`${name}=${quote(text)} is not a valid timeout: it must be a whole number of milliseconds, got ${+(ms.toFixed(6))} ms`);
  }
  return Math.round(ms);
}

/**
 * TCP keep-alive's probe interval and count (`TCP_KEEPINTVL`, `TCP_KEEPCNT`): how often an
 * unanswered probe is repeated once the delay has passed, and after how many the connection is
 * dropped. Set only by the three-part `TIMEOUTSOCKET_KEEPALIVE=30s,5s,4`, on Node lines whose
 * `socket.setKeepAlive()` takes them (24 and later); otherwise libuv's 1 s and 10 apply.
 */
export interface KeepAliveProbes {
  /** Milliseconds between unanswered probes; Node takes whole seconds (floored), at least 1 s. */
  interval: number;
  /** Unanswered probes before the connection is dropped, 1 to 127. */
  count: number;
}

/** Linux's limits for the interval (seconds) and count (include/net/tcp.h: MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT). */
const MAX_KEEPALIVE_INTERVAL_S = 32767;
const MAX_KEEPALIVE_COUNT = 127;

/**
 * Parses `TIMEOUTSOCKET_KEEPALIVE`: a delay alone (`30s`), or a delay, a probe interval and a
 * probe count (`30s,5s,4`). Throws a `RangeError` naming the variable and the bad part.
 *
 * @example
 * ```ts
 * parseKeepAlive('30s', 'TIMEOUTSOCKET_KEEPALIVE');      // { delay: 30000, probes: null }
 * parseKeepAlive('30s,5s,4', 'TIMEOUTSOCKET_KEEPALIVE'); // { delay: 30000, probes: { interval: 5000, count: 4 } }
 * ```
 */
export function parseKeepAlive(text: string, name: string): { delay: number; probes: KeepAliveProbes | null } {
  if (typeof text !== 'string' || !text.includes(',')) return { delay: parseDuration(text, name), probes: null };
  const whole = `${name}=${JSON.stringify(text)}`;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 3) {
    throw new RangeError(`${whole} has ${parts.length} parts: give a delay alone (30s) or a delay, a probe interval and a probe count (30s,5s,4)`);
  }
  const [delayText, intervalText, countText] = parts;
  const duration = (part: string, what: string): number => {
    const match = DURATION.exec(part);
    const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms'] : NaN;
    if (!match || !(ms > 0) || ms > MAX_TIMEOUT_MS) {
      throw new RangeError(`${whole}: the ${what} ${JSON.stringify(part)} is not a duration > 0 such as 400ms, 5s or 1m`);
    }
    return ms;
  };
  const delay = duration(delayText, 'delay');
  const interval = duration(intervalText, 'probe interval');
  if (interval < 1000 || interval / 1000 > MAX_KEEPALIVE_INTERVAL_S) {
    throw new RangeError(`${whole}: the probe interval ${JSON.stringify(intervalText)} must be from 1s to ${MAX_KEEPALIVE_INTERVAL_S}s (Node takes whole seconds)`);
  }
  const count = /^\d+$/.test(countText) ? Number(countText) : NaN;
  if (!(count >= 1 && count <= MAX_KEEPALIVE_COUNT)) {
    throw new RangeError(`${whole}: the probe count ${JSON.stringify(countText)} must be a whole number from 1 to ${MAX_KEEPALIVE_COUNT}`);
  }
  return { delay, probes: { interval, count } };
}

/**
 * The probe interval and count `TIMEOUTSOCKET_KEEPALIVE` names, or `null` for a delay alone
 * (or no variable). Throws a `RangeError` naming this Node line when its `setKeepAlive()`
 * cannot take them, rather than run with probes other than the ones asked for.
 * @param line - this Node's version and whether its `setKeepAlive()` takes an interval and a count.
 */
export function keepAliveProbesFromEnv(env: NodeJS.ProcessEnv, line: { version: string; takesProbes: boolean }): KeepAliveProbes | null {
  const raw = env[ENV.keepAlive];
  if (raw === undefined || raw.trim() === '') return null;
  const { probes } = parseKeepAlive(raw, ENV.keepAlive);
  if (probes !== null && !line.takesProbes) {
    throw new RangeError(
      `${ENV.keepAlive}=${JSON.stringify(raw)}: a probe interval and count need a Node line whose socket.setKeepAlive() takes them (24 and later); ` +
        `this is Node ${line.version}, which takes the delay alone (e.g. ${ENV.keepAlive}=${raw.split(',')[0].trim()})`,
    );
  }
  return probes;
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
  // A delay alone, or delay,interval,count: only the delay is part of the process default.
  const keepAliveRaw = env[ENV.keepAlive];
  const keepAlive = keepAliveRaw === undefined || keepAliveRaw.trim() === '' ? undefined : parseKeepAlive(keepAliveRaw, ENV.keepAlive).delay;
  if (general === undefined && keepAlive === undefined && PHASES.every((phase) => perPhase[phase] === undefined)) return undefined;
  const fallback = general ?? null;
  return {
    connect: perPhase.connect ?? fallback,
    read: perPhase.read ?? fallback,
    write: perPhase.write ?? fallback,
    keepAlive: keepAlive ?? null,
  };
}
