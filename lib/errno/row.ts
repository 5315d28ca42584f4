/**
 * The shapes of the rows in the errno tables (data only; lookups live in `index.ts`).
 */
import type { Category } from './categories';

/** One errno number of one platform, with every symbolic name it has. */
export interface ErrnoRow {
  /** The positive errno (or Winsock) number. */
  readonly number: number;
  /** Every symbolic name for the number, the preferred one first (`['EAGAIN', 'EWOULDBLOCK']`). */
  readonly names: readonly string[];
  /** What the code means for a socket. */
  readonly category: Category;
  /** The authoritative source's own short description. */
  readonly message: string;
}

/** One Windows Sockets error code, and how Node (libuv) reports it. */
export interface WinsockRow extends ErrnoRow {
  /** The libuv code Node reports for it on Windows, or null when libuv has no translation. */
  readonly libuv: string | null;
}

/** One libuv error code, with the number it has on each platform Node reports it from. */
export interface LibuvRow {
  /** The code without its `UV_` prefix, as Node puts it in `err.code` (`'ECONNREFUSED'`). */
  readonly name: string;
  /** Its number on Linux (minus the errno, or libuv's own fixed number). */
  readonly linux: number;
  /** Its number on macOS. */
  readonly darwin: number;
  /** Its number on Windows (always libuv's own fixed number, e.g. -4078). */
  readonly win32: number;
  /** What the code means for a socket. */
  readonly category: Category;
  /** libuv's message for it (`uv_strerror`), which Node uses too. */
  readonly message: string;
  /** The first libuv release with this code, when newer than 1.30.0. */
  readonly since?: string;
}

/** One code string that only Node (not the operating system) produces. */
export interface NodeCodeRow {
  /** The `err.code` string (`'ENOTFOUND'`, `'ERR_SOCKET_CLOSED'`) or, for `kind: 'name'`, the `err.name`. */
  readonly code: string;
  /** Whether Node puts the string in `err.code` or (DOMExceptions) in `err.name`. */
  readonly kind: 'code' | 'name';
  /** What the code means for a socket. */
  readonly category: Category;
  /** What Node's documentation says it means. */
  readonly message: string;
}

/** A message text (without a code) that names a known code. */
export interface PhraseRow {
  /** The message, lower-cased, without trailing punctuation. */
  readonly phrase: string;
  /** The code it stands for, looked up like any code string. */
  readonly code: string;
}
