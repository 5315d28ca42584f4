/**
 * Observability: what the engine reports about its deadlines, through three outlets.
 *
 * - `NODE_DEBUG=timeoutsocket`: one `util.debuglog` line per deadline armed, cleared (settled
 *   in time) or fired, and per protocol chosen; every line names the connection's protocol. Whether it is on is read once, at load; every hook tests that one
 *   boolean before it builds a string, so logging costs nothing when it is off.
 * - `diagnostics_channel`: {@link CHANNELS}`.timeout` when a deadline fires, `.install` and
 *   `.uninstall` when the patch goes in or out. Messages are built only when someone subscribed
 *   (`channel.hasSubscribers`).
 * - {@link getStats}: counters since install. They are plain integer fields of the shared
 *   runtime record (lib/runtime.ts), so two copies of the package count into one place.
 *
 * The engine calls the `note*` hooks; they are the only cost on its paths (an increment and a
 * boolean test), since "armed" happens on writes.
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as util from 'node:util';
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
  /** A deadline fired: a {@link TimeoutMessage}, published just before the socket is destroyed. */
  timeout: 'timeoutsocket:timeout',
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
  /** The error the socket is about to be destroyed with. */
  error: SocketTimeoutError;
  /** Milliseconds since the phase's clock started (connect called, request written, last write progress); at least `timeout`. */
  elapsed: number;
  /** The rule per destination that applied (`TIMEOUTSOCKET_RULES`), or `undefined` when none did. */
  rule: SocketTimeoutRule | undefined;
  /** The protocol the connection ran under (`request-reply` while none was chosen). */
  protocol: ProtocolName;
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
  /** Deadlines that fired, per phase. */
  timeouts: { connect: number; read: number; write: number };
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
  /** Deadlines (any phase) that fired on a connection running this protocol. */
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
    debug('cleared %s after %d ms %s', phase, Math.round(performance.now() - since), describeSocket(socket, address, port));
  }
}

/** The second look found nothing expired: the loop was busy, not the peer late. */
export function noteFalseAlarm(socket: net.Socket, address?: string, port?: number): void {
  counters.falseAlarmsAvoided++;
  if (DEBUG) debug('no timeout: the answer arrived while the event loop was blocked %s', describeSocket(socket, address, port));
}

/** A deadline fired; called before the socket is destroyed with `error`. */
export function noteFired(socket: net.Socket, phase: Phase, timeout: number, error: SocketTimeoutError, elapsed: number): void {
  if (phase === 'connect') counters.connectTimeouts++;
  else if (phase === 'read') counters.readTimeouts++;
  else counters.writeTimeouts++;
  const id = protocolIdOf(socket);
  const protocol = protocolName(id);
  const c = protocolCounters();
  c.protocolTimeouts[id] = (c.protocolTimeouts[id] ?? 0) + 1;
  if (DEBUG) {
    debug('fired %s after %d ms (timeout %d ms) %s', phase, Math.round(elapsed), timeout, describeSocket(socket, error.address, error.port));
  }
  if (timeoutChannel.hasSubscribers) {
    const message: TimeoutMessage = { socket, phase, timeout, error, elapsed, rule: ruleFor(socket), protocol };
    timeoutChannel.publish(message);
  }
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
    protocols,
  };
}
