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
 * Whether and how long a reply window opens is the connection's protocol's say (lib/protocols/):
 * chosen once per connection (a rule, the client layer, the first bytes, the port table), kept
 * as three bits of the flag field, so a write on a connection whose protocol is known costs a
 * flag test. See the "Protocols" section at the end of this file.
 *
 * The timer (lib/deadline-timer.ts) is refreshed, never re-created, to the earliest due time.
 * A deadline found past is never fired on that first look: pending I/O runs once
 * (`setImmediate`) and a second look decides, so a loop that was merely blocked does not turn
 * an answer that already arrived into a timeout. The second look fires only a deadline that was
 * already past at the first look; a reply window opened since gets a look of its own.
 *
 * Report mode (lib/mode.ts) changes one thing, where a deadline fires: instead of destroying
 * the socket, {@link fire} reports it and marks the phase overdue ({@link Overdue}). The engine
 * then keeps watching that phase, at the timer's looks and when the socket closes (never per
 * chunk), until what it waited for comes (late) or the socket closes first (never).
 */
import type * as net from 'node:net';
import { now } from './clock';
import { hasAnyTimeout, isOn, type Phase, type PhaseTimeouts } from './config';
import { DUE_SLACK_MS, earliestDue, FIRST_LOOK, hasExpired, loseExactDue, NOTHING_DUE, scheduleTimer, type DeadlineOwner, type TimerFields } from './deadline-timer';
import type * as Errors from './errors';
import { getDeadlineMode } from './mode';
import { noteArmed, noteCleared, noteFalseAlarm, noteFired, noteLate, noteNever, noteProtocol, noteSocket, type ProtocolSource } from './observe';
import { firstByteOfWrite, headOfWrite } from './protocols/bytes';
import { bodyEnded } from './protocols/http-spec';
import { PROTOCOL_FIELD, PROTOCOL_IDS, PROTOCOL_SHIFT, PROTOCOLS, protocolName } from './protocols/index';
import { PROTOCOL_SETTINGS, type ProtocolName, type ProtocolSetting } from './protocols/names';
import { protocolForPort } from './protocols/ports';
import { quote } from './quote';
import { BECOMES_STREAM, NO_DEADLINE, REDIS_HEAD_BYTES, redisWindow } from './protocols/redis';
import { mayBeSignature, protocolOfFirstBytes, SNIFF_BYTES } from './protocols/sniff';
import {
  carriesHttpRequest,
  dispatchedBytes,
  failInFlightWrite,
  hasNoHandle,
  hasNonTcpHandle,
  httpResponseOf,
  isEstablished,
  isHandshaking,
  isReadingStopped,
  isTls,
  isTlsClient,
  queuedBytes,
  readEnded,
  SECURE_EVENT,
  type NodeSocket,
} from './node-internals';
import { onRuleSettled, RULE, ruleFor, ruleWaitsForAddress } from './rules/index';
import type { CompiledRule } from './rules/rule';
import { runtime, STATE } from './runtime';

/**
 * A socket as the engine sees it: Node's private fields (lib/node-internals.ts, where every
 * Node internal the shim reads is described, with the lines it holds on) and the engine's own.
 */
export interface InternalSocket extends NodeSocket {
  [STATE]?: SocketState | typeof NOT_TCP;
  [SETTING]?: PhaseTimeouts;
  [CLIENT]?: true;
}

/**
 * Where a socket (or server) keeps its own setting from `setSocketTimeout()`. Apart from the
 * engine state because every socket has a mode, IPC ones included, while only TCP gets deadlines.
 */
export const SETTING = Symbol.for('timeoutsocket.setting.v1');

/**
 * Marks a socket that went through `connect()`: only such a client (or a TLS client) gets a
 * reply deadline. Not `socket.server`: a server-side socket handed to a worker process
 * (`new net.Socket({ handle })`, the sticky-session pattern) has no `server` but is no client.
 * Set only on a client that has no engine state when it connects (its state, made later, reads
 * it); one with a state keeps IS_CLIENT there instead, a property less on every armed socket.
 */
export const CLIENT = Symbol.for('timeoutsocket.client.v1');

/** Marks a socket that is not TCP (IPC pipe, TTY, child stdio): the engine never touches it. */
export const NOT_TCP = Object.freeze({ notTcp: true as const });

/** Bits of {@link SocketState.flags}. */
const IS_CLIENT = 2;
const AWAITABLE = 4;
const WRITE_WATCH = 8;
const AWAITING_SECURE = 16;
// Bits 32, 64 and 128 hold the protocol id (PROTOCOL_SHIFT, PROTOCOL_FIELD in lib/protocols/index.ts).
const PROTOCOL_BITS = PROTOCOL_FIELD << PROTOCOL_SHIFT;
/** A protocol was chosen (and counted); until then the socket runs the default. */
const PROTOCOL_KNOWN = 256;
/** The protocol is settled by a rule, the client layer or the first bytes: no more looking at bytes. */
const DECIDED = 512;
/** A rule chose the protocol: neither the client layer nor the bytes override it. */
const FORCED = 1024;
/** http: a request was handed over and its response has not started. */
const AWAIT_RESPONSE = 2048;
/** http: the pending request is an upgrade or a CONNECT; once answered, the socket is a stream. */
const TUNNEL = 4096;
/** http: the reply window is a response body bounded by inactivity. */
const BODY = 8192;
/**
 * http: the BODY window's body is the response of the Node http request on the socket
 * ({@link BODY_OF_HTTP_REQUEST}), complete when that response says so, since Node's http
 * publishes nothing at a response's end. Without it the window closes on the client layer's end
 * message ({@link BODY_ENDED_BY_MESSAGE}: undici's).
 */
const BODY_OF_REQUEST = 32768;

/** Report mode: a deadline ran out and was reported; its answer is awaited (its record in {@link overdues}). */
const OVERDUE = 16384;
/**
 * A plain-TCP socket (not `encrypted`, fixed for the socket's life): only its writes may take the
 * steady path; a TLS socket's take the general one, which asks about its handshake. Set, rather
 * than a TLS bit cleared, so that a state another copy of the library made (the state symbol is
 * shared, lib/runtime.ts), which has no such bit, always goes the general way.
 */
const IS_PLAIN = 65536;

/**
 * The bits that keep a write off the {@link armAfterWrite} steady path, and their value there: a
 * plain-TCP client whose protocol is decided as request-reply, with nothing but its reply window
 * to look after (no write watched, no TLS handshake, no http lifecycle, no report-mode overdue,
 * not handed to the awaitable API). Every other state goes the general way.
 */
const STEADY_MASK =
  IS_CLIENT | AWAITABLE | WRITE_WATCH | AWAITING_SECURE | PROTOCOL_BITS | DECIDED | AWAIT_RESPONSE | TUNNEL | BODY | BODY_OF_REQUEST | OVERDUE | IS_PLAIN;
const STEADY_REQUEST_REPLY = IS_CLIENT | DECIDED | (PROTOCOL_IDS['request-reply'] << PROTOCOL_SHIFT) | IS_PLAIN;

/**
 * What a client layer's `bodyOf` tells {@link httpResponseHead}: no body window (the response
 * does not declare its length, or its body is already over).
 */
export const NO_BODY_WINDOW = 0;
/**
 * A length-bounded body that the client layer ends with a message of its own (undici's trailers
 * or error: {@link httpResponseEnd}).
 */
export const BODY_ENDED_BY_MESSAGE = 1;
/**
 * A length-bounded body of Node's http client: the response of the request on the socket
 * (lib/node-internals.ts `httpResponseOf`), read when the timer looks.
 *
 * Either way the engine keeps only a flag per response, no record of the response itself: a
 * WeakMap entry per response (as before) cost two runtime calls per request, a write barrier
 * of its own, and V8's marker processes every ephemeron again until the marking settles.
 */
