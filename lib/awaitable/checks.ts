/**
 * Argument checks shared by the awaitable calls: bad input names the bad value.
 */

/** Options every awaitable call takes as its last argument. */
export interface CallOptions {
  /** Cancels the call: it rejects with an `AbortError` and, for receives, consumes nothing. */
  signal?: AbortSignal;
}

const NO_OPTIONS: CallOptions = Object.freeze({});

/** Checks a call's options (`undefined` or `{ signal }`). */
export function checkOptions(options: unknown, call: string): CallOptions {
  if (options === undefined) return NO_OPTIONS;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${call}: options must be an object like { signal }, got ${String(options)}`);
  }
  const { signal } = options as CallOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${call}: options.signal must be an AbortSignal, got ${String(signal)}`);
  }
  return options as CallOptions;
}

/** Checks recv's byte count. */
export function checkSize(n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`recv(n): n must be a number of bytes, got ${typeof n === 'string' ? JSON.stringify(n) : String(n)}`);
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`recv(n): n must be an integer > 0, got ${n}`);
  return n;
}

/** The bytes of what send/sendAll were given. */
export function toBuffer(data: unknown, call: string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data);
  throw new TypeError(`${call}(data): data must be a Buffer, Uint8Array or string, got ${data === null ? 'null' : typeof data}`);
}
