/**
 * A socket handed to a child process (`child.send(message, socket)`) on every supported line.
 *
 * Node sends the handle over the IPC channel and, unless `keepOpen`, takes it from the parent's
 * socket (`socket._handle = null; socket.setTimeout(0)` in lib/internal/child_process.js); the
 * parent's socket object stays behind with no handle and never closes. In a child that loads
 * the shim, the socket it receives (`new net.Socket({ handle })`) is guarded like an accepted
 * one: write-stall deadlines, no reply deadline (the child did not connect it). Worker threads
 * cannot take a socket at all (a handle is not transferable), so a child process is the only
 * way to hand one over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { getStats } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { once } from '../helpers';

const ROOT = path.resolve(__dirname, '../..');

/** The child: takes the socket, writes more than the (non-reading) peer takes, reports what happened. */
const CHILD = `
  process.on('message', (message, socket) => {
    if (message !== 'socket') return;
    socket.on('error', (err) => process.send({ error: { name: err.name, code: err.code, phase: err.phase, timeout: err.timeout } }));
    socket.write(Buffer.alloc(64 * 1024 * 1024));
  });
  process.send('ready');
`;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
let child: ChildProcess | undefined;

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(async () => {
  setDefaultSocketTimeout(null);
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL'); // by PID: the one we started
  child = undefined;
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Starts the child under register with a 300 ms write deadline; resolves once it listens for the socket. */
async function startChild(): Promise<ChildProcess> {
  const started = spawn(process.execPath, ['-r', './dist/lib/register.js', '-e', CHILD], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TIMEOUTSOCKET_WRITE_TIMEOUT: '300ms' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child = started;
  await once(started, 'message');
  return started;
}

describe(`a socket handed to a child process on Node ${process.versions.node}`, () => {
  it("an accepted socket handed over gets the child's own deadlines there", async () => {
    const accepted = new Promise<net.Socket>((resolve) => {
      const server = net.createServer(resolve);
      servers.push(server);
      server.listen(0, '127.0.0.1', () => {
        const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
        client.pause(); // never reads: the child's large write stalls
        client.on('error', () => {});
        sockets.push(client);
      });
    });
    const socket = await accepted;
    const started = await startChild();
    const report = once<{ error?: { name: string; code: string; phase: string; timeout: number } }>(started, 'message', 5000);
    started.send('socket', socket);
    expect((await report).error).toEqual({ name: 'SocketTimeoutError', code: 'ETIMEDOUT', phase: 'write', timeout: 300 });
  });

  // net.js sets `_handle = null` on the parent's object and leaves it open: the deadline armed
  // there stands down, the connection's deadlines are the child's now.
  it("the parent's own deadline never fires on a client socket it handed away", async () => {
    const server = net.createServer((socket) => sockets.push(socket)); // accepts, never answers
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // The child first: started after the write, a slow spawn could outlast the reply timeout.
    const started = await startChild();
    setDefaultSocketTimeout({ read: 300 });
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    client.write('hello'); // opens the parent's reply window
    const armed = getStats().armed;
    const fired = getStats().timeouts.read;
    const errors: Error[] = [];
    client.on('error', (err) => errors.push(err));
    started.send('socket', client);
    // Wait past the reply timeout for the child to be done with it: it reports its own write error
    // only if the socket is still open in the child; the parent's copy must stay quiet throughout.
    await once(started, 'message', 5000).catch(() => undefined);
    expect(armed).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    expect(getStats().timeouts.read).toBe(fired);
  });
});
