/** The job queues every call runs through: modes, closed sockets, cancellation. */
import * as net from 'node:net';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { AbortError, SocketClosedError } from '../../lib/errors';
import { pair, rejectionOf, T, timersArmedDuring, useAwaitableApi, whenBuffered } from './support';

useAwaitableApi();

describe('modes', () => {
  it('start from the process default and follow setSocketTimeout / setBlocking', () => {
    setDefaultSocketTimeout(250);
    const socket = new net.Socket();
    expect(socket.getSocketTimeout()).toMatchObject({ connect: 250, read: 250, write: 250 });
    expect(socket.getBlocking()).toBe(true);
    socket.setBlocking(false);
    expect(socket.getBlocking()).toBe(false);
    expect(socket.getSocketTimeout()).toMatchObject({ connect: 0, read: 0, write: 0 });
    socket.setBlocking(true);
    expect(socket.getSocketTimeout()).toMatchObject({ connect: null, read: null, write: null });
    socket.setSocketTimeout(0);
    expect(socket.getBlocking()).toBe(false);
  });

  it('reject bad values naming them', () => {
    const socket = new net.Socket();
    expect(() => socket.setBlocking('no' as never)).toThrow(new TypeError('setBlocking(flag): flag must be a boolean, got \'no\''));
    expect(() => socket.setSocketTimeout(-1)).toThrow(RangeError);
    expect(() => setDefaultSocketTimeout(0)).toThrow(RangeError); // non-blocking is per socket
  });
});

describe('closed sockets', () => {
  it('every call rejects with SocketClosedError (EBADF), never a confusing TypeError', async () => {
    const { client } = await pair();
    client.destroy();
    for (const call of [() => client.recv(1), () => client.recvInto(Buffer.alloc(1)), () => client.send('x'), () => client.sendAll('x')]) {
      const { error } = await rejectionOf(call());
      expect(error).toBeInstanceOf(SocketClosedError);
      expect(error).toMatchObject({ code: 'EBADF', errno: expect.any(Number), syscall: expect.any(String) });
    }
  });
});

describe('AbortSignal', () => {
  it('cancels a pending recv with an AbortError and consumes nothing', async () => {
    const { client, peer } = await pair();
    const controller = new AbortController();
    const pending = client.recv(10, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const { error } = await rejectionOf(pending);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await peer.sendAll('kept');
    expect((await client.recv(10)).toString()).toBe('kept');
  });

  it('rejects at once when already aborted', async () => {
    const { client } = await pair();
    await expect(client.recv(1, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });
});

describe('calls that can finish at once', () => {
  it('a recv served from buffered bytes and a sendAll the kernel takes whole arm no timer', async () => {
    // The control: on a fresh socket, a recv that has to wait arms the call timer.
    const first = await pair();
    first.client.setSocketTimeout(T);
    const waiting = await timersArmedDuring(async () => {
      const pending = first.client.recv(4);
      await first.peer.sendAll('ping');
      expect((await pending).toString()).toBe('ping');
    });
    expect(waiting).toBe(1);

    const { client, peer } = await pair();
    client.setSocketTimeout(T);
    await peer.sendAll('pong');
    await whenBuffered(client, 4);
    const armed = await timersArmedDuring(async () => {
      expect((await client.recv(4)).toString()).toBe('pong');
      await client.sendAll('x');
    });
    expect(armed).toBe(0);
    expect((await peer.recv(1)).toString()).toBe('x');
  });

  it('sendAlls that finish at once and ones that wait for their write settle in order, every byte delivered', async () => {
    const { client, peer } = await pair();
    client.setSocketTimeout(5000);
    const big = Buffer.alloc(8 << 20, 'b');
    const settled: string[] = [];
    const calls = [
      client.sendAll('a').then(() => settled.push('a')),
      client.sendAll(big).then(() => settled.push('big')),
      client.sendAll('c').then(() => settled.push('c')),
      client.sendAll(big).then(() => settled.push('big2')),
      client.sendAll('e').then(() => settled.push('e')),
    ];
    let received = 0;
    const expected = 3 + 2 * big.length;
    while (received < expected) received += (await peer.recv(1 << 20)).length;
    await Promise.all(calls);
    expect(settled).toEqual(['a', 'big', 'c', 'big2', 'e']);
    expect(received).toBe(expected);
    // The one write callback is not left behind on a later write: the next one still settles.
    await client.sendAll(big.subarray(0, 1 << 20));
    received = 0;
    while (received < 1 << 20) received += (await peer.recv(1 << 20)).length;
  }, 20_000);
});
