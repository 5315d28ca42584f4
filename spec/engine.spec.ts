import { spawn } from 'node:child_process';
import * as diagnostics from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import {
  closeAll,
  refusedPort,
  startBlackhole,
  startEchoServer,
  startHungServer,
  startSilentServer,
  startSinkServer,
  startSlowDripServer,
  type Closable,
} from '../fixtures/servers';
import { IDLE_GRACE_MS, type InternalSocket } from '../lib/engine';
import { STATE } from '../lib/runtime';
import { SocketTimeoutError } from '../lib/errors';
import { CHANNELS, getStats, type TimeoutMessage } from '../lib/observe';
import { install, uninstall } from '../lib/patch';
import { waitUntil } from '../fixtures/bounded';
import { setDefaultSocketTimeout } from '../lib/runtime';
import { activeResources, blockEventLoop, fateOf, once, runNode, sleep } from './helpers';

const T = 200;
/** Scheduling slack on a loaded 2-core machine: deadlines must land within it. */
const SLACK = 150;
const TLS_KEY = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'tls', 'key.pem'));
const TLS_CERT = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'tls', 'cert.pem'));

const fixtures: Closable[] = [];
const sockets: net.Socket[] = [];

function track<S extends net.Socket>(socket: S): S {
  sockets.push(socket);
  return socket;
}

function connect(port: number, onConnect?: (socket: net.Socket) => void): net.Socket {
  const socket = track(net.connect(port, '127.0.0.1'));
  if (onConnect) socket.once('connect', () => onConnect(socket));
  return socket;
}

function serverOf(listener: (socket: net.Socket) => void): Promise<net.Server & Closable> {
  const server = net.createServer((socket) => {
    track(socket);
    socket.on('error', () => {});
    listener(socket);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const closable = Object.assign(server, {
        close: () => new Promise<void>((done) => net.Server.prototype.close.call(server, () => done())),
      }) as unknown as net.Server & Closable;
      fixtures.push(closable);
      resolve(closable);
    });
  });
}

/** An http server in a child process, answering every request with `ok`; `close()` kills it by its handle. */
async function startChildHttpServer(): Promise<Closable & { port: number }> {
  const source = `
    const http = require('node:http');
    const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
    process.stdin.on('end', () => process.exit(0)).resume();
  `;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error('child http server: no port within 10 s')), 10_000);
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (!out.includes('\n')) return;
        clearTimeout(limit);
        resolve(Number(out.trim()));
      });
      child.once('exit', () => reject(new Error('child http server exited before listening')));
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { port, close };
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(async () => {
  setDefaultSocketTimeout(null);
  for (const socket of sockets.splice(0)) socket.destroy();
  await closeAll(fixtures.splice(0));
});

/** The engine's timer and clock fields of a socket's state (lib/engine.ts SocketState). */
interface EngineFields {
  timer?: NodeJS.Timeout;
  timerDue: number;
  connectAt: number;
  connectLead: number;
  replyAt: number;
  replyLead: number;
}
function timerState(socket: net.Socket): EngineFields {
  return (socket as InternalSocket)[STATE] as EngineFields;
}

/** A phase clock's reading as the state keeps it: its whole-ms stamp less its lead in µs. */
function reading(stamped: number, leadUs: number): number {
  return stamped - leadUs / 1000;
}

