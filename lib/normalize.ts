/**
 * normalizeError: gives any socket failure Node's system-error shape plus its category, so
 * code that logs or branches on `err.code`, `err.errno`, `err.syscall` and `err.category`
 * reads the same fields whether the error came from libuv, c-ares, a wrapper such as
 * `fetch`, the shim, or a bare `new Error('host not found')`.
 *
 * It only fills in: a field the error already has is left as it is (except `category`,
 * which is ours and always recomputed). The numbers come from the running Node
 * (`util.getSystemErrorMap()`, through `errno/system.ts`), the names and categories from `describe` in classify.ts.
 */
import { constants as osConstants } from 'node:os';
import { describe, MAX_CAUSE_DEPTH, type Category, type ClassifyContext, type Description, type ErrorLike, type Operation } from './classify';
import { lookupName, lookupNumber } from './errno/index';
import { NODE_CODES } from './errno/node';
import { systemErrno } from './errno/system';
import { quote } from './quote';

/** What {@link normalizeError} takes besides the error: the classify context, and where it happened. */
export interface NormalizeContext extends ClassifyContext {
  /** The host name that was being connected to or looked up; fills `hostname` when the error lacks it. */
  readonly hostname?: string;
  /** The remote address; fills `address` when the error lacks it. */
  readonly address?: string;
  /** The remote port; fills `port` when the error lacks it. */
  readonly port?: number;
}

/** The fields every error has after {@link normalizeError}. */
export interface NormalizedFields {
  /** Node's code string (`'ECONNREFUSED'`, `'ENOTFOUND'`, `'ETIMEDOUT'`); `'UNKNOWN'` when no table knows it. */
  code: string;
  /** Node's negative libuv number for the code on this platform (see {@link normalizeError} for Node-only codes). */
  errno: number;
  /** The call that failed as Node names it (`'connect'`, `'getaddrinfo'`, `'read'`, `'write'`); `'unknown'` if it cannot be told. */
  syscall: string;
  /** What happened, as {@link classify} answers it. */
  category: Category;
  /** The host name, for lookups and connects by name, when known. */
  hostname?: string;
  /** The remote address, when known. */
  address?: string;
  /** The remote port, when known. */
  port?: number;
}

/** An error after {@link normalizeError}: the same object, with {@link NormalizedFields}. */
export type NormalizedError<E extends object = Error> = E & NormalizedFields;

/**
 * The code Node puts in `err.code` for a DOMException name (they carry a legacy number instead).
 * `'ABORT_ERR'` is the code of Node's own AbortError (lib/internal/errors.js).
 */
const NAME_CODES: Readonly<Record<string, string>> = { AbortError: 'ABORT_ERR', TimeoutError: 'ETIMEDOUT' };

/**
 * The libuv code whose number a Node-only code gets, by category. Node-only codes have no
 * number of their own: c-ares errors (`dns.resolve*`) carry `errno: undefined`, while
 * `dns.lookup` reports the same "no such name" as ENOTFOUND with UV_EAI_NONAME (-3008), since
 * lib/internal/errors.js `dnsException` renames EAI_NONAME and EAI_NODATA to ENOTFOUND. So a
 * failed name lookup always gets -3008, a timeout ETIMEDOUT's number, a cancellation
 * ECANCELED's; any other Node-only code (ERR_SOCKET_CLOSED, …) gets UNKNOWN's (-4094).
 */
const STAND_INS: Readonly<Partial<Record<Category, string>>> = {
  'host-not-found': 'EAI_NONAME',
  'timeout': 'ETIMEDOUT',
  'cancelled': 'ECANCELED',
};

/** The syscall Node names for each operation of the classify context. */
const OP_SYSCALLS: Readonly<Record<Operation, string>> = {
  connect: 'connect',
  accept: 'accept',
  recv: 'read',
  send: 'write',
  lookup: 'getaddrinfo',
  close: 'close',
};

/** Categories that only a connect can produce, so they tell the syscall when nothing else does. */
const CATEGORY_SYSCALLS: Readonly<Partial<Record<Category, string>>> = {
  'host-not-found': 'getaddrinfo',
  'refused': 'connect',
  'unreachable': 'connect',
  'connected': 'connect',
  'already': 'connect',
  'in-progress': 'connect',
};

/** Node's message shape, `${syscall} ${code}${details}` (lib/internal/errors.js uvException, dnsException). */
const NODE_MESSAGE = /^([a-z][A-Za-z0-9_]*) ([A-Z][A-Z0-9_]+)(?: (\S+))?/;

const NODE_ONLY: ReadonlySet<string> = new Set(NODE_CODES.map((row) => row.code));

/** This platform's libuv number for a code name, as Node reports it; `undefined` if it has none. */
function reportedErrno(name: string): number | undefined {
  const known = systemErrno(name);
  if (known !== undefined) return known;
  // On Unix libuv passes an errno it has no name for through as its negative (UV__ERR(errno)),
  // so Node reports e.g. EINPROGRESS as -115 on Linux; Windows has no such pass-through.
  const unix = process.platform === 'win32' ? undefined : (osConstants.errno as Record<string, number>)[name];
  return unix === undefined ? undefined : -unix;
}

