/**
 * Process-wide TCP keep-alive: catches connections whose peer vanished without FIN or RST
 * while nothing was in flight (an idle pooled connection, a pub/sub subscriber), which no
 * reply or write deadline can see.
 *
 * With a `keepAlive` setting (`TIMEOUTSOCKET_KEEPALIVE=30s`, or the `keepAlive` key of
 * `setDefaultSocketTimeout()` / `socket.setSocketTimeout()`), every TCP client socket and every
 * socket a server accepts gets `SO_KEEPALIVE` with that initial delay once connected, unless the
 * application chose for itself (`socket.setKeepAlive()`, the `keepAlive` option of `net.connect()`,
 * `new net.Socket()` or `net.createServer()`): its choice wins.
 *
 * Neither side adds a listener or a per-socket timer: both hand the setting to code Node runs
 * anyway when the connection is made (see the comments on {@link keepAliveBeforeConnect} and
 * {@link adoptServer}).
 *
 * What Node sets, measured with getsockopt() on a loopback socket after `setKeepAlive(true,
 * 30000)` on 20.20.2, 22.23.5, 24.22.3 and 26.12.1 (Linux): `TCP_KEEPIDLE` = 30 (the delay, whole
 * seconds), and libuv's own `TCP_KEEPINTVL` = 1 s and `TCP_KEEPCNT` = 10 (libuv sets them itself
 * whenever it turns keep-alive on with a delay: libuv 1.46.0 in 20.20.2, 1.51.0 in 22.23.5,
 * 1.52.1 in 24.22.3 and 26.12.1), not the OS's
 * `net.ipv4.tcp_keepalive_intvl` (75 s) × `tcp_keepalive_probes` (9). So a dead idle peer is
 * found about delay + 1 s × 10 after the last traffic, then reads fail with ETIMEDOUT from the OS.
 *
 * On 24 and later `setKeepAlive(enable, initialDelay, interval, count)` also takes the interval
 * (ms, floored to seconds) and the count; `TIMEOUTSOCKET_KEEPALIVE=30s,5s,4` passes them (measured:
 * `TCP_KEEPINTVL` = 5, `TCP_KEEPCNT` = 4). Node's afterConnect() passes all four on to the handle,
 * but its onconnection() gives an accepted socket only the delay, so the shim sets the interval
 * and count on an accepted socket itself (see {@link keepAliveForAccepted}).
 */
import type * as net from 'node:net';
import { effectiveTimeouts, type InternalSocket } from './engine';
import type { KeepAliveProbes } from './config';
import { keepAliveRequested, serverKeepAliveFields } from './node-internals';
import { runtime } from './runtime';

type SetKeepAlive = (this: net.Socket, enable?: boolean, initialDelay?: number, interval?: number, count?: number) => net.Socket;
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** Set on a socket whose application called `setKeepAlive()` itself (a registry symbol: shared by every copy). */
const APP_CHOSE = Symbol.for('timeoutsocket.keepalive.app.v1');

interface KeepAliveSocket extends InternalSocket {
  [APP_CHOSE]?: true;
}

/** The original `setKeepAlive`, saved when the installing copy wrapped it: the shim's own calls go straight to it. */
let originalSetKeepAlive: SetKeepAlive | undefined;

/** Node takes whole seconds (`~~(ms / 1000)`) and treats 0 as "leave the OS default": never pass less than 1 s. */
function delayMs(ms: number): number {
  return Math.max(1000, ms);
}

/** The process's probe interval and count (`null`: libuv's 1 s × 10); a record from an older copy may lack the field. */
function probes(): KeepAliveProbes | null {
  return runtime().keepAliveProbes ?? null;
}

/** Turns keep-alive on with the shim's delay, and the probe interval and count when the environment named them. */
function turnOn(original: SetKeepAlive, socket: net.Socket, ms: number): void {
  const extra = probes();
  if (extra === null) original.call(socket, true, delayMs(ms));
  else original.call(socket, true, delayMs(ms), extra.interval, extra.count);
}

/**
 * Wraps `net.Socket.prototype.setKeepAlive` to record that the application chose for this
 * socket, whatever it chose: from then on the shim never touches its keep-alive.
 */
export function wrapSetKeepAlive(original: AnyFunction): AnyFunction {
  originalSetKeepAlive = original as unknown as SetKeepAlive;
  return function setKeepAlive(this: unknown, ...args: unknown[]) {
    (this as KeepAliveSocket)[APP_CHOSE] = true;
    return original.apply(this, args);
  };
}

/** Did the application choose keep-alive for this socket: by `setKeepAlive()`, or by options? */
function applicationChose(socket: KeepAliveSocket, connectArgs: readonly unknown[] | undefined): boolean {
  if (socket[APP_CHOSE] === true) return true;
  if (connectArgs !== undefined) {
    let options = connectArgs[0];
    if (Array.isArray(options)) options = options[0];
    if (typeof options === 'object' && options !== null && (options as { keepAlive?: unknown }).keepAlive !== undefined) return true;
  }
  return keepAliveRequested(socket);
}

