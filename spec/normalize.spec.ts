import { spawnSync } from 'node:child_process';
import * as dns from 'node:dns';
import * as net from 'node:net';
import * as path from 'node:path';
import { closeAll, refusedPort, startBlackhole, startSilentServer, type Closable } from '../fixtures/servers';
import { libuvErrno } from '../lib/errno/system';
import { SocketTimeoutError } from '../lib/errors';
import { normalizeError } from '../lib/normalize';
import { install, uninstall } from '../lib/patch';
import { fateOf, once } from './helpers';

/** A name under the reserved `.invalid` TLD (RFC 2606): the resolver answers NXDOMAIN without asking anyone. */
const NO_SUCH_HOST = 'no-such-host.invalid';
const LOOPBACK = '127.0.0.1';

const fixtures: Closable[] = [];
const sockets: net.Socket[] = [];

function track(socket: net.Socket): net.Socket {
  sockets.push(socket);
  return socket;
}

/** Connects to `port` on loopback and resolves with the error the socket ends with. */
async function connectError(port: number, host = LOOPBACK): Promise<Error> {
  const socket = track(net.connect(port, host));
  const fate = await fateOf(socket, 5000);
  if (fate.error === undefined) throw new Error(`connect to ${host}:${port} did not fail`);
  return fate.error;
}

/** Resolves with the error of a `dns` callback API, failing if it succeeds. */
function dnsError(call: (callback: (err: NodeJS.ErrnoException | null) => void) => void): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error('the resolver did not answer within 5000 ms')), 5000);
    call((err) => {
      clearTimeout(limit);
      if (err === null) reject(new Error('the lookup succeeded'));
      else resolve(err);
    });
  });
}

let installedHere = false;
beforeAll(() => {
  installedHere = install();
});
afterAll(() => {
  if (installedHere) uninstall();
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await closeAll(fixtures.splice(0));
});

