/**
 * `http`: the request lifecycle of Node's http/https client and of undici (and so `fetch`),
 * read from the diagnostics_channel messages both publish. Nothing in http or undici is patched,
 * and subscribing loads neither. Subscribers run synchronously inside the publishing call, so
 * each one does a few property reads and hands over to the engine.
 *
 * What each layer publishes, as measured on Node 20.20 and 24.22 (the undici bundled with them):
 * - Node's http: `http.client.request.start` ({ request }) when the request has been ended and
 *   handed to its socket (ClientRequest `_finish`), `request.socket` set; and
 *   `http.client.response.finish` ({ request, response }) when the response's HEAD has been
 *   parsed, just before 'response', not at the end of its body. Neither is published for an
 *   upgrade (101) or a CONNECT: the socket leaves http through 'upgrade'/'connect' instead.
 * - undici: `undici:client:sendHeaders` ({ request, headers, socket }) before the head is
 *   written, `undici:request:bodySent` ({ request }) once the body (if any) is written,
 *   `undici:request:headers` ({ request, response: { statusCode, headers } }, raw header
 *   pairs), `undici:request:trailers` ({ request, trailers }) when the response is complete
 *   (`request.completed` is then true), and `undici:request:error` ({ request, error }).
 *   Only `sendHeaders` names the socket; the others are matched through the request.
 *
 * The body of a response that declares its length is bounded by inactivity: the engine samples
 * `socket.bytesRead` when its timer fires, and the body ends with undici's trailers or error
 * message, or, for Node's http, which publishes nothing then, when the response says it is
 * complete (`IncomingMessage.complete`, read when the timer fires). No listener is added to the
 * response or the socket: a 'data' or 'readable' listener would switch an IncomingMessage into
 * flowing mode.
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';
import {
  BODY_ENDED_BY_MESSAGE,
  BODY_OF_HTTP_REQUEST,
  httpClientSocket,
  httpRequestSent,
  httpResponseEnd,
  httpResponseHead,
  NO_BODY_WINDOW,
  type BodyWindow,
  type InternalSocket,
} from '../engine';
import { bodyEnded, declaresLength, type BodyOwner } from './http-spec';

/** The channels read, by layer. */
export const HTTP_CHANNELS = Object.freeze({
  requestStart: 'http.client.request.start',
  responseFinish: 'http.client.response.finish',
  undiciSendHeaders: 'undici:client:sendHeaders',
  undiciBodySent: 'undici:request:bodySent',
  undiciHeaders: 'undici:request:headers',
  undiciTrailers: 'undici:request:trailers',
  undiciError: 'undici:request:error',
} as const);

/** The parts of Node's ClientRequest read here. */
interface NodeRequest {
  socket?: unknown;
  method?: string;
  getHeader?(name: string): unknown;
  /** The serialised request head (OutgoingMessage `_header`), set once the head was built. */
  _header?: unknown;
  /** The response (ClientRequest `res`), set when its head was parsed, before `response.finish`. */
  res?: unknown;
}

/** The parts of Node's IncomingMessage read here. */
interface NodeResponse extends BodyOwner {
  statusCode?: number;
  headers?: Record<string, unknown>;
}

/** The parts of undici's request read here. */
interface UndiciRequest extends BodyOwner {
  method?: string;
  upgrade?: unknown;
}

/**
 * undici names the socket only when it sends the head; later messages carry the request. The
 * watcher keeps the socket on the request itself, under a property of its own: a request lives
 * only as long as undici needs it, so the socket it names keeps nothing alive longer. Not a
 * WeakMap keyed by the request (as before): a set and a delete per request go through V8's
 * runtime, an ephemeron table has a write barrier of its own, and the major GC's marker
 * revisits ephemerons until the marking settles (with the engine's WeakMap of response bodies,
 * gone too, about 2,000 instructions per fetch() request went to the WeakMaps' own calls,
 * armed: CHANGELOG). The key is a symbol of this copy of the package (not among the request's
 * string keys: `Object.keys`, for-in, JSON), and the property is only ever overwritten, never
 * deleted (which would turn the request into a dictionary object for undici's own code). Only
 * a request sent on a socket with a deadline is marked (it shows in `util.inspect` and
 * `Object.getOwnPropertySymbols` of a request held through undici's channels); with none in
 * force every request stays as undici made it.
 */
const SOCKET = Symbol('timeoutsocket.undici.socket');

