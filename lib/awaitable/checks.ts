/**
 * Argument checks shared by the awaitable calls: bad input is a TypeError or RangeError that
 * quotes the bad value (lib/quote.ts), never a silent default.
 */
// Buffer from its module: the global `Buffer` is a getter (a call on every use; Node defines it
// so, lib/internal/bootstrap/node.js setupBuffer(), 20 to 26).
import { Buffer } from 'node:buffer';
import { types } from 'node:util';
import { quote } from '../quote';

/** Options every awaitable call takes as its last argument. */
export interface CallOptions {
  /** Cancels the call: it rejects with an `AbortError` and, for receives, consumes nothing. */
  signal?: AbortSignal;
}

/** The keys of {@link CallOptions}. */
export const CALL_OPTION_KEYS: ReadonlySet<string> = new Set(['signal']);

const NO_OPTIONS: CallOptions = Object.freeze({});

/**
 * Checks a call's options: `undefined`, or an object with only the `allowed` keys (by default
 * `{ signal }`). Arrays, boxed primitives and unknown keys are TypeErrors naming them, as
 * `setSocketTimeout` does for its own keys: an option the call does not know would otherwise be
 * ignored without a word (`{ reed: 500 }` for `{ read: 500 }`).
 */
export function checkOptions(options: unknown, call: string, allowed: ReadonlySet<string> = CALL_OPTION_KEYS): CallOptions {
  if (options === undefined) return NO_OPTIONS;
  if (typeof options !== 'object' || options === null || Array.isArray(options) || types.isBoxedPrimitive(options)) {
    throw new TypeError(`${call}: options must be an object like { ${[...allowed].join(', ')} }, got ${quote(options)}`);
  }
  const keys = Object.keys(options);
  for (let i = 0; i < keys.length; i++) {
    if (!allowed.has(keys[i])) throw unknownKeys(call, keys, allowed);
  }
  const { signal } = options as CallOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${call}: options.signal must be an AbortSignal, got ${quote(signal)}`);
  }
  return options as CallOptions;
}

function unknownKeys(call: string, keys: string[], allowed: ReadonlySet<string>): TypeError {
  const unknown = keys.filter((key) => !allowed.has(key));
  const named = unknown.map((key) => quote(key)).join(', ');
  return new TypeError(`${call}: options has unknown key${unknown.length > 1 ? 's' : ''} ${named}: expected ${[...allowed].join(', ')}`);
}

/** Checks recv's byte count (small enough for V8 to inline it; the errors are made elsewhere). */
export function checkSize(n: unknown): number {
  if (typeof n === 'number' && n > 0 && Number.isInteger(n)) return n;
  throw sizeError(n);
}

function sizeError(n: unknown): TypeError | RangeError {
  if (typeof n !== 'number') return new TypeError(`recv(n): n must be a number of bytes, got ${quote(n)}`);
  return new RangeError(`recv(n): n must be an integer > 0, got ${quote(n)}`);
}

const { isView } = ArrayBuffer;

/**
 * A plain Buffer, the common case, told by its constructor (Node's Buffer prototype says
 * `constructor: Buffer`): one property load that V8 folds to a map check, where
 * `Object.getPrototypeOf` stays a builtin call (a runtime call for a typed array) and
 * `Buffer.isBuffer`, an `instanceof`, costs a full property lookup (@@hasInstance) in
 * unoptimised code. isView() first: it reads an internal slot, so a Proxy never has its traps
 * run. A view that only claims Buffer as its constructor (an own `constructor` property) is
 * handed to `socket.write()`, which takes any Uint8Array and refuses the rest with its own
 * TypeError. Small enough for V8 to inline it wherever it is called.
 */
export function isPlainBuffer(data: unknown): data is Buffer {
  return isView(data) && (data as { constructor?: unknown }).constructor === Buffer;
}

/** The bytes of what send/sendAll were given. */
export function toBuffer(data: unknown, call: string): Buffer {
  if (isPlainBuffer(data)) return data;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data);
  throw new TypeError(`${call}(data): data must be a Buffer, Uint8Array or string, got ${quote(data)}`);
}
