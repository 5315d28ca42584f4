/**
 * `redis`: `request-reply`, except for the commands that block on purpose, and pub/sub.
 *
 * The engine hands the first write of each reply window here (never every chunk). Its commands
 * decide how long that window's reply may take:
 * - a blocking command waits for its own timeout argument, so its deadline is that timeout plus
 *   `read`; a timeout of 0 blocks for ever, so the window has no deadline;
 * - after SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE or MONITOR the server pushes messages the client did
 *   not ask for and the client writes rarely: the connection becomes a `stream`;
 * - every other command is answered at once: the plain `read` deadline.
 *
 * Units, from the Redis command reference (redis.io/commands): BLPOP, BRPOP, BRPOPLPUSH, BLMOVE,
 * BLMPOP, BZPOPMIN, BZPOPMAX and BZMPOP take seconds, "a double value" since Redis 6.0;
 * XREAD/XREADGROUP `BLOCK`, WAIT and WAITAOF take milliseconds. For all of them 0 blocks
 * indefinitely. Inside MULTI a blocking command does not block; a window that then gets the
 * longer deadline is only more patient, never wrong.
 *
 * Commands are read in both forms Redis accepts: RESP arrays (`*2\r\n$5\r\nBLPOP\r\n…`, what
 * every client library sends) and inline commands (`BLPOP q 5\r\n`).
 */
import { MAX_TIMEOUT_MS } from '../config';
import type { Protocol } from './index';

/** The `redis` protocol. */
export const REDIS: Protocol = Object.freeze({ name: 'redis', id: 3, repliesToWrites: true, greetsFirst: false });

/** {@link redisWindow}: the window gets the plain `read` deadline. */
export const PLAIN_WINDOW = 0;
/** {@link redisWindow}: the window has no deadline (a blocking command with timeout 0). */
export const NO_DEADLINE = -1;
/** {@link redisWindow}: the connection is a `stream` from now on (pub/sub, MONITOR). */
export const BECOMES_STREAM = -2;

/** How many bytes of a window's first write are read: enough for any command with a few keys. */
export const REDIS_HEAD_BYTES = 16 * 1024;

/** Where each blocking command keeps its timeout, and in which unit. */
interface Blocking {
  /** Argument index of the timeout (0 is the command name); negative counts from the end. */
  readonly at: number;
  readonly unit: 'seconds' | 'milliseconds';
}

/** The blocking commands and where their timeout is (Redis command reference). */
const BLOCKING: ReadonlyMap<string, Blocking> = new Map<string, Blocking>([
  ['BLPOP', { at: -1, unit: 'seconds' }], //       BLPOP key [key ...] timeout
  ['BRPOP', { at: -1, unit: 'seconds' }], //       BRPOP key [key ...] timeout
  ['BRPOPLPUSH', { at: -1, unit: 'seconds' }], //  BRPOPLPUSH source destination timeout
  ['BLMOVE', { at: -1, unit: 'seconds' }], //      BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
  ['BZPOPMIN', { at: -1, unit: 'seconds' }], //    BZPOPMIN key [key ...] timeout
  ['BZPOPMAX', { at: -1, unit: 'seconds' }], //    BZPOPMAX key [key ...] timeout
  ['BLMPOP', { at: 1, unit: 'seconds' }], //       BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
  ['BZMPOP', { at: 1, unit: 'seconds' }], //       BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
  ['WAIT', { at: 2, unit: 'milliseconds' }], //    WAIT numreplicas timeout
  ['WAITAOF', { at: 3, unit: 'milliseconds' }], // WAITAOF numlocal numreplicas timeout
]);

/** Commands that block only with a `BLOCK milliseconds` option before `STREAMS`. */
const BLOCK_OPTION: ReadonlySet<string> = new Set(['XREAD', 'XREADGROUP']);

/** Commands after which the server pushes and the connection is a stream. */
const PUSH_MODE: ReadonlySet<string> = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'MONITOR']);

/**
 * The reply window opened by a write carrying `head` (its first bytes): {@link PLAIN_WINDOW},
 * {@link NO_DEADLINE}, {@link BECOMES_STREAM}, or the window's deadline in ms (a blocking
 * command's timeout plus `read`). Every command in the write counts (a pipeline), the most
 * patient wins; a command cut off by the end of `head` whose timeout is unknown gets no deadline.
 */
export function redisWindow(head: Buffer, read: number): number {
  let result = PLAIN_WINDOW;
  let at = 0;
  while (at < head.length) {
    const command = head[at] === STAR ? readArray(head, at) : readInline(head, at);
    if (command === undefined) break; // not a command: leave the window plain
    const window = commandWindow(head, command.args, command.complete, read);
    if (window === BECOMES_STREAM) return BECOMES_STREAM;
    if (window === NO_DEADLINE) result = NO_DEADLINE;
    else if (result !== NO_DEADLINE && window > result) result = window;
    if (!command.complete) break;
    at = command.end;
  }
  return result;
}

