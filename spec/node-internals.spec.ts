/**
 * The Node internals the shim rests on (lib/node-internals.ts), checked on the line that runs
 * this file: CI runs it on 20, 22, 24 and 26. Plain Node, no patch, except where the patch's own
 * record is what is checked.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import {
  carriesHttpRequest,
  checkHotPathMethods,
  eofReceived,
  failInFlightWrite,
  handleOf,
  hasNoHandle,
  hasNonTcpHandle,
  hasPeer,
  interceptPush,
  isNodePush,
  pushWouldOnlyBuffer,
  readablePush,
  readsThroughNodePush,
  httpResponseOf,
  isEstablished,
  isHandshaking,
  isPipeName,
  isReadingStopped,
  isTls,
  isTlsClient,
  keepAliveRequested,
  queuedBytes,
  readEnded,
  refreshTimer,
  resumeReading,
  SECURE_EVENT,
  serverKeepAliveFields,
  setKeepAliveTakesProbes,
  stopReading,
  tcpHandleUnder,
  HOT_PATH_SOCKET_METHODS,
  LIFECYCLE_SOCKET_METHODS,
  WRAPPED_SERVER_METHODS,
  WRAPPED_SOCKET_METHODS,
  type NodeSocket,
} from '../lib/node-internals';
import { install, uninstall } from '../lib/patch';
import { runtime, setDefaultSocketTimeout } from '../lib/runtime';
import { dataUntil, once } from './helpers';

const TLS_KEY = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'tls', 'key.pem'));
const TLS_CERT = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'tls', 'cert.pem'));
const MAJOR = Number(process.versions.node.split('.')[0]);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<S extends net.Socket>(socket: S): S {
  cleanups.push(() => socket.destroy());
  return socket;
}

async function listening<S extends net.Server>(server: S): Promise<S & { port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
}

/** A connected pair on loopback: the client and the server's side of it. */
async function pair(): Promise<{ client: NodeSocket; peer: NodeSocket }> {
  const server = await listening(net.createServer());
  const accepted = once<net.Socket>(server, 'connection');
  const client = track(net.connect(server.port, '127.0.0.1'));
  await once(client, 'connect');
  const peer = track(await accepted);
  return { client: client as NodeSocket, peer: peer as NodeSocket };
}

/** Replaces `Socket.prototype[key]` with a recorder for the test, and puts it back after. */
function recordCalls(key: string, record: (socket: net.Socket, args: unknown[]) => void): void {
  const proto = net.Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = proto[key]!;
  proto[key] = function (this: net.Socket, ...args: unknown[]) {
    record(this, args);
    return original.apply(this, args);
  };
  cleanups.push(() => {
    proto[key] = original;
  });
}

