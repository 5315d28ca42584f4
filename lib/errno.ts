/**
 * The `timeoutsocket/errno` entry: classify, describe and normalizeError with the tables they
 * read, and nothing else. Importing it patches nothing and applies no environment, and nothing
 * it loads imports `node:net`, so a tool that only wants to name an error (a log processor, a
 * test helper, a CLI) can use it without turning deadlines on. The main entry re-exports all of
 * it, so `import { classify } from 'timeoutsocket'` still works.
 *
 * @example
 * ```ts
 * import { classify } from 'timeoutsocket/errno';
 * classify('ECONNREFUSED'); // 'refused'
 * ```
 */
export { CATEGORIES, CATEGORY_MEANINGS, CATEGORY_SET } from './errno/categories';
export {
  OPERATIONS,
  classify,
  describe,
  type Category,
  type ClassifyContext,
  type Description,
  type ErrorCode,
  type ErrorLike,
  type Operation,
  type Platform,
  type Source,
} from './classify';
export { normalizeError, type NormalizeContext, type NormalizedError, type NormalizedFields } from './normalize';
export { PLATFORMS } from './errno/index';
export { DARWIN_ERRNO } from './errno/darwin';
export { LIBUV } from './errno/libuv';
export { LINUX_ERRNO } from './errno/linux';
export { NODE_CODES } from './errno/node';
export { PHRASES } from './errno/phrases';
export { WINSOCK } from './errno/winsock';
export type { ErrnoRow, LibuvRow, NodeCodeRow, PhraseRow, WinsockRow } from './errno/row';
