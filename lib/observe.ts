/**
 * Observability: what the engine reports about its deadlines, through three outlets.
 *
 * - `NODE_DEBUG=timeoutsocket`: one `util.debuglog` line per deadline armed, cleared (settled
 *   in time), fired or reported (and then late or never), and per protocol chosen; every line
 *   names the connection's protocol. Whether it is on is read once, at load; every hook tests
 *   that one boolean before it builds a string, so logging costs nothing when it is off.
 * - `diagnostics_channel`: {@link CHANNELS}`.timeout` when a deadline fires (or, in report mode,
 *   runs out and is reported), `.late` and `.never` when a reported deadline's answer came
 *   after all or never came, `.install` and `.uninstall` when the patch goes in or out.
 *   Messages are built only when someone subscribed (`channel.hasSubscribers`).
 * - {@link getStats}: counters since install. They are plain integer fields of the shared
 *   runtime record (lib/runtime.ts), so two copies of the package count into one place.
 *
 * The engine calls the `note*` hooks; they are the only cost on its paths (an increment and a
 * boolean test), since "armed" happens on writes.
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';
import type * as net from 'node:net';
import { isIP } from 'node:net';
import * as util from 'node:util';
import { now } from './clock';
import type { Phase, PhaseTimeouts } from './config';
import type { SocketTimeoutError } from './errors';
import { PROTOCOL_FIELD, PROTOCOL_SHIFT, PROTOCOLS, protocolName, type ProtocolName } from './protocols/index';
import { ruleFor, type SocketTimeoutRule } from './rules/index';
import { newCounters, runtime, STATE, type Counters } from './runtime';

/**
 * The `diagnostics_channel` names timeoutsocket publishes on.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(CHANNELS.timeout, (message) => {
 *   const { phase, timeout, elapsed, socket } = message as TimeoutMessage;
 *   console.warn(`timeoutsocket: ${phase} deadline (${timeout} ms) fired after ${Math.round(elapsed)} ms`, socket.remoteAddress);
 * });
 * ```
 */
export const CHANNELS = Object.freeze({
  /**
   * A deadline fired: a {@link TimeoutMessage}, published just before the socket is destroyed;
   * in report mode, when it ran out and was reported (`enforced: false`, nothing destroyed).
   */
  timeout: 'timeoutsocket:timeout',
  /** Report mode: the answer a reported deadline waited for came after all: a {@link LateMessage}. */
  late: 'timeoutsocket:late',
  /** Report mode: the socket closed before the answer a reported deadline waited for came: a {@link NeverMessage}. */
  never: 'timeoutsocket:never',
  /** The patch was installed: an {@link InstallMessage}. */
  install: 'timeoutsocket:install',
  /** The patch was removed: an {@link UninstallMessage}. */
  uninstall: 'timeoutsocket:uninstall',
} as const);

/** What {@link CHANNELS}`.timeout` carries. */
export interface TimeoutMessage {
  /** The socket whose deadline fired; not yet destroyed when subscribers run (the error follows). */
  socket: net.Socket;
  /** The phase whose deadline ran out. */
  phase: Phase;
  /** The timeout in force for that phase, ms. */
  timeout: number;
  /** The error the socket is about to be destroyed with (in report mode: would have been). */
  error: SocketTimeoutError;
  /** `true` in enforce mode (the socket is destroyed next); `false` in report mode (nothing is). */
  enforced: boolean;
  /** Where the socket goes (or, accepted by a server, comes from). */
  destination: DeadlineDestination;
  /**
   * Milliseconds since the phase's clock started (connect called, request written, last write
   * progress): at least `timeout` less 1 ms, since a deadline fires when a bare `setTimeout`
   * would, up to 1 ms before its due time by `performance.now()`.
   */
  elapsed: number;
  /** The rule per destination that applied (`TIMEOUTSOCKET_RULES`), or `undefined` when none did. */
  rule: SocketTimeoutRule | undefined;
  /** The protocol the connection ran under (`request-reply` while none was chosen). */
  protocol: ProtocolName;
}

