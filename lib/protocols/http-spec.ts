/**
 * `http`'s entry in the protocol table, and the facts about a response the engine reads lazily.
 *
 * A write on an http socket opens no reply window by itself: the client layer (Node's http,
 * undici) says when a request has been handed over and when its response arrived, through
 * diagnostics_channel (lib/protocols/http.ts). The reply deadline runs from the end of the
 * request to the response's first byte; a response that declares its length is then bounded by
 * inactivity until it ends; an open-ended one (chunked, close-delimited) is settled by its head.
 */
import type { Protocol } from './index';

/** The `http` protocol. */
export const HTTP: Protocol = Object.freeze({ name: 'http', id: 4, repliesToWrites: false, greetsFirst: false });

/**
 * What says whether a response's body is over: Node's `IncomingMessage` (`complete` once the
 * parser saw the whole message, `aborted`/`destroyed` when it never will). Read at the head and
 * when the timer fires, never listened to. (undici's body windows close on undici's own end
 * messages instead: lib/protocols/http.ts.)
 */
export interface BodyOwner {
  complete?: boolean;
  aborted?: boolean;
  destroyed?: boolean;
}

/** Is the response body the engine bounds over (complete, or abandoned)? */
export function bodyEnded(body: BodyOwner | undefined): boolean {
  return body === undefined || body.complete === true || body.aborted === true || body.destroyed === true;
}

/**
 * Does a response declare its length, so that its body is bounded by inactivity? Only a
 * Content-Length without chunked Transfer-Encoding (which wins, RFC 9112 §6.3), on a response
 * that has a body: not to HEAD, not 1xx, 204 or 304 (RFC 9110 §6.4.1).
 */
export function declaresLength(method: unknown, status: unknown, contentLength: unknown, transferEncoding: unknown): boolean {
  if (method === 'HEAD' || typeof status !== 'number' || status < 200 || status === 204 || status === 304) return false;
  if (contentLength === undefined || contentLength === null) return false;
  if (transferEncoding !== undefined && transferEncoding !== null) return false;
  const length = Number(contentLength);
  return Number.isInteger(length) && length > 0;
}
