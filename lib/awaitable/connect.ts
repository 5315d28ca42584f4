/**
 * Connecting: `connectEx` (Python's connect_ex, with its own waiters: a connect is not a job in
 * a queue, every caller waits for the one attempt) and `createConnection`.
 */
import * as net from 'node:net';
import { types } from 'node:util';
import { isNonBlocking, normalizeTimeout, type TimeoutSetting } from '../config';
import { effectiveTimeouts, SETTING, type InternalSocket } from '../engine';
import { AbortError, SocketClosedError } from '../errors';
import { erroredWith, hasPeer } from '../node-internals';
import { quote } from '../quote';
import { engageIfDeadline } from '../runtime';
import { checkOptions, type CallOptions } from './checks';
import { socketStateOf, stateOf, type SocketAwaitState } from './queue';

/** Options of {@link createConnection}. */
export interface CreateConnectionOptions extends CallOptions {
  /**
   * The socket's mode, as `setSocketTimeout` takes it: `null` blocking, milliseconds, or `0`
   * non-blocking (the connect itself still waits, bounded by the process default). Default:
   * the process default.
   */
  timeout?: TimeoutSetting;
}

/** The keys of {@link CreateConnectionOptions}. */
const CREATE_CONNECTION_KEYS: ReadonlySet<string> = new Set(['signal', 'timeout']);

/** What `connectEx` resolves to: `0` when connected, else a Node error code string. */
export type ConnectExResult = 0 | string;


function errorCode(error: Error | undefined): string {
  const withCode = error as { code?: unknown; errors?: Array<{ code?: unknown }> } | undefined;
  if (typeof withCode?.code === 'string') return withCode.code;
  const first = withCode?.errors?.find((e) => typeof e.code === 'string');
  return typeof first?.code === 'string' ? first.code : 'ECONNABORTED';
}

/**
 * Watches a connect attempt and records how it ends; with `args`, starts it first. A connect
 * that throws at once (a bad port) leaves the socket as it was, so a later call can try again.
 */
function startConnect(socket: net.Socket, state: SocketAwaitState, args?: unknown[]): void {
  state.connectState = 'pending';
  const settle = (outcome: 'connected' | 'failed') => {
    socket.removeListener('connect', onConnect);
    socket.removeListener('close', onClose);
    state.connectState = outcome;
    if (outcome === 'failed') {
      state.connectCode = errorCode(state.error);
      state.error = undefined; // reported through connectEx, not again by the next call
    }
    for (const wake of state.connectWaiters.splice(0)) wake();
  };
  const onConnect = () => settle('connected');
  const onClose = () => settle('failed');
  socket.once('connect', onConnect);
  socket.once('close', onClose);
  if (args === undefined) return;
  try {
    (socket.connect as (...a: unknown[]) => net.Socket)(...args);
  } catch (error) {
    socket.removeListener('connect', onConnect);
    socket.removeListener('close', onClose);
    state.connectState = 'idle';
    // Node sets `connecting` before it validates the port (net.js connect → lookupAndConnect),
    // so a throw there would leave the socket looking busy for ever.
    (socket as { connecting: boolean }).connecting = false;
    throw error;
  }
}

function answer(socket: net.Socket, state: SocketAwaitState): ConnectExResult {
  if (state.connectState === 'failed') return state.connectCode!;
  return hasPeer(socket) ? 0 : errorCode(state.error);
}

/**
 * Python's `connect_ex`: connects and resolves with `0` or the failure's code instead of
 * rejecting. Blocking or timeout mode waits for the outcome (`'ECONNREFUSED'`, `'ETIMEDOUT'`,
 * `'ENOTFOUND'`, …). Non-blocking mode never waits; call it again to poll: `'EINPROGRESS'`
 * first, `'EALREADY'` while pending, `'EISCONN'` once connected, and the failure's code once it
 * failed (never `0` or `'EISCONN'` for a refused attempt), on every call after.
 *
 * @example
 * ```ts
 * socket.setBlocking(false);
 * let code = await socket.connectEx(6379, '127.0.0.1'); // 'EINPROGRESS'
 * while (code === 'EINPROGRESS' || code === 'EALREADY') {
 *   await sleep(10);
 *   code = await socket.connectEx(6379, '127.0.0.1');
 * }
 * ```
 */
export async function connectEx(this: net.Socket, ...args: unknown[]): Promise<ConnectExResult> {
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop(); // an argument left out
  const last = args[args.length - 1];
  const hasOptions = args.length > 1 && typeof last === 'object' && last !== null;
  const { signal } = hasOptions ? checkOptions(args.pop(), 'connectEx') : ({} as CallOptions);
  checkDestination(args);
  if (signal?.aborted) throw new AbortError('connectEx', signal.reason);
  const state = stateOf(this);
  const nonBlocking = isNonBlocking(effectiveTimeouts(this as InternalSocket));
  if (state.connectState === 'failed') return state.connectCode!;
  if (hasPeer(this)) return 'EISCONN';
  if (state.connectState === 'pending' || this.connecting) {
    // A connect Node or a driver started (net.connect) is watched like our own.
    if (state.connectState !== 'pending') startConnect(this, state);
    if (nonBlocking) return 'EALREADY';
  } else {
    if (this.destroyed) throw new SocketClosedError('connect');
    startConnect(this, state, args);
    if (nonBlocking) return 'EINPROGRESS';
  }
  await waitForConnect(this, state, signal);
  return answer(this, state);
}

