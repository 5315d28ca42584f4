/**
 * Lookups over the errno tables: by number for a platform, by symbolic name, by message.
 *
 * The tables stay plain data; this file only indexes them (once, at load) and turns a row
 * of any table into one `Match` shape for `classify.ts`.
 */
import type { Category } from './categories';
import { DARWIN_ERRNO } from './darwin';
import { LIBUV } from './libuv';
import { LINUX_ERRNO } from './linux';
import { NODE_CODES } from './node';
import { PHRASES } from './phrases';
import type { ErrnoRow, LibuvRow } from './row';
import { WINSOCK } from './winsock';

/** A platform whose numbers the tables know. */
export type Platform = 'linux' | 'darwin' | 'win32';

/** The platforms the tables know, for membership tests. */
export const PLATFORMS: ReadonlySet<string> = new Set<Platform>(['linux', 'darwin', 'win32']);

/** Which table answered. */
export type Source = 'libuv' | 'errno' | 'winsock' | 'node';

/** A row of any table, in one shape. */
export interface Match {
  /** Which table the row is from. */
  readonly source: Source;
  /** The row's preferred symbolic name. */
  readonly code: string;
  /** Every symbolic name of the row's number on the platform (just the code for Node rows). */
  readonly names: readonly string[];
  /** The row's number (negative for libuv), or null for Node's code strings. */
  readonly number: number | null;
  /** The row's category. */
  readonly category: Category;
  /** The source's own description. */
  readonly text: string;
  /** How Node reports it, when that differs from the row (Winsock codes on Windows). */
  readonly reportedAs: { readonly code: string; readonly number: number } | null;
}

/** Winsock numbers start here; no Linux or macOS errno comes near. */
const WINSOCK_BASE = 10000;

const ERRNO: Readonly<Record<'linux' | 'darwin', readonly ErrnoRow[]>> = { linux: LINUX_ERRNO, darwin: DARWIN_ERRNO };

const byNumber = <R extends { number: number }>(rows: readonly R[]): Map<number, R> =>
  new Map(rows.map((row) => [row.number, row]));
const byNames = <R extends { names: readonly string[] }>(rows: readonly R[]): Map<string, R> =>
  new Map(rows.flatMap((row) => row.names.map((name) => [name, row] as const)));

const ERRNO_BY_NUMBER = { linux: byNumber(LINUX_ERRNO), darwin: byNumber(DARWIN_ERRNO) };
const ERRNO_BY_NAME = { linux: byNames(LINUX_ERRNO), darwin: byNames(DARWIN_ERRNO) };
const WINSOCK_BY_NUMBER = byNumber(WINSOCK);
const WINSOCK_BY_NAME = byNames(WINSOCK);
const LIBUV_BY_NAME = new Map(LIBUV.map((row) => [row.name, row]));
const LIBUV_BY_NUMBER: Readonly<Record<Platform, Map<number, LibuvRow>>> = {
  linux: new Map(LIBUV.map((row) => [row.linux, row])),
  darwin: new Map(LIBUV.map((row) => [row.darwin, row])),
  win32: new Map(LIBUV.map((row) => [row.win32, row])),
};
const NODE_BY_CODE = new Map(NODE_CODES.map((row) => [row.code, row]));

const unique = (names: readonly string[]): readonly string[] => [...new Set(names)];

function fromErrno(row: ErrnoRow): Match {
  return { source: 'errno', code: row.names[0], names: row.names, number: row.number, category: row.category, text: row.message, reportedAs: null };
}

function fromWinsock(number: number): Match | undefined {
  const row = WINSOCK_BY_NUMBER.get(number);
  if (row === undefined) return undefined;
  const uv = row.libuv === null ? undefined : LIBUV_BY_NAME.get(row.libuv);
  const reportedAs = uv === undefined ? null : { code: uv.name, number: uv.win32 };
  return { source: 'winsock', code: row.names[0], names: row.names, number: row.number, category: row.category, text: row.message, reportedAs };
}

function fromLibuv(row: LibuvRow, platform: Platform): Match {
  const number = row[platform];
  // On Unix most libuv codes are minus an errno: list that errno's other names too (-11 is EAGAIN and EWOULDBLOCK).
  const errno = platform === 'win32' ? undefined : ERRNO_BY_NUMBER[platform].get(-number);
  const names = errno?.names.includes(row.name) ? unique([row.name, ...errno.names]) : [row.name];
  return { source: 'libuv', code: row.name, names, number, category: row.category, text: row.message, reportedAs: null };
}

/**
 * Finds the row for a number on a platform: Winsock for 10000 and up (and for any positive
 * number on Windows), libuv for negative numbers, the platform's errno otherwise.
 */
export function lookupNumber(number: number, platform: Platform): Match | undefined {
  if (number >= WINSOCK_BASE || (number > 0 && platform === 'win32')) return fromWinsock(number);
  if (number < 0) {
    const row = LIBUV_BY_NUMBER[platform].get(number);
    return row === undefined ? undefined : fromLibuv(row, platform);
  }
  const row = ERRNO_BY_NUMBER[platform as 'linux' | 'darwin'].get(number);
  return row === undefined ? undefined : fromErrno(row);
}

/**
 * Finds the row for a symbolic name, in the order Node's own codes, libuv, the platform's
 * errno, Winsock (so `'EAGAIN'` is libuv's, `'EWOULDBLOCK'` on Linux is errno 11).
 */
export function lookupName(name: string, platform: Platform): Match | undefined {
  const node = NODE_BY_CODE.get(name);
  if (node !== undefined) {
    return { source: 'node', code: node.code, names: [node.code], number: null, category: node.category, text: node.message, reportedAs: null };
  }
  const uv = LIBUV_BY_NAME.get(name);
  if (uv !== undefined) return fromLibuv(uv, platform);
  const errno = platform === 'win32' ? undefined : ERRNO_BY_NAME[platform].get(name);
  if (errno !== undefined) return fromErrno(errno);
  const winsock = WINSOCK_BY_NAME.get(name);
  return winsock === undefined ? undefined : fromWinsock(winsock.number);
}

/** Lower-cases a message and drops trailing punctuation, the form phrases are stored in. */
export function normalizePhrase(message: string): string {
  return message.trim().toLowerCase().replace(/[\s.!]+$/, '');
}

/** For each platform, every known message text and the code it stands for (first one wins). */
const PHRASE_TO_CODE: Readonly<Record<Platform, Map<string, string>>> = {
  linux: phraseIndex('linux'),
  darwin: phraseIndex('darwin'),
  win32: phraseIndex('win32'),
};

function phraseIndex(platform: Platform): Map<string, string> {
  const pairs: Array<readonly [string, string]> = [
    ...PHRASES.map((row) => [row.phrase, row.code] as const),
    ...LIBUV.map((row) => [row.message, row.name] as const),
    ...(platform === 'win32' ? [] : ERRNO[platform].map((row) => [row.message, row.names[0]] as const)),
    ...WINSOCK.map((row) => [row.message, row.names[row.names.length - 1]] as const),
  ];
  const index = new Map<string, string>();
  for (const [phrase, code] of pairs) {
    const key = normalizePhrase(phrase);
    if (!index.has(key)) index.set(key, code);
  }
  return index;
}

/** The code a whole message stands for ("host not found", "Connection refused"), if any. */
export function lookupPhrase(message: string, platform: Platform): string | undefined {
  return PHRASE_TO_CODE[platform].get(normalizePhrase(message));
}
