/** connectEx and createConnection. */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { refusedPort, startBlackhole } from '../../fixtures/servers';
import { createConnection } from '../../lib/awaitable';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { type InternalSocket } from '../../lib/engine';
import { STATE } from '../../lib/runtime';
import { sleep } from '../helpers';
import { fixtures, listeningServer, pair, portOf, SLACK, T, timersArmedDuring, track, useAwaitableApi } from './support';

useAwaitableApi();

describe('blocking mode', () => {
  it('connectEx resolves 0 when connected and the failure code otherwise', async () => {
    const server = await listeningServer();
    expect(await track(new net.Socket()).connectEx(portOf(server), '127.0.0.1')).toBe(0);
    const refused = await refusedPort();
    const socket = track(new net.Socket());
    expect(await socket.connectEx(refused, '127.0.0.1')).toBe('ECONNREFUSED');
    expect(await socket.connectEx(refused, '127.0.0.1')).toBe('ECONNREFUSED');
    expect(await track(new net.Socket()).connectEx({ port: 80, host: 'no-such-host.invalid' })).toBe('ENOTFOUND');
  });

  it('connectEx watches a connect that Node or a driver already started', async () => {
    const server = await listeningServer();
    const blocking = track(net.connect(portOf(server), '127.0.0.1'));
    expect(await blocking.connectEx(portOf(server), '127.0.0.1')).toBe(0);
    const polled = track(net.connect(portOf(server), '127.0.0.1')).setBlocking(false);
    expect(await polled.connectEx(portOf(server), '127.0.0.1')).toBe('EALREADY');
  });

  it('connectEx with a bad port throws Node\'s error and leaves the socket usable', async () => {
    const server = await listeningServer();
    const socket = track(new net.Socket());
    await expect(socket.connectEx(70000, '127.0.0.1')).rejects.toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
    expect(await socket.connectEx(portOf(server), '127.0.0.1')).toBe(0);
  });

  it('connectEx on a connected socket says EISCONN', async () => {
    const { client } = await pair();
    expect(await client.connectEx(1, '127.0.0.1')).toBe('EISCONN');
  });

  it('createConnection rejects with the connect error itself', async () => {
    const refused = await refusedPort();
    await expect(createConnection(refused, '127.0.0.1')).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
  });
});

describe('timeout mode', () => {
  it('connectEx to a blackhole resolves ETIMEDOUT', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    const socket = track(new net.Socket()).setSocketTimeout(T);
    const started = performance.now();
    expect(await socket.connectEx(hole.port, '127.0.0.1')).toBe('ETIMEDOUT');
    expect(performance.now() - started).toBeLessThan(T + SLACK);
  });

  it('createConnection to a blackhole rejects with the connect deadline', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    await expect(createConnection(hole.port, '127.0.0.1', { timeout: T })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      syscall: 'connect',
    });
  });
});

describe('non-blocking mode', () => {
  it('connectEx polls: EINPROGRESS, EALREADY while pending, and never arms a timer', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    setDefaultSocketTimeout({ connect: T }); // non-blocking overrides it: no deadline
    const socket = track(new net.Socket()).setBlocking(false);
    const codes: unknown[] = [];
    const armed = await timersArmedDuring(async () => {
      codes.push(await socket.connectEx(hole.port, '127.0.0.1'), await socket.connectEx(hole.port, '127.0.0.1'));
      await sleep(T + 50); // past the default's connect deadline, which non-blocking mode overrides
      codes.push(await socket.connectEx(hole.port, '127.0.0.1'));
    });
    expect(codes).toEqual(['EINPROGRESS', 'EALREADY', 'EALREADY']);
    expect(armed).toBe(0);
    expect((socket as InternalSocket)[STATE]).toMatchObject({ timer: undefined, connectAt: 0 });
  });

  it('connectEx reports a refused attempt as ECONNREFUSED on every poll, never 0 or EISCONN', async () => {
    const refused = await refusedPort();
    const socket = track(new net.Socket()).setBlocking(false);
    const codes = [await socket.connectEx(refused, '127.0.0.1')];
    for (let i = 0; i < 200 && codes[codes.length - 1] !== 'ECONNREFUSED'; i++) {
      await sleep(1);
      codes.push(await socket.connectEx(refused, '127.0.0.1'));
    }
    for (let i = 0; i < 3; i++) codes.push(await socket.connectEx(refused, '127.0.0.1'));
    expect(codes[0]).toBe('EINPROGRESS');
    expect(codes).not.toContain(0);
    expect(codes).not.toContain('EISCONN');
    expect(codes.slice(-4)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('connectEx reports EISCONN once connected', async () => {
    const server = await listeningServer();
    const socket = track(new net.Socket()).setBlocking(false);
    const codes = [await socket.connectEx(portOf(server), '127.0.0.1')];
    for (let i = 0; i < 200 && codes[codes.length - 1] !== 'EISCONN'; i++) {
      await sleep(1);
      codes.push(await socket.connectEx(portOf(server), '127.0.0.1'));
    }
    expect(codes[0]).toBe('EINPROGRESS');
    expect(codes[codes.length - 1]).toBe('EISCONN');
    expect(codes).not.toContain(0);
  });
});