/** Is `head` the start of a RESP command array, `*<n>\r\n$`? The client-side signature of redis. */
export function looksLikeResp(head: Buffer): boolean {
  if (head.length < 5 || head[0] !== STAR) return false;
  let i = 1;
  while (i < head.length && head[i]! >= DIGIT_0 && head[i]! <= DIGIT_9) i++;
  return i > 1 && head[i] === CR && head[i + 1] === LF && head[i + 2] === DOLLAR;
}

const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** One parsed command: its arguments as [start, end) offsets into the head. */
interface Command {
  args: number[];
  /** Every argument was inside the head. */
  complete: boolean;
  /** Offset just past the command. */
  end: number;
}

/** Reads `*<n>\r\n` then n × `$<len>\r\n<bytes>\r\n`. */
function readArray(head: Buffer, start: number): Command | undefined {
  const count = readNumberLine(head, start + 1);
  if (count === undefined || count.value < 1) return undefined;
  const args: number[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    if (at >= head.length) return { args, complete: false, end: at };
    if (head[at] !== DOLLAR) return undefined;
    const length = readNumberLine(head, at + 1);
    if (length === undefined) return { args, complete: false, end: at };
    const end = length.next + length.value;
    if (end > head.length) return { args, complete: false, end: at };
    args.push(length.next, end);
    at = end + 2;
  }
  return { args, complete: at <= head.length, end: at };
}

/** Reads decimal digits up to CRLF; undefined if anything else comes first or the line is cut. */
function readNumberLine(head: Buffer, start: number): { value: number; next: number } | undefined {
  let value = 0;
  let i = start;
  while (i < head.length && head[i]! >= DIGIT_0 && head[i]! <= DIGIT_9) value = value * 10 + head[i++]! - DIGIT_0;
  if (i === start || head[i] !== CR || head[i + 1] !== LF) return undefined;
  return { value, next: i + 2 };
}

/** Reads an inline command: words separated by spaces, up to LF. */
function readInline(head: Buffer, start: number): Command | undefined {
  const args: number[] = [];
  let at = start;
  while (at < head.length && head[at] !== LF) {
    while (at < head.length && head[at] === SPACE) at++;
    const wordStart = at;
    while (at < head.length && head[at] !== SPACE && head[at] !== CR && head[at] !== LF) at++;
    if (at > wordStart) args.push(wordStart, at);
    if (head[at] === CR) at++;
  }
  if (args.length === 0) return undefined;
  const complete = at < head.length;
  return { args, complete, end: at + 1 };
}

function argument(head: Buffer, args: number[], index: number): string | undefined {
  const i = index < 0 ? args.length / 2 + index : index;
  if (i < 0 || 2 * i >= args.length) return undefined;
  return head.toString('latin1', args[2 * i], args[2 * i + 1]);
}

function commandWindow(head: Buffer, args: number[], complete: boolean, read: number): number {
  const name = argument(head, args, 0)?.toUpperCase();
  if (name === undefined) return PLAIN_WINDOW;
  if (PUSH_MODE.has(name)) return BECOMES_STREAM;
  const blocking = BLOCKING.get(name);
  if (blocking !== undefined) {
    // The last argument of a command cut off by the end of the head is not its last one.
    if (!complete && (blocking.at < 0 || 2 * blocking.at >= args.length)) return NO_DEADLINE;
    return blockingWindow(argument(head, args, blocking.at), blocking.unit, read);
  }
  if (BLOCK_OPTION.has(name)) {
    // Options are keywords only where a keyword can stand: a group, a consumer or a COUNT value
    // may be spelled `streams` or `block` (XREADGROUP GROUP <group> <consumer> [COUNT n] [BLOCK ms]
    // [NOACK] STREAMS …; XREAD has no GROUP). Words Redis would refuse are stepped over: it
    // answers them with an error at once, within the plain window.
    for (let i = 1; 2 * i < args.length; i++) {
      const option = argument(head, args, i)!.toUpperCase();
      if (option === 'STREAMS') return PLAIN_WINDOW;
      if (option === 'BLOCK') return blockingWindow(argument(head, args, i + 1), 'milliseconds', read);
      if (option === 'COUNT') i += 1;
      else if (option === 'GROUP' && name === 'XREADGROUP') i += 2;
    }
    return complete ? PLAIN_WINDOW : NO_DEADLINE;
  }
  return PLAIN_WINDOW;
}

/** A blocking command's window: its timeout plus `read`; 0 (or beyond a timer's reach) has none. */
function blockingWindow(value: string | undefined, unit: Blocking['unit'], read: number): number {
  if (value === undefined) return NO_DEADLINE;
  const timeout = Number(value);
  // Redis answers a timeout it cannot parse (or a negative one) with an error at once.
  if (value === '' || !Number.isFinite(timeout) || timeout < 0) return PLAIN_WINDOW;
  if (timeout === 0) return NO_DEADLINE;
  const window = Math.ceil(unit === 'seconds' ? timeout * 1000 : timeout) + read;
  return window > MAX_TIMEOUT_MS ? NO_DEADLINE : window;
}
