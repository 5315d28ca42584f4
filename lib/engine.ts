/**
 * The timeout engine: one deadline state machine per socket, driven by at most one timer.
 *
 * Three phases, each armed by an event the patch already sees and settled lazily when the
 * timer fires, never per chunk:
 * - connect: armed by `connect()`, settled once `connecting` is false (and, for TLS clients,
 *   the handshake is done).
 * - read (the reply deadline): armed by a write on a client socket with no reply pending,
 *   settled as soon as `bytesRead` moved past its mark.
 * - write (the stall deadline): armed by a write that libuv could not flush at once, settled
 *   once nothing is queued; it fires when the queue made no progress for the timeout.
 *
 * The timer (lib/deadline-timer.ts) is refreshed, never re-created, to the earliest due time.
 * A deadline found past is never fired on that first look: pending I/O runs once
 * (`setImmediate`) and a second look decides, so a loop that was merely blocked does not turn
 * an answer that already arrived into a timeout. The second look fires only a deadline that was
 * already past at the first look; a reply window opened since gets a look of its own.
 */
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Phase, PhaseTimeouts } from './config';
import { DeadlineTimer, earliestDue, FIRST_LOOK, hasExpired, NOTHING_DUE, type DeadlineOwner } from './deadline-timer';
import { SocketTimeoutError } from './errors';
import { noteArmed, noteCleared, noteFalseAlarm, noteFired, noteSocket } from './observe';
import { RULE, type CompiledRule } from './rules/index';
import { runtime } from './runtime';

/** The libuv stream handle fields the engine samples (TCP and TLSWrap both have them). */
interface StreamHandle {
  reading?: boolean;
  bytesWritten?: number;
  writeQueueSize?: number;
}

/**
 * The Node internals of `net.Socket` read here, the same on Node 20 to 26: `_handle` is the
 * libuv stream handle (class `TCP`, or `TLSWrap` for TLS), null until connect and after destroy;
 * a `tls.TLSSocket` has `encrypted: true`, `_tlsOptions.isServer` on the server side, and sets
 * `_secureEstablished` once the handshake is verified (just before 'secure'); `server` and
 * `_server` are set on a socket a `net.Server` accepted, just before 'connection'.
 */
export interface InternalSocket extends net.Socket {
  _handle: StreamHandle | null;
  _secureEstablished?: boolean;
  _tlsOptions?: { isServer?: boolean };
  encrypted?: boolean;
  server?: unknown;
  _server?: unknown;
  [STATE]?: SocketState | typeof NOT_TCP;
  [SETTING]?: PhaseTimeouts;
  [CLIENT]?: true;
}

/** Re-exported for the awaitable API, which still imports it from here. */
export { DUE_SLACK_MS } from './deadline-timer';

/** Where a socket keeps its engine state (a registry symbol, so every copy of the package finds it). */
export const STATE = Symbol.for('timeoutsocket.state.v1');

/**
 * Where a socket (or server) keeps its own setting from `setSocketTimeout()`. Apart from the
 * engine state because every socket has a mode, IPC ones included, while only TCP gets deadlines.
 */
export const SETTING = Symbol.for('timeoutsocket.setting.v1');

/**
 * Marks a socket that went through `connect()`: only such a client (or a TLS client) gets a
 * reply deadline. Not `socket.server`: a server-side socket handed to a worker process
 * (`new net.Socket({ handle })`, the sticky-session pattern) has no `server` but is no client.
 */
export const CLIENT = Symbol.for('timeoutsocket.client.v1');

/** Marks a socket that is not TCP (IPC pipe, TTY, child stdio): the engine never touches it. */
export const NOT_TCP = Object.freeze({ notTcp: true as const });

/** Handle classes of TCP sockets: plain TCP, and TLS on top of it. */
const TCP_HANDLES: ReadonlySet<string> = new Set(['TCP', 'TLSWrap']);

/** Bits of {@link SocketState.flags}. */
const IS_CLIENT = 2;
const AWAITABLE = 4;
const WRITE_WATCH = 8;
const AWAITING_SECURE = 16;

