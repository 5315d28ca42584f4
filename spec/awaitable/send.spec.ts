/** send and sendAll. */
import * as tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { startSinkServer } from '../../fixtures/servers';
import { WouldBlockError } from '../../lib/errors';
import { once, sleep } from '../helpers';
import { connected, fixtures, listeningServer, pair, portOf, rejectionOf, SLACK, T, TLS_CERT, TLS_KEY, track, useAwaitableApi } from './support';

useAwaitableApi();

describe('blocking mode', () => {
  it('send accepts what fits the free write buffer and says how much', async () => {
    const { client, peer } = await pair();
    const big = Buffer.alloc(1 << 20, 'z');
    const accepted = await client.send(big);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(client.writableHighWaterMark);
    const got = await peer.recv(1 << 20);
    expect(got.length).toBeGreaterThan(0);
    expect(await client.send('tail')).toBe(4);
  });
});

describe('timeout mode', () => {
  it('sendAll to a peer that stopped reading rejects with the bytes that really went out', async () => {
    const sink = await startSinkServer();
    fixtures.push(sink);
    const socket = await connected(sink.port, T);
    const total = 32 << 20;
    const { error, elapsed } = await rejectionOf(socket.sendAll(Buffer.alloc(total, 7)));
    expect(error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'send' });
    expect(elapsed).toBeLessThan(T + SLACK);
    const bytesSent = error.bytesSent as number;
    expect(bytesSent).toBeGreaterThan(0);
    expect(bytesSent).toBeLessThan(total);
    // The rest of a half-sent message cannot be recalled: the socket is closed, and what the
    // peer can read is exactly what was reported.
    await once(socket, 'close');
    sink.resume();
    const deadline = performance.now() + 5000;
    while (sink.bytesReceived < bytesSent && performance.now() < deadline) await sleep(20);
    await sleep(50);
    expect(sink.bytesReceived).toBe(bytesSent);
  });

  it('sendAll on TLS reports bytesSent within one TLS record of what the peer reads', async () => {
    let received = 0;
    const peers: tls.TLSSocket[] = [];
    const server = tls.createServer({ key: TLS_KEY, cert: TLS_CERT }, (s) => {
      peers.push(s);
      s.pause();
      s.on('data', (d: Buffer) => (received += d.length));
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fixtures.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const socket = track(tls.connect({ port: portOf(server), host: '127.0.0.1', ca: TLS_CERT, servername: 'localhost' }));
    socket.on('error', () => {});
    await once(socket, 'secureConnect');
    socket.setSocketTimeout(T);
    const { error } = await rejectionOf(socket.sendAll(Buffer.alloc(32 << 20, 1)));
    const bytesSent = error.bytesSent as number;
    expect(bytesSent).toBeGreaterThan(0);
    await once(socket, 'close');
    for (const peer of peers) peer.resume();
    const deadline = performance.now() + 5000;
    while (received < bytesSent - 16384 && performance.now() < deadline) await sleep(20);
    await sleep(100);
    expect(Math.abs(received - bytesSent)).toBeLessThanOrEqual(16384);
  });

  it('sendAll rejects when the peer resets in the middle of the write', async () => {
    const server = await listeningServer();
    const socket = await connected(portOf(server), null);
    const peer = track(await server.accept());
    peer.pause(); // the write cannot finish...
    setTimeout(() => peer.resetAndDestroy(), 100); // ...before the peer resets
    const { error } = await rejectionOf(socket.sendAll(Buffer.alloc(32 << 20)));
    expect(error).toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE|EBADF)$/) });
    expect(error.bytesSent).toEqual(expect.any(Number));
  });

  it('send waits for room and rejects at the timeout having accepted nothing', async () => {
    const sink = await startSinkServer();
    fixtures.push(sink);
    const socket = await connected(sink.port, T);
    socket.write(Buffer.alloc(32 << 20)); // fill every buffer on the way
    const { error } = await rejectionOf(socket.send('more'));
    expect(error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'send' });
    expect(socket.destroyed).toBe(false);
  });
});

describe('non-blocking mode', () => {
  it('send and sendAll reject at once when nothing fits, having written nothing', async () => {
    const sink = await startSinkServer();
    fixtures.push(sink);
    const socket = await connected(sink.port);
    socket.write(Buffer.alloc(32 << 20));
    socket.setBlocking(false);
    const before = socket.writableLength;
    await expect(socket.send('x')).rejects.toBeInstanceOf(WouldBlockError);
    await expect(socket.sendAll('x')).rejects.toBeInstanceOf(WouldBlockError);
    expect(socket.writableLength).toBe(before);
  });
});
