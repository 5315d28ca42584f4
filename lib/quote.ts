/**
 * The one way an error message quotes a bad value.
 *
 * A message must name the value it rejects, and making the message must never throw: values
 * reach the checks from callers who may pass anything (a BigInt, which `JSON.stringify` cannot
 * serialize; an object whose `toString` returns an object or a Symbol, which `String()` cannot
 * convert; a Proxy whose traps throw). So values are rendered with `util.inspect`, which calls
 * none of the value's own code when told not to (no custom inspect, no getters, a Proxy shown
 * as its target without running a trap), with limits on depth and length, and a fallback for
 * the few objects that still make it throw (a Proxy in the prototype chain, a throwing
 * `Symbol.toStringTag` getter). Imports nothing but `node:util`, so the side-effect-free entry
 * points can use it.
 */
import { inspect, types } from 'node:util';

const LIMITS = {
  depth: 2,
  maxArrayLength: 10,
  maxStringLength: 60,
  breakLength: Infinity,
  compact: true,
  customInspect: false,
  getters: false,
  showProxy: false,
} as const;

/** The longest quotation, in characters: a message stays one readable line. */
const MAX_CHARS = 120;

/**
 * The value as error messages quote it: strings in single quotes with escapes (`'\t83\n'`),
 * BigInts with their `n` (`0n`), Symbols, functions, arrays and objects as `util.inspect` shows
 * them (`{ read: 5n }`, `[Number: 5]`), numbers and booleans with their kind
 * (`0 (a number)`, so `got 0 (a number)` is never read as the string `'0'`). Never throws, and
 * never runs the value's own code.
 *
 * @example
 * ```ts
 * throw new TypeError(`recv(n): n must be a number of bytes, got ${quote(n)}`);
 * ```
 */
export function quote(value: unknown): string {
  if (typeof value === 'number') return `${inspect(value)} (a number)`;
  if (typeof value === 'boolean') return `${value} (a boolean)`;
  return oneLine(render(value), types.isNativeError(value));
}

function render(value: unknown): string {
  try {
    return inspect(value, LIMITS);
  } catch {
    return fallback(value);
  }
}

/** What is safe to say about a value `util.inspect` could not render. */
function fallback(value: unknown): string {
  if (types.isProxy(value)) return typeof value === 'function' ? 'a Proxy of a function' : 'a Proxy';
  return typeof value === 'function' ? 'a function' : 'an object';
}

/** One line: an error's first line (not its stack), whitespace runs folded, cut at {@link MAX_CHARS}. */
function oneLine(text: string, isError: boolean): string {
  let line = text;
  if (isError) {
    const stack = line.indexOf('\n    at ');
    if (stack !== -1) line = line.slice(0, stack);
  }
  line = line.replace(/\s*\n\s*/g, ' ');
  return line.length > MAX_CHARS ? `${line.slice(0, MAX_CHARS - 1)}…` : line;
}