/**
 * Set on an undici request whose head went out and whose body is not sent yet. A server may
 * answer before the body is sent (a 401 or 413 to an upload): `undici:request:headers` then
 * comes first and clears it, and its `bodySent` opens no reply window, which would replace the
 * response body's window (or wait for a byte that never comes). Kept on the request like
 * {@link SOCKET}: per request, not per socket, as requests pipelined on one socket are answered
 * one after another.
 */
const UNSENT = Symbol('timeoutsocket.undici.unsent');

/** An undici request as the watcher marks it. */
interface MarkedRequest {
  [SOCKET]?: InternalSocket | undefined;
  [UNSENT]?: boolean;
}

/**
 * The marks of undici requests that cannot take properties: made non-extensible by code other
 * than undici's (an instrumentation's subscriber; undici never does), which would otherwise lose
 * their body deadline. Looked at only once one such request was seen ({@link marksAside}), so
 * every other request pays nothing for it.
 */
const asideMarks = new WeakMap<object, MarkedRequest>();
let marksAside = false;

/** Marks `request` as sent on `socket`, its body not yet: on the request, or aside. */
function mark(request: object, socket: InternalSocket): void {
  if (Object.isExtensible(request)) {
    // Both fields are written together, in this order, so that every request goes through the
    // same two hidden-class transitions.
    (request as MarkedRequest)[SOCKET] = socket;
    (request as MarkedRequest)[UNSENT] = true;
    return;
  }
  marksAside = true;
  asideMarks.set(request, { [SOCKET]: socket, [UNSENT]: true });
}

/** Where the marks of `request` are: on it (unmarked ones too), or aside. */
function marksOf(request: object): MarkedRequest {
  if (!marksAside || (request as MarkedRequest)[SOCKET] !== undefined) return request as MarkedRequest;
  return asideMarks.get(request) ?? (request as MarkedRequest);
}

function asSocket(value: unknown): InternalSocket | undefined {
  return typeof value === 'object' && value !== null && typeof (value as { write?: unknown }).write === 'function'
    ? (value as InternalSocket)
    : undefined;
}

function onRequestStart(message: unknown): void {
  const request = (message as { request?: NodeRequest }).request;
  const socket = asSocket(request?.socket);
  if (request === undefined || socket === undefined || answeredEarly(request)) return;
  httpRequestSent(socket, request, isNodeTunnel);
}

/**
 * A server may answer before the request ends (a 401 or 413 to an upload): `request.start` then
 * comes after the response's head, or after the whole response, and a reply window opened then
 * waits for a byte that never comes, and kills the socket idle in its agent's pool. Node sets
 * `request.res` in `parserOnIncomingClient` before it publishes `response.finish` (measured on
 * 20.20, 22.23, 24.22 and 26.12); a 1xx head does not set it.
 */
function answeredEarly(request: NodeRequest): boolean {
  return request.res !== undefined && request.res !== null;
}

/** An Upgrade header line in a request head Node has already serialised. */
const UPGRADE_LINE = /\r\nupgrade[ \t]*:/i;

/**
 * Is a Node http request an upgrade or a CONNECT? Neither gets `http.client.response.finish`:
 * the socket leaves http through 'upgrade'/'connect'. Headers given as an object are found by
 * `getHeader`; headers given as a raw array only in the serialised head (`_header`). A request
 * whose Host header `getHeader` finds was built from an object (Node sets Host with `setHeader`
 * only then; with a raw array its headers store stays empty, or holds only the proxy headers
 * Node 24 adds): its head holds nothing `getHeader` does not see, so the head is not scanned
 * (a regular expression over the head, per request).
 */
function isNodeTunnel(request: NodeRequest): boolean {
  if (request.method === 'CONNECT') return true;
  if (typeof request.getHeader === 'function') {
    if (request.getHeader('upgrade') !== undefined) return true;
    if (request.getHeader('host') !== undefined) return false;
  }
  return typeof request._header === 'string' && UPGRADE_LINE.test(request._header);
}

/** What `http.client.response.finish` carries. */
interface NodeResponseMessage {
  request?: NodeRequest;
  response?: NodeResponse;
}

function onResponseFinish(message: unknown): void {
  const { request, response } = message as NodeResponseMessage;
  const socket = asSocket(request?.socket);
  if (socket === undefined || response === undefined) return;
  httpResponseHead(socket, message as NodeResponseMessage, nodeBody);
}

/**
 * A response that declares its length, and whose body is not over yet, gets a body window; the
 * engine finds the response again through the socket when its timer looks (`request.res`), so
 * it keeps no record of it.
 */