describe('the connect deadline', () => {
  beforeEach(() => setDefaultSocketTimeout({ connect: T }));

  it('ends a connect whose SYN is dropped with ETIMEDOUT at the timeout, error then close', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    const started = performance.now();
    const socket = connect(hole.port);
    const fate = await fateOf(socket, 3000, started);
    expect(fate.events).toEqual(['error', 'close']);
    expect(fate.error).toBeInstanceOf(SocketTimeoutError);
    expect(fate.error).toMatchObject({
      code: 'ETIMEDOUT',
      syscall: 'connect',
      phase: 'connect',
      timeout: T,
      address: '127.0.0.1',
      port: hole.port,
      message: `connect ETIMEDOUT 127.0.0.1:${hole.port} (no connection after ${T} ms)`,
    });
    expect(fate.elapsed).toBeGreaterThanOrEqual(T - 2);
    expect(fate.elapsed).toBeLessThan(T + SLACK);
  });

  it('leaves a refused connect exactly as it was: ECONNREFUSED from Node', async () => {
    const port = await refusedPort();
    const fate = await fateOf(connect(port), 2000);
    expect(fate.error).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    expect(fate.error).not.toBeInstanceOf(SocketTimeoutError);
  });

  it('covers the TLS handshake: a server that accepts and never answers the ClientHello', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const started = performance.now();
    const socket = track(tls.connect({ port: silent.port, host: '127.0.0.1', ca: TLS_CERT }));
    const fate = await fateOf(socket, 3000, started);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect', port: silent.port });
    expect(fate.elapsed).toBeLessThan(T + SLACK);
  });

  it('stands down once connected: an idle connection stays open past the timeout', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const armed = getStats().armed;
    const socket = connect(echo.port);
    await once(socket, 'connect');
    expect(getStats().armed - armed).toBe(1); // the connect deadline was armed
    await sleep(T * 2);
    expect(socket.destroyed).toBe(false);
  });

  it('sets the timer of a connect for the idle grace, then moves that same Timeout to the deadline while the connect is under way', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    const socket = connect(hole.port);
    const state = () => timerState(socket);
    const timer = state().timer;
    expect(timer).toBeDefined(); // armed
    const { connectAt } = state();
    expect(Math.abs(state().timerDue)).toBe(connectAt + IDLE_GRACE_MS); // the grace first: T is longer
    // The grace's look finds the connect not due: the timer goes to the deadline, refreshed, not re-created.
    await waitUntil(() => Math.abs(state().timerDue) !== connectAt + IDLE_GRACE_MS, IDLE_GRACE_MS + SLACK, 'the timer moved to the deadline');
    expect(state().timer).toBe(timer);
    expect(state().timerDue).toBe(connectAt + T);
    expect(socket.destroyed).toBe(false);
  });

  it('keeps the clock\'s reading of connect() to the µs, not only its whole ms rounded up', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    const before = performance.now();
    const socket = connect(hole.port);
    const after = performance.now();
    const { connectAt, connectLead } = timerState(socket);
    expect(connectAt).toBe(Math.ceil(connectAt)); // the stamp: a whole ms
    // The reading: no later than the true one, by at most 1 µs (its lead is rounded up).
    expect(reading(connectAt, connectLead)).toBeGreaterThanOrEqual(before - 0.001);
    expect(reading(connectAt, connectLead)).toBeLessThanOrEqual(after);
  });

  it('keeps the connect\'s Timeout for the idle grace once connected: due within the grace, the same object', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    const state = () => timerState(socket);
    const { timer, connectAt } = state();
    expect(timer).toBeDefined(); // armed
    expect(Math.abs(state().timerDue)).toBe(connectAt + IDLE_GRACE_MS); // T is longer than the grace
    const refresh = jest.spyOn(timer!, 'refresh');
    let connectedAt = 0;
    socket.prependOnceListener('connect', () => (connectedAt = performance.now()));
    await once(socket, 'connect');
    expect(state()).toMatchObject({ timer, connectAt: 0 });
    if (connectedAt < connectAt + IDLE_GRACE_MS - 1) {
      // Up within the grace of connect() (a loopback connect, as a rule): the timer is left as
      // armConnect set it, not refreshed for the grace from the connection.
      expect(refresh).not.toHaveBeenCalled();
      expect(Math.abs(state().timerDue)).toBe(connectAt + IDLE_GRACE_MS);
    } else {
      // A connect slower than the grace (a loaded machine): the timer went on to the grace from the connection.
      expect(Math.abs(state().timerDue)).toBeGreaterThanOrEqual(connectAt + IDLE_GRACE_MS);
    }
  });
});