describe('the prototype methods the patch wraps', () => {
  it('are functions on plain Node, and are exactly what install() wraps', () => {
    const socketProto = net.Socket.prototype as unknown as Record<string, unknown>;
    const serverProto = net.Server.prototype as unknown as Record<string, unknown>;
    for (const key of WRAPPED_SOCKET_METHODS) expect(typeof socketProto[key]).toBe('function');
    for (const key of WRAPPED_SERVER_METHODS) expect(typeof serverProto[key]).toBe('function');
    expect(install()).toBe(true);
    // The per-write wrappers go on with the first deadline in force (lib/runtime.ts engageHotPath).
    setDefaultSocketTimeout(60_000);
    setDefaultSocketTimeout(null);
    try {
      // What the patch replaced that Node had (own or inherited: Server's emit) is a wrapped
      // method; the rest it added.
      const wrapped = (target: object) =>
        runtime()
          .patched!.filter((entry) => {
            if (entry.target !== target) return false;
            const before = entry.original?.value ?? (Object.getPrototypeOf(target) as Record<string | symbol, unknown>)[entry.key];
            return typeof before === 'function';
          })
          .map((entry) => entry.key)
          .sort();
      expect(wrapped(net.Socket.prototype)).toEqual([...WRAPPED_SOCKET_METHODS].sort());
      expect(wrapped(net.Server.prototype)).toEqual([...WRAPPED_SERVER_METHODS].sort());
    } finally {
      uninstall();
    }
  });

  it('are the per-write ones and the once-per-socket ones, each exactly once', () => {
    expect([...HOT_PATH_SOCKET_METHODS, ...LIFECYCLE_SOCKET_METHODS].sort()).toEqual([...WRAPPED_SOCKET_METHODS].sort());
  });

  it("are the README's \"What it patches\", with every method install() adds", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## What it patches'), readme.indexOf('## The deadlines'));
    expect(section.length).toBeGreaterThan(0);
    install();
    try {
      for (const { key } of runtime().patched!) expect(section).toContain(`\`${String(key)}\``);
    } finally {
      uninstall();
    }
  });

  it('_writeGeneric: a write made while connecting comes back through the prototype once connected', async () => {
    const server = await listening(net.createServer((s) => s.resume()));
    const seen: boolean[] = [];
    recordCalls('_writeGeneric', (socket) => seen.push(socket.connecting));
    const client = track(net.connect(server.port, '127.0.0.1'));
    client.write('early');
    await once(client, 'connect');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([true, false]);
  });

  it('_writeGeneric: always called with four arguments (write, writev, the parked write), as the fixed-arity wrapper takes', async () => {
    const server = await listening(net.createServer((s) => s.resume()));
    const arities: number[] = [];
    const returned: unknown[] = [];
    const proto = net.Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    const original = proto._writeGeneric!;
    expect(original.length).toBe(4);
    proto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
      arities.push(args.length);
      const result = original.apply(this, args);
      returned.push(result);
      return result;
    };
    cleanups.push(() => {
      proto._writeGeneric = original;
    });
    const client = track(net.connect(server.port, '127.0.0.1'));
    client.write('parked'); // while connecting: re-run on 'connect'
    await once(client, 'connect');
    client.write('plain');
    client.cork();
    client.write('a');
    client.write('b');
    client.uncork(); // a writev
    await new Promise<void>((resolve) => client.write('last', () => resolve()));
    expect(arities.length).toBeGreaterThanOrEqual(4);
    expect(new Set(arities)).toEqual(new Set([4]));
    for (const result of returned) expect([false, undefined]).toContain(result);
  });

  it('_unrefTimer: runs in connect() before connecting is set, in afterConnect() before connect, and per chunk read', async () => {
    const server = await listening(net.createServer((s) => s.end('hello')));
    const calls: Array<{ connecting: boolean; connected: boolean }> = [];
    let connected = false;
    let calledInConnect = false;
    recordCalls('_unrefTimer', (socket) => calls.push({ connecting: socket.connecting, connected }));
    const client = track(new net.Socket());
    const originalConnect = client.connect;
    client.connect = function (this: net.Socket, ...args: unknown[]) {
      const before = calls.length;
      const result = (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
      calledInConnect = calls.length > before && calls[before]!.connecting === false && this.connecting;
      return result;
    } as typeof client.connect;
    client.connect(server.port, '127.0.0.1');
    client.once('connect', () => (connected = true));
    const beforeData = await new Promise<number>((resolve) => {
      let count = -1;
      client.once('connect', () => (count = calls.length));
      client.on('data', () => resolve(count));
    });
    expect(calledInConnect).toBe(true);
    // afterConnect(): connecting already false, 'connect' not yet emitted.
    expect(calls.filter((call) => !call.connected).length).toBeGreaterThanOrEqual(2);
    expect(calls.filter((call) => !call.connected).at(-1)).toEqual({ connecting: false, connected: false });
    expect(calls.length).toBeGreaterThan(beforeData); // the chunk read went through stream[kUpdateTimer]()
  });
});

