/**
 * The errors timeoutsocket raises. Each has Node's system-error shape (`code`, `errno`,
 * `syscall`, `address`, `port`) so drivers, agents and pools that already branch on
 * `err.code === 'ETIMEDOUT'` handle them without changes.
 */
import type { Phase } from './config';
import { libuvErrno } from './errno/system';

import { quote } from './quote';

/** The libuv number of ETIMEDOUT on this platform, as Node's own errors carry it. */
export const ETIMEDOUT_ERRNO = libuvErrno('ETIMEDOUT');

/**
 * Marks our errors with a registry symbol so `instanceof` holds even when two copies of the
 * package are loaded in one process (two `node_modules` trees): the copy that installed the
 * patch raises the error, while the application may test it against the other copy's class.
 * The mark is a list of names (an array under `Symbol.for('timeoutsocket.error')`): every copy
 * of every version reads and writes that same shape.
 */
const BRAND = Symbol.for('timeoutsocket.error');

function hasBrand(value: unknown, name: string): boolean {
  const brands = (value as { [BRAND]?: readonly string[] } | null)?.[BRAND];
  return Array.isArray(brands) && brands.includes(name);
}

/**
 * The base of every error class here: sets `name`, stamps the brand, and answers `instanceof`
 * from the brand rather than the prototype chain. Each subclass names itself in `brandName`, a
 * literal rather than the class's `name`, which a minifier may rename in one copy and not the other.
 */
abstract class BrandedError extends Error {
  /** The name the class answers `instanceof` to, and its instances' `name`. */
  protected static readonly brandName: string;

  protected constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    const name = (new.target as unknown as typeof BrandedError).brandName;
    this.name = name;
    Object.defineProperty(this, BRAND, { value: [name], enumerable: false, configurable: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, this.brandName);
  }
}

/** Where an error happened, as far as it is known. */
export interface SocketErrorDetails {
  /** The remote address (or host name before DNS resolved it). */
  address?: string;
  /** The remote port. */
  port?: number;
}

/** How a deadline ran out. */
export interface SocketTimeoutDetails extends SocketErrorDetails {
  /** The phase whose deadline ran out. */
  phase: Phase | 'accept' | 'recv' | 'send';
  /** The milliseconds that ran out. */
  timeout: number;
  /** The call that timed out, when it differs from the phase (e.g. `'recv'` for the read phase). */
  syscall?: string;
}

const PHASE_STORY: Record<string, string> = {
  connect: 'no connection after',
  read: 'no reply after',
  write: 'no bytes flushed for',
  accept: 'no connection to accept after',
  recv: 'no data after',
  send: 'no room to send after',
};

function target({ address, port }: SocketErrorDetails): string {
  if (address === undefined) return '';
  return port === undefined ? ` ${address}` : ` ${address}:${port}`;
}

/**
 * A deadline ran out: the socket had no connection, no reply or no write progress for the
 * configured time. `code` is `'ETIMEDOUT'`, like the error the OS gives for a connect that
 * timed out, so code that already handles that keeps working. Also exported as `Timeout`,
 * the name Python's `timeoutsocket.py` used.
 *
 * @example
 * ```ts
 * socket.on('error', (err) => {
 *   if (err instanceof SocketTimeoutError) console.log(err.phase, err.timeout); // 'read' 5000
 * });
 * ```
 */
export class SocketTimeoutError extends BrandedError {
  protected static override readonly brandName = 'SocketTimeoutError';

  /** Always `'ETIMEDOUT'`. */
  readonly code = 'ETIMEDOUT' as const;
  /** Node's (negative, libuv) number for ETIMEDOUT on this platform. */
  readonly errno: number = ETIMEDOUT_ERRNO;
  /** `'connect'`, `'read'` or `'write'` (the awaitable API adds `'recv'`, `'send'`, `'accept'`). */
  readonly syscall: string;
  /** The phase whose deadline ran out. */
  readonly phase: SocketTimeoutDetails['phase'];
  /** The milliseconds that ran out. */
  readonly timeout: number;
  /** The remote address, when known. */
  declare readonly address?: string;
  /** The remote port, when known. */
  declare readonly port?: number;
  /** Bytes that reached the kernel before a send timed out (set by `sendAll`). */
  declare bytesSent?: number;

  constructor(details: SocketTimeoutDetails) {
    const syscall = details.syscall ?? details.phase;
    super(`${syscall} ETIMEDOUT${target(details)} (${PHASE_STORY[details.phase]} ${details.timeout} ms)`);
    this.syscall = syscall;
    this.phase = details.phase;
    this.timeout = details.timeout;
    if (details.address !== undefined) this.address = details.address;
    if (details.port !== undefined) this.port = details.port;
  }
}

