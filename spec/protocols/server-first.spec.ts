import { performance } from 'node:perf_hooks';
import { setDefaultSocketTimeout } from '../../lib/config';
import { protocolOfSocket, setProtocol, type InternalSocket } from '../../lib/engine';
import { getStats } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { cleanUp, connectTo, fate, firstData, serve, serveOnPort, staysOpen, T, TOLERANCE } from './support';

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(cleanUp);
beforeEach(() => setDefaultSocketTimeout(T));

describe('server-first: the greeting must start within read', () => {
  it('an SMTP server that accepts and never greets ends with ETIMEDOUT (read) at T after connect, with no write', async () => {
    const server = await serve(() => {});
    const socket = await connectTo(server.port, (s) => setProtocol(s as InternalSocket, 'server-first'));
    const connected = performance.now();
    const { error } = await fate(socket, connected);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T, port: server.port });
    const elapsed = performance.now() - connected;
    expect(elapsed).toBeGreaterThanOrEqual(T - 1);
    expect(elapsed).toBeLessThanOrEqual(T + TOLERANCE);
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
    const written = performance.now();
    socket.write('QUIT\r\n');
    const { error } = await fate(socket);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read' });
    expect(performance.now() - written).toBeGreaterThanOrEqual(T - 1);
    expect(performance.now() - written).toBeLessThanOrEqual(T + TOLERANCE);
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
    const socket = await connectTo(port);
    const connected = performance.now();
    expect(protocolOfSocket(socket as InternalSocket)).toBe('server-first');
    const { error } = await fate(socket, connected);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T, port });
    expect(performance.now() - connected).toBeLessThanOrEqual(T + TOLERANCE);
  });

  it('a MySQL-like server that greets in time is healthy, and the client then idles', async () => {
    const server = await serve((socket) => setTimeout(() => socket.write(Buffer.from([0x0a, 0, 0, 0, 0x0a, 0x38])), T / 2));
    const socket = await connectTo(server.port, (s) => setProtocol(s as InternalSocket, 'server-first'));
    await firstData(socket);
    await staysOpen(socket, 3 * T);
  });
});