/**
 * Fills in Node's system-error shape on `err` where it is missing and adds its `category`,
 * then returns the same object.
 *
 * - `code`: kept if it is a non-empty string; otherwise the code Node would report for what
 *   `classify` found (`'ENOTFOUND'` for `'host not found'`, `'ECONNREFUSED'` for Winsock
 *   10061, `'ABORT_ERR'` for an AbortError DOMException), or `'UNKNOWN'`.
 * - `errno`: kept if it is a non-zero integer; otherwise this platform's libuv number for the
 *   code, as Node reports it (-111 for ECONNREFUSED on Linux). Codes only Node produces get a
 *   fixed stand-in: any failed name lookup (ENOTFOUND, ESERVFAIL, …) gets UV_EAI_NONAME,
 *   -3008, the number `dns.lookup` gives ENOTFOUND; c-ares timeouts ETIMEDOUT's, cancellations
 *   ECANCELED's; the rest UNKNOWN's, -4094.
 * - `syscall`: kept; else taken from the `cause` chain, from a Node-style message
 *   (`'connect ECONNREFUSED …'`), from `context.op`, or from a category only one call has
 *   (`'getaddrinfo'` for host-not-found, `'connect'` for refused); else `'unknown'`.
 * - `category`: always set, from `classify(err, context)`.
 * - `hostname`, `address`, `port`: kept; else from the `cause` chain, the context, or a
 *   Node-style message (`'connect ECONNREFUSED 127.0.0.1:80'`); left out when unknown.
 *
 * @param err - The error; anything `classify` reads as an error object.
 * @param context - The operation, re-connect flag and platform as for `classify`, plus the
 *   `hostname`, `address` and `port` when the caller knows them.
 * @throws TypeError when `err` is not an object (naming what it is), is an object `classify`
 *   cannot read (`{}`), or is frozen where a field must be added; TypeError or RangeError for a bad context.
 *
 * @example
 * ```ts
 * socket.on('error', (err) => {
 *   const e = normalizeError(err, { op: 'connect' });
 *   log(e.category, e.code, e.errno, e.syscall, e.address, e.port); // 'refused' 'ECONNREFUSED' -111 'connect' …
 * });
 * normalizeError(new Error('host not found'));
 * // { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', category: 'host-not-found', … }
 * ```
 */
export function normalizeError<E extends object>(err: E, context?: NormalizeContext): NormalizedError<E>;
export function normalizeError(err: unknown, context?: NormalizeContext): NormalizedError<Error>;
export function normalizeError(err: unknown, context?: NormalizeContext): NormalizedError<object> {
  if ((typeof err !== 'object' && typeof err !== 'function') || err === null) {
    throw new TypeError(`normalizeError: err must be an error object, got ${quote(err)}`);
  }
  const where = readWhere(context);
  let description: Description;
  try {
    description = describe(err as ErrorLike, context);
  } catch (error) {
    throw renamed(error);
  }
  const current = err as Record<string, unknown>;
  const causes = causeChain(current);
  const code = isText(current.code) ? (current.code as string) : nodeCode(description);
  const fromMessage = parseMessage(current.message, code, description);
  const updates: Partial<NormalizedFields> = {};
  if (!isText(current.code)) updates.code = code;
  if (!(typeof current.errno === 'number' && Number.isInteger(current.errno) && current.errno !== 0)) {
    updates.errno = causeErrno(causes, code) ?? errnoFor(code, description);
  }
  if (!isText(current.syscall)) {
    updates.syscall =
      firstText(causes, 'syscall') ??
      fromMessage?.syscall ??
      (context?.op === undefined ? undefined : OP_SYSCALLS[context.op]) ??
      CATEGORY_SYSCALLS[description.category] ??
      'unknown';
  }
  const hostname = firstText(causes, 'hostname') ?? where.hostname ?? fromMessage?.hostname;
  if (!isText(current.hostname) && hostname !== undefined) updates.hostname = hostname;
  const address = firstText(causes, 'address') ?? where.address ?? fromMessage?.address;
  if (!isText(current.address) && address !== undefined) updates.address = address;
  const port = firstPort(causes) ?? where.port ?? fromMessage?.port;
  if (!isPort(current.port) && port !== undefined) updates.port = port;
  updates.category = description.category;
  apply(current, updates);
  return current as NormalizedError<object>;
}

/** The code Node itself would put in `err.code` for what `describe` found. */
function nodeCode(description: Description): string {
  if (description.source === 'none') return 'UNKNOWN';
  if (description.source === 'node') return NAME_CODES[description.code] ?? description.code;
  if (description.source === 'winsock') {
    // Node on Windows reports the libuv translation (10061 → ECONNREFUSED, 10022 → EINVAL);
    // without one, the Berkeley alias the row lists first (10036 → EINPROGRESS).
    const row = description.number === null ? undefined : lookupNumber(description.number, 'win32');
    return row?.reportedAs?.code ?? description.names[0] ?? description.code;
  }
  // libuv and errno rows: the preferred name (EAGAIN for Linux 11, not EWOULDBLOCK).
  return description.names[0] ?? description.code;
}