export const BODY_OF_HTTP_REQUEST = 2;

/** {@link NO_BODY_WINDOW}, {@link BODY_ENDED_BY_MESSAGE} or {@link BODY_OF_HTTP_REQUEST}. */
export type BodyWindow = typeof NO_BODY_WINDOW | typeof BODY_ENDED_BY_MESSAGE | typeof BODY_OF_HTTP_REQUEST;

/**
 * The reported deadline of an OVERDUE socket state, kept aside, not in SocketState: only a
 * socket whose deadline ran out in report mode has one, so no socket carries the field.
 */
const overdues = new WeakMap<SocketState, Overdue>();

const REQUEST_REPLY_ID = PROTOCOL_IDS['request-reply'];
const STREAM_ID = PROTOCOL_IDS.stream;
const REDIS_ID = PROTOCOL_IDS.redis;
const HTTP_ID = PROTOCOL_IDS.http;

/**
 * The engine's record for one socket, allocated once per socket and kept small, since an idle
 * connected socket holds it for its whole life: every field holds a small integer (a Smi) or a
 * pointer. Times are whole milliseconds of {@link stamp}, since a field that ever held a
 * fractional number is boxed by V8 (a 16-byte HeapNumber per field and socket); the booleans
 * share one bit field.
 *
 * The timer's fields are its own, not inherited from `DeadlineTimer`: a constructor that calls
 * `super()` cost about 200 instructions more per socket (V8 did not inline the base class's
 * constructor), a sixth of what a short connection's state and timer cost besides.
 */
export class SocketState implements TimerFields {
  /** The one Timeout (lib/deadline-timer.ts `TimerFields`). */
  timer: NodeJS.Timeout | undefined = undefined;
  /** When the timer is due (lib/deadline-timer.ts `DeadlineTimer.timerDue`). */
  timerDue = 0;
  /**
   * IS_CLIENT | AWAITABLE | WRITE_WATCH | AWAITING_SECURE, read through the accessors below;
   * the protocol id and its bits (PROTOCOL_KNOWN … BODY, BODY_OF_REQUEST); OVERDUE (report mode);
   * IS_PLAIN (fixed at creation).
   */
  flags = 0;
  /** Where the socket connects to, for error messages. */
  address: string | undefined = undefined;
  port: number | undefined = undefined;

  /** connect phase: when `connect()` was called ({@link stamp}), 0 when not armed. */
  connectAt = 0;
  /** connect phase: how far `connectAt` is ahead of the clock's reading it was stamped from ({@link leadOf}). */
  connectLead = 0;
  /** read phase: when the reply window opened ({@link stamp}), 0 when no reply is pending. */
  replyAt = 0;
  /** read phase: how far `replyAt` is ahead of the clock's reading it was stamped from ({@link leadOf}). */
  replyLead = 0;
  /** read phase: `bytesRead` when the reply window opened. */
  replyMark = 0;
  /**
   * read phase: this window's own deadline, ms, when its protocol gives it one (a redis blocking
   * command: its timeout plus `read`); {@link NO_DEADLINE} for none; 0 for the plain `read`.
   */
  replyLimit = 0;

  constructor(socket: InternalSocket) {
    if (socket[CLIENT] === true || isTlsClient(socket)) this.flags = IS_CLIENT;
    if (!isTls(socket)) this.flags |= IS_PLAIN;
  }

  /**
   * `DeadlineTimer.schedule`, kept as a method: the state symbol is shared by every copy of the
   * package (lib/runtime.ts), and another copy's engine may drive a state this copy made.
   */
  schedule<K, T extends TimerFields>(due: number, owner: DeadlineOwner<K, T>, key: K, at?: number, exact = false): void {
    scheduleTimer(this, due, owner, key, at, exact);
  }