/**
 * The engine's record for one socket, allocated once per socket and kept small, since an idle
 * connected socket holds it for its whole life: every field holds a small integer (a Smi) or a
 * pointer. Times are whole milliseconds of {@link stamp}, since a field that ever held a
 * fractional number is boxed by V8 (a 16-byte HeapNumber per field and socket); the booleans
 * share one bit field.
 */
export class SocketState extends DeadlineTimer {
  /** IS_CLIENT | AWAITABLE | WRITE_WATCH | AWAITING_SECURE, read through the accessors below. */
  flags = 0;
  /** Where the socket connects to, for error messages. */
  address: string | undefined = undefined;
  port: number | undefined = undefined;

  /** connect phase: when `connect()` was called, 0 when not armed. */
  connectAt = 0;
  /** read phase: when the reply window opened, 0 when no reply is pending. */
  replyAt = 0;
  /** read phase: `bytesRead` when the reply window opened. */
  replyMark = 0;
  /** write phase: when the queue was last seen to make progress. */
  writeProgressAt = 0;
  /** write phase: the handle's `writeQueueSize` and `bytesWritten` at the last sample. */
  writeQueue = 0;
  writeDispatched = 0;

  constructor(socket: InternalSocket) {
    super();
    if (socket[CLIENT] === true || (socket.encrypted === true && socket._tlsOptions?.isServer !== true)) this.flags = IS_CLIENT;
  }

  /**
   * Only clients get a reply deadline: sockets a server accepted wait for their clients, and
   * idle policy is the server's.
   */
  get client(): boolean {
    return (this.flags & IS_CLIENT) !== 0;
  }

  /** A write came before the TLS handshake finished: the reply window opens at 'secureConnect'. */
  get awaitingSecure(): boolean {
    return (this.flags & AWAITING_SECURE) !== 0;
  }
  set awaitingSecure(on: boolean) {
    this.flags = on ? this.flags | AWAITING_SECURE : this.flags & ~AWAITING_SECURE;
  }

  /** Driven through the awaitable API: its calls have their own deadlines, only connect's stays. */
  get awaitable(): boolean {
    return (this.flags & AWAITABLE) !== 0;
  }
  set awaitable(on: boolean) {
    this.flags = on ? this.flags | AWAITABLE : this.flags & ~AWAITABLE;
  }

  /** write phase: true while written bytes are queued. */
  get writeWatch(): boolean {
    return (this.flags & WRITE_WATCH) !== 0;
  }
  set writeWatch(on: boolean) {
    this.flags = on ? this.flags | WRITE_WATCH : this.flags & ~WRITE_WATCH;
  }
}

const now = (): number => performance.now();

/**
 * A time to keep in {@link SocketState}: `performance.now()` rounded up to a whole ms, so V8
 * stores it unboxed (a Smi, up to 2^31 ms, about 24 days of process uptime; later stamps are
 * boxed again, which costs memory, not correctness). Rounding up starts a deadline's clock up
 * to 1 ms late, never early.
 */
const stamp = (at: number): number => Math.ceil(at);

/**
 * The timeouts in force for a socket: its own setting, else the rule its destination matched
 * (merged over the process default, cached per rule), else the process default. Called on every
 * write: a few property reads, no matching and no allocation (the rule was chosen at connect).
 */
export function effectiveTimeouts(socket: { [SETTING]?: PhaseTimeouts; [RULE]?: CompiledRule }): PhaseTimeouts {
  const own = socket[SETTING];
  if (own !== undefined) return own;
  const rule = socket[RULE];
  return rule === undefined ? runtime().defaults : rule.timeoutsOver(runtime().defaults);
}

/** A phase has a deadline when its value is > 0: `null` is blocking, 0 non-blocking (never a timer). */
export function isOn(ms: number | null): ms is number {
  return ms !== null && ms > 0;
}

function hasAnyTimeout(timeouts: PhaseTimeouts): boolean {
  return isOn(timeouts.connect) || isOn(timeouts.read) || isOn(timeouts.write);
}

