/**
 * Install and uninstall: the only code that touches `net.Socket.prototype` and
 * `net.Server.prototype`.
 *
 * Patching the prototypes (not replacing the exported classes) is what reaches every socket:
 * `net.connect()`, http's Agent, `tls.connect()` (TLSSocket inherits from net.Socket) and the
 * server's `onconnection()` all construct through net.js's module-local `Socket` binding.
 */
import * as net from 'node:net';
import { normalizeTimeout, type PhaseTimeouts, type TimeoutSetting } from './config';
import {
  armAfterWrite,
  armConnect,
  effectiveTimeouts,
  markNotTcp,
  release,
  stateFor,
  type InternalSocket,
} from './engine';
import { runtime, type SavedProperty } from './runtime';

/** The methods the patch adds to every socket. */
export interface TimeoutSocketMethods {
  /**
   * Sets this socket's deadlines, overriding the process default: `null` for none, a number
   * of milliseconds for every phase, or `{ connect?, read?, write? }`.
   * @example
   * ```ts
   * socket.setSocketTimeout({ read: 5000 });
   * ```
   */
  setSocketTimeout(setting: TimeoutSetting): this;
  /** This socket's deadlines in force: its own setting, else the process default. */
  getSocketTimeout(): PhaseTimeouts;
}

declare module 'node:net' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Socket extends TimeoutSocketMethods {}
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** The arguments `connect()` was given, as far as the engine needs them. */
interface ConnectTarget {
  ipc: boolean;
  host: string | undefined;
  port: number | undefined;
}

/**
 * Reads the destination out of `connect()`'s many forms: `(options[, cb])`, `(port[, host][, cb])`,
 * `(path[, cb])`, and the normalized `[options, cb]` array that `net.connect()` passes.
 */
export function connectTarget(args: readonly unknown[]): ConnectTarget {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  if (typeof first === 'object' && first !== null) {
    const options = first as { path?: unknown; port?: unknown; host?: unknown };
    if (options.path !== undefined && options.path !== null) return { ipc: true, host: undefined, port: undefined };
    return { ipc: false, host: hostOf(options.host), port: portOf(options.port) };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { ipc: true, host: undefined, port: undefined };
  return { ipc: false, host: hostOf(args[1]), port: portOf(first) };
}

function hostOf(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : 'localhost';
}

function portOf(value: unknown): number | undefined {
  const port = Number(value);
  return Number.isInteger(port) ? port : undefined;
}

function wrapConnect(original: AnyFunction): AnyFunction {
  return function connect(this: unknown, ...args: unknown[]) {
    const socket = this as InternalSocket;
    const target = connectTarget(args);
    if (target.ipc) markNotTcp(socket);
    else armConnect(socket, target.host, target.port);
    return original.apply(socket, args);
  };
}

function wrapWriteGeneric(original: AnyFunction): AnyFunction {
  return function _writeGeneric(this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    armAfterWrite(this as InternalSocket);
    return result;
  };
}

function wrapDestroy(original: AnyFunction): AnyFunction {
  return function _destroy(this: unknown, ...args: unknown[]) {
    release(this as InternalSocket);
    return original.apply(this, args);
  };
}

function setSocketTimeout(this: net.Socket, setting: TimeoutSetting): net.Socket {
  const timeouts = normalizeTimeout(setting, 'timeout');
  const state = stateFor(this as InternalSocket, true);
  if (state !== undefined) state.own = timeouts;
  return this;
}

function getSocketTimeout(this: net.Socket): PhaseTimeouts {
  return { ...effectiveTimeouts(stateFor(this as InternalSocket, false)) };
}

/** Replaces `target[key]` with `replacement`, recording the original for uninstall. */
function replace(saved: SavedProperty[], target: object, key: string, replacement: unknown): void {
  saved.push({ target, key, original: Object.getOwnPropertyDescriptor(target, key) });
  Object.defineProperty(target, key, { value: replacement, writable: true, configurable: true, enumerable: false });
}

/** Wraps the method `target[key]` with `wrap(original)`, recording the original for uninstall. */
function wrapMethod(saved: SavedProperty[], target: object, key: string, wrap: (fn: AnyFunction) => AnyFunction): void {
  const original = (target as Record<string, unknown>)[key];
  if (typeof original !== 'function') throw new TypeError(`net internals changed: ${key} is not a function`);
  replace(saved, target, key, wrap(original as AnyFunction));
}

/**
 * Patches `net.Socket.prototype` so every TCP socket in the process gets deadlines. Idempotent,
 * also across two copies of the package in one process: the first install patches, the rest
 * are no-ops.
 * @returns `true` if this call patched, `false` if the patch was already in place.
 */
export function install(): boolean {
  const shared = runtime();
  if (shared.patched !== undefined) return false;
  const saved: SavedProperty[] = [];
  const socketProto = net.Socket.prototype;
  wrapMethod(saved, socketProto, 'connect', wrapConnect);
  wrapMethod(saved, socketProto, '_writeGeneric', wrapWriteGeneric);
  wrapMethod(saved, socketProto, '_destroy', wrapDestroy);
  replace(saved, socketProto, 'setSocketTimeout', setSocketTimeout);
  replace(saved, socketProto, 'getSocketTimeout', getSocketTimeout);
  shared.patched = saved;
  return true;
}

/**
 * Puts back the exact original functions (same identity) and removes the added methods.
 * Deadlines already armed stand down when their timer next fires.
 * @returns `true` if this call uninstalled, `false` if nothing was installed.
 */
export function uninstall(): boolean {
  const shared = runtime();
  const saved = shared.patched;
  if (saved === undefined) return false;
  for (const { target, key, original } of [...saved].reverse()) {
    if (original === undefined) delete (target as Record<string | symbol, unknown>)[key];
    else Object.defineProperty(target, key, original);
  }
  shared.patched = undefined;
  return true;
}

/** Whether the patch is in place (installed by this or another copy of the package). */
export function isInstalled(): boolean {
  return runtime().patched !== undefined;
}