  /** `DeadlineTimer.loseExactDue`, a method for the same reason. */
  loseExactDue(): void {
    loseExactDue(this);
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

  /** Report mode: the deadline that ran out and was reported, while its answer is awaited. One flag test when there is none. */
  get overdue(): Overdue | undefined {
    return (this.flags & OVERDUE) === 0 ? undefined : overdues.get(this);
  }
  set overdue(record: Overdue | undefined) {
    if (record !== undefined) {
      this.flags |= OVERDUE;
      overdues.set(this, record);
    } else if ((this.flags & OVERDUE) !== 0) {
      this.flags &= ~OVERDUE;
      overdues.delete(this);
    }
  }

  /** write phase: true while written bytes are queued (then {@link writeSample} holds the queue's last sample). One flag test. */
  get writeWatch(): boolean {
    return (this.flags & WRITE_WATCH) !== 0;
  }

  /** write phase: the queue's last sample while a write is watched, else `undefined`; setting `undefined` ends the watch. */
  get writeSample(): WriteSample | undefined {
    return (this.flags & WRITE_WATCH) === 0 ? undefined : writeSamples.get(this);
  }
  set writeSample(sample: WriteSample | undefined) {
    if (sample !== undefined) {
      this.flags |= WRITE_WATCH;
      writeSamples.set(this, sample);
    } else if ((this.flags & WRITE_WATCH) !== 0) {
      this.flags &= ~WRITE_WATCH;
      writeSamples.delete(this);
    }
  }
}

/**
 * write phase: the write queue as last sampled, while a write libuv had to queue is watched
 * (WRITE_WATCH). Allocated when the watch starts and dropped when the queue is found empty.
 */
interface WriteSample {
  /** When the queue was last seen to make progress ({@link stamp} ms). */
  progressAt: number;
  /** The handle's `writeQueueSize` at the last sample. */
  queue: number;
  /** The handle's `bytesWritten` (bytes dispatched) at the last sample. */
  dispatched: number;
}

/**
 * The write sample of a WRITE_WATCH socket state, kept aside like {@link overdues}: a write is
 * watched only while libuv holds bytes of it, so an idle socket carries no field for it (three
 * fields, 24 bytes, per socket in {@link SocketState}). Read only when the timer looks, never per write.
 */
const writeSamples = new WeakMap<SocketState, WriteSample>();

/**
 * Report mode: a deadline that ran out and was reported instead of enforced, while the engine
 * waits to see whether its answer comes late or never. Allocated only then (the rare path).
 */
interface Overdue {
  readonly phase: Phase;
  /** The timeout that ran out, ms. */
  readonly timeout: number;
  /** When the phase's clock started ({@link phaseClock}, ms): lateness is measured from here. */
  readonly since: number;
  /** `bytesRead` when it ran out: a byte more is the reply. */
  readonly mark: number;
  /** `bytesWritten` when it ran out: what the application wrote after it. */
  readonly wrote: number;
}

/**
 * An overdue phase is looked at every `elapsed / OVERDUE_PRECISION` ms (at least
 * {@link OVERDUE_MIN_STEP_MS}): lateness is known to about 5%, and a phase that stays overdue for
 * long (a stream nobody answers) costs a number of looks that grows with the log of its age.
 */
const OVERDUE_PRECISION = 20;
const OVERDUE_MIN_STEP_MS = 5;

/**
 * A time to keep in {@link SocketState}: `performance.now()` rounded up to a whole ms, so V8
 * stores it unboxed (a Smi, up to 2^31 ms, about 24 days of process uptime; later stamps are
 * boxed again, which costs memory, not correctness). Rounding up starts a deadline's clock up
 * to 1 ms late, never early.
 */
const stamp = (at: number): number => Math.ceil(at);

/**
 * How far a {@link stamp} is ahead of the reading it was taken from, in whole µs (0–1000), kept
 * beside the stamp (a Smi too) so that the reading comes back ({@link readingOf}). A deadline's
 * exact due time is its reading plus its timeout: the timer is set for that, and so fires when
 * a bare `setTimeout` would, whoever sets it (the write that opened the window, or a look that
 * moves the timer on); and the elapsed time a message reports is measured from the reading.
 * From the stamp alone it read up to 1 ms short: a deadline that fired 0.9 ms before its exact
 * due time, as a bare setTimeout may (DUE_SLACK_MS), said 1.9 ms short. Rounded up, so the
 * reading comes back no later than the true one (at most 1 µs before it): a timer set for the
 * exact due time then always finds its deadline within DUE_SLACK_MS at its first look.
 */
const leadOf = (stamped: number, at: number): number => Math.ceil((stamped - at) * 1000);

/**
 * The clock's reading a {@link stamp} was taken from, to the µs: the stamp less its
 * {@link leadOf}. `| 0`: a state made by a copy of the package from before the leads has none
 * (undefined); its stamp is then its reading, never NaN (a NaN due time would set the Timeout
 * for NaN ms).
 */
const readingOf = (stamped: number, lead: number): number => stamped - (lead | 0) / 1000;

/**
 * The shared runtime record, held once: it is never replaced (lib/runtime.ts defines it
 * non-writable on `net.Socket`), and finding it is a symbol-keyed load from a function object,
 * which V8 does not inline, on every write.
 */
const SHARED = runtime();

/**
 * The timeouts in force for a socket: its own setting, else the rule its destination matched
 * (merged over the process default, cached per rule), else the process default. Called on every
 * write: a few property reads, no matching and no allocation (the rule was chosen at connect).
 */
export function effectiveTimeouts(socket: { [SETTING]?: PhaseTimeouts; [RULE]?: CompiledRule }): PhaseTimeouts {
  const own = socket[SETTING];
  if (own !== undefined) return own;
  const rule = socket[RULE];
  return rule === undefined ? SHARED.defaults : rule.timeoutsOver(SHARED.defaults);
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
  if (hasNonTcpHandle(socket)) {
    socket[STATE] = NOT_TCP;
    return undefined;
  }
  const state = new SocketState(socket);
  socket[STATE] = state;
  // The error classes come with the first socket that has deadlines, not when one first fires:
  // a timer can fire after a module sandbox (Jest) was torn down, when nothing may load.
  if (errorClasses === undefined) prepareFirePath(errors());
  noteSocket();
  return state;
}

/**
 * A client with no deadline at connect (none in force, or a connect that failed at once): its
 * state, if it ever gets one, is made later and learns it from the {@link CLIENT} mark; a state
 * it already has (made by `setProtocol()`) keeps it as IS_CLIENT.
 */
function markClient(socket: InternalSocket): void {
  const existing = liveState(socket);
  if (existing !== undefined) existing.flags |= IS_CLIENT;
  else socket[CLIENT] = true;
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

/**
 * Called by the patched `connect()` of every TCP socket after its rule was matched and before
 * Node's own connect() runs: gives the socket now the one property the engine keeps on it (the
 * state's slot, filled by {@link armConnect}, when a timeout is in force; else the
 * {@link CLIENT} mark), so that it never gains a property later in its life.
 *
 * Why: every property added to an object moves it to another hidden class (map), and V8's
 * property loads in Node's own code stay fast only while they see at most 4 maps. Node's
 * `_handle` getter (net.js, `get() { return this[kHandle]; }`, inlined into connect, `_read`,
 * `_final`, `_destroy` and the rest) already sees 4 on plain Node (two while the constructor
 * runs, then the finished socket, then the same with Node's own `write` once the peer ended).
 * The state added after connect() had read `_handle` made a fifth, and every such load went to
 * V8's generic lookup (`KeyedLoadIC_Megamorphic`): about 5% more instructions per short
 * connection. Added here, before Node reads anything, the socket goes through as many maps as
 * on plain Node.
 */
export function shapeAtConnect(socket: InternalSocket): void {
  if (socket[STATE] !== undefined) return; // a state made before connect() (a rule's protocol), or not TCP
  if (wantsTimeouts(socket)) socket[STATE] = undefined;
  else socket[CLIENT] = true;
}

/**
 * Arms the connect deadline; called by the patched `connect()` of every TCP socket, just after
 * the original started connecting. Marks the socket a client either way.
 */
export function armConnect(socket: InternalSocket, address: string | undefined, port: number | undefined): void {
  const state = socket.connecting && wantsTimeouts(socket) ? stateFor(socket, true) : undefined;
  if (state === undefined) {
    markClient(socket);
    return;
  }
  state.address = address;
  state.port = port;
  state.flags |= IS_CLIENT; // also on a state made before connect() (a rule forcing the protocol)
  applyRuleProtocol(socket, state);
  if (state.client) chooseAtConnect(socket, state, port);
  const timeout = effectiveTimeouts(socket).connect;
  if (!isOn(timeout)) return;
  const clock = now();
  state.loseExactDue();
  const at = stamp(clock);
  state.connectAt = at;
  state.connectLead = leadOf(at, clock);
  noteArmed(socket, 'connect', timeout, address, port);
  // The timer is set for the idle grace, not for the connect timeout, when the grace comes
  // first: most connections are up well within it, and then the timer already fires within
  // the grace of their connect (settleConnect), with no refresh of a Timeout that costs as much
  // as its creation (Node unlinks it, looks up the list of its duration and links it there
  // again). A connect still under way when it fires finds its deadline not due, and the timer
  // goes to it then. A whole-ms due time, so the delay is the same for every socket.
  if (timeout <= IDLE_GRACE_MS) scheduleCheck(socket, state, clock + timeout, clock, true);
  else scheduleCheck(socket, state, at + IDLE_GRACE_MS, clock);
}

/**
 * Called by the patch from `Socket.prototype._unrefTimer`, which Node runs on I/O activity:
 * in afterConnect() once the connection is up, and for every chunk read or written (net.js,
 * stream_base_commons.js `stream[kUpdateTimer]()`). It settles the connect deadline at once
 * instead of when its timer next fires (at the connect timeout), so a connection that then
 * stays idle does not hold a Timeout (about 150 B, plus 56 B for its argument list) all that
 * time. Per chunk it costs one property read and one comparison once connected. A TLS client
 * is connected only after its handshake: until then its deadline stays with the timer. Like
 * {@link armAfterWrite}'s, its wrapper goes on with the first deadline in force: no connect
 * deadline is armed before, so there is nothing for it to settle.
 */
export function noteActivity(socket: InternalSocket): void {
  const state = socket[STATE];
  if (state === undefined || state === NOT_TCP || (state as SocketState).connectAt === 0) return;
  settleConnect(socket, state as SocketState);
}

/**
 * The rest of {@link noteActivity}, apart so that what runs per chunk stays a few bytes of
 * bytecode. V8 inlines it, through the `_unrefTimer` wrapper, into Node's per-write
 * (`Socket.prototype._writeGeneric`) and per-read (`onStreamRead`) code, whose inlining budget
 * (about 920 bytes of bytecode for everything one optimized function inlines) Node's own
 * helpers nearly fill: with the whole of this inlined too, some of them were called out of
 * line instead, about 300 instructions more per armed round trip than this one call.
 */
function settleConnect(socket: InternalSocket, s: SocketState): void {
  if (!isEstablished(socket)) return;
  const connectAt = s.connectAt;
  if (isOn(effectiveTimeouts(socket).connect)) noteCleared(socket, 'connect', connectAt, s.address, s.port);
  s.connectAt = 0;
  if (s.overdue !== undefined) settleOverdue(socket, s, now()); // a reported connect is late: timed exactly, here
  // Not dropped at once: most clients write right after connecting, and their reply window
  // then refreshes this same timer instead of creating another. A socket that stays idle lets
  // it go at the check a moment later: the timer armConnect set for the grace, when it still
  // runs (due within the grace of connect(), so no later than that of now: no clock reading,
  // no refresh), else one set for the grace from now.
  if (nothingArmed(s) && !dueWithinGrace(s, connectAt)) {
    const at = now();
    scheduleCheck(socket, s, at + IDLE_GRACE_MS, at);
  }
}

/** Is the timer running and due no later than the idle grace after `since` (a whole-ms stamp)? */
function dueWithinGrace(s: SocketState, since: number): boolean {
  const armed = s.timerDue;
  return armed !== 0 && (armed > 0 ? armed : -armed) <= since + IDLE_GRACE_MS;
}

/** How long a freshly connected socket keeps its timer in case a deadline is armed right away. */
export const IDLE_GRACE_MS = 100;

/**
 * Opens a reply window and watches the write queue; called after each write is handed to the
 * stream, with `_writeGeneric`'s own arguments (lib/protocols/bytes.ts reads them). The bytes
 * are looked at only on a connection's first write (to choose its protocol) and, for redis, on
 * the write that opens a reply window; every other write costs a flag test. The wrapper that
 * calls it is on the prototype only once a deadline is in force somewhere in the process
 * (`engageHotPath`, lib/runtime.ts): until then this would return at the timeouts test.
 *
 * One function, the steady path and the general one, on purpose: V8 never inlines a function of
 * more than 460 bytes of bytecode (`max_inlined_bytecode_size`; this one is 589 on Node 20),
 * so the patched `_writeGeneric` calls it out of line, and that wrapper's own inlining
 * budget (about 920 bytes of bytecode for everything one optimized function inlines) goes to
 * Node's write code, all of it inlined as on plain Node. Split into a small steady function and
 * a general one (as it was), V8 inlined the steady path into the wrapper instead and Node's
 * `_writeGeneric` had to be called apart, through the wrapper's rest arguments: about 90
 * instructions more per armed 64-byte round trip (callgrind's per-function profile of a
 * segment, Node 20: 653 against 563). Keep it above the limit:
 * moving the general path out of here makes it small enough to be inlined again.
 */
export function armAfterWrite(socket: InternalSocket, writev?: unknown, data?: unknown, encoding?: unknown): void {
  const existing = socket[STATE];
  // The steady state, most writes of a request-reply client: one mask test says that only the
  // reply window needs a look, and `writableLength` 0 that the write went out at once (so there
  // is no write to watch: see watchWriteQueue). What the general path below would ask besides
  // (the protocol, the handshake, the awaitable API, the write watch) is all in the flags.
  if (existing !== undefined && ((existing as SocketState).flags & STEADY_MASK) === STEADY_REQUEST_REPLY && socket.writableLength === 0) {
    const read = effectiveTimeouts(socket).read;
    if (isOn(read) && !socket.connecting) {
      // openReplyWindow for a request-reply window opened by a write (no redis limit, no body
      // window: the steady mask rules them out), the same decisions in the same order with the
      // protocol questions left out.
      const state = existing as SocketState;
      if (readEnded(socket)) return; // after the peer's EOF no reply can come (allowHalfOpen)
      const bytesRead = socket.bytesRead;
      const clock = now();
      const at = stamp(clock);
      // Either way the window's clock moves: a timer set for the old window's exact due time is
      // no longer this one's, and `timerDue` is a plain due time (or 0) from here on.
      state.loseExactDue();
      const pending = state.replyAt !== 0 && bytesRead === state.replyMark;
      state.replyAt = at; // either way the reply clock runs from this write
      state.replyLead = leadOf(at, clock);
      if (pending) return; // still no reply: the timer stays, its check moves it
      state.replyMark = bytesRead;
      state.replyLimit = 0;
      noteArmed(socket, 'read', read, state.address, state.port);
      // The timer is lazy: one running for an earlier due time stays, and its check moves it
      // here. Asked here rather than in `schedule()`, so that no call is made for it on this
      // path. A timer this window sets is set for its exact due time, as openReplyWindow's.
      const due = clock + read;
      if (state.timerDue === 0 || state.timerDue > due) scheduleCheck(socket, state, due, clock, true);
      return;
    }
  }
  // The general path: every write that is not a steady one.
  if (existing === NOT_TCP || (existing as SocketState | undefined)?.awaitable) return;
  const timeouts = effectiveTimeouts(socket);
  if (!hasAnyTimeout(timeouts) || socket.connecting) return; // writes made while connecting come back here on connect
  const state = (existing as SocketState | undefined) ?? stateFor(socket, true);
  if (state === undefined) return;
  if (isOn(timeouts.read) && state.client) {
    if ((state.flags & DECIDED) === 0) chooseFromFirstWrite(socket, state, writev, data, encoding);
    if (writeOpensWindow(socket, state)) {
      if (isHandshaking(socket)) waitForHandshake(socket, state, timeouts.read, writev, data, encoding);
      else openReplyWindow(socket, state, timeouts.read, writev, data, encoding);
    }
  }
  if (!state.writeWatch && (isOn(timeouts.write) || isOn(timeouts.read))) watchWriteQueue(socket, state, timeouts);
}

/**
 * https and other TLS clients hand a request over before the handshake ends; its window opens
 * then. 'secure', not 'secureConnect': every TLS client emits it (a hand-built
 * `new tls.TLSSocket(socket)` gets no 'secureConnect'), and a socket that failed verification is
 * destroyed by then.
 */
function waitForHandshake(socket: InternalSocket, state: SocketState, read: number, writev?: unknown, data?: unknown, encoding?: unknown): void {
  if (writev !== undefined) holdRedisWindow(socket, state, read, writev, data, encoding);
  if (state.awaitingSecure) return;
  state.awaitingSecure = true;
  socket.once(SECURE_EVENT, () => {
    state.awaitingSecure = false;
    if (socket.destroyed) return;
    chooseAfterHandshake(socket, state);
    armAfterWrite(socket);
    if (state.replyAt === 0) state.replyLimit = 0; // no window opened (ALPN h2: a stream)
  });
}

/**
 * A redis command written while the TLS handshake runs: its window opens at 'secure', when the
 * write's bytes are gone, so its limit is read now and kept in `replyLimit` (free while no
 * window is pending) until then; of several writes the most patient wins, as in one pipeline.
 */
function holdRedisWindow(socket: InternalSocket, state: SocketState, read: number, writev: unknown, data: unknown, encoding: unknown): void {
  if (protocolOf(state) !== REDIS_ID || state.replyAt !== 0) return;
  const limit = redisWindow(headOfWrite(writev, data, encoding, REDIS_HEAD_BYTES), read);
  if (limit === BECOMES_STREAM) {
    state.replyLimit = 0;
    choose(socket, state, STREAM_ID, 'command');
  } else if (limit === NO_DEADLINE || state.replyLimit === NO_DEADLINE) state.replyLimit = NO_DEADLINE;
  else if (limit > state.replyLimit) state.replyLimit = limit;
}

/**
 * Opens a reply window (or, with one pending, moves its clock to this write). `writev`, `data`
 * and `encoding` are the write's own, when a write opens it: a redis window reads its commands.
 */
function openReplyWindow(socket: InternalSocket, state: SocketState, timeout: number, writev?: unknown, data?: unknown, encoding?: unknown): void {
  if (readEnded(socket)) return; // after the peer's EOF no reply can come (allowHalfOpen)
  const bytesRead = socket.bytesRead;
  const clock = now();
  // The window's clock moves or a new window replaces it: a timer set for the old one's exact
  // due time is no longer the new one's (the exact schedule below makes it so again).
  state.loseExactDue();
  if (state.replyAt !== 0 && bytesRead === state.replyMark && (state.flags & BODY) === 0) {
    // Still no reply, and the request is still going out (a body streamed in chunks): the
    // reply clock runs from the last write. The timer stays as it is; the check reschedules.
    startReplyClock(state, clock);
    return;
  }
  // Otherwise a fresh window: none was pending, or the pending one belongs to a request that
  // was answered meanwhile (the check is lazy, so it may not have noticed yet).
  let limit = 0;
  if (writev === undefined && state.replyAt === 0 && protocolOf(state) === REDIS_ID) {
    limit = state.replyLimit; // held from the writes made during a TLS handshake (holdRedisWindow)
  } else if (writev !== undefined && protocolOf(state) === REDIS_ID) {
    limit = redisWindow(headOfWrite(writev, data, encoding, REDIS_HEAD_BYTES), timeout);
    if (limit === BECOMES_STREAM) {
      endReplyWindow(state);
      choose(socket, state, STREAM_ID, 'command');
      return;
    }
  }
  endBody(state);
  startReplyClock(state, clock);
  state.replyMark = bytesRead;
  state.replyLimit = limit;
  // A window with no deadline (a command that blocks for ever) stays pending, so that writes
  // behind it (a pipeline) do not open windows of their own; the next write after its reply
  // finds bytes arrived and opens a fresh one.
  if (limit === NO_DEADLINE) return;
  const deadline = limit === 0 ? timeout : limit;
  noteArmed(socket, 'read', deadline, state.address, state.port);
  scheduleCheck(socket, state, clock + deadline, clock, true);
}

/** Closes the reply window, whatever kind it was. */
function endReplyWindow(state: SocketState): void {
  state.loseExactDue();
  state.replyAt = 0;
  state.replyLimit = 0;
  endBody(state);
}

/** A BODY window, if one is open, is over. */
function endBody(state: SocketState): void {
  state.flags &= ~(BODY | BODY_OF_REQUEST);
}

function watchWriteQueue(socket: InternalSocket, state: SocketState, timeouts: PhaseTimeouts): void {
  // Most writes are written at once, and then the stream has already counted them out
  // (writableLength 0: a write libuv queued stays counted until it completes), which a plain
  // field says without asking the handle (a C++ accessor) on every write.
  if (socket.writableLength === 0) return;
  const queued = queuedBytes(socket);
  // Bytes libuv wrote at once never wait: only a write it had to queue can stall.
  if (!(queued > 0)) return;
  const at = stamp(now());
  // A second deadline, the write's, stamped within the same ms as the reply window's maybe:
  // the timer's exact due time is no longer that of the only deadline.
  state.loseExactDue();
  state.writeSample = { progressAt: at, queue: queued, dispatched: dispatchedBytes(socket) };
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
  scheduleTimer(state as SocketState, NOTHING_DUE, ENGINE_TIMER, socket);
  // Report mode: an overdue phase is settled by the socket's end (`destroyed` is set before
  // `_destroy` runs), while the state is still there to name its protocol; the engine standing
  // down for another reason (uninstall, a handle sent away) says nothing.
  if ((state as SocketState).overdue !== undefined && socket.destroyed) settleAtClose(socket, state as SocketState);
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

/**
 * Makes sure the timer fires no later than `due`; a later due time waits for the next check.
 * `exact`: `due` is a deadline's exact due time (its clock's reading, not its stamp, plus its
 * timeout), so the timer fires when a bare `setTimeout` for it would (DeadlineTimer.schedule).
 */
function scheduleCheck(socket: InternalSocket, state: SocketState, due: number, at?: number, exact?: boolean): void {
  scheduleTimer(state, due, ENGINE_TIMER, socket, at, exact);
}

/**
 * What the timer runs: settles what has settled, fires a deadline that ran out and has had its
 * second look ({@link hasExpired}), and returns when the timer is next needed: the earliest due
 * time of what is still armed, or {@link NOTHING_DUE}, which lets the timer go (an idle socket
 * holds no Timeout; the next deadline armed creates a fresh one).
 */
function check(socket: InternalSocket, state: SocketState, at: number, lookedAt: number): number {
  if (socket.destroyed || runtime().patched === undefined || handedAway(socket)) {
    // A socket that lives on (the shim was uninstalled, perhaps to be installed again) keeps
    // being a client for the state a later install makes: the mark that state reads.
    if (state.client && !socket.destroyed) socket[CLIENT] = true;
    release(socket);
    return NOTHING_DUE;
  }
  const timeouts = effectiveTimeouts(socket);
  // In this order: the reply check reads the write progress (writeSample) that
  // the write check has just sampled, since the reply clock runs from the last write progress.
  const connectDue = checkConnect(socket, state, timeouts.connect);
  const writeDue = checkWrite(socket, state, timeouts, at);
  const replyDue = checkReply(socket, state, timeouts.read, at);
  // Report mode: while a reported phase waits for its answer, nothing else is reported.
  if (state.overdue !== undefined && !settleOverdue(socket, state, at)) {
    return dueWhileOverdue(state.overdue, at, connectDue, writeDue, replyDue);
  }
  const expired: Phase | undefined = hasExpired(connectDue, lookedAt)
    ? 'connect'
    : hasExpired(writeDue, lookedAt)
      ? 'write'
      : hasExpired(replyDue, lookedAt)
        ? 'read'
        : undefined;
  if (expired !== undefined) {
    if (fire(socket, state, expired, phaseTimeout(state, expired, timeouts))) return NOTHING_DUE;
    return dueWhileOverdue(state.overdue!, at, connectDue, writeDue, replyDue);
  }
  // A second look that fires nothing: what the first look found past had arrived meanwhile.
  if (lookedAt !== FIRST_LOOK) noteFalseAlarm(socket, state.address, state.port);
  return earliestDue(earliestDue(connectDue, writeDue), replyDue);
}

/**
 * A socket whose handle was sent to another process (`child.send('socket', socket)`): Node then
 * nulls its handle but neither destroys nor closes the object ({@link hasNoHandle}), so the
 * connection now belongs to the child and its deadlines are the child's.
 */
function handedAway(socket: InternalSocket): boolean {
  return hasNoHandle(socket);
}

/** The connect deadline's due time, or NOTHING_DUE once connected (or not armed). */
function checkConnect(socket: InternalSocket, state: SocketState, timeout: number | null): number {
  if (state.connectAt === 0) return NOTHING_DUE;
  if (!isOn(timeout) || isEstablished(socket)) {
    if (isOn(timeout)) noteCleared(socket, 'connect', state.connectAt, state.address, state.port);
    state.connectAt = 0;
    return NOTHING_DUE;
  }
  return readingOf(state.connectAt, state.connectLead) + timeout;
}

/**
 * Samples the write queue; returns the stall deadline's due time, or the next sample's while
 * it comes first (a stall is only seen at a sample), or NOTHING_DUE once nothing is queued.
 */
function checkWrite(socket: InternalSocket, state: SocketState, timeouts: PhaseTimeouts, at: number): number {
  const sample = state.writeSample;
  if (sample === undefined) return NOTHING_DUE;
  const queued = queuedBytes(socket);
  // Nothing held by libuv: no stall at the kernel boundary. Bytes still buffered in the stream
  // are corked on purpose or about to be dispatched, and that dispatch re-arms the watch.
  if (queued === 0) {
    if (isOn(timeouts.write)) noteCleared(socket, 'write', sample.progressAt, state.address, state.port);
    state.writeSample = undefined;
    return NOTHING_DUE;
  }
  const dispatched = dispatchedBytes(socket);
  if (writeProgressed(sample, queued, dispatched)) sample.progressAt = stamp(at);
  sample.queue = queued;
  sample.dispatched = dispatched;
  const timeout = state.awaitable ? null : timeouts.write;
  const nextSample = at + sampleStep(timeouts);
  return isOn(timeout) ? Math.min(nextSample, sample.progressAt + timeout) : nextSample;
}

/** Progress = the queue grew by less than what was dispatched into it since the last sample. */
function writeProgressed(sample: WriteSample, queued: number, dispatched: number): boolean {
  return queued < sample.queue + (dispatched - sample.dispatched);
}

/** The reply deadline's due time, or NOTHING_DUE once a reply came (or none is pending). */
function checkReply(socket: InternalSocket, state: SocketState, timeout: number | null, at: number): number {
  if (state.replyAt === 0) return NOTHING_DUE;
  if (!isOn(timeout) || state.awaitable || readEnded(socket) || replyArrived(socket, state, at)) {
    if (isOn(timeout)) noteCleared(socket, 'read', state.replyAt, state.address, state.port);
    replySettled(socket, state);
    return NOTHING_DUE;
  }
  // Not the peer's fault while the application itself is not reading (the handle stopped
  // reading because nobody drained the buffer, or bytes wait unread in the stream), so the
  // reply cannot be seen yet.
  if (isReadingStopped(socket) || socket.readableLength > 0) startReplyClock(state, at);
  const limit = windowTimeout(state, timeout);
  if (limit === NO_DEADLINE) return NOTHING_DUE; // settled by the reply, which the next write notices
  // The request is still going out: the reply clock runs from the last write progress.
  const sample = state.writeSample;
  const since = replyClock(state, sample);
  const due = since + limit;
  // A length-bounded body is sampled often, so a stall is seen soon after it began.
  return (state.flags & BODY) !== 0 ? Math.min(due, at + bodySampleStep(timeout)) : due;
}

/** The deadline of the pending reply window, ms: its own, or the phase's `read`. */
function windowTimeout(state: SocketState, read: number): number {
  return state.replyLimit === 0 ? read : state.replyLimit;
}

/** The timeout a fired phase reports: the reply window's own for `read`. */
function phaseTimeout(state: SocketState, phase: Phase, timeouts: PhaseTimeouts): number {
  return phase === 'read' ? windowTimeout(state, timeouts.read!) : timeouts[phase]!;
}

/**
 * Has the reply the window waits for arrived? Any byte, except for a response body bounded by
 * its length: that ends when its owner says it is complete, and until then bytes arriving only
 * move its inactivity clock, sampled often while they flow so a stall is seen soon after it began.
 */
function replyArrived(socket: InternalSocket, state: SocketState, at: number): boolean {
  const moved = socket.bytesRead !== state.replyMark;
  if ((state.flags & BODY) === 0) return moved;
  if ((state.flags & BODY_OF_REQUEST) !== 0 && bodyEnded(httpResponseOf(socket))) return true;
  if (moved) {
    state.replyMark = socket.bytesRead;
    startReplyClock(state, at);
  }
  return false;
}

/** How often a flowing body is sampled: like a queued write, a small fraction of the timeout. */
function bodySampleStep(read: number): number {
  return Math.min(100, Math.max(5, read / 20));
}

/** The reply arrived (or the window stood down): after an upgrade or CONNECT the socket is a stream. */
function replySettled(socket: InternalSocket, state: SocketState): void {
  endReplyWindow(state);
  if ((state.flags & TUNNEL) !== 0 && protocolOf(state) === HTTP_ID) becomeTunnel(socket, state);
}

let errorClasses: typeof Errors | undefined;

/**
 * Compiles, when the first socket gets deadlines, part of what the first deadline to fire would
 * otherwise compile while the event loop waits on it (V8 compiles a function at its first call):
 * the error's constructors and message, by making one error nobody sees, and Node's stack
 * formatter, which `destroy(err)` runs at its first stack read. The formatter only where no
 * `Error.prepareStackTrace` of the application's would be called with that error. Nothing else
 * is touched: the rest of the fire path (the checks, Node's destroy()) runs on a socket.
 */
function prepareFirePath(classes: typeof Errors): void {
  const unseen = classes.timerTimeoutError({ phase: 'read', timeout: 0 });
  if (Error.prepareStackTrace === undefined) void unseen.stack;
}

/**
 * errors.ts, loaded with the first socket state rather than at start-up (it reads libuv's
 * errno table as it loads). The same module whoever loads it, so the classes are the same objects.
 */
function errors(): typeof Errors {
  if (errorClasses === undefined) errorClasses = require('./errors') as typeof Errors;
  return errorClasses;
}

/**
 * A deadline ran out. Enforce mode: destroys the socket with the deadline's error and returns
 * true. Report mode (the rule's `mode=`, else the process mode): reports it, leaves the socket
 * exactly as it is, marks the phase overdue and returns false.
 */
function fire(socket: InternalSocket, state: SocketState, phase: Phase, timeout: number): boolean {
  const error = errors().timerTimeoutError({
    phase,
    timeout,
    address: state.address ?? socket.remoteAddress,
    port: state.port ?? socket.remotePort,
  });
  const since = phaseClock(state, phase);
  const enforced = (ruleFor(socket)?.mode ?? getDeadlineMode()) === 'enforce';
  noteFired(socket, phase, timeout, error, now() - since, enforced, state.address);
  if (!enforced) {
    state.overdue = { phase, timeout, since, mark: socket.bytesRead, wrote: socket.bytesWritten };
    return false;
  }
  release(socket);
  failInFlightWrite(socket, error);
  socket.destroy(error);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Report mode: an overdue phase, watched until its answer comes (late) or the socket closes (never).
// ---------------------------------------------------------------------------------------------

/** Has what the overdue phase waited for come: the connection, a byte of reply, write progress? */
function answered(socket: InternalSocket, state: SocketState, overdue: Overdue): boolean {
  if (overdue.phase === 'connect') return isEstablished(socket);
  if (overdue.phase === 'read') return socket.bytesRead !== overdue.mark;
  const sample = state.writeSample;
  return sample === undefined || sample.progressAt > overdue.since;
}

/** Reports the overdue phase late if its answer came (`at` is when that was seen); true if it did. */
function settleOverdue(socket: InternalSocket, state: SocketState, at: number): boolean {
  const overdue = state.overdue!;
  if (!answered(socket, state, overdue)) return false;
  state.overdue = undefined;
  noteLate(socket, overdue.phase, overdue.timeout, at - overdue.since, state.address, state.port);
  return true;
}

/**
 * The socket is closing (`_destroy`) with a phase overdue: late if its answer came since the
 * last look (a client that closes as soon as the reply arrives), else never.
 */
function settleAtClose(socket: InternalSocket, state: SocketState): void {
  const overdue = state.overdue!;
  const at = now();
  const sample = state.writeSample;
  if (overdue.phase === 'write' && !hasNoHandle(socket) && sample !== undefined && writeProgressed(sample, queuedBytes(socket), dispatchedBytes(socket))) {
    sample.progressAt = stamp(at);
  }
  if (settleOverdue(socket, state, at)) return;
  state.overdue = undefined;
  noteNever(socket, overdue.phase, overdue.timeout, at - overdue.since, socket.bytesWritten - overdue.wrote, state.address, state.port);
}

/**
 * When to look next while a phase is overdue: at its next sample, or earlier for a deadline
 * still to come. A due time already past (the overdue phase's own, or another phase's that ran
 * out meanwhile) waits until the overdue phase settles: it would have gone with the socket in
 * enforce mode, and it is reported then if it is still past.
 */
function dueWhileOverdue(overdue: Overdue, at: number, connectDue: number, writeDue: number, replyDue: number): number {
  const next = at + Math.max(OVERDUE_MIN_STEP_MS, (at - overdue.since) / OVERDUE_PRECISION);
  return futureDue(futureDue(futureDue(next, connectDue, at), writeDue, at), replyDue, at);
}

/** The earlier of `next` and `due`, ignoring a `due` that is not in the future. */
function futureDue(next: number, due: number, at: number): number {
  return due !== NOTHING_DUE && due - DUE_SLACK_MS > at && due < next ? due : next;
}

/**
 * When the clock of `phase` started: the time that ran out is measured from here. The connect
 * and reply clocks to the µs ({@link readingOf}); write progress is sampled, so it is the sample's stamp.
 */
function phaseClock(state: SocketState, phase: Phase): number {
  if (phase === 'connect') return readingOf(state.connectAt, state.connectLead);
  const sample = state.writeSample;
  if (phase === 'write' && sample !== undefined) return sample.progressAt;
  return replyClock(state, sample);
}

/** Where the reply clock runs from: the window's reading, or the last write progress when later. */
function replyClock(state: SocketState, sample: WriteSample | undefined): number {
  const opened = readingOf(state.replyAt, state.replyLead);
  return sample !== undefined && sample.progressAt > opened ? sample.progressAt : opened;
}

/** Moves the reply clock to `at`, a reading taken just now. */
function startReplyClock(state: SocketState, at: number): void {
  const stamped = stamp(at);
  state.replyAt = stamped;
  state.replyLead = leadOf(stamped, at);
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
  endReplyWindow(state);
  state.writeSample = undefined;
  state.overdue = undefined; // report mode: the awaitable API's own deadlines take over
}

// ---------------------------------------------------------------------------------------------
// Protocols: which one a connection runs, chosen once (lib/protocols/), and the client layer's
// request lifecycle. The first that applies wins:
//   1. a rule (setProtocol, before connect);
//   2. the client layer: Node's http or undici said so (http events, or `_httpMessage`);
//   3. the first bytes the client writes, once per connection; a TLS connection's ALPN;
//   4. the port table, at connect (so that server-first can arm before any write);
//   5. request-reply.
// The port table is consulted first in time but is the weakest: a client layer or recognised
// first bytes on a well-known port replace what the port said.
// ---------------------------------------------------------------------------------------------

function protocolOf(state: SocketState): number {
  return (state.flags & PROTOCOL_BITS) >> PROTOCOL_SHIFT;
}

/** Sets a socket's protocol, counting and logging it when it changes. */
function choose(socket: InternalSocket, state: SocketState, id: number, source: ProtocolSource): void {
  if ((state.flags & PROTOCOL_KNOWN) !== 0 && protocolOf(state) === id) return;
  state.flags = (state.flags & ~PROTOCOL_BITS) | (id << PROTOCOL_SHIFT) | PROTOCOL_KNOWN;
  noteProtocol(socket, id, source, state.address, state.port);
}

/**
 * Forces a socket's protocol, as a rule does (`protocol=` in `TIMEOUTSOCKET_RULES`): nothing
 * the engine sees later (client layer, first bytes, port) replaces it. Call it before
 * `connect()` reaches the engine (`armConnect`), so that `server-first` arms at connect; called
 * later it applies from the next reply window on. `'auto'` gives the choice back to the engine.
 *
 * @throws TypeError when `setting` is not a string; RangeError when it is no protocol name.
 */
export function setProtocol(socket: InternalSocket, setting: ProtocolSetting): void {
  if (typeof setting !== 'string') throw new TypeError(`protocol must be a string, got ${quote(setting)}`);
  if (!(PROTOCOL_SETTINGS as readonly string[]).includes(setting)) {
    throw new RangeError(`protocol must be one of ${PROTOCOL_SETTINGS.join(', ')}; got ${quote(setting)}`);
  }
  const state = stateFor(socket, true);
  if (state === undefined) return; // not TCP: no deadlines, no protocol
  if (setting === 'auto') {
    state.flags &= ~(FORCED | DECIDED);
    return;
  }
  state.flags |= FORCED | DECIDED;
  choose(socket, state, PROTOCOL_IDS[setting], 'rule');
  // Forced after connect() but before the connection is up (a TLS handshake still running): the
  // greeting is still due once it is. (Forced before connect(), chooseAtConnect arms it.)
  if (state.client && PROTOCOLS[protocolOf(state)]!.greetsFirst && !isEstablished(socket) && !socket.destroyed) {
    socket.once(isTls(socket) ? SECURE_EVENT : 'connect', openGreetingWindow);
  }
}

/** The protocol a socket runs under now, or `undefined` for a socket the engine keeps no state for. */
export function protocolOfSocket(socket: InternalSocket): ProtocolName | undefined {
  const state = socket[STATE];
  if (state === undefined || state === NOT_TCP) return undefined;
  return protocolName(protocolOf(state as SocketState));
}

/**
 * A rule's `protocol=` (matched by the patch just before `connect()`), unless the socket's
 * protocol was already forced: it beats the client layer, the first bytes and the port table.
 * A rule decided only by the address connected to (a CIDR rule before the first name rule)
 * is known once connected: until then the stand-in rule's deadlines apply but no rule's
 * protocol, and {@link applySettledRule} applies the final rule's.
 */
function applyRuleProtocol(socket: InternalSocket, state: SocketState): void {
  if (ruleWaitsForAddress(socket)) return;
  const setting = (socket as { [RULE]?: CompiledRule })[RULE]?.protocol;
  if (setting === undefined || setting === 'auto' || (state.flags & FORCED) !== 0) return;
  state.flags |= FORCED | DECIDED;
  choose(socket, state, PROTOCOL_IDS[setting], 'rule');
}

/**
 * A rule choice that waited for the address was made (lib/rules settles it once connected,
 * before 'connect' reaches the application): the final rule's protocol applies now, and a
 * server-first greeting it calls for opens at once (the connection is up), or after a TLS
 * client's handshake. A greeting window the port table armed gives way if the rule names
 * another protocol (openGreetingWindow looks at the protocol when it runs).
 */
function applySettledRule(socket: net.Socket): void {
  const s = socket as InternalSocket;
  const setting = (s as { [RULE]?: CompiledRule })[RULE]?.protocol;
  if (setting === undefined || setting === 'auto' || s.destroyed || !wantsTimeouts(s)) return;
  const state = stateFor(s, true);
  if (state === undefined || (state.flags & FORCED) !== 0) return;
  const before = protocolOf(state);
  applyRuleProtocol(s, state);
  if (protocolOf(state) !== before) leaveGreeting(state, before);
  if (!state.client || !PROTOCOLS[protocolOf(state)]!.greetsFirst) return;
  if (isHandshaking(s)) s.once('secure', openGreetingWindow);
  else openGreetingWindow.call(s);
}
onRuleSettled(applySettledRule);

/** At connect: the port table (unless a rule chose), and a server-first greeting deadline. */
function chooseAtConnect(socket: InternalSocket, state: SocketState, port: number | undefined): void {
  if ((state.flags & FORCED) === 0 && port !== undefined) {
    const byPort = protocolForPort(port);
    if (byPort !== undefined) choose(socket, state, PROTOCOL_IDS[byPort], 'port');
  }
  if (PROTOCOLS[protocolOf(state)]!.greetsFirst) {
    // Once the connection is up: 'connect', or 'secure' for a TLS client (the greeting comes
    // after the handshake, whose time is the connect phase's). A module-level listener, no closure.
    socket.once(isTls(socket) ? SECURE_EVENT : 'connect', openGreetingWindow);
  }
}

/** A server-first connection is up: its greeting must start within `read`. */
function openGreetingWindow(this: InternalSocket): void {
  const state = this[STATE];
  if (state === undefined || state === NOT_TCP || this.destroyed) return;
  const s = state as SocketState;
  const read = effectiveTimeouts(this).read;
  // The protocol may have changed since connect (a client layer, a rule), or a write opened a window.
  if (!isOn(read) || s.awaitable || !PROTOCOLS[protocolOf(s)]!.greetsFirst || s.replyAt !== 0) return;
  openReplyWindow(this, s, read);
}

/** The first write of a client socket whose protocol no rule or client layer chose yet. */
function chooseFromFirstWrite(socket: InternalSocket, state: SocketState, writev: unknown, data: unknown, encoding: unknown): void {
  state.flags |= DECIDED;
  const before = protocolOf(state);
  chooseByWrite(socket, state, writev, data, encoding);
  if (protocolOf(state) !== before) leaveGreeting(state, before);
}

/**
 * The port said server-first and armed a greeting window, but the client layer or the bytes
 * chose another protocol: the pending greeting window gives way to the new protocol's own
 * (a redis command's, an http request's, none for a stream).
 */
function leaveGreeting(state: SocketState, before: number): void {
  if (PROTOCOLS[before]!.greetsFirst && state.replyAt !== 0 && (state.flags & BODY) === 0) endReplyWindow(state);
}

function chooseByWrite(socket: InternalSocket, state: SocketState, writev: unknown, data: unknown, encoding: unknown): void {
  // Node's http client hands its socket a request (tickOnSocket) before it writes anything.
  if (carriesHttpRequest(socket)) {
    choose(socket, state, HTTP_ID, 'client');
    return;
  }
  if (isTls(socket) && socket.alpnProtocol === 'h2') {
    choose(socket, state, STREAM_ID, 'alpn');
    return;
  }
  // Most first writes are ruled out by their first byte, without copying anything.
  const id =
    writev === undefined || !mayBeSignature(firstByteOfWrite(writev, data))
      ? undefined
      : protocolOfFirstBytes(headOfWrite(writev, data, encoding, SNIFF_BYTES));
  if (id !== undefined) choose(socket, state, id, 'bytes');
  else if ((state.flags & PROTOCOL_KNOWN) === 0) choose(socket, state, REQUEST_REPLY_ID, 'default');
}

/** A TLS client's handshake ended after its first write: ALPN `h2` makes it a stream. */
function chooseAfterHandshake(socket: InternalSocket, state: SocketState): void {
  if ((state.flags & FORCED) === 0 && protocolOf(state) !== HTTP_ID && socket.alpnProtocol === 'h2') {
    choose(socket, state, STREAM_ID, 'alpn');
  }
}

/**
 * The protocol ids whose client writes open a reply window, one bit per id (`repliesToWrites` in
 * lib/protocols/index.ts): the question is asked on every write that is not a steady one, and
 * V8 left `PROTOCOLS[id]` (a frozen array of frozen records, its index read from the flag field)
 * to its generic keyed-load stub, about 70 instructions per write; a shift and a mask of a
 * module constant are a few.
 */
const REPLIES_TO_WRITES = PROTOCOLS.reduce((bits, protocol) => (protocol.repliesToWrites ? bits | (1 << protocol.id) : bits), 0);

/** Does this write open (or extend) a reply window, under the socket's protocol? One flag test for most. */
function writeOpensWindow(socket: InternalSocket, state: SocketState): boolean {
  const id = protocolOf(state);
  if (id !== HTTP_ID) return ((REPLIES_TO_WRITES >> id) & 1) !== 0;
  if ((state.flags & AWAIT_RESPONSE) === 0) return false; // a request body, an idle pooled socket
  if ((state.flags & TUNNEL) !== 0 && state.replyAt !== 0 && socket.bytesRead !== state.replyMark) {
    // The upgrade or CONNECT was answered and the client now speaks the tunnelled protocol.
    endReplyWindow(state);
    becomeTunnel(socket, state);
    return false;
  }
  return true;
}

function becomeTunnel(socket: InternalSocket, state: SocketState): void {
  state.flags &= ~(AWAIT_RESPONSE | TUNNEL);
  choose(socket, state, STREAM_ID, 'upgrade');
}

/**
 * The client layer (Node's http or undici) carries HTTP on this socket. Returns its state when
 * the http lifecycle applies (not when a rule chose another protocol).
 */
export function httpClientSocket(socket: InternalSocket): SocketState | undefined {
  const state = stateFor(socket, false);
  if (state === undefined || state.awaitable || !state.client) return undefined;
  if ((state.flags & FORCED) !== 0) return protocolOf(state) === HTTP_ID ? state : undefined;
  // An HTTP/2 connection (ALPN h2) is a stream: undici 8 (Node 26's fetch, allowH2) publishes
  // sendHeaders for each h2 stream with the connection's socket, but streams share it, so one
  // stream's answer is no sign of another's, and the http lifecycle would settle or close
  // windows that belong to other requests. Chosen here too: node:http2 writes through the
  // handle, not `_writeGeneric`, so no first write ever chooses for it.
  if (isTls(socket) && socket.alpnProtocol === 'h2') {
    state.flags |= DECIDED;
    const was = protocolOf(state);
    choose(socket, state, STREAM_ID, 'alpn');
    if (was !== STREAM_ID) leaveGreeting(state, was);
    return undefined;
  }
  state.flags |= DECIDED;
  const before = protocolOf(state);
  choose(socket, state, HTTP_ID, 'client');
  if (before !== HTTP_ID) leaveGreeting(state, before);
  return state;
}

/**
 * A request was handed over completely (`http.client.request.start`, published when the
 * request ended; `undici:request:bodySent`): its reply deadline starts, or starts with the
 * write that follows on a socket still connecting. `isTunnel(request)` says whether it is an
 * upgrade or a CONNECT; asked only for a socket the http lifecycle applies to, so that a socket
 * with no deadline (the shim installed, nothing set) pays for no header lookups.
 */
export function httpRequestSent<R>(socket: InternalSocket, request: R, isTunnel: (request: R) => boolean): void {
  const state = httpClientSocket(socket);
  if (state === undefined) return;
  state.flags = (state.flags | AWAIT_RESPONSE) & ~TUNNEL;
  if (isTunnel(request)) state.flags |= TUNNEL;
  const read = effectiveTimeouts(socket).read;
  if (!isOn(read) || socket.connecting || socket.destroyed) return; // the write at connect opens it
  if (isHandshaking(socket)) waitForHandshake(socket, state, read);
  else openReplyWindow(socket, state, read);
}

/**
 * A response's head arrived (`http.client.response.finish`, `undici:request:headers`). The
 * reply deadline is settled. `bodyOf(message)` says whether the response declares its length
 * (its body is then bounded by inactivity) and what ends that body ({@link BodyWindow}). It is
 * asked only when a body window would open, so that a socket with no deadline (the shim
 * installed, nothing set) pays for no header lookups.
 */
export function httpResponseHead<M>(socket: InternalSocket, message: M, bodyOf: (message: M) => BodyWindow): void {
  const state = stateFor(socket, false);
  if (state === undefined || protocolOf(state) !== HTTP_ID) return;
  state.flags &= ~AWAIT_RESPONSE;
  const read = effectiveTimeouts(socket).read;
  if (state.replyAt !== 0) {
    if (isOn(read)) noteCleared(socket, 'read', state.replyAt, state.address, state.port);
    endReplyWindow(state);
  }
  if ((state.flags & TUNNEL) !== 0) {
    becomeTunnel(socket, state);
    return;
  }
  if (!isOn(read) || state.awaitable || socket.destroyed) return;
  const body = bodyOf(message);
  if (body === NO_BODY_WINDOW) return;
  state.loseExactDue(); // endReplyWindow has, unless no window was pending
  state.flags |= body === BODY_OF_HTTP_REQUEST ? BODY | BODY_OF_REQUEST : BODY;
  startReplyClock(state, now());
  const at = state.replyAt;
  state.replyMark = socket.bytesRead;
  state.replyLimit = 0;
  noteArmed(socket, 'read', read, state.address, state.port);
  scheduleCheck(socket, state, at + bodySampleStep(read));
}

/** A response ended or failed (`undici:request:trailers`, `undici:request:error`): its body window closes. */
export function httpResponseEnd(socket: InternalSocket): void {
  const state = stateFor(socket, false);
  if (state === undefined || protocolOf(state) !== HTTP_ID) return;
  state.flags &= ~AWAIT_RESPONSE;
  if ((state.flags & BODY) === 0) return;
  const read = effectiveTimeouts(socket).read;
  if (isOn(read)) noteCleared(socket, 'read', state.replyAt, state.address, state.port);
  endReplyWindow(state);
}