/**
 * The socket's state, created on first need. Returns `undefined` for sockets the engine leaves
 * alone: not TCP, or no timeout in force (then nothing is allocated at all).
 */
export function stateFor(socket: InternalSocket, create: boolean): SocketState | undefined {
  const existing = socket[STATE];
  if (existing === NOT_TCP) return undefined;
  if (existing !== undefined) return existing as SocketState;
  if (!create) return undefined;
  const handleName = (socket._handle as object | null)?.constructor?.name;
  if (handleName !== undefined && !TCP_HANDLES.has(handleName)) {
    socket[STATE] = NOT_TCP;
    return undefined;
  }
  const state = new SocketState(socket);
  socket[STATE] = state;
  noteSocket();
  return state;
}

/** Marks a socket the engine must never touch (e.g. one connecting to an IPC path). */
export function markNotTcp(socket: InternalSocket): void {
  socket[STATE] = NOT_TCP;
}

/** Is a timeout in force for this socket (its own setting, else the process default)? */
function wantsTimeouts(socket: InternalSocket): boolean {
  return socket[STATE] !== NOT_TCP && hasAnyTimeout(effectiveTimeouts(socket));
}

// ---------------------------------------------------------------------------------------------
// Arming: called by the patch from connect(), writes and destroy.
// ---------------------------------------------------------------------------------------------

/** Arms the connect deadline; called just after the original `connect()` started connecting. */
export function armConnect(socket: InternalSocket, address: string | undefined, port: number | undefined): void {
  if (!socket.connecting || !wantsTimeouts(socket)) return;
  const state = stateFor(socket, true);
  if (state === undefined) return;
  state.address = address;
  state.port = port;
  const timeout = effectiveTimeouts(socket).connect;
  if (!isOn(timeout)) return;
  const at = stamp(now());
  state.connectAt = at;
  noteArmed(socket, 'connect', timeout, address, port);
  scheduleCheck(socket, state, at + timeout);
}

/**
 * Called by the patch from `Socket.prototype._unrefTimer`, which Node runs on I/O activity:
 * in afterConnect() once the connection is up, and for every chunk read or written (net.js,
 * stream_base_commons.js `stream[kUpdateTimer]()`). It settles the connect deadline at once
 * instead of when its timer next fires (at the connect timeout), so a connection that then
 * stays idle does not hold a Timeout (about 150 B, plus 56 B for its argument list) all that
 * time. Per chunk it costs one property read and one comparison once connected. A TLS client
 * is connected only after its handshake: until then its deadline stays with the timer.
 */
export function noteActivity(socket: InternalSocket): void {
  const state = socket[STATE];
  if (state === undefined || state === NOT_TCP || (state as SocketState).connectAt === 0) return;
  const s = state as SocketState;
  if (!isConnected(socket)) return;
  if (isOn(effectiveTimeouts(socket).connect)) noteCleared(socket, 'connect', s.connectAt, s.address, s.port);
  s.connectAt = 0;
  // Not dropped at once: most clients write right after connecting, and their reply window
  // then refreshes this same timer instead of creating another. A socket that stays idle lets
  // it go at the check a moment later.
  if (nothingArmed(s)) scheduleCheck(socket, s, now() + IDLE_GRACE_MS);
}

/** How long a freshly connected socket keeps its timer in case a deadline is armed right away. */
export const IDLE_GRACE_MS = 100;

/** Opens a reply window and watches the write queue; called after each write is handed to the stream. */
export function armAfterWrite(socket: InternalSocket): void {
  const existing = socket[STATE];
  if (existing === NOT_TCP || (existing as SocketState | undefined)?.awaitable) return;
  const timeouts = effectiveTimeouts(socket);
  if (!hasAnyTimeout(timeouts) || socket.connecting) return; // writes made while connecting come back here on connect
  const state = (existing as SocketState | undefined) ?? stateFor(socket, true);
  if (state === undefined) return;
  if (isOn(timeouts.read) && state.client) {
    if (isHandshaking(socket)) waitForHandshake(socket, state);
    else openReplyWindow(socket, state, timeouts.read);
  }
  if (!state.writeWatch && (isOn(timeouts.write) || isOn(timeouts.read))) watchWriteQueue(socket, state, timeouts);
}

