import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { closeAll, startSilentServer, startSinkServer, type Closable } from '../fixtures/servers';
import { SocketTimeoutError } from '../lib/errors';
import { getStats } from '../lib/observe';
import { install, uninstall } from '../lib/patch';
import { applyEnvironment, getDefaultSocketTimeout, runtime, setDefaultSocketTimeout, STATE } from '../lib/runtime';
import { fateOf, once, runNode } from './helpers';

describe('the process default', () => {
  afterEach(() => setDefaultSocketTimeout(null));

  it('is off until set', () => {
    expect(getDefaultSocketTimeout()).toEqual({ connect: null, read: null, write: null, keepAlive: null });
  });

  it('round-trips a number and an object', () => {
    setDefaultSocketTimeout(250);
    expect(getDefaultSocketTimeout()).toEqual({ connect: 250, read: 250, write: 250, keepAlive: null });
    setDefaultSocketTimeout({ read: 100 });
    expect(getDefaultSocketTimeout()).toEqual({ connect: null, read: 100, write: null, keepAlive: null });
  });

  it('keeps the old value when the new one is rejected', () => {
    setDefaultSocketTimeout(250);
    expect(() => setDefaultSocketTimeout(-1)).toThrow(RangeError);
    expect(getDefaultSocketTimeout()).toEqual({ connect: 250, read: 250, write: 250, keepAlive: null });
  });

  it('hands out copies the caller cannot use to change it', () => {
    setDefaultSocketTimeout(250);
    const copy = getDefaultSocketTimeout();
    copy.read = 1;
    expect(getDefaultSocketTimeout().read).toBe(250);
  });
});

