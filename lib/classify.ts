/**
 * classify / describe: one answer to "what happened to this socket?", whatever the
 * platform and whatever number, string or Error the failure carries.
 *
 * The numbers live in `errno/` as data; this file validates input, finds the row, and
 * applies the few rules where the operation decides the answer (CONTEXT_RULES).
 */
import { CATEGORY_MEANINGS, type Category } from './errno/categories';
import { lookupName, lookupNumber, lookupPhrase, PLATFORMS, type Match, type Platform, type Source } from './errno/index';
import { quote } from './quote';

export type { Category } from './errno/categories';
export type { Platform, Source } from './errno/index';

/** The socket operation that failed, when it matters to the answer. */
export type Operation = 'connect' | 'accept' | 'recv' | 'send' | 'lookup' | 'close';

/** The operations `context.op` accepts. */
export const OPERATIONS: ReadonlySet<string> = new Set<Operation>(['connect', 'accept', 'recv', 'send', 'lookup', 'close']);

/** What the caller knows about the failure besides its code. */
export interface ClassifyContext {
  /** The operation that failed: EAGAIN on `'connect'` means in-progress, on `'recv'` would-block. */
  readonly op?: Operation;
  /** True when this is a second connect on the same socket (EINVAL then means the first was refused). */
  readonly retry?: boolean;
  /** Whose numbers a bare number is in; defaults to `process.platform`, or `'linux'` for other Unixes. */
  readonly platform?: Platform;
}

/** An error object as `classify` reads it: `code`, then `errno`, then `name`, then `message`, then `cause`. */
export interface ErrorLike {
  /** A code string such as `'ECONNREFUSED'` (numbers here are ignored: DOMException's legacy codes). */
  readonly code?: unknown;
  /** A libuv number (negative), an errno or a Winsock number. */
  readonly errno?: unknown;
  /** A DOMException name such as `'AbortError'`. */
  readonly name?: unknown;
  /** A message, read when nothing else answers (`'host not found'`, `'connect ECONNREFUSED …'`). */
  readonly message?: unknown;
  /** The error this one wraps, read last. */
  readonly cause?: unknown;
}

/** Anything `classify` accepts as a code. */
export type ErrorCode = string | number | ErrorLike;

/** The full answer of {@link describe}. */
export interface Description {
  /** The category, as {@link classify} returns it. */
  readonly category: Category;
  /** The symbolic code: the name asked about, or the preferred name of the number; `'UNKNOWN'` if none. */
  readonly code: string;
  /** Every symbolic name the number has on the platform (`['EAGAIN', 'EWOULDBLOCK']` for Linux 11). */
  readonly names: readonly string[];
  /** The number (negative for libuv codes, positive for errno and Winsock), or null for code strings Node alone uses. */
  readonly number: number | null;
  /** The platform whose numbers were used. */
  readonly platform: Platform;
  /** Which table answered, or `'none'` when the code is unknown. */
  readonly source: Source | 'none';
  /** A plain-language explanation; for context-dependent answers it says why. */
  readonly message: string;
}

/**
 * The cases where the operation, not the code, decides the category. A rule applies when
 * one of the row's names is in `names`, `op` matches, and `retry` matches (when the rule sets it).
 * The message names the first of `names` (in order) that the row has.
 */
const CONTEXT_RULES: ReadonlyArray<{
  readonly names: ReadonlySet<string>;
  readonly op: Operation;
  readonly retry?: boolean;
  readonly category: Category;
  readonly why: string;
}> = [
  {
    // The 2001 report: Winsock answers a second connect() after a refusal with WSAEINVAL
    // (timeoutsocket.py 1.15 took it as "connected"); BSD stacks answer EINVAL too.
    names: new Set(['WSAEINVAL', 'EINVAL']),
    op: 'connect',
    retry: true,
    category: 'refused',
    why: '{subject} on a re-connect means the earlier attempt was refused ({reporter} reports {name} when connect() is called again on a socket whose previous connect failed)',
  },
  {
    // Winsock reports WSAEWOULDBLOCK for every non-blocking connect (Microsoft: "It is normal
    // for WSAEWOULDBLOCK to be reported as the result from calling connect"); Linux reports
    // EAGAIN for a non-blocking connect on a Unix-domain socket.
    names: new Set(['WSAEWOULDBLOCK', 'EAGAIN', 'EWOULDBLOCK']),
    op: 'connect',
    category: 'in-progress',
    why: '{subject} on connect means the connection has started and has not finished ({reporter} reports {name} for a non-blocking connect): wait until the socket is writable',
  },
];

/**
 * How deep `cause` chains are followed, by `classify` for a code and by `normalizeError` for
 * `syscall`, `hostname`, `address` and `port`: deep enough for an error wrapped a few times
 * (`fetch`'s `TypeError: fetch failed` has the socket's error as `cause`), and bounded so a
 * cyclic chain ends.
 */
export const MAX_CAUSE_DEPTH = 4;