describe('the reply deadline', () => {
  beforeEach(() => setDefaultSocketTimeout({ read: T }));

  it('ends a request a silent server never answers with ETIMEDOUT at the timeout', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    let wroteAt = 0;
    const socket = connect(silent.port, (s) => {
      wroteAt = performance.now();
      s.write('GET\r\n');
    });
    const fate = await fateOf(socket, 3000);
    expect(fate.events).toEqual(['error', 'close']);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'read', phase: 'read', timeout: T });
    const sinceWrite = performance.now() - wroteAt;
    expect(sinceWrite).toBeGreaterThanOrEqual(T - 2);
    expect(sinceWrite).toBeLessThan(T + SLACK);
  });

  it('runs from the clock\'s reading of the write to the µs, not from its whole ms rounded up, and its message measures elapsed from there', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = connect(silent.port);
    await once(socket, 'connect');
    const before = performance.now();
    socket.write('GET\r\n');
    const after = performance.now();
    const { replyAt, replyLead } = timerState(socket);
    expect(replyAt).toBe(Math.ceil(replyAt));
    expect(reading(replyAt, replyLead)).toBeGreaterThanOrEqual(before - 0.001);
    expect(reading(replyAt, replyLead)).toBeLessThanOrEqual(after);
    // The message's elapsed is measured from that reading (phaseClock), as the deadline fires:
    // while the message is published the state is still on the socket.
    let clocks: { elapsed: number; reading: number; publishedAt: number } | undefined;
    const onTimeout = (message: unknown): void => {
      const fired = message as TimeoutMessage;
      const fields = timerState(fired.socket);
      clocks = { elapsed: fired.elapsed, reading: reading(fields.replyAt, fields.replyLead), publishedAt: performance.now() };
    };
    diagnostics.subscribe(CHANNELS.timeout, onTimeout);
    try {
      const fate = await fateOf(socket, 3000);
      expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
    } finally {
      diagnostics.unsubscribe(CHANNELS.timeout, onTimeout);
    }
    expect(clocks).toBeDefined();
    expect(clocks!.elapsed).toBeGreaterThanOrEqual(T - 1);
    // Measured up to the moment it fired, from no earlier than the reading.
    expect(clocks!.reading + clocks!.elapsed).toBeLessThanOrEqual(clocks!.publishedAt);
  });

  it('is disarmed by the first byte of a reply, however slowly the rest drips', async () => {
    const drip = await startSlowDripServer({ chunk: 1, intervalMs: 50 });
    fixtures.push(drip);
    const armed = getStats().armed;
    const socket = connect(drip.port, (s) => s.write('go'));
    socket.resume();
    await once(socket, 'data');
    expect(getStats().armed - armed).toBe(1); // the reply deadline was armed by 'go'
    await sleep(T * 3);
    expect(socket.destroyed).toBe(false);
  });

  it('never times out a connection that is idle after its reply', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port, (s) => s.write('ping'));
    await once(socket, 'data');
    await sleep(T * 3);
    expect(socket.destroyed).toBe(false);
    socket.write('again');
    await once(socket, 'data');
    expect(socket.destroyed).toBe(false);
  });

  it('opens a fresh window for a request sent after an earlier one was answered', async () => {
    // Answers the first request only: the second must time out T after it was written.
    let requests = 0;
    const server = await serverOf((s) => s.on('data', () => ++requests === 1 && s.write('ok')));
    const socket = connect(portOf(server), (s) => s.write('one'));
    await once(socket, 'data');
    await sleep(T / 2); // the lazy check has not seen the reply yet
    const wroteAt = performance.now();
    socket.write('two');
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'read' });
    const sinceWrite = performance.now() - wroteAt;
    expect(sinceWrite).toBeGreaterThanOrEqual(T - 2);
    expect(sinceWrite).toBeLessThan(T + SLACK);
  });

  it('re-arms the timer for a window due before it: a shorter timeout set between two requests', async () => {
    // The first window's timer is due 10 T after 'one'; 'two', never answered, must fire T after it was written.
    let requests = 0;
    const server = await serverOf((s) => s.on('data', () => ++requests === 1 && s.write('ok')));
    const socket = connect(portOf(server), (s) => s.write('one'));
    socket.setSocketTimeout({ read: 10 * T });
    await once(socket, 'data');
    socket.setSocketTimeout({ read: T });
    const wroteAt = performance.now();
    socket.write('two');
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'read', timeout: T });
    const sinceWrite = performance.now() - wroteAt;
    expect(sinceWrite).toBeGreaterThanOrEqual(T - 2);
    expect(sinceWrite).toBeLessThan(T + SLACK);
  });

  it('runs the reply clock from the last write while a request body is still going out', async () => {
    // A body streamed in chunks for 3 x T; the server answers once it has it all.
    const server = await serverOf((s) => {
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.endsWith('END')) s.write('done');
      });
    });
    const socket = connect(portOf(server));
    await once(socket, 'connect');
    for (let i = 0; i < 6; i++) {
      socket.write(`chunk ${i};`);
      await sleep(T / 2);
    }
    socket.write('END');
    expect((await once<Buffer>(socket, 'data')).toString()).toBe('done');
    expect(socket.destroyed).toBe(false);
  });

  it('does not charge a slow TLS handshake to the reply of a request written before it ended', async () => {
    setDefaultSocketTimeout({ connect: 3000, read: T });
    // The server holds its half of the handshake for 2 x T (SNICallback answers late).
    const server = tls.createServer({
      key: TLS_KEY,
      cert: TLS_CERT,
      SNICallback: (_name, done) => setTimeout(() => done(null, tls.createSecureContext({ key: TLS_KEY, cert: TLS_CERT })), T * 2),
    }, (s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = track(tls.connect({ port: portOf(server), host: '127.0.0.1', ca: TLS_CERT, servername: 'localhost' }));
      socket.write('early request'); // handed over before 'secureConnect', as https does
      const reply = await once<Buffer>(socket, 'data', 3000);
      expect(reply.toString()).toBe('early request');
      expect(socket.destroyed).toBe(false);
    } finally {
      for (const socket of sockets.splice(0)) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('settles after the peer ended its side: no reply can come on a half-open socket', async () => {
    const server = await serverOf((s) => s.on('data', () => s.end()));
    const armed = getStats().armed;
    const socket = track(net.connect({ port: portOf(server), host: '127.0.0.1', allowHalfOpen: true }));
    socket.on('connect', () => socket.write('bye'));
    socket.resume();
    await once(socket, 'end');
    expect(getStats().armed - armed).toBe(1); // 'bye' had its reply deadline
    socket.write('still writing');
    await sleep(T * 2);
    expect(socket.destroyed).toBe(false);
    expect(getStats().armed - armed).toBe(1); // and the write after EOF armed none
  });

  it('gives sockets a server accepted no reply deadline: a server waits for its clients', async () => {
    let accepted: net.Socket | undefined;
    const server = await serverOf((s) => {
      accepted = s;
      s.write('220 greeting\r\n'); // a server speaks first; the client never answers
    });
    const client = connect(portOf(server));
    client.resume();
    await once(client, 'data');
    expect((accepted as InternalSocket)[STATE]).toBeDefined(); // the engine saw its write
    await sleep(T * 2);
    expect(accepted!.destroyed).toBe(false);
  });

  it('does not blame the peer while the application is not reading', async () => {
    // The server floods, then answers nothing; the client never reads, so its handle stops
    // reading once the buffer is full and bytesRead stands still.
    const server = await serverOf((s) => s.write(Buffer.alloc(4 << 20)));
    const socket = connect(portOf(server)) as InternalSocket;
    socket.pause();
    await once(socket, 'connect');
    await waitUntil(() => socket._handle?.reading === false, 2000, 'the handle stopped reading');
    const before = getStats();
    socket.write('request');
    expect(getStats().armed - before.armed).toBe(1); // the reply deadline was armed
    await sleep(T * 2);
    expect(socket.destroyed).toBe(false);
    expect(getStats().timeouts.read - before.timeouts.read).toBe(0);
  });
});

describe('the write stall deadline', () => {
  beforeEach(() => setDefaultSocketTimeout({ write: T }));

  it('ends a write to a peer that stopped reading with ETIMEDOUT, and the write callback gets it', async () => {
    const sink = await startSinkServer();
    fixtures.push(sink);
    const socket = connect(sink.port);
    await once(socket, 'connect');
    const callbackError = new Promise<Error | null | undefined>((resolve) => socket.write(Buffer.alloc(32 << 20), resolve));
    const fate = await fateOf(socket, 5000);
    expect(fate.events).toEqual(['error', 'close']);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'write', phase: 'write', timeout: T });
    await expect(callbackError).resolves.toBe(fate.error);
  });

  it('lands within a small fraction of the timeout after the queue stopped moving', async () => {
    const sink = await startSinkServer();
    fixtures.push(sink);
    const socket = connect(sink.port);
    await once(socket, 'connect');
    socket.write(Buffer.alloc(32 << 20));
    const fate = await fateOf(socket, 5000);
    // The kernel buffers fill within a few ms of the write, so the stall starts about then.
    expect(fate.elapsed).toBeGreaterThanOrEqual(T - 2); // a deadline may land up to DUE_SLACK_MS early
    expect(fate.elapsed).toBeLessThan(T + SLACK);
  });

  it('does not take a corked stream for a stalled one', async () => {
    const server = await serverOf((s) => s.resume());
    const socket = connect(portOf(server));
    await once(socket, 'connect');
    await new Promise((resolve) => socket.write(Buffer.alloc(8 << 20), resolve)); // was queued, then drained
    socket.cork();
    socket.write('held on purpose');
    await sleep(T * 2);
    expect(socket.destroyed).toBe(false);
    socket.uncork();
  });

  it('guards sockets a server accepted too: a client that stopped reading', async () => {
    const server = await serverOf((s) => s.write(Buffer.alloc(32 << 20)));
    const client = track(net.connect({ port: portOf(server), host: '127.0.0.1' }));
    client.pause();
    const accepted = await once<net.Socket>(server, 'connection');
    const fate = await fateOf(accepted, 5000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'write' });
  });

  it('leaves a transfer alone whose reader pauses for less than the timeout', async () => {
    // The reader alternates 150 ms paused and 50 ms reading; the timeout is 500 ms.
    setDefaultSocketTimeout({ write: 500 });
    let received = 0;
    const server = await serverOf((s) => {
      s.on('data', (chunk: Buffer) => (received += chunk.length));
      let paused = false;
      const toggle = () => {
        paused = !paused;
        if (paused) s.pause();
        else s.resume();
        timer = setTimeout(toggle, paused ? 150 : 50);
      };
      let timer = setTimeout(toggle, 0);
      s.on('close', () => clearTimeout(timer));
    });
    const socket = connect(portOf(server));
    await once(socket, 'connect');
    const total = 64 << 20;
    const written = new Promise<Error | null | undefined>((resolve) => socket.write(Buffer.alloc(total), resolve));
    await expect(written).resolves.toBeFalsy();
    const deadline = performance.now() + 5000;
    while (received < total && performance.now() < deadline) await sleep(20);
    expect(received).toBe(total);
    expect(socket.destroyed).toBe(false);
  });
});

