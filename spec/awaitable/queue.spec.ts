/** The job queues every call runs through: modes, closed sockets, cancellation. */
import * as net from 'node:net';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { AbortError, SocketClosedError } from '../../lib/errors';
import { pair, rejectionOf, useAwaitableApi } from './support';

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
