/**
 * Happy eyeballs (`autoSelectFamily`, on by default since Node 20) on every supported line.
 *
 * Node tries the resolved addresses one after the other, each under its own per-attempt timer
 * (`autoSelectFamilyAttemptTimeout`: 250 ms on 20, 22 and 24, 500 ms on 26), from one
 * `connect()` call: the shim's connect deadline is armed once there, so it covers every attempt
 * (a deadline shorter than one attempt ends the connect in the middle of it). Loopback only:
 * `lookup` hands Node the two addresses, a blackhole (SYN dropped) stands for a dead first one.
 */
import * as net from 'node:net';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { getStats } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { startBlackhole, type BlackholeServer } from '../../fixtures/servers';
import { fateOf, once } from '../helpers';

const MAJOR = Number(process.versions.node.split('.')[0]);
/** The default per-attempt timeout this line should have (read from each line's lib/net.js). */
const ATTEMPT_MS = MAJOR >= 26 ? 500 : 250;

/** A `lookup` that answers every name with `addresses`, in that order (all: true, as autoSelectFamily asks). */
function lookupOf(addresses: { address: string; family: 4 | 6 }[]): net.LookupFunction {
  return ((_host: string, _options: unknown, callback: (err: null, list: typeof addresses) => void) =>
    callback(null, addresses)) as unknown as net.LookupFunction;
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
let hole: BlackholeServer | undefined;

/** A server on [::1] at `port` (0: any), or `undefined` when this machine has no IPv6 loopback. */
async function listenOnIpv6(port = 0): Promise<net.Server | undefined> {
  const server = net.createServer((socket) => sockets.push(socket));
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ port, host: '::1', ipv6Only: true }, () => resolve(true));
  });
  if (!ok) return undefined;
  servers.push(server);
  return server;
}

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(async () => {
  setDefaultSocketTimeout(null);
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await hole?.close();
  hole = undefined;
});

describe(`happy eyeballs on Node ${process.versions.node}`, () => {
  it(`has the default per-attempt timeout of this line (${ATTEMPT_MS} ms) and is on by default`, () => {
    expect(net.getDefaultAutoSelectFamilyAttemptTimeout()).toBe(ATTEMPT_MS);
    expect(net.getDefaultAutoSelectFamily()).toBe(true);
  });

  it('connects to the one address that listens ("localhost" as ::1 and 127.0.0.1), under the connect deadline', async () => {
    const server = await listenOnIpv6();
    if (server === undefined) return void console.warn('happy-eyeballs.spec: no IPv6 loopback here');
    const { port } = server.address() as net.AddressInfo;
    setDefaultSocketTimeout({ connect: 10 * ATTEMPT_MS });
    const armed = getStats().armed;
    // 127.0.0.1 first: nothing listens at that port there, so that attempt is refused at once.
    const socket = net.connect({ host: 'localhost', port, lookup: lookupOf([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]) });
    sockets.push(socket);
    await once(socket, 'connect');
    expect(socket.remoteAddress).toBe('::1');
    expect(socket.autoSelectFamilyAttemptedAddresses).toEqual([`127.0.0.1:${port}`, `::1:${port}`]);
    expect(getStats().armed).toBeGreaterThan(armed); // the connect deadline was armed
    expect(getStats().timeouts.connect).toBe(0);
  });

  it('moves on from a blackholed first address after the attempt timeout, with one connect deadline over both', async () => {
    hole = await startBlackhole();
    const server = await listenOnIpv6(hole.port);
    if (server === undefined) return void console.warn('happy-eyeballs.spec: no IPv6 loopback (or the port is taken on ::1)');
    setDefaultSocketTimeout({ connect: 10 * ATTEMPT_MS });
    const before = getStats().timeouts.connect;
    const socket = net.connect({ host: 'localhost', port: hole.port, lookup: lookupOf([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]) });
    sockets.push(socket);
    await once(socket, 'connect', 20 * ATTEMPT_MS);
    expect(socket.remoteAddress).toBe('::1');
    expect(socket.autoSelectFamilyAttemptedAddresses).toEqual([`127.0.0.1:${hole.port}`, `::1:${hole.port}`]);
    expect(getStats().timeouts.connect).toBe(before);
  });

  it('ends the whole connect at the deadline, even in the middle of an attempt', async () => {
    hole = await startBlackhole();
    const server = await listenOnIpv6(hole.port);
    if (server === undefined) return void console.warn('happy-eyeballs.spec: no IPv6 loopback (or the port is taken on ::1)');
    // Well inside the first attempt (plain Node would connect to ::1 after ATTEMPT_MS): the
    // margin keeps a busy machine's event-loop lag from letting Node's attempt timer win.
    const deadline = Math.floor(ATTEMPT_MS / 5);
    setDefaultSocketTimeout({ connect: deadline });
    const socket = net.connect({ host: 'localhost', port: hole.port, lookup: lookupOf([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]) });
    const fate = await fateOf(socket, 20 * ATTEMPT_MS);
    expect(fate.error).toMatchObject({ name: 'SocketTimeoutError', code: 'ETIMEDOUT', phase: 'connect', timeout: deadline });
    expect(fate.events).toEqual(['error', 'close']);
  });
});