describe('applyEnvironment', () => {
  it('validates before it changes anything', () => {
    // The runtime applies the environment once per process; a bad value must throw even so.
    expect(() => applyEnvironment({ TIMEOUTSOCKET_TIMEOUT: 'x' })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// The hot path (engageHotPath): the per-write wrappers go on with the first deadline in force.
// ---------------------------------------------------------------------------------------------

const LIB = path.resolve(__dirname, '..', 'dist', 'lib');

/**
 * Runs `action` in a fresh node process (the hot path is process-wide and never goes off again,
 * so each case needs a process of its own) that loads the main entry (which installs), and
 * says whether the per-write wrappers were on right after the install and after `action`.
 */
async function hotPathIn(action: string, env: NodeJS.ProcessEnv = {}): Promise<{ atInstall: boolean; after: boolean }> {
  const script = `
    const net = require('net');
    const proto = net.Socket.prototype;
    const own = { write: proto._writeGeneric, unref: proto._unrefTimer };
    const on = () => {
      const write = proto._writeGeneric !== own.write, unref = proto._unrefTimer !== own.unref;
      if (write !== unref) throw new Error('one per-write wrapper on without the other');
      return write;
    };
    const ts = require(${JSON.stringify(path.join(LIB, 'index.js'))});
    const atInstall = on();
    Promise.resolve((() => { ${action} })()).then(() => console.log(JSON.stringify({ atInstall, after: on() })));
  `;
  const result = await runNode(['-e', script], env, os.tmpdir());
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

describe('the hot path: the per-write wrappers go on with the first deadline in force', () => {
  it('is off with the shim installed and nothing set', async () => {
    await expect(hotPathIn('')).resolves.toEqual({ atInstall: false, after: false });
  });

  it.each([
    ['setDefaultSocketTimeout(ms)', 'ts.setDefaultSocketTimeout(1000)'],
    ['setDefaultSocketTimeout({ write })', 'ts.setDefaultSocketTimeout({ write: 1000 })'],
    ['setSocketTimeoutRules(...)', "ts.setSocketTimeoutRules('*:5432 read=5s')"],
    ['socket.setSocketTimeout(ms)', 'new net.Socket().setSocketTimeout(1000)'],
    ['server.setSocketTimeout({ read })', 'net.createServer().setSocketTimeout({ read: 1000 })'],
    [
      "createConnection(..., { timeout })",
      "return ts.createConnection(1, '127.0.0.1', { timeout: 1000 }).catch(() => {})",
    ],
    ["setDeadlineMode('report')", "ts.setDeadlineMode('report')"],
  ])('goes on with %s', async (_name, action) => {
    await expect(hotPathIn(action)).resolves.toEqual({ atInstall: false, after: true });
  });

  it.each([
    ['TIMEOUTSOCKET_TIMEOUT', { TIMEOUTSOCKET_TIMEOUT: '60s' }],
    ['TIMEOUTSOCKET_WRITE_TIMEOUT', { TIMEOUTSOCKET_WRITE_TIMEOUT: '60s' }],
    ['TIMEOUTSOCKET_RULES', { TIMEOUTSOCKET_RULES: '*:5432 read=5s' }],
    ['TIMEOUTSOCKET_MODE=report', { TIMEOUTSOCKET_MODE: 'report' }],
  ])('is on from the install with %s', async (_name, env) => {
    await expect(hotPathIn('', env)).resolves.toEqual({ atInstall: true, after: true });
  });

  it.each([
    ['setDefaultSocketTimeout(null)', 'ts.setDefaultSocketTimeout(null)'],
    ['a keep-alive default alone (not a deadline)', 'ts.setDefaultSocketTimeout({ keepAlive: 30000 })'],
    ['setSocketTimeoutRules(null)', 'ts.setSocketTimeoutRules(null)'],
    ['socket.setSocketTimeout(null) and (0)', 'const s = new net.Socket(); s.setSocketTimeout(null); s.setSocketTimeout(0)'],
    ['setBlocking(true) and (false)', 'const s = new net.Socket(); s.setBlocking(true); s.setBlocking(false)'],
    ["setDeadlineMode('enforce')", "ts.setDeadlineMode('enforce')"],
  ])('stays off with %s, which puts no deadline in force', async (_name, action) => {
    await expect(hotPathIn(action)).resolves.toEqual({ atInstall: false, after: false });
  });

  it('goes on at the next install when the deadline was set while uninstalled, and uninstall takes it off', async () => {
    const out = await hotPathIn(`
      ts.uninstall();
      ts.setDefaultSocketTimeout(1000);
      if (on()) throw new Error('on while uninstalled');
      ts.install();
      if (!on()) throw new Error('off after the install');
      ts.setDefaultSocketTimeout(null);
      ts.uninstall();
      if (on()) throw new Error('on after uninstall');
      ts.install(); // once on, on for good: sockets may keep settings of their own
    `);
    expect(out).toEqual({ atInstall: false, after: true });
  });
});

describe('a deadline put in force after traffic began', () => {
  const T = 150;
  const fixtures: Closable[] = [];
  const sockets: net.Socket[] = [];
  const proto = net.Socket.prototype as unknown as Record<string, unknown>;
  let nodeOwn: { write: unknown; unref: unknown };

  const hotPathOn = (): boolean => proto._writeGeneric !== nodeOwn.write && proto._unrefTimer !== nodeOwn.unref;
  const connect = (port: number): net.Socket => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    return socket;
  };

  beforeEach(() => {
    // A fresh start: another spec file in this worker may have installed and set deadlines,
    // and the hot path, once on, stays on for the process.
    uninstall();
    setDefaultSocketTimeout(null);
    runtime().hotPath = undefined;
    nodeOwn = { write: proto._writeGeneric, unref: proto._unrefTimer };
    install();
    expect(hotPathOn()).toBe(false);
  });
  afterEach(async () => {
    setDefaultSocketTimeout(null);
    for (const socket of sockets.splice(0)) socket.destroy();
    await closeAll(fixtures.splice(0));
    uninstall();
  });

  it('arms the reply deadline at the next write of a socket that already had a round trip, and it fires', async () => {
    // Echoes the first message only, then stays silent.
    const server = net.createServer((s) => s.once('data', (data) => s.write(data)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fixtures.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const socket = connect((server.address() as net.AddressInfo).port);
    await once(socket, 'connect');
    const before = getStats();
    socket.write('one');
    await once(socket, 'data');
    expect(getStats().armed - before.armed).toBe(0); // no deadline then: nothing armed
    setDefaultSocketTimeout({ read: T });
    expect(hotPathOn()).toBe(true);
    const startedAt = performance.now();
    socket.write('two');
    expect(getStats().armed - before.armed).toBe(1); // the reply deadline was armed by this write
    const fate = await fateOf(socket, 5000, startedAt);
    expect(fate.events).toEqual(['error', 'close']);
    expect(fate.error).toBeInstanceOf(SocketTimeoutError);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
  });

  it('arms the reply deadline for a write parked while connecting, made before the deadline was set', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = connect(silent.port);
    const before = getStats();
    socket.write('parked'); // Node's own _writeGeneric parks it; its re-run on 'connect' looks the method up again
    socket.setSocketTimeout({ read: T });
    expect(hotPathOn()).toBe(true);
    await once(socket, 'connect');
    expect(getStats().armed - before.armed).toBe(1); // armed by the re-run of the parked write
    const fate = await fateOf(socket, 5000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
  });

  it('watches a write made after the deadline on a socket that wrote before it, and its stall fires', async () => {
    const sink = await startSinkServer();
    fixtures.push(sink);
    const socket = connect(sink.port);
    await once(socket, 'connect');
    await new Promise((resolve) => socket.write('small, taken by the kernel', resolve));
    const before = getStats();
    socket.setSocketTimeout({ write: T });
    expect(hotPathOn()).toBe(true);
    const callbackError = new Promise<Error | null | undefined>((resolve) => socket.write(Buffer.alloc(32 << 20), resolve));
    expect(getStats().armed - before.armed).toBe(1); // the stall watch was armed by this write
    const fate = await fateOf(socket, 5000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'write', phase: 'write', timeout: T });
    await expect(callbackError).resolves.toBe(fate.error);
  });

  it('arms a connect deadline for a socket connecting after the default was set mid-run, and settles it at connect', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const early = connect(silent.port);
    await once(early, 'connect');
    setDefaultSocketTimeout({ connect: 5000 });
    const before = getStats();
    const socket = connect(silent.port);
    expect(getStats().armed - before.armed).toBe(1); // the connect deadline was armed
    const connectAt = (): number | undefined => ((socket as unknown as Record<symbol, { connectAt?: number }>)[STATE])?.connectAt;
    expect(connectAt()).toBeGreaterThan(0);
    await once(socket, 'connect');
    // Settled at connect by the _unrefTimer wrapper, which Node runs just before 'connect' (not at the timer's next look, 5 s away).
    expect(connectAt()).toBe(0);
  });
});
