import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { protocolOfSocket, setProtocol, type InternalSocket } from '../../lib/engine';
import { getStats } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { once } from '../helpers';
import { trackServer } from '../../fixtures/tracked-server';
import { cleanUp, connectTo, expectFiredOnTime, fate, firstData, keep, recordTimeouts, SANITY, serve, serveOnPort, staysOpen, T, track } from './support';

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(cleanUp);
beforeEach(() => setDefaultSocketTimeout(T));

describe('server-first: the greeting must start within read', () => {
  it('an SMTP server that accepts and never greets ends with ETIMEDOUT (read) at T after connect, with no write', async () => {
    const server = await serve(() => {});
    recordTimeouts();
    const socket = await connectTo(server.port, (s) => setProtocol(s as InternalSocket, 'server-first'));
    const connected = performance.now();
    const { error } = await fate(socket, connected);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T, port: server.port });
    const elapsed = performance.now() - connected;
    expect(elapsed).toBeGreaterThanOrEqual(T - 1);
    expect(elapsed).toBeLessThanOrEqual(T + SANITY);
    expectFiredOnTime(T, socket);
    expect(getStats().protocols['server-first'].timeouts).toBe(1);
  });

  it('after the greeting it is request-reply: an exchange answered in time stays open, idle is no timeout', async () => {
    const server = await serve((socket) => {
      setTimeout(() => socket.write('220 mail.test ESMTP\r\n'), T / 2);
      socket.on('data', () => socket.write('250 ok\r\n'));
    });
    const armed = getStats().armed;
    const socket = await connectTo(server.port, (s) => setProtocol(s as InternalSocket, 'server-first'));
    await firstData(socket);
    expect(getStats().armed).toBe(armed + 2); // connect, then the greeting deadline: both armed and settled
    socket.write('EHLO me\r\n');
    await staysOpen(socket, 3 * T);
  });

  it('a request written before the greeting moves the clock to the write, as request-reply does', async () => {
    const server = await serve(() => {});
    const socket = await connectTo(server.port, (s) => setProtocol(s as InternalSocket, 'server-first'));
    await new Promise((resolve) => setTimeout(resolve, T / 2));
    recordTimeouts();
    const written = performance.now();
    socket.write('QUIT\r\n');
    const { error } = await fate(socket);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read' });
    expect(performance.now() - written).toBeGreaterThanOrEqual(T - 1);
    expect(performance.now() - written).toBeLessThanOrEqual(T + SANITY);
    expectFiredOnTime(T, socket);
  });

  // The port table's server-first rows, on the loopback ports that are free to bind here.
  it.each([
    [2525, 'SMTP'],
    [3306, 'MySQL'],
  ])('port %i (%s) is server-first by the port table: a silent server times out at T after connect', async (port) => {
    const server = await serveOnPort(port, () => {});
    if (server === undefined) {
      console.warn(`port ${port} is taken on this machine: its port-table row is not exercised here`);
      return;
    }
    recordTimeouts();
    const socket = await connectTo(port);
    const connected = performance.now();
    expect(protocolOfSocket(socket as InternalSocket)).toBe('server-first');
    const { error } = await fate(socket, connected);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T, port });
    expect(performance.now() - connected).toBeLessThanOrEqual(T + SANITY);
    expectFiredOnTime(T, socket);
  });

  it('the first bytes beat the port table: RESP written to port 3306 makes it redis', async () => {
    const server = await serveOnPort(3306, (socket) => socket.on('data', () => setTimeout(() => socket.write('+OK\r\n'), 1.5 * T)));
    if (server === undefined) {
      console.warn('port 3306 is taken on this machine: the override by first bytes is not exercised here');
      return;
    }
    const socket = await connectTo(3306);
    expect(protocolOfSocket(socket as InternalSocket)).toBe('server-first');
    socket.write('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n1\r\n'); // BLPOP q 1: may take 1 s + T
    expect(protocolOfSocket(socket as InternalSocket)).toBe('redis');
    await staysOpen(socket, 3 * T);
  });

  it('a MySQL-like server that greets in time is healthy, and the client then idles', async () => {
    const server = await serve((socket) => setTimeout(() => socket.write(Buffer.from([0x0a, 0, 0, 0, 0x0a, 0x38])), T / 2));
    const socket = await connectTo(server.port, (s) => setProtocol(s as InternalSocket, 'server-first'));
    await firstData(socket);
    await staysOpen(socket, 3 * T);
  });
});

describe('server-first over TLS (465, 993, 995): the greeting is due after the handshake', () => {
  const key = fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'tls', 'key.pem'));
  const cert = fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'tls', 'cert.pem'));

  async function tlsServer(onSecure: (socket: tls.TLSSocket) => void): Promise<number> {
    const server = tls.createServer({ key, cert, ALPNProtocols: ['h2', 'imap'] }, (socket) => {
      socket.on('error', () => {});
      onSecure(socket);
    });
    return keep(await trackServer(server)).port;
  }

  it('a TLS server that completes the handshake and never greets ends with ETIMEDOUT (read) at T after it', async () => {
    const port = await tlsServer(() => {});
    const socket = track(tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['imap'] }));
    // A rule forces the protocol inside connect(); here, right after it, while the handshake runs.
    setProtocol(socket as unknown as InternalSocket, 'server-first');
    recordTimeouts();
    const fated = fate(socket);
    // The greeting's clock starts at 'secure'; stamped there, first of its listeners, so that a
    // loaded machine's preemption before 'secureConnect' and this await cannot shorten the span.
    let secured = Number.NaN;
    socket.prependOnceListener('secure', () => (secured = performance.now()));
    await once(socket, 'secureConnect');
    const { error } = await fated;
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
    expect(performance.now() - secured).toBeGreaterThanOrEqual(T - 1);
    expect(performance.now() - secured).toBeLessThanOrEqual(T + SANITY);
    expectFiredOnTime(T, socket);
  });

  it('a TLS connection whose handshake chose ALPN h2 is a stream: writes expecting no answer stay open', async () => {
    const port = await tlsServer((socket) => socket.resume());
    const socket = track(tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['h2'] }));
    socket.on('error', () => {});
    socket.write('not a preface, written before the handshake ended');
    await once(socket, 'secureConnect');
    expect(socket.alpnProtocol).toBe('h2');
    expect(protocolOfSocket(socket as unknown as InternalSocket)).toBe('stream');
    await staysOpen(socket, 3 * T);
  });
});