/**
 * Checks the destination forms connectEx takes: `(port[, host])`, `(path)` or `(options)`.
 * Node would ignore a host that is not a string (and connect to localhost) or extra arguments,
 * and reject an array or an empty object without naming it; here each is a TypeError quoting it.
 * Ports and option values are left to Node's own checks, which name them.
 */
function checkDestination(args: unknown[]): void {
  const usage = 'connectEx: give (port, host), (path) or an options object { port, host } or { path }';
  if (args.length === 0) throw new TypeError(`${usage}, got no arguments`);
  const [first, host] = args;
  if (typeof first === 'object' && first !== null && !Array.isArray(first) && !types.isBoxedPrimitive(first)) {
    const { port, path } = first as { port?: unknown; path?: unknown };
    if (port === undefined && path === undefined) throw new TypeError(`${usage}, got ${quote(first)}`);
    if (args.length > 1) throw new TypeError(`${usage}, got an extra argument after the options: ${quote(args[1])}`);
    return;
  }
  if (typeof first !== 'number' && typeof first !== 'string') throw new TypeError(`${usage}, got ${quote(first)}`);
  if (args.length > 1 && typeof host !== 'string') throw new TypeError(`connectEx: host must be a string, got ${quote(host)}`);
  if (args.length > 2) throw new TypeError(`${usage}, got an extra argument: ${quote(args[2])}`);
}

function waitForConnect(socket: net.Socket, state: SocketAwaitState, signal: AbortSignal | undefined): Promise<void> {
  if (state.connectState !== 'pending') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      state.connectWaiters = state.connectWaiters.filter((w) => w !== wake);
      socket.destroy();
      reject(new AbortError('connectEx', signal!.reason));
    };
    const wake = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    state.connectWaiters.push(wake);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Python's `create_connection`: a new socket in the given mode, connected. Rejects with the
 * connect's own error (`ECONNREFUSED`, `ENOTFOUND`, `SocketTimeoutError` from the connect
 * deadline, …).
 *
 * @example
 * ```ts
 * const socket = await createConnection(6379, '127.0.0.1', { timeout: 2000 });
 * await socket.sendAll('PING\r\n');
 * ```
 */
export function createConnection(port: number, host = 'localhost', options: CreateConnectionOptions = {}): Promise<net.Socket> {
  try {
    // The port's range is Node's to check (ERR_SOCKET_BAD_PORT names it); its type is checked
    // here, so that no object reaches Node's connect (whose forms would read it as options).
    if (typeof port !== 'number' && typeof port !== 'string') {
      throw new TypeError(`createConnection(port): port must be a number, got ${quote(port)}`);
    }
    if (typeof host !== 'string') throw new TypeError(`createConnection(port, host): host must be a string, got ${quote(host)}`);
    const { signal } = checkOptions(options, 'createConnection', CREATE_CONNECTION_KEYS);
    const socket = new net.Socket();
    const setting = options.timeout;
    if (setting !== undefined) {
      const timeouts = normalizeTimeout(setting, 'createConnection: options.timeout', { allowNonBlocking: true });
      // A non-blocking socket's connect still waits (bounded by the process default), as
      // Python's create_connection connects before it hands the socket over.
      if (!isNonBlocking(timeouts)) {
        engageIfDeadline(timeouts); // the socket's own deadline: the per-write wrappers go on (lib/runtime.ts)
        (socket as InternalSocket)[SETTING] = Object.freeze(timeouts);
      }
    }
    return connectThenApply(socket, port, host, setting, signal);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function connectThenApply(
  socket: net.Socket,
  port: number,
  host: string,
  setting: TimeoutSetting | undefined,
  signal: AbortSignal | undefined,
): Promise<net.Socket> {
  const code = await connectEx.call(socket, port, host, { signal });
  if (code !== 0) {
    const error = socketStateOf(socket)?.connectCode === code ? lastConnectError(socket) : undefined;
    throw error ?? Object.assign(new Error(`connect ${code} ${host}:${port}`), { code, syscall: 'connect', address: host, port });
  }
  if (setting !== undefined) socket.setSocketTimeout(setting);
  return socket;
}

/** The error a failed connect destroyed the socket with (Node keeps it as `socket.errored`). */
function lastConnectError(socket: net.Socket): Error | undefined {
  return erroredWith(socket);
}