/**
 * A {@link SocketTimeoutError} for a deadline that ran out on its timer, made with no stack
 * frames. Its frames would name only the timer's own functions (the engine's fire and check,
 * the deadline timer's look, Node's `processImmediate`), nothing of the application's, and
 * Node formats them at once: `destroy(err)` reads `err.stack` (lib/internal/streams/destroy.js
 * `checkError`). Capturing and formatting those frames cost about 13 µs of CPU per error,
 * against 1.5 µs with none (a warm loop on Node 20), a one-time compile of the formatter at the
 * first, and the formatted stack (some 600 characters of file paths) stays as long as the
 * socket does, since the stream states keep their error. `stack` is then the first
 * line only (`SocketTimeoutError: read ETIMEDOUT 10.0.0.1:443 (no reply after 5000 ms)`). Where
 * `Error.stackTraceLimit` cannot be set (frozen intrinsics) the error is made as ever.
 *
 * @example
 * ```ts
 * socket.destroy(timerTimeoutError({ phase: 'read', timeout: 5000, address, port }));
 * ```
 */
export function timerTimeoutError(details: SocketTimeoutDetails): SocketTimeoutError {
  const limit = Error.stackTraceLimit;
  // Not a number (deleted, or an application's accessor): V8 captures no frames then anyway,
  // and nothing of the application's is set or called.
  if (typeof limit !== 'number') return new SocketTimeoutError(details);
  // Reflect.set, not an assignment: that throws in strict mode where the property is read-only.
  if (!Reflect.set(Error, 'stackTraceLimit', 0)) return new SocketTimeoutError(details);
  try {
    return new SocketTimeoutError(details);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Python's name for {@link SocketTimeoutError} (`socket.timeout`, `timeoutsocket.Timeout`). */
export const Timeout = SocketTimeoutError;

/** The libuv number of EAGAIN on this platform. */
export const EAGAIN_ERRNO = libuvErrno('EAGAIN');
/** The libuv number of EBADF on this platform. */
export const EBADF_ERRNO = libuvErrno('EBADF');

/**
 * A non-blocking call (the socket is in mode `0`) could not complete without waiting.
 * `code` is `'EAGAIN'`, as the OS says for a non-blocking socket; also exported as
 * `BlockingIOError`, Python's name. Poll again later.
 *
 * @example
 * ```ts
 * socket.setBlocking(false);
 * try { await socket.recv(1024); } catch (err) { if (err instanceof WouldBlockError) retryLater(); }
 * ```
 */
export class WouldBlockError extends BrandedError {
  protected static override readonly brandName = 'WouldBlockError';

  /** Always `'EAGAIN'`. */
  readonly code = 'EAGAIN' as const;
  /** Node's (negative, libuv) number for EAGAIN on this platform. */
  readonly errno: number = EAGAIN_ERRNO;
  /** The call that would have blocked: `'recv'`, `'send'`, `'accept'`, … */
  readonly syscall: string;

  constructor(syscall: string) {
    super(`${syscall} EAGAIN (the socket is non-blocking and the call would have to wait)`);
    this.syscall = syscall;
  }
}

/** Python's name for {@link WouldBlockError}. */
export const BlockingIOError = WouldBlockError;

/**
 * A call on a socket that is closed or destroyed (or a server that is not listening).
 * `code` is `'EBADF'`, as CPython raises for a closed socket: a clear error instead of a
 * confusing TypeError from deep inside the stream.
 */
export class SocketClosedError extends BrandedError {
  protected static override readonly brandName = 'SocketClosedError';

  /** Always `'EBADF'`. */
  readonly code = 'EBADF' as const;
  /** Node's (negative, libuv) number for EBADF on this platform. */
  readonly errno: number = EBADF_ERRNO;
  /** The call that was made on the closed socket. */
  readonly syscall: string;

  constructor(syscall: string, what = 'socket is closed') {
    super(`${syscall} EBADF (${what})`);
    this.syscall = syscall;
  }
}

/**
 * A call cancelled through its `AbortSignal`, shaped like Node's own (`name 'AbortError'`,
 * `code 'ABORT_ERR'`, the signal's reason as `cause`).
 */
export class AbortError extends BrandedError {
  protected static override readonly brandName = 'AbortError';

  /** Always `'ABORT_ERR'`. */
  readonly code = 'ABORT_ERR' as const;

  constructor(syscall: string, reason?: unknown) {
    super(`${syscall} was aborted`, reason === undefined ? undefined : { cause: reason });
  }
}