/**
 * Where a socket goes: the host given to `connect()`, the address, the port. For a socket a
 * server accepted, the peer it came from and the local port it was accepted on.
 */
export interface DeadlineDestination {
  /** The host given to `connect()` (a name or an address literal); `undefined` for an accepted socket. */
  host: string | undefined;
  /** The peer's address once connected; before that the host when it is an address literal. */
  address: string | undefined;
  /** The peer's port (the port given to `connect()` for a client). */
  port: number | undefined;
  /** For an accepted socket, the local port it was accepted on; `undefined` for a client. */
  acceptedOn: number | undefined;
}

/**
 * What {@link CHANNELS}`.late` carries: in report mode, a deadline ran out and was reported,
 * and then what it waited for came after all: the connection, the reply's first byte, or
 * progress of the stalled write. Seen when the engine next looks (it samples an overdue phase
 * every twentieth of its elapsed time, at least every 5 ms) or when the socket closes, never per
 * chunk: `elapsed` is an upper bound, at most about 5% over.
 */
export interface LateMessage {
  /** The socket; still open. */
  socket: net.Socket;
  /** The phase whose deadline ran out. */
  phase: Phase;
  /** The timeout in force for that phase, ms. */
  timeout: number;
  /** Milliseconds from the phase's clock start (as in {@link TimeoutMessage}) until the answer was seen. */
  elapsed: number;
  /** How late the answer was: `elapsed - timeout`, ms. */
  late: number;
  /** Where the socket goes. */
  destination: DeadlineDestination;
  /** The protocol the connection ran under, as in {@link TimeoutMessage}. */
  protocol: ProtocolName;
  /** The rule per destination that applied, or `undefined`. */
  rule: SocketTimeoutRule | undefined;
}

/**
 * What {@link CHANNELS}`.never` carries: in report mode, a deadline ran out and was reported,
 * and the socket closed (`_destroy`) before what it waited for came. A destination that is
 * written to after its reply deadline ran out (`wroteAfter > 0`) and closes without an error
 * is a stream (nothing ever answers it), not a hang.
 */
export interface NeverMessage {
  /** The socket, being destroyed. */
  socket: net.Socket;
  /** The phase whose deadline ran out. */
  phase: Phase;
  /** The timeout in force for that phase, ms. */
  timeout: number;
  /** Milliseconds from the phase's clock start until the socket closed. */
  elapsed: number;
  /** The code of the error the socket was destroyed with (`ECONNRESET`), or `undefined` for a close without one. */
  error: string | undefined;
  /** Bytes the application wrote to the socket after the deadline ran out. */
  wroteAfter: number;
  /** Where the socket goes. */
  destination: DeadlineDestination;
  /** The protocol the connection ran under, as in {@link TimeoutMessage}. */
  protocol: ProtocolName;
  /** The rule per destination that applied, or `undefined`. */
  rule: SocketTimeoutRule | undefined;
}

/** What {@link CHANNELS}`.install` carries. */
export interface InstallMessage {
  /** The process default in force at install. */
  defaults: PhaseTimeouts;
}

/** What {@link CHANNELS}`.uninstall` carries. */
export interface UninstallMessage {
  /** The counters at the moment of uninstall (the next install resets them). */
  stats: TimeoutSocketStats;
}

/**
 * Counters since the patch was installed (installing resets them), from {@link getStats}.
 * Every field only grows until the next install.
 */