describe('transparency', () => {
  it('allocates nothing and arms no timer when no timeout is set', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const before = activeResources().Timeout ?? 0;
    const socket = connect(echo.port, (s) => s.write('x'));
    await once(socket, 'data');
    expect((socket as InternalSocket)[STATE]).toBeUndefined();
    expect(activeResources().Timeout ?? 0).toBeLessThanOrEqual(before);
  });

  it('adds no listener and changes no flowing mode on a healthy socket', async () => {
    setDefaultSocketTimeout(T);
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    const counts = () => socket.eventNames().map((name) => `${String(name)}:${socket.listenerCount(name)}`).sort();
    const baseline = counts();
    await once(socket, 'connect');
    socket.write('hello');
    expect(counts()).toEqual(baseline);
    expect(socket.readableFlowing).toBeNull();
    socket.on('data', () => {});
    await sleep(T * 2);
    expect(socket.destroyed).toBe(false);
  });

  it('keeps socket.setTimeout() as it is: an idle event, the socket left open', async () => {
    setDefaultSocketTimeout(T);
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port, (s) => s.write('x'));
    socket.resume();
    socket.setTimeout(50);
    await once(socket, 'timeout', 2000);
    expect(socket.destroyed).toBe(false);
  });

  it('never touches an IPC (unix socket) connection', async () => {
    setDefaultSocketTimeout(T);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-ipc-'));
    const file = path.join(dir, 's.sock');
    const server = net.createServer((s) => {
      track(s);
      s.resume();
    });
    await new Promise<void>((resolve) => server.listen(file, resolve));
    try {
      const socket = track(net.connect(file, () => socket.write('hello')));
      await sleep(T * 2);
      expect(socket.destroyed).toBe(false);
    } finally {
      for (const socket of sockets.splice(0)) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps an http keep-alive agent working across idle gaps longer than the timeout', async () => {
    setDefaultSocketTimeout(T);
    const server = http.createServer((req, res) => res.end(`hi ${req.url}`));
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const port = (server.address() as net.AddressInfo).port;
      const get = (url: string) =>
        new Promise<{ body: string; socket: net.Socket }>((resolve, reject) => {
          const req = http.get({ port, host: '127.0.0.1', path: url, agent }, (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ body, socket: req.socket! }));
          });
          req.on('error', reject);
        });
      const first = await get('/1');
      await sleep(T * 2);
      const second = await get('/2');
      await sleep(T * 2);
      const third = await get('/3');
      expect([first.body, second.body, third.body]).toEqual(['hi /1', 'hi /2', 'hi /3']);
      expect(second.socket).toBe(first.socket);
      expect(third.socket).toBe(first.socket);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps TLS working end to end', async () => {
    setDefaultSocketTimeout(T);
    const server = tls.createServer({ key: TLS_KEY, cert: TLS_CERT }, (s) => s.pipe(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = track(tls.connect({ port: portOf(server), host: '127.0.0.1', ca: TLS_CERT, servername: 'localhost' }));
      await once(socket, 'secureConnect');
      socket.write('over tls');
      const reply = await once<Buffer>(socket, 'data');
      expect(reply.toString()).toBe('over tls');
      await sleep(T * 2);
      expect(socket.destroyed).toBe(false);
    } finally {
      for (const socket of sockets.splice(0)) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('per-socket settings', () => {
  it('override the process default, both ways', async () => {
    setDefaultSocketTimeout({ read: T });
    const silent = await startSilentServer();
    fixtures.push(silent);
    const exempt = connect(silent.port, (s) => s.write('x'));
    exempt.setSocketTimeout(null);
    expect(exempt.getSocketTimeout()).toEqual({ connect: null, read: null, write: null, keepAlive: null });
    setDefaultSocketTimeout(null);
    const guarded = connect(silent.port, (s) => s.write('x'));
    guarded.setSocketTimeout({ read: 100 });
    expect(guarded.getSocketTimeout()).toEqual({ connect: null, read: 100, write: null, keepAlive: null });
    const fate = await fateOf(guarded, 2000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', timeout: 100 });
    expect(exempt.destroyed).toBe(false);
  });

  it('report the process default when the socket has none', () => {
    setDefaultSocketTimeout(123);
    expect(new net.Socket().getSocketTimeout()).toEqual({ connect: 123, read: 123, write: 123, keepAlive: null });
  });

  it('reject bad values with the same errors as the default', () => {
    const socket = new net.Socket();
    expect(() => socket.setSocketTimeout(-1)).toThrow(RangeError);
    expect(() => socket.setSocketTimeout('1s' as never)).toThrow(TypeError);
  });
});

describe('a blocked event loop', () => {
  it('is not a reply timeout when the reply arrived while the loop was blocked', async () => {
    setDefaultSocketTimeout({ read: T });
    // The echo runs in a child process, so its answer is in the kernel while this loop is blocked.
    const echo = await startHungServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    await once(socket, 'connect');
    socket.write('ping');
    blockEventLoop(T + 300);
    const reply = await once<Buffer>(socket, 'data');
    expect(reply.toString()).toBe('ping');
    await sleep(20);
    expect(socket.destroyed).toBe(false);
  });

  it('is not a reply timeout when the block ends just after the deadline', async () => {
    setDefaultSocketTimeout({ read: T });
    const echo = await startHungServer(); // a child process: its answer waits in the kernel
    fixtures.push(echo);
    const socket = connect(echo.port);
    await once(socket, 'connect');
    const wroteAt = performance.now();
    socket.write('ping');
    await sleep(T / 4);
    blockEventLoop(wroteAt + T + 2 - performance.now()); // the timer then fires on time
    const reply = await once<Buffer>(socket, 'data');
    expect(reply.toString()).toBe('ping');
    await sleep(20);
    expect(socket.destroyed).toBe(false);
  });

  it('opens the reply window of a hand-built TLS client once its handshake is done', async () => {
    setDefaultSocketTimeout({ read: T });
    const server = tls.createServer({ key: TLS_KEY, cert: TLS_CERT }, (s) => s.resume()); // handshakes, then silent
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const plain = connect(portOf(server));
      await once(plain, 'connect');
      const secure = track(new tls.TLSSocket(plain, { isServer: false, secureContext: tls.createSecureContext({ ca: TLS_CERT }) }));
      (secure as unknown as { _start(): void })._start(); // as STARTTLS clients (mysqljs) do
      secure.write('request'); // before the handshake is done
      const fate = await fateOf(secure, 3000);
      expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'read' });
    } finally {
      for (const socket of sockets.splice(0)) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe('blocked again by the callback that delivered the previous answer', () => {
    // The pattern of back-to-back blocks: the reply deadline of request N runs out while the
    // loop is blocked, and before its second look runs, the I/O callback that delivers N's
    // answer writes request N + 1 and blocks again. The second look belongs to N's deadline
    // (answered); N + 1's window never had a first look of its own, nor a turn of I/O.
    const READ = 100;
    const BLOCK = 1.5 * READ;

    it('is never a false timeout over 50 rounds on a raw socket', async () => {
      setDefaultSocketTimeout({ read: READ });
      const echo = await startHungServer(); // a child process: it answers while this loop is blocked
      fixtures.push(echo);
      const socket = connect(echo.port);
      await once(socket, 'connect');
      const rounds = 50;
      let answered = 0;
      const armedBefore = getStats().armed;
      const done = new Promise<void>((resolve, reject) => {
        socket.on('error', reject);
        socket.on('data', () => {
          if (++answered === rounds) return resolve();
          socket.write('ping');
          blockEventLoop(BLOCK);
        });
      });
      socket.write('ping');
      blockEventLoop(BLOCK);
      await done;
      expect(getStats().armed - armedBefore).toBe(rounds); // every request had its reply deadline
      expect(socket.destroyed).toBe(false);
    });

    it('is never a false timeout over 25 rounds through a keep-alive http Agent', async () => {
      setDefaultSocketTimeout({ read: READ });
      const server = await startChildHttpServer(); // a child process: it answers while this loop is blocked
      fixtures.push(server);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const rounds = 25;
      let answered = 0;
      const before = getStats();
      try {
        await new Promise<void>((resolve, reject) => {
          const request = () => {
            const req = http.get({ host: '127.0.0.1', port: server.port, path: '/', agent }, (res) => {
              res.resume();
              // 'end' runs in the turn of the I/O callback that delivered the response.
              res.on('end', () => (++answered === rounds ? resolve() : request()));
            });
            req.on('error', reject);
            req.on('finish', () => blockEventLoop(BLOCK)); // the request is on the wire
          };
          request();
        });
        expect(getStats().armed - before.armed).toBeGreaterThanOrEqual(rounds); // every request had its reply deadline
        expect(getStats().timeouts.read - before.timeouts.read).toBe(0);
      } finally {
        agent.destroy();
      }
    });

    it('still times out a request that is never answered, within T + the block + 25%', async () => {
      // Answers the first request only; the callback that delivers that answer writes the
      // second and blocks.
      let requests = 0;
      const server = await serverOf((s) => s.on('data', () => ++requests === 1 && s.write('ok')));
      setDefaultSocketTimeout({ read: READ });
      const socket = connect(portOf(server), (s) => s.write('one'));
      let wroteAt = 0;
      socket.once('data', () => {
        wroteAt = performance.now();
        socket.write('two');
        blockEventLoop(BLOCK);
      });
      const fate = await fateOf(socket, 3000);
      expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'read', timeout: READ });
      const sinceWrite = performance.now() - wroteAt;
      expect(sinceWrite).toBeGreaterThanOrEqual(READ - 2);
      expect(sinceWrite).toBeLessThan((READ + BLOCK) * 1.25);
    });
  });

  it('is not a connect timeout when the connection completed while the loop was blocked', async () => {
    setDefaultSocketTimeout({ connect: T });
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    blockEventLoop(T + 300);
    await once(socket, 'connect');
    await sleep(20);
    expect(socket.destroyed).toBe(false);
  });
});

describe('the first deadline of a process', () => {
  // What the fire path needs is prepared when the first socket gets deadlines, on an error
  // nobody sees: an application's Error.prepareStackTrace is never called with it. In a child
  // process, so that its socket is the process's first with a deadline.
  const SCRIPT = `
    const net = require('net');
    const { setDefaultSocketTimeout } = require('./dist/lib/index.js');
    const seen = [];
    Error.prepareStackTrace = (error) => { seen.push(error.message); return String(error); };
    setDefaultSocketTimeout({ read: 50 });
    const silent = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
      const socket = net.connect(silent.address().port, '127.0.0.1', () => {
        socket.write('ping');
        setImmediate(() => (seen.push('armed')));
      });
      socket.on('error', (error) => seen.push('error: ' + error.code + ' ' + error.stack.includes('\\n')));
      socket.on('close', () => { console.log(JSON.stringify(seen)); silent.close(); });
    });
  `;

  it('fires it with the socket\'s error the only one an application\'s Error.prepareStackTrace sees', async () => {
    const { stdout, stderr } = await runNode(['-e', SCRIPT], {}, path.resolve(__dirname, '..'));
    expect(stderr).toBe('');
    const seen = JSON.parse(stdout) as string[];
    expect(seen).toEqual(['armed', expect.stringMatching(/^read ETIMEDOUT 127\.0\.0\.1:\d+ \(no reply after 50 ms\)$/), 'error: ETIMEDOUT false']);
  });
});

describe('resources', () => {
  it('lets an idle connected socket\'s timer go, and arms a fresh one for the next request', async () => {
    setDefaultSocketTimeout(T);
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    const state = () => (socket as InternalSocket)[STATE] as { timer?: NodeJS.Timeout; connectAt: number; replyAt: number };
    expect(state().timer).toBeDefined(); // the connect deadline
    await once(socket, 'connect');
    expect(state().connectAt).toBe(0); // settled at connect, not at the connect timeout
    // Idle: the timer is let go IDLE_GRACE_MS later.
    await waitUntil(() => state().timer === undefined, IDLE_GRACE_MS + SLACK, 'the idle timer let go');
    expect(state()).toMatchObject({ timer: undefined, connectAt: 0 });
    socket.write('ping');
    expect(state().timer).toBeDefined(); // the reply deadline
    await once(socket, 'data');
    // Its timer fires at the reply timeout, finds the reply, and lets go.
    await waitUntil(() => state().timer === undefined, T + SLACK, 'the answered timer let go');
    expect(state()).toMatchObject({ timer: undefined, replyAt: 0 });
    expect(socket.destroyed).toBe(false);
  });

  it('leaves no timer, listener or handle behind after 2,000 mixed connections', async () => {
    // Healthy connections get a generous deadline (this process is busy with 200 at a time);
    // the silent server's get 50 ms and must all time out.
    setDefaultSocketTimeout(2000);
    const echo = await startEchoServer();
    const silent = await startSilentServer();
    fixtures.push(echo, silent);
    const refused = await refusedPort();
    const baseline = activeResources();
    const outcomes: Record<string, number> = {};
    const one = async (i: number) => {
      const kind = i % 3;
      const port = kind === 0 ? echo.port : kind === 1 ? silent.port : refused;
      const socket = net.connect(port, '127.0.0.1', () => socket.write('x'));
      if (kind === 1) socket.setSocketTimeout({ read: 50 });
      socket.on('data', () => socket.end());
      const fate = await fateOf(socket, 5000);
      const key = fate.error?.code ?? 'ok';
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      return socket;
    };
    const all: net.Socket[] = [];
    for (let batch = 0; batch < 2000; batch += 200) {
      all.push(...(await Promise.all(Array.from({ length: 200 }, (_, i) => one(batch + i)))));
    }
    await sleep(20);
    expect(outcomes).toEqual({ ok: 667, ETIMEDOUT: 667, ECONNREFUSED: 666 });
    // Nothing grew: a leaked timer or handle per connection would show up here by the hundred.
    // (Fewer is fine: resources of earlier tests may still have been closing at the baseline.)
    // The servers' side of the last connections may still be closing: give them a bounded moment.
    const grownKinds = (now: Record<string, number>) => Object.keys(now).filter((kind) => now[kind] > (baseline[kind] ?? 0));
    for (let waited = 0; waited < 1000 && grownKinds(activeResources()).length > 0; waited += 20) await sleep(20);
    const after = activeResources();
    const grown = grownKinds(after);
    expect(grown.map((kind) => `${kind}: ${baseline[kind] ?? 0} -> ${after[kind]}`)).toEqual([]);
    expect(all.every((socket) => (socket as InternalSocket)[STATE] === undefined)).toBe(true);
  });
});

describe('what an idle socket keeps', () => {
  const CLIENT_MARK = Symbol.for('timeoutsocket.client.v1');
  const stateOf = (socket: net.Socket) => (socket as InternalSocket)[STATE] as { writeWatch: boolean; writeSample?: object; client: boolean } | undefined;

  it('adds only its engine state to an armed client socket: no client mark beside it', async () => {
    setDefaultSocketTimeout(T);
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    await once(socket, 'connect');
    expect(stateOf(socket)).toMatchObject({ client: true });
    expect(Object.getOwnPropertySymbols(socket)).not.toContain(CLIENT_MARK);
  });

  /**
   * Connects through a custom `lookup`, which Node's connect() calls before it touches the handle:
   * the socket's own symbols then, at 'connect' and at 'close'. The engine's one property must be
   * there from the start, so that no socket moves to another hidden class halfway through its life.
   */
  async function ownSymbolsThroughLife(port: number): Promise<{ atLookup: symbol[]; atConnect: symbol[]; atClose: symbol[] }> {
    const socket = track(new net.Socket());
    let atLookup: symbol[] = [];
    socket.connect({
      host: 'localhost',
      port,
      family: 4,
      lookup: (_host, _options, callback) => {
        atLookup = Object.getOwnPropertySymbols(socket);
        (callback as (error: Error | null, address: string, family: number) => void)(null, '127.0.0.1', 4);
      },
    });
    await once(socket, 'connect');
    const atConnect = Object.getOwnPropertySymbols(socket);
    socket.destroy();
    await once(socket, 'close');
    return { atLookup, atConnect, atClose: Object.getOwnPropertySymbols(socket) };
  }

  it('gives an armed client its state slot before Node\'s connect() runs, and no property after', async () => {
    setDefaultSocketTimeout(T);
    const echo = await startEchoServer();
    fixtures.push(echo);
    const { atLookup, atConnect, atClose } = await ownSymbolsThroughLife(echo.port);
    expect(atLookup).toContain(STATE);
    expect(atLookup).not.toContain(CLIENT_MARK);
    expect(atConnect).toEqual(atLookup);
    expect(atClose).toEqual(atLookup);
  });

  it('gives a client with no timeout its client mark before Node\'s connect() runs, and no property after', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const { atLookup, atConnect, atClose } = await ownSymbolsThroughLife(echo.port);
    expect(atLookup).toContain(CLIENT_MARK);
    expect(atLookup).not.toContain(STATE);
    expect(atConnect).toEqual(atLookup);
    expect(atClose).toEqual(atLookup);
  });

  it('watches a write only while it is queued, and a write after the watch ended afresh: its stall still fires', async () => {
    setDefaultSocketTimeout({ write: T });
    const server = await serverOf((s) => s.resume());
    const socket = connect(portOf(server));
    const [accepted] = await Promise.all([once<net.Socket>(server, 'connection'), once(socket, 'connect')]);
    const drained = new Promise((resolve) => socket.write(Buffer.alloc(8 << 20), resolve));
    expect(stateOf(socket)).toMatchObject({ writeWatch: true }); // libuv queued it: the watch is armed
    expect(stateOf(socket)!.writeSample).toBeDefined();
    await drained;
    // The next sample finds the queue empty and drops the watch with its sample.
    await waitUntil(() => stateOf(socket)?.writeWatch === false, 2000, 'the write watch ended'); // a bound, not a timing
    expect(stateOf(socket)!.writeSample).toBeUndefined();
    accepted.pause(); // the reader stops: the next large write stalls
    socket.write(Buffer.alloc(32 << 20));
    expect(stateOf(socket)).toMatchObject({ writeWatch: true });
    const fate = await fateOf(socket, 5000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'write', phase: 'write', timeout: T });
  });

  it('marks a client that connected with no timeout in force: a timeout set later gets its reply deadline', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = connect(silent.port);
    await once(socket, 'connect');
    expect(stateOf(socket)).toBeUndefined(); // nothing was armed at connect
    expect(Object.getOwnPropertySymbols(socket)).toContain(CLIENT_MARK);
    socket.setSocketTimeout({ read: T });
    socket.write('ping');
    expect(stateOf(socket)).toMatchObject({ client: true });
    const fate = await fateOf(socket, 5000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T, address: '127.0.0.1', port: silent.port });
  });

  it('keeps a socket a client when an uninstall drops its state and a later install makes a new one', async () => {
    setDefaultSocketTimeout(T);
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = connect(silent.port);
    await once(socket, 'connect');
    expect(stateOf(socket)).toMatchObject({ client: true });
    uninstall();
    try {
      // The idle grace check finds the shim gone and drops the state.
      await waitUntil(() => stateOf(socket) === undefined, 2000, 'the state dropped after uninstall'); // a bound, not a timing
    } finally {
      install();
    }
    socket.write('ping');
    expect(stateOf(socket)).toMatchObject({ client: true });
    const fate = await fateOf(socket, 5000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
  });
});
