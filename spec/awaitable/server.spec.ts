/** accept, and what accepted sockets inherit. */
import * as net from 'node:net';
import { ACCEPT_QUEUE_LIMIT } from '../../lib/awaitable/server';
import { once } from '../helpers';
import { arrivalsOf, connected, connectionsTo, fixtures, listeningServer, portOf, rejectionOf, SLACK, T, track, useAwaitableApi } from './support';

useAwaitableApi();

describe('modes', () => {
  it('exist on servers, and accepted sockets inherit the server mode', async () => {
    const server = await listeningServer();
    server.setSocketTimeout(321);
    expect(server.getSocketTimeout()).toMatchObject({ connect: 321, read: 321, write: 321 });
    const client = await connected(portOf(server));
    const peer = track(await server.accept());
    expect(peer.getSocketTimeout()).toMatchObject({ read: 321 });
    expect(client.getSocketTimeout()).toMatchObject({ read: null });
    server.setBlocking(false);
    expect(server.getBlocking()).toBe(false);
  });
});

describe('more connections than the accept queue holds', () => {
  it('keeps the ones past the limit unread, and accept() hands them over reading again', async () => {
    const server = await listeningServer();
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const count = ACCEPT_QUEUE_LIMIT + 1;
      const arrived = connectionsTo(server, count);
      const clients = await Promise.all(Array.from({ length: count }, () => connected(portOf(server))));
      await arrived;
      expect(warn).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ code: 'TIMEOUTSOCKET_ACCEPT_QUEUE' }));
      const last = clients[count - 1]!;
      await last.sendAll('held');
      let peer: net.Socket | undefined;
      for (let i = 0; i < count; i++) peer = track(await server.accept()); // in arrival order
      expect(peer!.remotePort).toBe(last.localPort);
      peer!.setSocketTimeout(5000);
      expect((await peer!.recv(10)).toString()).toBe('held');
    } finally {
      warn.mockRestore();
      for (const socket of arrivalsOf(server).splice(0)) socket.destroy();
    }
  }, 30_000);
});

describe('blocking mode', () => {
  it('accept waits for a server that is still resolving its listen host', async () => {
    const server = net.createServer();
    fixtures.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    server.listen(0, 'localhost');
    const accepted = server.accept();
    await once(server, 'listening');
    const { port, address } = server.address() as net.AddressInfo;
    const client = track(net.connect(port, address));
    const peer = track(await accepted);
    await once(client, 'connect');
    expect(peer.remotePort).toBe(client.localPort);
  });

  it('a pending accept learns at once that the server was closed', async () => {
    const server = await listeningServer();
    const client = await connected(portOf(server));
    track(await server.accept()); // an open connection keeps 'close' from being emitted
    const pending = server.accept();
    server.close();
    await expect(pending).rejects.toMatchObject({ code: 'EBADF', syscall: 'accept' });
    client.destroy();
  });

  it('accept keeps connections that arrived before the call', async () => {
    const server = await listeningServer();
    const arrived = connectionsTo(server, 2);
    const clients = [await connected(portOf(server)), await connected(portOf(server))];
    await arrived;
    const first = track(await server.accept());
    const second = track(await server.accept());
    expect([first.remotePort, second.remotePort]).toEqual(clients.map((c) => c.localPort));
  });

  it('leaves a server nobody accepts from as plain Node has it: no error listener on its sockets', async () => {
    const server = await listeningServer();
    const arrived = connectionsTo(server);
    const client = await connected(portOf(server));
    await arrived;
    const [queued] = arrivalsOf(server);
    expect(queued.remotePort).toBe(client.localPort);
    expect(queued.listenerCount('error')).toBe(0);
    const accepted = track(await server.accept());
    expect(accepted).toBe(queued);
    expect(accepted.listenerCount('error')).toBe(1);
  });
});

describe('timeout mode', () => {
  it('accept rejects at the timeout', async () => {
    const server = await listeningServer();
    server.setSocketTimeout(T);
    const { error, elapsed } = await rejectionOf(server.accept());
    expect(error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'accept' });
    expect(elapsed).toBeLessThan(T + SLACK);
  });
});

describe('non-blocking mode', () => {
  it('accept rejects at once with nothing queued, and hands out what is', async () => {
    const server = await listeningServer();
    server.setBlocking(false);
    await expect(server.accept()).rejects.toMatchObject({ code: 'EAGAIN', syscall: 'accept' });
    const arrived = connectionsTo(server);
    const client = await connected(portOf(server));
    await arrived;
    const peer = track(await server.accept());
    expect(peer.remotePort).toBe(client.localPort);
    expect(peer.getBlocking()).toBe(false);
  });
});

describe('closed servers', () => {
  it('accept on a closed server rejects with SocketClosedError', async () => {
    const server = net.createServer();
    await expect(server.accept()).rejects.toMatchObject({ code: 'EBADF', syscall: 'accept' });
  });
});