function nodeBody({ request, response }: NodeResponseMessage): BodyWindow {
  const headers = response!.headers ?? {};
  if (!declaresLength(request?.method, response!.statusCode, headers['content-length'], headers['transfer-encoding'])) return NO_BODY_WINDOW;
  return bodyEnded(response) ? NO_BODY_WINDOW : BODY_OF_HTTP_REQUEST;
}

function onUndiciSendHeaders(message: unknown): void {
  const { request, socket: value } = message as { request?: object; socket?: unknown };
  const socket = asSocket(value);
  // Only a request on a socket with a deadline is marked: with none in force, undici's
  // requests stay exactly as undici made them.
  if (request === undefined || socket === undefined || httpClientSocket(socket) === undefined) return;
  mark(request, socket);
}

function onUndiciBodySent(message: unknown): void {
  const request = (message as { request?: UndiciRequest }).request;
  if (request === undefined) return;
  const marks = marksOf(request);
  const socket = marks[SOCKET];
  if (socket === undefined || marks[UNSENT] !== true) return;
  marks[UNSENT] = false;
  httpRequestSent(socket, request, isUndiciTunnel);
}

/** Is an undici request an upgrade or a CONNECT? */
function isUndiciTunnel(request: UndiciRequest): boolean {
  return request.method === 'CONNECT' || (request.upgrade !== undefined && request.upgrade !== null && request.upgrade !== false);
}

/** What `undici:request:headers` carries. */
interface UndiciHeadersMessage {
  request?: UndiciRequest;
  response?: { statusCode?: number; headers?: unknown };
}

function onUndiciHeaders(message: unknown): void {
  const { request, response } = message as UndiciHeadersMessage;
  if (request === undefined || response === undefined) return;
  const marks = marksOf(request);
  const socket = marks[SOCKET];
  if (socket === undefined) return;
  if (response.statusCode === undefined || response.statusCode >= 200) marks[UNSENT] = false; // a 1xx is no answer yet
  httpResponseHead(socket, message as UndiciHeadersMessage, undiciBody);
}

/**
 * A response that declares its length gets a body window. undici always ends a response with
 * `undici:request:trailers` or `undici:request:error` (its request's `onComplete` and `onError`
 * publish them before they call the request's handler): the window closes on that message, so
 * the engine keeps no record of the request for it.
 */
function undiciBody({ request, response }: UndiciHeadersMessage): BodyWindow {
  const { statusCode, headers } = response!;
  const bounded = declaresLength(request!.method, statusCode, rawHeader(headers, 'content-length'), rawHeader(headers, 'transfer-encoding'));
  return bounded ? BODY_ENDED_BY_MESSAGE : NO_BODY_WINDOW;
}

function onUndiciDone(message: unknown): void {
  const request = (message as { request?: object }).request;
  if (request === undefined) return;
  const marks = marksOf(request);
  const socket = marks[SOCKET];
  if (socket === undefined) return;
  marks[SOCKET] = undefined;
  httpResponseEnd(socket);
}

/** A header's value from undici's raw pairs (`[name, value, name, value, …]`, Buffers or strings). */
function rawHeader(headers: unknown, name: string): string | undefined {
  if (!Array.isArray(headers)) return undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const key = headers[i] as Buffer | string;
    if (key.length === name.length && key.toString().toLowerCase() === name) return String(headers[i + 1]);
  }
  return undefined;
}

const SUBSCRIPTIONS: ReadonlyArray<readonly [string, (message: unknown) => void]> = [
  [HTTP_CHANNELS.requestStart, onRequestStart],
  [HTTP_CHANNELS.responseFinish, onResponseFinish],
  [HTTP_CHANNELS.undiciSendHeaders, onUndiciSendHeaders],
  [HTTP_CHANNELS.undiciBodySent, onUndiciBodySent],
  [HTTP_CHANNELS.undiciHeaders, onUndiciHeaders],
  [HTTP_CHANNELS.undiciTrailers, onUndiciDone],
  [HTTP_CHANNELS.undiciError, onUndiciDone],
];

/**
 * Subscribes to the client layers' channels; called by `install()`, and by the preload's first use (lib/lazy-install.ts `loadPatch`). Returns what ends these
 * subscriptions, which the patch keeps in the shared runtime record: when two copies of the
 * package are loaded, the copy that uninstalls must remove the installing copy's subscribers.
 */
export function watchHttpClients(): () => void {
  for (const [name, handler] of SUBSCRIPTIONS) diagnosticsChannel.subscribe(name, handler);
  return unwatchHttpClients;
}

function unwatchHttpClients(): void {
  for (const [name, handler] of SUBSCRIPTIONS) diagnosticsChannel.unsubscribe(name, handler);
}