/** Codes found inside a message (`connect ECONNREFUSED 127.0.0.1:80`, `[WinError 10061] …`). */
const MESSAGE_NUMBER = /\[(?:Errno|WinError) (-?\d+)\]|^\((-?\d+), /;
const MESSAGE_CODE = /\b(?:E[A-Z0-9_]{2,}|WSA[A-Z0-9_]+|ERR_[A-Z0-9_]+|ABORT_ERR)\b/g;

/**
 * Classifies a socket error into one stable {@link Category}.
 *
 * @param code - A Node code string (`'ECONNREFUSED'`, `'ENOTFOUND'`), a number (a Winsock
 *   code such as 10061, a libuv number such as -111, or a positive errno of the platform),
 *   a string of digits (read as that number), a bare message (`'host not found'`), or an
 *   error (read by `code`, `errno`, `name`, `message`, then `cause`).
 * @param context - The operation, whether it is a re-connect, and the platform.
 * @returns The category; `'unknown'` for a well-formed code that no table lists (an unknown
 *   name, an unlisted number, an Error whose fields name nothing).
 * @throws TypeError when `code` is not a string, number or object with a string `code`,
 *   numeric `errno` or string `message` (e.g. `{}`, `null`), or a context field has the wrong type.
 * @throws RangeError when a number is not a non-zero integer (`NaN`, `1.5`, `0`, which means
 *   success), a string is empty, or `context.platform` / `context.op` is not one of the known values.
 *
 * @example
 * ```ts
 * classify('ECONNREFUSED');                              // 'refused'
 * classify(10022, { op: 'connect', retry: true });       // 'refused'  (Winsock re-connect)
 * classify(10035, { op: 'connect' });                    // 'in-progress'
 * classify(-61, { platform: 'darwin' });                 // 'refused'
 * classify(new Error('host not found'));                 // 'host-not-found'
 * ```
 */
export function classify(code: ErrorCode, context?: ClassifyContext): Category {
  return describe(code, context).category;
}

/**
 * Describes a socket error: its category, every name its number has, and why, in plain words.
 *
 * Takes the same arguments, and throws for the same bad input, as {@link classify}.
 *
 * @example
 * ```ts
 * describe(10022, { op: 'connect', retry: true, platform: 'win32' }).message;
 * // '10022 on a re-connect means the earlier attempt was refused (Winsock reports WSAEINVAL …)'
 * describe(11, { platform: 'linux' }).names;             // ['EAGAIN', 'EWOULDBLOCK']
 * ```
 */
export function describe(code: ErrorCode, context?: ClassifyContext): Description {
  const { op, retry, platform } = readContext(context);
  const found = resolve(code, platform, 0);
  if (found.match === undefined) {
    return {
      category: 'unknown',
      code: found.label ?? 'UNKNOWN',
      names: [],
      number: found.number ?? null,
      platform,
      source: 'none',
      message: `${found.label ?? found.number ?? 'the error'} is not a code timeoutsocket knows (${platform} tables); category 'unknown'`,
    };
  }
  const match = found.match;
  const rule = CONTEXT_RULES.find((r) => r.op === op && (r.retry === undefined || r.retry === retry) && match.names.some((n) => r.names.has(n)));
  const subject = String(match.number ?? match.code);
  const category = rule?.category ?? match.category;
  const message = rule !== undefined
    ? fill(rule.why, { subject, reporter: reporter(match.source, platform), name: [...rule.names].find((n) => match.names.includes(n)) ?? match.code })
    : plain(match, platform, found.via);
  return {
    category,
    code: found.label ?? match.code,
    names: match.names,
    number: match.number,
    platform,
    source: match.source,
    message,
  };
}

/** What `resolve` found: the row (if any), the name that was asked about, how it was read. */
interface Found {
  readonly match?: Match;
  readonly label?: string;
  readonly number?: number;
  readonly via?: string;
}

function resolve(code: unknown, platform: Platform, depth: number): Found {
  if (typeof code === 'number') return fromNumber(checkNumber(code, 'code'), platform);
  if (typeof code === 'string') {
    if (code.trim() === '') throw new RangeError(`classify: code must be a non-empty string, got ${quote(code)}`);
    return fromString(code.trim(), platform);
  }
  if (typeof code === 'object' && code !== null) return fromError(code as ErrorLike, platform, depth);
  throw new TypeError(`classify: code must be a string, a number or an Error, got ${quote(code)}`);
}

function fromNumber(number: number, platform: Platform): Found {
  return { match: lookupNumber(number, platform), number };
}

function fromString(text: string, platform: Platform): Found {
  if (/^-?\d+$/.test(text)) {
    const number = Number(text);
    return fromNumber(checkNumber(number, 'code', text), platform);
  }
  const byName = lookupName(text, platform);
  if (byName !== undefined) return { match: byName, label: text };
  const inMessage = fromMessage(text, platform);
  if (inMessage !== undefined) return inMessage;
  // A lone word that looks like a code keeps its name in the answer; a sentence does not.
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(text) ? { label: text } : {};
}

/** Reads a message: a known phrase, then `[Errno N]` / `(N, '…')`, then the first known code word. */
function fromMessage(message: string, platform: Platform): Found | undefined {
  const phrase = lookupPhrase(message, platform);
  if (phrase !== undefined) {
    const match = lookupName(phrase, platform);
    if (match !== undefined) return { match, label: match.code, via: `the message "${message}"` };
  }
  const numbered = MESSAGE_NUMBER.exec(message);
  if (numbered !== null) {
    const number = Number(numbered[1] ?? numbered[2]);
    const match = number === 0 ? undefined : lookupNumber(number, platform);
    if (match !== undefined) return { match, number, via: `the message "${message}"` };
  }
  for (const [word] of message.matchAll(MESSAGE_CODE)) {
    const match = lookupName(word, platform);
    if (match !== undefined) return { match, label: word, via: `the message "${message}"` };
  }
  return undefined;
}

function fromError(error: ErrorLike, platform: Platform, depth: number): Found {
  const { code, errno, name, message, cause } = error;
  const usable = typeof code === 'string' || typeof errno === 'number' || typeof message === 'string';
  if (!usable && !(error instanceof Error)) {
    throw new TypeError(`classify: an error object needs a string code, a numeric errno or a string message, got ${quote(error)}`);
  }
  if (typeof code === 'string' && code.trim() !== '') {
    const match = lookupName(code.trim(), platform);
    if (match !== undefined) return { match, label: code.trim() };
  }
  if (typeof errno === 'number' && Number.isInteger(errno) && errno !== 0) {
    const match = lookupNumber(errno, platform);
    if (match !== undefined) return { match, number: errno };
  }
  if (typeof name === 'string') {
    const match = lookupName(name, platform);
    if (match?.source === 'node') return { match, label: name };
  }
  if (typeof message === 'string' && message.trim() !== '') {
    const found = fromMessage(message, platform);
    if (found !== undefined) return found;
  }
  if (depth < MAX_CAUSE_DEPTH && typeof cause === 'object' && cause !== null) {
    const found = fromError(cause as ErrorLike, platform, depth + 1);
    if (found.match !== undefined) return found;
  }
  // Nothing matched: keep the code string or number the error carried, for the message.
  if (typeof code === 'string' && code.trim() !== '') return { label: code.trim() };
  return typeof errno === 'number' ? { number: errno } : {};
}

function readContext(context: ClassifyContext | undefined): { op?: Operation; retry?: boolean; platform: Platform } {
  if (context === undefined) return { platform: defaultPlatform() };
  if (typeof context !== 'object' || context === null) {
    throw new TypeError(`classify: context must be an object, got ${quote(context)}`);
  }
  const { op, retry, platform } = context;
  if (op !== undefined) {
    if (typeof op !== 'string') throw new TypeError(`classify: context.op must be a string, got ${quote(op)}`);
    if (!OPERATIONS.has(op)) throw new RangeError(`classify: context.op must be one of ${[...OPERATIONS].join(', ')}, got ${quote(op)}`);
  }
  if (retry !== undefined && typeof retry !== 'boolean') {
    throw new TypeError(`classify: context.retry must be a boolean, got ${quote(retry)}`);
  }
  if (platform !== undefined) {
    if (typeof platform !== 'string') throw new TypeError(`classify: context.platform must be a string, got ${quote(platform)}`);
    if (!PLATFORMS.has(platform)) throw new RangeError(`classify: context.platform must be one of ${[...PLATFORMS].join(', ')}, got ${quote(platform)}`);
  }
  return { op, retry, platform: platform ?? defaultPlatform() };
}

/** The running platform; other Unixes (FreeBSD, AIX, …) are read with Linux numbers. */
function defaultPlatform(): Platform {
  return PLATFORMS.has(process.platform) ? (process.platform as Platform) : 'linux';
}

/** `given`: the value as the caller gave it (a string of digits is checked as its number), for the message. */
function checkNumber(number: number, what: string, given: unknown = number): number {
  if (!Number.isInteger(number)) throw new RangeError(`classify: ${what} must be an integer, got ${quote(given)}`);
  if (number === 0) throw new RangeError(`classify: ${what} 0 means success, not an error, got ${quote(given)}`);
  return number;
}

const REPORTERS: Readonly<Record<Source, Readonly<Record<Platform, string>>>> = {
  winsock: { linux: 'Winsock', darwin: 'Winsock', win32: 'Winsock' },
  errno: { linux: 'Linux', darwin: 'macOS', win32: 'Windows' },
  libuv: { linux: 'libuv on Linux', darwin: 'libuv on macOS', win32: 'libuv on Windows' },
  node: { linux: 'Node', darwin: 'Node', win32: 'Node' },
};

function reporter(source: Source, platform: Platform): string {
  return REPORTERS[source][platform];
}

function plain(match: Match, platform: Platform, via: string | undefined): string {
  const where = match.number === null ? reporter(match.source, platform) : `${match.number}, ${reporter(match.source, platform)}`;
  const node = match.reportedAs === null ? '' : ` Node reports it on Windows as ${match.reportedAs.code} (${match.reportedAs.number}).`;
  const prefix = via === undefined ? '' : `${via} names ${match.code}; `;
  return `${prefix}${match.names.join(' / ')} (${where}): ${match.text}: ${CATEGORY_MEANINGS[match.category]}.${node}`;
}

function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? `{${key}}`);
}