/** A TLS client whose handshake is still running: that time is the connect phase's, not the reply's. */
function isHandshaking(socket: InternalSocket): boolean {
  return socket.encrypted === true && socket._secureEstablished !== true && socket._tlsOptions?.isServer !== true;
}

/**
 * https and other TLS clients hand a request over before the handshake ends; its window opens
 * then. 'secure', not 'secureConnect': every TLS client emits it (a hand-built
 * `new tls.TLSSocket(socket)` gets no 'secureConnect'), and a socket that failed verification is
 * destroyed by then.
 */
function waitForHandshake(socket: InternalSocket, state: SocketState): void {
  if (state.awaitingSecure) return;
  state.awaitingSecure = true;
  socket.once('secure', () => {
    state.awaitingSecure = false;
    if (!socket.destroyed) armAfterWrite(socket);
  });
}

function openReplyWindow(socket: InternalSocket, state: SocketState, timeout: number): void {
  if (readEnded(socket)) return; // after the peer's EOF no reply can come (allowHalfOpen)
  const bytesRead = socket.bytesRead;
  const at = stamp(now());
  if (state.replyAt !== 0 && bytesRead === state.replyMark) {
    // Still no reply, and the request is still going out (a body streamed in chunks): the
    // reply clock runs from the last write. The timer stays as it is; the check reschedules.
    state.replyAt = at;
    return;
  }
  // Otherwise a fresh window: none was pending, or the pending one belongs to a request that
  // was answered meanwhile (the check is lazy, so it may not have noticed yet).
  state.replyAt = at;
  state.replyMark = bytesRead;
  noteArmed(socket, 'read', timeout, state.address, state.port);
  scheduleCheck(socket, state, at + timeout);
}

function readEnded(socket: InternalSocket): boolean {
  return socket.readableEnded || (socket as { _readableState?: { ended?: boolean } })._readableState?.ended === true;
}

function watchWriteQueue(socket: InternalSocket, state: SocketState, timeouts: PhaseTimeouts): void {
  const handle = socket._handle;
  // Bytes libuv wrote at once never wait: only a write it had to queue can stall.
  if (handle === null || !(handle.writeQueueSize! > 0)) return;
  const at = stamp(now());
  state.writeWatch = true;
  state.writeProgressAt = at;
  state.writeQueue = handle.writeQueueSize!;
  state.writeDispatched = handle.bytesWritten ?? 0;
  if (isOn(timeouts.write)) noteArmed(socket, 'write', timeouts.write, state.address, state.port);
  scheduleCheck(socket, state, at + sampleStep(timeouts));
}

/**
 * How often a queued write is sampled. A stall is only seen at a sample, so the error lands up
 * to one step after the deadline: a small fraction of the timeout, bounded to 5–100 ms.
 */
function sampleStep(timeouts: PhaseTimeouts): number {
  const base = Math.min(isOn(timeouts.write) ? timeouts.write : Infinity, isOn(timeouts.read) ? timeouts.read : Infinity);
  return Math.min(100, Math.max(5, base / 20));
}

/** Drops a socket's timer and state; called from `_destroy` and when the engine stands down. */
export function release(socket: InternalSocket): void {
  const state = socket[STATE];
  if (state === undefined || state === NOT_TCP) return;
  (state as SocketState).schedule(NOTHING_DUE, ENGINE_TIMER, socket);
  socket[STATE] = undefined;
}

function nothingArmed(state: SocketState): boolean {
  return state.connectAt === 0 && state.replyAt === 0 && (state.flags & WRITE_WATCH) === 0;
}

// ---------------------------------------------------------------------------------------------
// The one timer (lib/deadline-timer.ts) and its check.
// ---------------------------------------------------------------------------------------------

/** The engine's side of the timer: called back with the socket, the state found on it. */
const ENGINE_TIMER: DeadlineOwner<InternalSocket, SocketState> = { timerOf: liveState, check };