describe('checkHotPathMethods', () => {
  const fakeProto = () => ({ _writeGeneric() {}, _unrefTimer() {} }) as Record<string, unknown>;

  it("passes Node's own prototype, and one whose methods are plain properties", () => {
    expect(() => checkHotPathMethods(net.Socket.prototype as unknown as Record<string, unknown>)).not.toThrow();
    expect(() => checkHotPathMethods(fakeProto())).not.toThrow();
  });

  it('refuses, naming the method, one that is missing or cannot be replaced: before anything is wrapped', () => {
    const missing = fakeProto();
    delete missing._unrefTimer;
    expect(() => checkHotPathMethods(missing)).toThrow(new TypeError('net internals changed: _unrefTimer is not a function'));
    const frozen = fakeProto();
    Object.defineProperty(frozen, '_unrefTimer', { value: () => {}, configurable: false });
    expect(() => checkHotPathMethods(frozen)).toThrow(new TypeError('net.Socket.prototype._unrefTimer cannot be replaced (not configurable)'));
  });
});

describe('the stream handle', () => {
  it('is a TCP handle with the fields the engine samples; a TLS client has a TLSWrap over TCP', async () => {
    const { client } = await pair();
    const handle = handleOf(client)!;
    expect(handle.constructor.name).toBe('TCP');
    expect(hasNonTcpHandle(client)).toBe(false);
    expect(typeof handle.reading).toBe('boolean');
    expect(typeof handle.bytesWritten).toBe('number');
    expect(typeof handle.writeQueueSize).toBe('number');
    expect(typeof handle.readStart).toBe('function');
    expect(typeof handle.readStop).toBe('function');
    expect(tcpHandleUnder(handle)).toBeUndefined();

    const server = await listening(tls.createServer({ key: TLS_KEY, cert: TLS_CERT }, (s) => s.resume()));
    const secure = track(tls.connect({ port: server.port, host: '127.0.0.1', ca: TLS_CERT, servername: 'localhost' })) as unknown as NodeSocket;
    secure.on('error', () => {});
    await once(secure, 'secureConnect');
    expect(handleOf(secure)!.constructor.name).toBe('TLSWrap');
    expect(tcpHandleUnder(handleOf(secure))!.constructor.name).toBe('TCP');
    expect(hasNonTcpHandle(secure)).toBe(false);
  });

  it('an IPC socket has a handle that is not TCP', async () => {
    const where = process.platform === 'win32' ? '\\\\.\\pipe\\ts-internals' : path.join(os.tmpdir(), `ts-internals-${process.pid}.sock`);
    const server = net.createServer((s) => s.resume());
    await new Promise<void>((resolve) => server.listen(where, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = track(net.connect(where)) as NodeSocket;
    await once(client, 'connect');
    expect(handleOf(client)!.constructor.name).toBe('Pipe');
    expect(hasNonTcpHandle(client)).toBe(true);
    expect(isPipeName(where)).toBe(true);
    expect(isPipeName('8080')).toBe(false);
    expect(isPipeName(8080)).toBe(false);
  });

  it('has no handle before connect and after destroy; has one while connecting', async () => {
    const server = await listening(net.createServer());
    const socket = track(new net.Socket()) as NodeSocket;
    expect(hasNoHandle(socket)).toBe(true);
    socket.connect(server.port, '127.0.0.1');
    expect(socket.connecting).toBe(true);
    expect(hasNoHandle(socket)).toBe(false);
    await once(socket, 'connect');
    socket.destroy();
    expect(hasNoHandle(socket)).toBe(true);
  });

  it.each(['paused', 'flowing'])('stops and resumes reading a %s socket the way onStreamRead and tryReadStart do', async (mode) => {
    const { client, peer } = await pair();
    if (mode === 'flowing') client.on('data', () => {});
    expect(isReadingStopped(client)).toBe(false);
    stopReading(client);
    expect(isReadingStopped(client)).toBe(true);
    resumeReading(client);
    expect(isReadingStopped(client)).toBe(false);
    const data = once<Buffer>(client, 'data');
    peer.write('still read');
    expect((await data).toString()).toBe('still read');
  });

  it('counts a stalled write in writeQueueSize', async () => {
    const { client, peer } = await pair();
    peer.pause();
    stopReading(peer); // the peer reads nothing, so the kernel buffers fill
    client.write(Buffer.alloc(16 << 20));
    expect(queuedBytes(client)).toBeGreaterThan(0);
  });
});

describe('TLS and connected', () => {
  it('tells a TLS client, its handshake, and when it is established', async () => {
    const accepted: NodeSocket[] = [];
    const server = await listening(tls.createServer({ key: TLS_KEY, cert: TLS_CERT }, (s) => accepted.push(s as unknown as NodeSocket)));
    const secure = track(tls.connect({ port: server.port, host: '127.0.0.1', ca: TLS_CERT, servername: 'localhost' })) as unknown as NodeSocket;
    secure.on('error', () => {});
    expect(isTls(secure)).toBe(true);
    expect(isTlsClient(secure)).toBe(true);
    expect(isHandshaking(secure)).toBe(true);
    expect(isEstablished(secure)).toBe(false);
    await once(secure, 'connect'); // TCP is up, the handshake is not
    expect(isEstablished(secure)).toBe(false);
    expect(hasPeer(secure)).toBe(true);
    await once(secure, SECURE_EVENT);
    expect(isHandshaking(secure)).toBe(false);
    expect(isEstablished(secure)).toBe(true);
    await once(server, 'secureConnection');
    expect(isTls(accepted[0]!)).toBe(true);
    expect(isTlsClient(accepted[0]!)).toBe(false);
    track(accepted[0]!);
  });

  it('a plain socket is established once connecting ends; hasPeer also needs it alive', async () => {
    const { client } = await pair();
    expect(isTls(client)).toBe(false);
    expect(isEstablished(client)).toBe(true);
    expect(hasPeer(client)).toBe(true);
    client.destroy();
    expect(hasPeer(client)).toBe(false);
  });

  it("Node's http client marks the socket carrying its request", async () => {
    const server = await listening(http.createServer((_req, res) => res.end('ok')));
    const agent = new http.Agent({ keepAlive: false });
    cleanups.push(() => agent.destroy());
    const carried = await new Promise<boolean>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, agent }, (res) => res.resume());
      req.on('error', reject);
      req.on('socket', (socket) => resolve(carriesHttpRequest(socket as NodeSocket)));
    });
    expect(carried).toBe(true);
    expect(carriesHttpRequest((await pair()).client)).toBe(false);
  });

  it("finds the response of the request on a socket, until the agent frees the socket", async () => {
    const server = await listening(http.createServer((_req, res) => res.end('ok')));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    // 'free' comes on a tick of its own after 'end' (emitFreeNT), before any promise continuation.
    const seen = await new Promise<{ atResponse: boolean; atEnd: boolean | undefined; socket: NodeSocket }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, agent }, (res) => {
        const socket = req.socket as NodeSocket;
        const atResponse = httpResponseOf(socket) === res;
        let atEnd: boolean | undefined;
        res.on('end', () => {
          atEnd = httpResponseOf(socket)?.complete;
        });
        socket.once('free', () => setImmediate(() => resolve({ atResponse, atEnd, socket })));
        res.resume();
      });
      req.on('error', reject);
    });
    expect(seen.atResponse).toBe(true);
    expect(seen.atEnd).toBe(true);
    expect(httpResponseOf(seen.socket)).toBeUndefined();
    expect(httpResponseOf((await pair()).client)).toBeUndefined();
  });
});