describe("the 2001 report's connect outcomes, normalized from real errors on loopback", () => {
  it('refused: a closed port gives ECONNREFUSED with every field and category refused', async () => {
    const port = await refusedPort();
    const err = await connectError(port);
    const normalized = normalizeError(err);
    expect(normalized).toBe(err);
    expect(normalized).toMatchObject({
      code: 'ECONNREFUSED',
      errno: libuvErrno('ECONNREFUSED'),
      syscall: 'connect',
      address: LOOPBACK,
      port,
      category: 'refused',
    });
  });

  it('re-connect after refusal: Node gives the socket a fresh handle, so the second connect is refused again', async () => {
    const port = await refusedPort();
    const socket = track(net.connect(port, LOOPBACK));
    const first = (await fateOf(socket, 5000)).error!;
    // net.js Socket.prototype.connect: a destroyed socket drops its handle and opens a new one,
    // so Node never shows the WSAEINVAL that Winsock gave the same call in 2001.
    socket.connect(port, LOOPBACK);
    const second = (await fateOf(socket, 5000)).error!;
    expect(normalizeError(first).category).toBe('refused');
    expect(normalizeError(second, { op: 'connect', retry: true })).toMatchObject({ code: 'ECONNREFUSED', category: 'refused', port });
  });

  it('re-connect after refusal, as Winsock reports it (synthetic: Windows only): 10022 reads as refused', () => {
    const err = Object.assign(new Error('[WinError 10022] An invalid argument was supplied'), { errno: 10022 });
    expect(normalizeError(err, { op: 'connect', retry: true, platform: 'win32' })).toMatchObject({
      code: 'EINVAL', // what Node on Windows reports for WSAEINVAL
      errno: 10022, // present, so kept
      syscall: 'connect',
      category: 'refused',
    });
  });

  it('already connected: connect() on a connected socket ends in a real EISCONN, category connected', async () => {
    const server = await startSilentServer();
    fixtures.push(server);
    const socket = track(net.connect(server.port, LOOPBACK));
    await once(socket, 'connect');
    // Linux answers the first extra connect(2) with 0: after a non-blocking connect the socket
    // stays SS_CONNECTING until connect() is called again (net/ipv4/af_inet.c
    // __inet_stream_connect), so Node emits 'connect' a second time. Only the next one gets
    // EISCONN. Connect again after each 'connect' until it fails, at most three times.
    let connects = 0;
    const onConnect = () => {
      if (++connects <= 3) socket.connect(server.port, LOOPBACK);
    };
    socket.on('connect', onConnect);
    onConnect();
    const { error } = await fateOf(socket, 5000);
    expect(connects).toBeGreaterThanOrEqual(1);
    expect(normalizeError(error!)).toMatchObject({
      code: 'EISCONN',
      errno: libuvErrno('EISCONN'),
      syscall: 'connect',
      address: LOOPBACK,
      port: server.port,
      category: 'connected',
    });
  });

  it('connect still running: a second connect() while the first is pending gives EALREADY', async () => {
    const server = await startSilentServer();
    fixtures.push(server);
    const socket = track(new net.Socket());
    socket.connect(server.port, LOOPBACK);
    socket.connect(server.port, LOOPBACK);
    const { error } = await fateOf(socket, 5000);
    expect(normalizeError(error!)).toMatchObject({
      code: 'EALREADY',
      errno: libuvErrno('EALREADY'),
      syscall: 'connect',
      address: LOOPBACK,
      port: server.port,
      category: 'already',
    });
  });

  it('unreachable (synthetic: no route cannot be produced on loopback without touching another address)', () => {
    const err = new Error('connect EHOSTUNREACH 127.0.0.1:9');
    expect(normalizeError(err)).toMatchObject({
      code: 'EHOSTUNREACH',
      errno: libuvErrno('EHOSTUNREACH'),
      syscall: 'connect',
      address: LOOPBACK,
      port: 9,
      category: 'unreachable',
    });
  });

  it('host not found: dns.lookup of a .invalid name', async () => {
    const err = await dnsError((callback) => dns.lookup(NO_SUCH_HOST, callback));
    expect(normalizeError(err)).toMatchObject({
      code: 'ENOTFOUND',
      errno: -3008, // UV_EAI_NONAME
      syscall: 'getaddrinfo',
      hostname: NO_SUCH_HOST,
      category: 'host-not-found',
    });
  });

  it('host not found: a connect to a .invalid name', async () => {
    const err = await connectError(80, NO_SUCH_HOST);
    expect(normalizeError(err)).toMatchObject({
      code: 'ENOTFOUND',
      errno: -3008,
      syscall: 'getaddrinfo',
      hostname: NO_SUCH_HOST,
      category: 'host-not-found',
    });
  });

  it('host not found: dns.resolve4 (c-ares gives errno undefined; normalized to UV_EAI_NONAME)', async () => {
    const err = await dnsError((callback) => dns.resolve4(NO_SUCH_HOST, callback));
    expect(err.errno).toBeUndefined();
    expect(normalizeError(err)).toMatchObject({
      code: 'ENOTFOUND',
      errno: -3008,
      syscall: 'queryA',
      hostname: NO_SUCH_HOST,
      category: 'host-not-found',
    });
  });

  it("host not found: the 2001 report's bare message", () => {
    const normalized = normalizeError(new Error('host not found'));
    expect(normalized).toMatchObject({ code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', category: 'host-not-found' });
    expect('hostname' in normalized).toBe(false); // not known, so not invented
  });

  it("timeout: the shim's own error keeps its shape and gains a category", async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    const socket = track(new net.Socket());
    socket.setSocketTimeout({ connect: 200 });
    socket.connect(hole.port, hole.host);
    const { error } = await fateOf(socket, 5000);
    expect(error).toBeInstanceOf(SocketTimeoutError);
    const before = { ...error };
    expect(normalizeError(error!)).toMatchObject({ ...before, code: 'ETIMEDOUT', errno: libuvErrno('ETIMEDOUT'), syscall: 'connect', address: hole.host, port: hole.port, category: 'timeout' });
  });
});

describe('normalizeError fills in only what is missing', () => {
  it('leaves every field Node set exactly as it was', async () => {
    const err = (await connectError(await refusedPort())) as NodeJS.ErrnoException;
    const before = { code: err.code, errno: err.errno, syscall: err.syscall, message: err.message, stack: err.stack };
    normalizeError(err);
    expect({ code: err.code, errno: err.errno, syscall: err.syscall, message: err.message, stack: err.stack }).toEqual(before);
  });

  it('is idempotent', () => {
    const err = normalizeError(new Error('connect ECONNRESET 127.0.0.1:8080'));
    const first = { ...err };
    expect({ ...normalizeError(err) }).toEqual(first);
  });

  it('adds the fields as own enumerable properties, as Node system errors have them', () => {
    const err = normalizeError(new Error('timed out'));
    expect(Object.keys(err)).toEqual(['code', 'errno', 'syscall', 'category']);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', errno: libuvErrno('ETIMEDOUT'), syscall: 'unknown', category: 'timeout' });
  });

  it.each([
    ['a Winsock number', { errno: 10061 }, { code: 'ECONNREFUSED', errno: 10061, syscall: 'connect', category: 'refused' }],
    ['a Winsock number in a Python-style message', new Error('[WinError 10061] No connection could be made'), { code: 'ECONNREFUSED', errno: libuvErrno('ECONNREFUSED'), category: 'refused' }],
    ['a code string alone', { code: 'EPIPE' }, { code: 'EPIPE', errno: libuvErrno('EPIPE'), syscall: 'unknown', category: 'reset' }],
    ['a Node-only code with no number', { code: 'ERR_SOCKET_CLOSED' }, { errno: libuvErrno('UNKNOWN'), category: 'closed' }],
    ['a c-ares timeout', { code: 'ETIMEOUT' }, { errno: libuvErrno('ETIMEDOUT'), category: 'timeout' }],
    ['an unknown code', { code: 'EWHATEVER' }, { code: 'EWHATEVER', errno: libuvErrno('UNKNOWN'), category: 'unknown' }],
    ['an Error with nothing to read', new Error('something odd'), { code: 'UNKNOWN', errno: libuvErrno('UNKNOWN'), syscall: 'unknown', category: 'unknown' }],
  ])('from %s', (_label, err, expected) => {
    expect(normalizeError(err)).toMatchObject(expected);
  });

  it("gives an AbortError DOMException Node's ABORT_ERR code in place of its legacy number", () => {
    const err = new DOMException('This operation was aborted', 'AbortError');
    expect(normalizeError(err)).toMatchObject({ code: 'ABORT_ERR', errno: libuvErrno('ECANCELED'), category: 'cancelled' });
    expect(err.name).toBe('AbortError');
  });

  it('reads a wrapped cause, as fetch wraps its DNS error', async () => {
    const cause = await dnsError((callback) => dns.lookup(NO_SUCH_HOST, callback));
    const err = new TypeError('fetch failed', { cause });
    expect(normalizeError(err)).toMatchObject({
      code: 'ENOTFOUND',
      errno: -3008,
      syscall: 'getaddrinfo',
      hostname: NO_SUCH_HOST,
      category: 'host-not-found',
    });
  });

  it('takes the hostname, address and port from the context when the error lacks them', () => {
    const err = normalizeError({ code: 'ECONNREFUSED' }, { op: 'connect', hostname: 'localhost', address: '::1', port: 5432 });
    expect(err).toEqual({ code: 'ECONNREFUSED', errno: libuvErrno('ECONNREFUSED'), syscall: 'connect', hostname: 'localhost', address: '::1', port: 5432, category: 'refused' });
  });

  it('maps context.op to the syscall Node would name', () => {
    expect(normalizeError({ code: 'ECONNRESET' }, { op: 'recv' }).syscall).toBe('read');
    expect(normalizeError({ code: 'EPIPE' }, { op: 'send' }).syscall).toBe('write');
  });
});

describe('normalizeError rejects what is not an error', () => {
  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    ['host not found', "'host not found'"],
    [111, '111 (a number)'],
    [true, 'true (a boolean)'],
  ])('%p: TypeError naming it', (value, shown) => {
    expect(() => normalizeError(value)).toThrow(new TypeError(`normalizeError: err must be an error object, got ${shown}`));
  });

  it('an object with nothing to read: TypeError', () => {
    expect(() => normalizeError({})).toThrow(TypeError);
    expect(() => normalizeError({})).toThrow(/^normalizeError: /);
  });

  it('a bad context: the same errors as classify, naming normalizeError', () => {
    const err = new Error('connect ECONNREFUSED 127.0.0.1:1');
    expect(() => normalizeError(err, { op: 'dial' as never })).toThrow(RangeError);
    expect(() => normalizeError(err, { op: 'dial' as never })).toThrow(/^normalizeError: context\.op must be one of/);
    expect(() => normalizeError(err, { port: 70000 })).toThrow(new TypeError('normalizeError: context.port must be an integer from 0 to 65535, got 70000 (a number)'));
    expect(() => normalizeError(err, { hostname: '' })).toThrow(TypeError);
    expect(Object.keys(err)).toEqual([]); // nothing was written
  });

  it('a frozen error that lacks a field: TypeError, and the error is left as it was', () => {
    const err = Object.freeze(new Error('connect ECONNREFUSED 127.0.0.1:1'));
    expect(() => normalizeError(err)).toThrow(/^normalizeError: cannot set code on Error: connect ECONNREFUSED 127\.0\.0\.1:1:/);
    expect(Object.keys(err)).toEqual([]);
  });
});

describe('the package entry', () => {
  it('exports normalizeError, classify, describe and CATEGORIES', () => {
    // In a child process: importing the entry installs the patch, which must not leak into this worker.
    const script = `const t = require('./dist/lib/index.js');
      console.log(JSON.stringify([typeof t.normalizeError, typeof t.classify, typeof t.describe, t.CATEGORIES.includes('refused'),
        t.normalizeError(new Error('host not found')).category]));`;
    const result = spawnSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', timeout: 10_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(['function', 'function', 'function', true, 'host-not-found']);
  });
});