function liveState(socket: InternalSocket): SocketState | undefined {
  const state = socket[STATE];
  return state === undefined || state === NOT_TCP ? undefined : (state as SocketState);
}

/** Makes sure the timer fires no later than `due`; a later due time waits for the next check. */
function scheduleCheck(socket: InternalSocket, state: SocketState, due: number): void {
  state.schedule(due, ENGINE_TIMER, socket);
}

/**
 * What the timer runs: settles what has settled, fires a deadline that ran out and has had its
 * second look ({@link hasExpired}), and returns when the timer is next needed: the earliest due
 * time of what is still armed, or {@link NOTHING_DUE}, which lets the timer go (an idle socket
 * holds no Timeout; the next deadline armed creates a fresh one).
 */
function check(socket: InternalSocket, state: SocketState, at: number, lookedAt: number): number {
  if (socket.destroyed || runtime().patched === undefined || handedAway(socket)) {
    release(socket);
    return NOTHING_DUE;
  }
  const timeouts = effectiveTimeouts(socket);
  // In this order: the reply check reads the write progress (writeProgressAt, writeWatch) that
  // the write check has just sampled, since the reply clock runs from the last write progress.
  const connectDue = checkConnect(socket, state, timeouts.connect);
  const writeDue = checkWrite(socket, state, timeouts, at);
  const replyDue = checkReply(socket, state, timeouts.read, at);
  const expired: Phase | undefined = hasExpired(connectDue, lookedAt)
    ? 'connect'
    : hasExpired(writeDue, lookedAt)
      ? 'write'
      : hasExpired(replyDue, lookedAt)
        ? 'read'
        : undefined;
  if (expired !== undefined) {
    fire(socket, state, expired, timeouts[expired]!);
    return NOTHING_DUE;
  }
  // A second look that fires nothing: what the first look found past had arrived meanwhile.
  if (lookedAt !== FIRST_LOOK) noteFalseAlarm(socket, state.address, state.port);
  return earliestDue(earliestDue(connectDue, writeDue), replyDue);
}

/** The connect deadline's due time, or NOTHING_DUE once connected (or not armed). */
/**
 * A socket whose handle was sent to another process (`child.send('socket', socket)`): net.js
 * then sets `socket._handle = null` and `setTimeout(0)` but neither destroys nor closes the
 * object, so the connection now belongs to the child and its deadlines are the child's. A
 * socket still connecting has a handle from `connect()` on (net.js creates it before the lookup).
 */
function handedAway(socket: InternalSocket): boolean {
  return socket._handle === null && !socket.connecting;
}

function checkConnect(socket: InternalSocket, state: SocketState, timeout: number | null): number {
  if (state.connectAt === 0) return NOTHING_DUE;
  if (!isOn(timeout) || isConnected(socket)) {
    if (isOn(timeout)) noteCleared(socket, 'connect', state.connectAt, state.address, state.port);
    state.connectAt = 0;
    return NOTHING_DUE;
  }
  return state.connectAt + timeout;
}

function isConnected(socket: InternalSocket): boolean {
  if (socket.connecting) return false;
  const tlsClient = socket.encrypted === true && socket._tlsOptions?.isServer !== true;
  return !tlsClient || socket._secureEstablished === true;
}

/**
 * Samples the write queue; returns the stall deadline's due time, or the next sample's while
 * it comes first (a stall is only seen at a sample), or NOTHING_DUE once nothing is queued.
 */