/**
 * Resolves once `socket` has received the peer's EOF, reading nothing: one 'readable' listener
 * for the whole wait ('readable' is emitted for new bytes and at EOF). Not `once` in a loop:
 * adding a 'readable' listener to a stream with bytes buffered emits it on the next tick, so such
 * a loop would run on ticks alone and starve the I/O that brings the EOF.
 */
function eofOf(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error('no EOF within 5000 ms')), 5000);
    const onReadable = (): void => {
      if (!eofReceived(socket)) return;
      clearTimeout(limit);
      socket.off('readable', onReadable);
      resolve();
    };
    socket.on('readable', onReadable);
  });
}

describe('the stream states', () => {
  it("sees the peer's EOF before 'end' is emitted", async () => {
    const { client, peer } = await pair();
    peer.end('tail'); // buffered, unread: 'end' cannot be emitted before it is read
    await eofOf(client);
    expect(client.readableLength).toBe(4);
    expect(client.readableEnded).toBe(false);
    expect(readEnded(client)).toBe(true);
    client.read();
    await once(client, 'end');
    expect(readEnded(client)).toBe(true);
  });

  it('hands the in-flight write the given error on this line', async () => {
    const { client, peer } = await pair();
    peer.pause();
    stopReading(peer);
    const error = new Error('the deadline');
    client.on('error', () => {});
    const outcome = new Promise<Error | null | undefined>((resolve) => client.write(Buffer.alloc(16 << 20), resolve));
    expect(queuedBytes(client)).toBeGreaterThan(0); // still in flight
    failInFlightWrite(client, error);
    client.destroy(error);
    expect(await outcome).toBe(error);
  });
});