export interface TimeoutSocketStats {
  /** `Date.now()` at install: the start of the counting period. */
  since: number;
  /**
   * Sockets seen: TCP sockets the engine kept state for, i.e. that had a deadline in force
   * when they connected or wrote, or that were given their own setting with
   * `setSocketTimeout()`. Sockets with no deadline at all cost nothing and are not counted.
   */
  sockets: number;
  /** Deadlines armed: connects started, reply windows opened, queued writes put under watch (with a write timeout). */
  armed: number;
  /** Deadlines that fired and were enforced (the socket destroyed), per phase. */
  timeouts: { connect: number; read: number; write: number };
  /** Report mode: deadlines that ran out and were reported instead of enforced (the socket left alone). */
  reported: number;
  /** Report mode: reported deadlines whose answer came after all (published on `timeoutsocket:late`). */
  late: number;
  /**
   * Report mode: reported deadlines whose socket closed before the answer came (published on
   * `timeoutsocket:never`). `reported - late - never` are still waiting.
   */
  never: number;
  /**
   * Timeouts not raised because the second look (after `setImmediate` let pending I/O run)
   * found that the connection, reply or write progress had arrived while the event loop was busy.
   */
  falseAlarmsAvoided: number;
  /** Per protocol: connections it was chosen for, and deadlines that fired under it. */
  protocols: Record<ProtocolName, ProtocolStats>;
}

/** {@link TimeoutSocketStats.protocols}: one protocol's counters. */
export interface ProtocolStats {
  /**
   * Client connections whose protocol was chosen as this one (by a rule, the client layer, the
   * first bytes, the port table, or by default). A connection that changes protocol (redis after
   * SUBSCRIBE, http after an upgrade) counts under both.
   */
  sockets: number;
  /** Deadlines (any phase) that fired and were enforced on a connection running this protocol (report mode: see `reported`). */
  timeouts: number;
}

/**
 * What chose a connection's protocol, as debug lines name it: `rule`, `client` (Node's http or
 * undici), `bytes` (the first bytes written), `alpn` (the TLS handshake), `port` (the port
 * table), `default`, or what switched it later: `command` (redis SUBSCRIBE/MONITOR), `upgrade`
 * (an http upgrade or CONNECT).
 */
export type ProtocolSource = 'rule' | 'client' | 'bytes' | 'alpn' | 'port' | 'default' | 'command' | 'upgrade';

// ---------------------------------------------------------------------------------------------

const debug = util.debuglog('timeoutsocket');
/** `NODE_DEBUG` is read once: Node parses it at start-up, so it cannot change later anyway. */
const DEBUG: boolean = debug.enabled;

const timeoutChannel = diagnosticsChannel.channel(CHANNELS.timeout);
const lateChannel = diagnosticsChannel.channel(CHANNELS.late);
const neverChannel = diagnosticsChannel.channel(CHANNELS.never);
const installChannel = diagnosticsChannel.channel(CHANNELS.install);
const uninstallChannel = diagnosticsChannel.channel(CHANNELS.uninstall);

/** The shared counters; a runtime record made by an older copy may lack them. */
function sharedCounters(): Counters {
  const shared = runtime();
  return (shared.stats ??= newCounters());
}

/** Taken once: the record is zeroed in place on install, never replaced. */
const counters: Counters = sharedCounters();

/** The per-protocol counters, made if the record came from an older copy without them. */
function protocolCounters(): Counters {
  if (counters.protocolSockets === undefined || counters.protocolTimeouts === undefined) {
    const fresh = newCounters();
    counters.protocolSockets = fresh.protocolSockets;
    counters.protocolTimeouts = fresh.protocolTimeouts;
  }
  return counters;
}

/** The protocol id a socket runs under, from its engine state (0, `request-reply`, while none was chosen). */
function protocolIdOf(socket: net.Socket): number {
  const flags = ((socket as unknown as Record<symbol, unknown>)[STATE] as { flags?: number } | undefined)?.flags ?? 0;
  return (flags >> PROTOCOL_SHIFT) & PROTOCOL_FIELD;
}

function protocolOfSocket(socket: net.Socket): ProtocolName {
  return protocolName(protocolIdOf(socket));
}

/**
 * Who a debug line is about: the peer, the local port that tells connections to it apart, the
 * protocol, and the rule that applied (`rule 2 "*:6379 protocol=redis"`, or `no rule`).
 */