function checkWrite(socket: InternalSocket, state: SocketState, timeouts: PhaseTimeouts, at: number): number {
  if (!state.writeWatch) return NOTHING_DUE;
  const handle = socket._handle;
  const queued = handle?.writeQueueSize ?? 0;
  // Nothing held by libuv: no stall at the kernel boundary. Bytes still buffered in the stream
  // are corked on purpose or about to be dispatched, and that dispatch re-arms the watch.
  if (queued === 0) {
    if (isOn(timeouts.write)) noteCleared(socket, 'write', state.writeProgressAt, state.address, state.port);
    state.writeWatch = false;
    return NOTHING_DUE;
  }
  const dispatched = handle?.bytesWritten ?? 0;
  // Progress = the queue grew by less than what was dispatched into it since the last sample.
  if (queued < state.writeQueue + (dispatched - state.writeDispatched)) state.writeProgressAt = stamp(at);
  state.writeQueue = queued;
  state.writeDispatched = dispatched;
  const timeout = state.awaitable ? null : timeouts.write;
  const nextSample = at + sampleStep(timeouts);
  return isOn(timeout) ? Math.min(nextSample, state.writeProgressAt + timeout) : nextSample;
}

/** The reply deadline's due time, or NOTHING_DUE once a reply came (or none is pending). */
function checkReply(socket: InternalSocket, state: SocketState, timeout: number | null, at: number): number {
  if (state.replyAt === 0) return NOTHING_DUE;
  if (!isOn(timeout) || state.awaitable || socket.bytesRead !== state.replyMark || readEnded(socket)) {
    if (isOn(timeout)) noteCleared(socket, 'read', state.replyAt, state.address, state.port);
    state.replyAt = 0;
    return NOTHING_DUE;
  }
  // Not the peer's fault while the application itself is not reading (the handle stopped
  // reading because nobody drained the buffer), so the reply cannot be seen yet.
  if (socket._handle?.reading === false) state.replyAt = stamp(at);
  // The request is still going out: the reply clock runs from the last write progress.
  const since = state.writeWatch ? Math.max(state.replyAt, state.writeProgressAt) : state.replyAt;
  return since + timeout;
}

function fire(socket: InternalSocket, state: SocketState, phase: Phase, timeout: number): void {
  const error = new SocketTimeoutError({
    phase,
    timeout,
    address: state.address ?? socket.remoteAddress,
    port: state.port ?? socket.remotePort,
  });
  noteFired(socket, phase, timeout, error, now() - phaseClock(state, phase));
  release(socket);
  failInFlightWrite(socket, error);
  socket.destroy(error);
}

/** When the clock of `phase` started: the time that ran out is measured from here. */
function phaseClock(state: SocketState, phase: Phase): number {
  if (phase === 'connect') return state.connectAt;
  if (phase === 'write' || (state.writeWatch && state.writeProgressAt > state.replyAt)) return state.writeProgressAt;
  return state.replyAt;
}

/**
 * Gives the write that was in flight when the deadline destroyed the socket the deadline's
 * error. Destroying closes the handle, and libuv then completes the queued write with
 * `UV_ECANCELED`; what Node hands the write's callback differs by line
 * (lib/internal/stream_base_commons.js `onWriteComplete`):
 * - Node 20 checks `stream.destroyed` first and calls back with `null`, whatever the status:
 *   the write would report success for bytes that never went out.
 * - Node 22, 24 and 26 check `status < 0` first (nodejs/node#54032) and call back with
 *   `write ECANCELED`, an error that says nothing of why.
 * Either way it is the deadline that ended the write, so its callback gets the deadline's error
 * on every line, as the buffered writes already do (writable.js `errorBuffer` hands them the
 * destroy error). `_writableState.writecb` is the in-flight write's callback, called from
 * `onwrite` with what `onWriteComplete` reported.
 */
function failInFlightWrite(socket: InternalSocket, error: Error): void {
  const state = (socket as { _writableState?: { writecb?: ((err?: Error | null) => void) | null } })._writableState;
  const callback = state?.writecb;
  if (state && typeof callback === 'function') state.writecb = () => callback(error);
}

/**
 * Hands a socket over to the awaitable API: its calls carry their own deadlines and a timed-out
 * call leaves the socket open, so the destroying reply and write deadlines stand down. A pending
 * connect deadline stays.
 */
export function standDown(socket: InternalSocket): void {
  const state = stateFor(socket, true);
  if (state === undefined || state.awaitable) return;
  state.awaitable = true;
  state.replyAt = 0;
  state.writeWatch = false;
}
