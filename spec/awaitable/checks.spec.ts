/** Argument checks: bad input is a TypeError or RangeError that quotes the bad value. */
import { createConnection } from '../../lib/awaitable';
import { listeningServer, pair, portOf, useAwaitableApi } from './support';

useAwaitableApi();

describe('bad arguments', () => {
  it('bad arguments are TypeErrors and RangeErrors naming the value', async () => {
    const { client } = await pair();
    await expect(client.recv(0)).rejects.toThrow(new RangeError('recv(n): n must be an integer > 0, got 0 (a number)'));
    await expect(client.recv('5' as never)).rejects.toThrow(new TypeError("recv(n): n must be a number of bytes, got '5'"));
    await expect(client.send(42 as never)).rejects.toThrow(TypeError);
    await expect(client.recv(5, { signal: 'x' } as never)).rejects.toThrow(new TypeError("recv: options.signal must be an AbortSignal, got 'x'"));
  });

  it('quote the value, even one that cannot be turned into a string', async () => {
    const { client } = await pair();
    await expect(client.recv({ toString: () => ({}) } as never)).rejects.toThrow(
      new TypeError('recv(n): n must be a number of bytes, got { toString: [Function: toString] }'),
    );
    await expect(client.recv([1, Symbol()] as never)).rejects.toThrow(new TypeError('recv(n): n must be a number of bytes, got [ 1, Symbol() ]'));
    await expect(client.recv('\t83\n' as never)).rejects.toThrow(new TypeError("recv(n): n must be a number of bytes, got '\\t83\\n'"));
    await expect(client.recv(0n as never)).rejects.toThrow(new TypeError('recv(n): n must be a number of bytes, got 0n'));
  });

  it('say a number is a number', async () => {
    const { client } = await pair();
    await expect(client.recvInto(0 as never)).rejects.toThrow(new TypeError('recvInto(buffer): buffer must be a Buffer or Uint8Array, got 0 (a number)'));
    await expect(client.send(0 as never)).rejects.toThrow(new TypeError('send(data): data must be a Buffer, Uint8Array or string, got 0 (a number)'));
    await expect(client.sendAll(0 as never)).rejects.toThrow(new TypeError('sendAll(data): data must be a Buffer, Uint8Array or string, got 0 (a number)'));
  });
});

describe('unknown option keys', () => {
  it('createConnection names an option it does not know, instead of running on the process default', async () => {
    const server = await listeningServer();
    const port = portOf(server);
    await expect(createConnection(port, '127.0.0.1', { read: 500 } as never)).rejects.toThrow(
      new TypeError("createConnection: options has unknown key 'read': expected signal, timeout"),
    );
    await expect(createConnection(port, '127.0.0.1', { reed: 500, x: 1 } as never)).rejects.toThrow(
      new TypeError("createConnection: options has unknown keys 'reed', 'x': expected signal, timeout"),
    );
  });

  it('createConnection takes no array or boxed value as options', async () => {
    const server = await listeningServer();
    const port = portOf(server);
    await expect(createConnection(port, '127.0.0.1', [] as never)).rejects.toThrow(
      new TypeError('createConnection: options must be an object like { signal, timeout }, got []'),
    );
    await expect(createConnection(port, '127.0.0.1', new Number(500) as never)).rejects.toThrow(
      new TypeError('createConnection: options must be an object like { signal, timeout }, got [Number: 500]'),
    );
  });

  it('createConnection checks the types of port and host itself', async () => {
    await expect(createConnection({ port: 1 } as never)).rejects.toThrow(new TypeError('createConnection(port): port must be a number, got { port: 1 }'));
    await expect(createConnection(1, 5 as never)).rejects.toThrow(new TypeError('createConnection(port, host): host must be a string, got 5 (a number)'));
  });

  it('every call names an option it does not know', async () => {
    const { client } = await pair();
    await expect(client.recv(1, { timeout: 5 } as never)).rejects.toThrow(new TypeError("recv: options has unknown key 'timeout': expected signal"));
    await expect(client.sendAll('x', { signl: null } as never)).rejects.toThrow(new TypeError("sendAll: options has unknown key 'signl': expected signal"));
    await expect(client.connectEx(1, '127.0.0.1', { reed: 1 } as never)).rejects.toThrow(
      new TypeError("connectEx: options has unknown key 'reed': expected signal"),
    );
  });

  it('connectEx names a destination Node would ignore or misread', async () => {
    const { client } = await pair();
    await expect(client.connectEx(1, 5 as never)).rejects.toThrow(new TypeError('connectEx: host must be a string, got 5 (a number)'));
    await expect(client.connectEx([1] as never)).rejects.toThrow(new TypeError('connectEx: give (port, host), (path) or an options object { port, host } or { path }, got [ 1 ]'));
    await expect(client.connectEx({} as never)).rejects.toThrow(new TypeError('connectEx: give (port, host), (path) or an options object { port, host } or { path }, got {}'));
  });
});