function describeSocket(socket: net.Socket, address: string | undefined, port: number | undefined): string {
  const peer = address ?? socket.remoteAddress ?? '?';
  const where = `local port ${socket.localPort ?? '-'}, protocol ${protocolOfSocket(socket)}, ${describeRule(ruleFor(socket))}`;
  return `${peer}:${port ?? socket.remotePort ?? '?'} (${where})`;
}

/** How debug lines name a rule. */
function describeRule(rule: SocketTimeoutRule | undefined): string {
  return rule === undefined ? 'no rule' : `rule ${rule.index} ${JSON.stringify(rule.text)}`;
}

/** The engine created state for a socket (see {@link TimeoutSocketStats.sockets}). */
export function noteSocket(): void {
  counters.sockets++;
}

/** A connection's protocol was chosen or changed to the protocol with id `id`. */
export function noteProtocol(socket: net.Socket, id: number, source: ProtocolSource, address?: string, port?: number): void {
  const c = protocolCounters();
  c.protocolSockets[id] = (c.protocolSockets[id] ?? 0) + 1;
  if (DEBUG) debug('protocol %s (%s) %s', protocolName(id), source, describeSocket(socket, address, port));
}

/** A deadline was armed. */
export function noteArmed(socket: net.Socket, phase: Phase, timeout: number, address?: string, port?: number): void {
  counters.armed++;
  if (DEBUG) debug('armed %s %d ms %s', phase, timeout, describeSocket(socket, address, port));
}

/** A deadline settled in time: connected, answered, or the queue drained. `since` is when its clock started. */
export function noteCleared(socket: net.Socket, phase: Phase, since: number, address?: string, port?: number): void {
  if (DEBUG) {
    debug('cleared %s after %d ms %s', phase, Math.round(now() - since), describeSocket(socket, address, port));
  }
}

/** The second look found nothing expired: the loop was busy, not the peer late. */
export function noteFalseAlarm(socket: net.Socket, address?: string, port?: number): void {
  counters.falseAlarmsAvoided++;
  if (DEBUG) debug('no timeout: the answer arrived while the event loop was blocked %s', describeSocket(socket, address, port));
}

/**
 * A deadline fired; called before the socket is destroyed with `error`. With `enforced` false
 * (report mode) it ran out and is reported, and the socket is left alone. `host` is the host
 * given to `connect()`.
 */
export function noteFired(
  socket: net.Socket,
  phase: Phase,
  timeout: number,
  error: SocketTimeoutError,
  elapsed: number,
  enforced = true,
  host?: string,
): void {
  if (!enforced) counters.reported = (counters.reported ?? 0) + 1;
  else if (phase === 'connect') counters.connectTimeouts++;
  else if (phase === 'read') counters.readTimeouts++;
  else counters.writeTimeouts++;
  const id = protocolIdOf(socket);
  const protocol = protocolName(id);
  if (enforced) {
    const c = protocolCounters();
    c.protocolTimeouts[id] = (c.protocolTimeouts[id] ?? 0) + 1;
  }
  if (DEBUG) {
    const what = enforced ? 'fired' : 'reported (report mode, not enforced)';
    debug('%s %s after %d ms (timeout %d ms) %s', what, phase, Math.round(elapsed), timeout, describeSocket(socket, error.address, error.port));
  }
  if (timeoutChannel.hasSubscribers) {
    const rule = ruleFor(socket);
    const destination = destinationOf(socket, host, error.port);
    const message: TimeoutMessage = { socket, phase, timeout, error, elapsed, enforced, destination, rule, protocol };
    timeoutChannel.publish(message);
  }
}

