/**
 * Error messages that carry no code, and the code each one stands for.
 *
 * Only for errors that have nothing better: `classify` reads `code`, then `errno`, then
 * the message. The messages of the other tables (libuv's "connection refused", the kernel's
 * "Connection refused", Microsoft's "Host not found") are matched too; this table adds the
 * ones they lack. Phrases are lower-case, without trailing punctuation.
 */
import type { PhraseRow } from './row';

/** Message texts without a code, one row each. */
export const PHRASES: readonly PhraseRow[] = [
  // The 2001 report: Python 2.1 on Windows raised ('host not found',) with no number.
  { phrase: 'host not found', code: 'ENOTFOUND' },
  // CPython's socket.timeout message.
  { phrase: 'timed out', code: 'ETIMEDOUT' },
  // Node lib/_http_client.js: the server closed the connection before answering.
  { phrase: 'socket hang up', code: 'ECONNRESET' },
  // Node lib/net.js writeAfterFIN (its code is EPIPE).
  { phrase: 'this socket has been ended by the other party', code: 'EPIPE' },
  // Node ERR_SOCKET_CLOSED.
  { phrase: 'socket is closed', code: 'ERR_SOCKET_CLOSED' },
  // Node's AbortError and the DOMException of AbortController.abort().
  { phrase: 'the operation was aborted', code: 'ABORT_ERR' },
  { phrase: 'this operation was aborted', code: 'ABORT_ERR' },
  // The DOMException of AbortSignal.timeout().
  { phrase: 'the operation was aborted due to timeout', code: 'TimeoutError' },
];