/**
 * Client sockets: called by the patched `connect()` just before the original runs.
 *
 * Why here and with no `'connect'` listener: `setKeepAlive()` on a socket with no handle yet
 * only records the wish (`this[kSetKeepAlive] = enable; this[kSetKeepAliveInitialDelay] = …`),
 * and Node's `afterConnect()` applies it the moment the connection is up, before `'connect'` is
 * emitted: `if (self[kSetKeepAlive] && self._handle.setKeepAlive)
 * self._handle.setKeepAlive(true, self[kSetKeepAliveInitialDelay])` (lib/net.js, v20 and v22;
 * v24 and v26 add `self[kSetKeepAliveInterval], self[kSetKeepAliveCount]`). That
 * path also serves `autoSelectFamily` (afterConnectMultiple ends in afterConnect) and TLS
 * clients (TLSSocket is a net.Socket; its TLSWrap handle proxies setKeepAlive to the TCP handle;
 * the early call on that handle, before the fd exists, only sets a libuv flag, and afterConnect
 * then applies the delay). So the cost is two property writes per connect.
 */
export function keepAliveBeforeConnect(socket: InternalSocket, connectArgs: readonly unknown[]): void {
  const ms = effectiveTimeouts(socket).keepAlive;
  if (ms === null || originalSetKeepAlive === undefined) return;
  if (applicationChose(socket as KeepAliveSocket, connectArgs)) return;
  turnOn(originalSetKeepAlive, socket, ms);
}

/**
 * A socket's own `setSocketTimeout({ keepAlive })`: applied at once (a connected socket takes
 * it now, one still connecting in afterConnect), unless the application chose by itself.
 * A `null` keepAlive leaves the socket's keep-alive as it is.
 */
export function keepAliveForOwnSetting(socket: InternalSocket, ms: number | null): void {
  if (ms === null || originalSetKeepAlive === undefined) return;
  if (applicationChose(socket as KeepAliveSocket, undefined)) return;
  turnOn(originalSetKeepAlive, socket, ms);
}

/** The process default as Node's server fields hold it: whole seconds, 0 when off or uninstalled. */
function defaultDelaySeconds(): number {
  const shared = runtime();
  const ms = shared.patched === undefined ? null : shared.defaults.keepAlive;
  return ms === null ? 0 : Math.floor(delayMs(ms) / 1000);
}

/** What the application put in a server's keep-alive fields (the accessors answer with it). */
interface ServerChoice {
  enabled: unknown;
  delay: unknown;
}

const SERVER_CHOICE = Symbol.for('timeoutsocket.keepalive.server.v1');

type ServerWithChoice = net.Server & { [SERVER_CHOICE]?: ServerChoice };

/**
 * Accepted sockets on a line that takes a probe interval and count: called by the patch when a
 * server emits `'connection'` (before the application's handler, which may still choose for
 * itself and win). Node's onconnection() gave the socket the delay alone (`clientHandle.
 * setKeepAlive(true, self.keepAliveInitialDelay)`, lib/net.js on 24 and 26), so this adds the
 * interval and count; nothing happens when the environment named none (the common case: one
 * property read), or when the application asked for keep-alive on the server itself.
 */
export function keepAliveForAccepted(server: net.Server, socket: net.Socket): void {
  const extra = probes();
  if (extra === null || originalSetKeepAlive === undefined) return;
  const app = (server as ServerWithChoice)[SERVER_CHOICE];
  if (app === undefined || app.enabled) return;
  const seconds = defaultDelaySeconds();
  if (seconds > 0) originalSetKeepAlive.call(socket, true, seconds * 1000, extra.interval, extra.count);
}

/**
 * Accepted sockets: called by the patch's `net.Server.prototype.listen` wrapper when a server
 * starts listening (once per server, not per connection). Its keep-alive fields follow the
 * process default from then on, and Node's `onconnection()` applies them to every accepted socket.
 *
 * Why: `onconnection()` already turns keep-alive on for every accepted socket when the server
 * asks for it, before `'connection'` is emitted:
 * `if (self.keepAlive && clientHandle.setKeepAlive) { socket[kSetKeepAlive] = true; …
 * clientHandle.setKeepAlive(true, self.keepAliveInitialDelay); }` (lib/net.js, the same from v20
 * to v26). The
 * Server constructor stores `keepAlive` and `keepAliveInitialDelay` (seconds) as own data
 * properties, so here they become accessors that answer with the application's value when it
 * asked for keep-alive itself, else with the live process default. No listener, nothing added
 * to the server `emit` wrapper of patch.ts (which runs for every event, every http `'request'`
 * included, and so does one comparison for `accept()` and nothing more), and no per-connection
 * JS beyond Node's own two property reads. The application's `socket.setKeepAlive()` in its
 * `'connection'` handler runs after and wins. After uninstall, the accessors answer with the
 * application's values only.
 */
export function adoptServer(server: net.Server): void {
  const fields = serverKeepAliveFields(server);
  // Already adopted (accessors), or not the shape Node's Server constructor builds: leave it.
  if (fields === undefined) return;
  const { enabled, delay } = fields;
  const app: ServerChoice = { enabled: enabled.value, delay: delay.value };
  (server as ServerWithChoice)[SERVER_CHOICE] = app;
  Object.defineProperties(server, {
    keepAlive: {
      get: () => Boolean(app.enabled) || defaultDelaySeconds() > 0,
      set: (value: unknown) => {
        app.enabled = value;
      },
      enumerable: enabled.enumerable,
      configurable: true,
    },
    keepAliveInitialDelay: {
      // With no process default, the field reads exactly what the application (or Node) put there.
      get: () => (app.enabled || defaultDelaySeconds() === 0 ? app.delay : defaultDelaySeconds()),
      set: (value: unknown) => {
        app.delay = value;
      },
      enumerable: delay.enumerable,
      configurable: true,
    },
  });
}