/** Report mode: what a reported deadline waited for came after all, `elapsed` ms after its clock started. */
export function noteLate(socket: net.Socket, phase: Phase, timeout: number, elapsed: number, host?: string, port?: number): void {
  counters.late = (counters.late ?? 0) + 1;
  if (DEBUG) {
    debug('late %s: answered after %d ms, %d ms past the timeout %s', phase, Math.round(elapsed), Math.round(elapsed - timeout), describeSocket(socket, host, port));
  }
  if (lateChannel.hasSubscribers) {
    const rule = ruleFor(socket);
    const message: LateMessage = {
      socket,
      phase,
      timeout,
      elapsed,
      late: elapsed - timeout,
      destination: destinationOf(socket, host, port),
      protocol: protocolOfSocket(socket),
      rule,
    };
    lateChannel.publish(message);
  }
}

/** Report mode: the socket closed, `elapsed` ms after the clock of a reported deadline started, with no answer. */
export function noteNever(
  socket: net.Socket,
  phase: Phase,
  timeout: number,
  elapsed: number,
  wroteAfter: number,
  host?: string,
  port?: number,
): void {
  counters.never = (counters.never ?? 0) + 1;
  const error = (socket.errored as NodeJS.ErrnoException | null | undefined)?.code;
  if (DEBUG) {
    const how = error === undefined ? 'closed' : `closed with ${error}`;
    debug('never %s: %s after %d ms with no answer %s', phase, how, Math.round(elapsed), describeSocket(socket, host, port));
  }
  if (neverChannel.hasSubscribers) {
    const rule = ruleFor(socket);
    const message: NeverMessage = {
      socket,
      phase,
      timeout,
      elapsed,
      error,
      wroteAfter,
      destination: destinationOf(socket, host, port),
      protocol: protocolOfSocket(socket),
      rule,
    };
    neverChannel.publish(message);
  }
}

/** Where a socket goes, for the messages: `host` is what `connect()` was given. */
function destinationOf(socket: net.Socket, host: string | undefined, port: number | undefined): DeadlineDestination {
  // Node sets `server` on a socket a net.Server accepted, just before 'connection' (net.js onconnection).
  const server = (socket as { server?: unknown }).server;
  const accepted = server !== undefined && server !== null;
  if (accepted) return { host: undefined, address: socket.remoteAddress, port: socket.remotePort, acceptedOn: socket.localPort };
  const address = socket.remoteAddress ?? (host !== undefined && isIP(host) !== 0 ? host : undefined);
  return { host, address, port: port ?? socket.remotePort, acceptedOn: undefined };
}

/** Called by `install()` once it patched: resets the counters, then tells subscribers. */
export function noteInstall(defaults: PhaseTimeouts): void {
  Object.assign(counters, newCounters());
  if (DEBUG) debug('installed, defaults %j', defaults);
  if (installChannel.hasSubscribers) {
    const message: InstallMessage = { defaults: { ...defaults } };
    installChannel.publish(message);
  }
}

/** Called by `uninstall()` once the originals are back. */
export function noteUninstall(): void {
  if (DEBUG) debug('uninstalled');
  if (uninstallChannel.hasSubscribers) {
    const message: UninstallMessage = { stats: getStats() };
    uninstallChannel.publish(message);
  }
}

/**
 * The counters since install: a fresh object each call, cheap enough to read every few seconds
 * into a metrics system.
 *
 * @example
 * ```ts
 * const { timeouts, falseAlarmsAvoided } = getStats();
 * console.log(`read timeouts: ${timeouts.read}, false alarms avoided: ${falseAlarmsAvoided}`);
 * ```
 */
export function getStats(): TimeoutSocketStats {
  const c = protocolCounters();
  const protocols = {} as Record<ProtocolName, ProtocolStats>;
  for (const { id, name } of PROTOCOLS) protocols[name] = { sockets: c.protocolSockets[id] ?? 0, timeouts: c.protocolTimeouts[id] ?? 0 };
  return {
    since: c.since,
    sockets: c.sockets,
    armed: c.armed,
    timeouts: { connect: c.connectTimeouts, read: c.readTimeouts, write: c.writeTimeouts },
    falseAlarmsAvoided: c.falseAlarmsAvoided,
    reported: c.reported ?? 0,
    late: c.late ?? 0,
    never: c.never ?? 0,
    protocols,
  };
}