/** This platform's number for `code` as Node would report it; stand-ins for Node-only codes. */
function errnoFor(code: string, description: Description): number {
  const nodeOnly = NODE_ONLY.has(code) || lookupName(code, description.platform)?.source === 'node';
  if (!nodeOnly) {
    const own = reportedErrno(code);
    if (own !== undefined) return own;
  }
  const standIn = STAND_INS[description.category];
  return (nodeOnly && standIn !== undefined ? reportedErrno(standIn) : undefined) ?? reportedErrno('UNKNOWN')!;
}

interface MessageFields {
  syscall?: string;
  hostname?: string;
  address?: string;
  port?: number;
}

/**
 * Reads Node's own message shape: `connect ECONNREFUSED 127.0.0.1:80`,
 * `getaddrinfo ENOTFOUND example.invalid`. Only when the code word is the error's code (or
 * one of its names), so a message that merely starts with two words is not mistaken for one.
 */
function parseMessage(message: unknown, code: string, description: Description): MessageFields | undefined {
  if (typeof message !== 'string') return undefined;
  const match = NODE_MESSAGE.exec(message);
  if (match === null) return undefined;
  const [, syscall, word, detail] = match;
  if (word !== code && word !== description.code && !description.names.includes(word)) return undefined;
  if (detail === undefined) return { syscall };
  if (description.category === 'host-not-found') return { syscall, hostname: detail };
  const hostPort = /^\[?(.+?)\]?:(\d+)$/.exec(detail);
  if (hostPort === null) return { syscall };
  const port = Number(hostPort[2]);
  return isPort(port) ? { syscall, address: hostPort[1], port } : { syscall, address: hostPort[1] };
}

/** The `cause` chain below `err` (not `err` itself), at most {@link MAX_CAUSE_DEPTH} deep. */
function causeChain(err: Record<string, unknown>): Array<Record<string, unknown>> {
  const chain: Array<Record<string, unknown>> = [];
  let cause = err.cause;
  while (chain.length < MAX_CAUSE_DEPTH && typeof cause === 'object' && cause !== null && cause !== err) {
    chain.push(cause as Record<string, unknown>);
    cause = (cause as Record<string, unknown>).cause;
  }
  return chain;
}

function firstText(errors: ReadonlyArray<Record<string, unknown>>, key: string): string | undefined {
  for (const error of errors) if (isText(error[key])) return error[key] as string;
  return undefined;
}

/** The errno of a cause that carries the same code (a wrapper such as fetch's TypeError around a DNS error). */
function causeErrno(errors: ReadonlyArray<Record<string, unknown>>, code: string): number | undefined {
  for (const error of errors) {
    if (error.code === code && typeof error.errno === 'number' && Number.isInteger(error.errno) && error.errno !== 0) return error.errno;
  }
  return undefined;
}

function firstPort(errors: ReadonlyArray<Record<string, unknown>>): number | undefined {
  for (const error of errors) if (isPort(error.port)) return error.port as number;
  return undefined;
}

const isText = (value: unknown): boolean => typeof value === 'string' && value.trim() !== '';
const isPort = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535;

function readWhere(context: NormalizeContext | undefined): { hostname?: string; address?: string; port?: number } {
  if (typeof context !== 'object' || context === null) return {}; // describe() rejects a bad context
  const { hostname, address, port } = context;
  for (const [key, value] of [['hostname', hostname], ['address', address]] as const) {
    if (value !== undefined && !isText(value)) {
      throw new TypeError(`normalizeError: context.${key} must be a non-empty string, got ${quote(value)}`);
    }
  }
  if (port !== undefined && !isPort(port)) {
    throw new TypeError(`normalizeError: context.port must be an integer from 0 to 65535, got ${quote(port)}`);
  }
  return { hostname, address, port };
}

/**
 * Writes the fields as own, enumerable data properties, as Node's system errors have them.
 * Checks every field first, so a frozen or read-only error is left untouched rather than half done.
 * (defineProperty, not assignment: a DOMException's `code` is a getter on its prototype.)
 */
function apply(err: Record<string, unknown>, updates: Partial<NormalizedFields>): void {
  for (const key of Object.keys(updates)) {
    const own = Object.getOwnPropertyDescriptor(err, key);
    const blocked = own === undefined ? !Object.isExtensible(err) : own.configurable === false && own.writable !== true;
    if (blocked) {
      const what = quote(err);
      throw new TypeError(`normalizeError: cannot set ${key} on ${what}: the object is frozen or ${key} is read-only`);
    }
  }
  for (const [key, value] of Object.entries(updates)) {
    if (Object.getOwnPropertyDescriptor(err, key)?.configurable === false) err[key] = value;
    else Object.defineProperty(err, key, { value, writable: true, enumerable: true, configurable: true });
  }
}

/** Rewrites classify's errors so they name this function. */
function renamed(error: unknown): unknown {
  if (error instanceof TypeError) return new TypeError(error.message.replace(/^classify:/, 'normalizeError:'));
  if (error instanceof RangeError) return new RangeError(error.message.replace(/^classify:/, 'normalizeError:'));
  return error;
}