describe('push: the chunks a socket reads', () => {
  /** The fields of the readable state a push and a read of it move (the bit field's accessors). */
  function readableFields(socket: net.Socket): Record<string, unknown> {
    const state = (socket as unknown as { _readableState: Record<string, unknown> & { buffer: { length: number } } })._readableState;
    const fields: Record<string, unknown> = { buffered: state.buffer.length };
    for (const key of ['length', 'needReadable', 'flowing', 'emittedReadable', 'dataEmitted', 'ended', 'endEmitted', 'readableListening', 'reading', 'sync', 'readingMore', 'resumeScheduled', 'highWaterMark']) fields[key] = state[key];
    return fields;
  }

  it('every chunk read goes through an own push on the socket, plain TCP and TLS; the inherited one is Readable\'s', async () => {
    const { client, peer } = await pair();
    // The TLS server answers only when asked: a greeting sent at once could be read (and pushed)
    // before the intercept below is in place.
    const server = await listening(tls.createServer({ key: TLS_KEY, cert: TLS_CERT }, (s) => s.once('data', () => s.end('over tls'))));
    const secure = track(tls.connect({ port: server.port, host: '127.0.0.1', ca: TLS_CERT, servername: 'localhost' }));
    secure.on('error', () => {});
    for (const [socket, send, expected] of [
      [client, () => peer.write('plain'), 'plain'],
      [secure, () => secure.write('go'), 'over tls'],
    ] as const) {
      const seen: string[] = [];
      expect(readsThroughNodePush(socket)).toBe(true);
      interceptPush(socket, function (this: net.Socket, chunk, encoding) {
        if (chunk !== null) seen.push(String(chunk));
        return readablePush().call(this, chunk, encoding);
      });
      expect(isNodePush(readablePush())).toBe(true);
      expect(readablePush()).toBe(Object.getPrototypeOf(net.Socket.prototype).push);
      expect(Object.prototype.hasOwnProperty.call(socket, 'push')).toBe(true);
      const data = dataUntil(socket, expected.length, 5000);
      send();
      expect((await data).toString()).toBe(expected);
      expect(seen.join('')).toBe(expected);
    }
  });

  it("a chunk read whole by the one 'readable' listener leaves the readable state as it found it, as pushWouldOnlyBuffer says", async () => {
    const { client, peer } = await pair();
    let waiting: ((chunk: Buffer) => void) | undefined;
    const onReadable = (): void => {
      const chunk = client.read(client.readableLength) as Buffer | null;
      if (chunk !== null && waiting !== undefined) waiting(chunk);
    };
    const next = (): Promise<Buffer> => new Promise((resolve) => (waiting = resolve));
    client.on('readable', onReadable);
    expect(pushWouldOnlyBuffer(client, 1)).toBe(false); // nothing read from it yet
    peer.write('a');
    await next();
    await new Promise((resolve) => setImmediate(resolve));
    expect(pushWouldOnlyBuffer(client, 1)).toBe(true);
    const before = readableFields(client);
    peer.write('b');
    expect((await next()).toString()).toBe('b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(readableFields(client)).toEqual(before);
    expect(pushWouldOnlyBuffer(client, 1)).toBe(true);
    // A chunk at the high-water mark: Readable's push would return false (onStreamRead stops the handle).
    expect(pushWouldOnlyBuffer(client, client.readableHighWaterMark - 1)).toBe(true);
    expect(pushWouldOnlyBuffer(client, client.readableHighWaterMark)).toBe(false);

    client.off('readable', onReadable);
    const buffered = once(client, 'readable'); // a listener that reads nothing, gone after the event
    peer.write('c');
    await buffered;
    client.on('readable', onReadable);
    expect(client.readableLength).toBe(1);
    expect(pushWouldOnlyBuffer(client, 1)).toBe(false); // bytes buffered
    expect((await next()).toString()).toBe('c');

    // The EOF: its 'readable' is emitted at once (a waiting recv settles with it before anything
    // else is pushed), so only this says a chunk pushed after it would not merely be buffered.
    await new Promise((resolve) => setImmediate(resolve));
    expect(pushWouldOnlyBuffer(client, 1)).toBe(true);
    client.push(null);
    expect(client.destroyed).toBe(false);
    expect(pushWouldOnlyBuffer(client, 1)).toBe(false);
  });
});

describe('timers', () => {
  it('refreshTimer re-arms a Timeout that already fired, with the new delay', async () => {
    let fired = 0;
    let second!: () => void;
    const again = new Promise<void>((resolve) => (second = resolve));
    const timer = setTimeout(() => {
      if (++fired === 2) second();
    }, 1);
    cleanups.push(() => clearTimeout(timer));
    await new Promise<void>((resolve) => setImmediate(function wait() {
      if (fired === 1) resolve();
      else setImmediate(wait);
    }));
    refreshTimer(timer, 5);
    expect((timer as unknown as { _idleTimeout: number })._idleTimeout).toBe(5);
    await again;
    expect(fired).toBe(2);
  });
});

describe('keep-alive', () => {
  it("finds Node's own flag, set by the option, by setKeepAlive() and by a keep-alive server", async () => {
    expect(keepAliveRequested(track(new net.Socket()))).toBe(false);
    expect(keepAliveRequested(track(new net.Socket({ keepAlive: true } as net.SocketConstructorOpts)))).toBe(true);
    expect(keepAliveRequested(track(new net.Socket()).setKeepAlive(true))).toBe(true);
    const server = await listening(net.createServer({ keepAlive: true }));
    const accepted = once<net.Socket>(server, 'connection');
    track(net.connect(server.port, '127.0.0.1'));
    expect(keepAliveRequested(track(await accepted))).toBe(true);
  });

  it('setKeepAlive takes the probe interval and count from 24 on', () => {
    expect(setKeepAliveTakesProbes(net.Socket.prototype.setKeepAlive)).toBe(MAJOR >= 24);
  });

  it("a server's keep-alive fields are own data properties", () => {
    const fields = serverKeepAliveFields(net.createServer({ keepAlive: true, keepAliveInitialDelay: 3000 }));
    expect(fields?.enabled.value).toBe(true);
    expect(fields?.delay.value).toBe(3);
  });
});
