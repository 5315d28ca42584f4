/**
 * What the awaitable specs share: loopback servers and connected pairs that are cleaned up
 * after each test, and a helper that captures a rejection with its time.
 */
import * as diagnostics from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import timers = require('node:timers');
import { closeAll, type Closable } from '../../fixtures/servers';
import { createConnection } from '../../lib/awaitable';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { install, uninstall } from '../../lib/patch';
import { once } from '../helpers';

/** The timeout the specs run calls with, in ms. */
export const T = 150;
/** How late a deadline may land on a loaded machine. */
export const SLACK = 150;
export const TLS_KEY = fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'tls', 'key.pem'));
export const TLS_CERT = fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'tls', 'cert.pem'));

/** Fault servers and other things to close after each test. */
export const fixtures: Closable[] = [];
const sockets: net.Socket[] = [];

/** Installs the patch for the file and cleans up after each test: call once at the top of a spec. */
export function useAwaitableApi(): void {
  beforeAll(() => install());
  afterAll(() => uninstall());
  afterEach(async () => {
    setDefaultSocketTimeout(null);
    for (const socket of sockets.splice(0)) socket.destroy();
    await closeAll(fixtures.splice(0));
  });
}

/** Destroys `socket` after the test. */
export function track<S extends net.Socket>(socket: S): S {
  sockets.push(socket);
  return socket;
}

/** The connections a server keeps for accept() (the API's own bookkeeping, read for the test). */
export function arrivalsOf(server: net.Server): net.Socket[] {
  return (server as unknown as Record<symbol, { arrivals: net.Socket[] }>)[Symbol.for('timeoutsocket.await.v1')].arrivals;
}

/** A listening server whose connections wait for accept(). */
export async function listeningServer(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fixtures.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return server;
}

export function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/** A connected pair on loopback: our client and the server's side of it. */
export async function pair(): Promise<{ client: net.Socket; peer: net.Socket }> {
  const server = await listeningServer();
  const client = track(await createConnection(portOf(server), '127.0.0.1'));
  const peer = track(await server.accept());
  return { client, peer };
}

/** A client connected to `port` on 127.0.0.1, in the given mode (default: the process default). */
export async function connected(port: number, timeout?: number | null | 0): Promise<net.Socket> {
  return track(await createConnection(port, '127.0.0.1', timeout === undefined ? {} : { timeout }));
}

/**
 * Rejection of `promise` with its time since `startedAt`. By default that is read once the call
 * that made `promise` has returned: a spec that bounds the time from below passes the time read
 * before the call, since a pause inside it (a garbage collection on a loaded machine) comes after
 * the call read its clock and would otherwise shorten the time measured (a recv timed out at
 * 119 ms of a 150 ms timeout once, so measured).
 */
export async function rejectionOf(promise: Promise<unknown>, startedAt = performance.now()) {
  try {
    await promise;
  } catch (error) {
    return { error: error as Error & Record<string, unknown>, elapsed: performance.now() - startedAt };
  }
  throw new Error('expected a rejection');
}

/**
 * Counts the timers the library arms while `run` runs: the engine and the call timer arm theirs
 * through `node:timers` (unref'd, so `process.getActiveResourcesInfo()` never lists them).
 */
export async function timersArmedDuring(run: () => Promise<void>): Promise<number> {
  const spy = jest.spyOn(timers, 'setTimeout');
  try {
    await run();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

/** Resolves once `socket` holds at least `n` unread bytes (its 'readable' event), rejects after 5 s. */
export async function whenBuffered(socket: net.Socket, n: number): Promise<void> {
  while (socket.readableLength < n) await once(socket, 'readable');
}

/**
 * Resolves once `server` has taken `count` more connections, through the `net.server.socket`
 * channel, which Node publishes right after the server's 'connection' event, so a connection
 * kept for accept() is in the queue by then. Call it before connecting. Rejects after 5 s.
 */
export function connectionsTo(server: net.Server, count = 1): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const onSocket = (message: unknown): void => {
      if ((message as { socket: { server?: net.Server } }).socket.server !== server || ++seen < count) return;
      finish();
      resolve();
    };
    const limit = setTimeout(() => {
      finish();
      reject(new Error(`${seen} of ${count} connections arrived within 5000 ms`));
    }, 5000);
    const finish = (): void => {
      clearTimeout(limit);
      diagnostics.unsubscribe('net.server.socket', onSocket);
    };
    diagnostics.subscribe('net.server.socket', onSocket);
  });
}
