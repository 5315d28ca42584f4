import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { install, uninstall } from '../lib/patch';
import { setDefaultSocketTimeout } from '../lib/runtime';
import { once } from './helpers';

/**
 * `getsockopt` is out of JavaScript's reach, so keep-alive is read from the kernel: `ss -o`
 * prints `timer:(keepalive,29sec,0)` for an established connection with SO_KEEPALIVE, and
 * /proc/net/tcp has the same timer as `02:<jiffies left>` in its `tr:tm->when` column.
 */
type Probe = 'ss' | 'proc' | undefined;

function availableProbe(): Probe {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore', timeout: 5000 });
    return 'ss';
  } catch {
    return fs.existsSync('/proc/net/tcp') ? 'proc' : undefined;
  }
}

const PROBE = availableProbe();
const describeWithProbe = PROBE === undefined ? describe.skip : describe;
if (PROBE === undefined) {
  console.warn('keepalive.spec: skipped, neither `ss` nor /proc/net/tcp can show TCP keep-alive timers here');
}

/**
 * The keep-alive timer of `socket`'s established IPv4 loopback connection, found by its local
 * and remote ports (a local port alone may be in use twice, towards two servers), in seconds
 * left; `null` when the connection has no keep-alive timer.
 */
async function keepAliveTimer(socket: { localPort?: number; remotePort?: number }): Promise<number | null> {
  const localPort = socket.localPort!;
  const remotePort = socket.remotePort!;
  if (PROBE === 'ss') {
    const out = await new Promise<string>((resolve, reject) =>
      execFile('ss', ['-Htno', 'state', 'established', `( sport = :${localPort} )`], { timeout: 5000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    // Rows (no State column under a state filter): Recv-Q Send-Q Local Peer [timer:(...)].
    const rows = out
      .trim()
      .split('\n')
      .filter((row) => {
        const fields = row.trim().split(/\s+/);
        return fields[2] === `127.0.0.1:${localPort}` && fields[3] === `127.0.0.1:${remotePort}`;
      });
    if (rows.length !== 1) throw new Error(`expected one connection ${localPort} -> ${remotePort}, ss shows:\n${out}`);
    // ss's print_ms_timer: [<m>min][<s>sec | <s>.]<ms>ms, e.g. 29sec, 9.792ms (9.792 s), 992ms.
    const match = /timer:\(keepalive,(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?,\d+\)/.exec(rows[0]);
    if (match === null) return null;
    return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0) + Number(match[3] ?? 0) / 1000;
  }
  const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  const rows = fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((row) => row.trim().split(/\s+/))
    .filter((fields) => fields[1] === `0100007F:${hex(localPort)}` && fields[2] === `0100007F:${hex(remotePort)}` && fields[3] === '01');
  if (rows.length !== 1) throw new Error(`expected one established connection ${localPort} -> ${remotePort}`);
  const [timer, left] = rows[0][5].split(':');
  return timer === '02' ? parseInt(left, 16) / 100 : null; // clock ticks (USER_HZ = 100 on Linux)
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

function track<S extends net.Socket>(socket: S): S {
  sockets.push(socket);
  socket.on('error', () => {});
  return socket;
}

/** A loopback server that keeps what it accepts; resolves once listening. */
async function listen(options: net.ServerOpts = {}, onConnection?: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(options, (socket) => {
    track(socket);
    onConnection?.(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port;

/** Connects, and resolves with the client and the socket the server accepted for it. */
async function connectPair(server: net.Server, connect: () => net.Socket): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const accepted = once<net.Socket>(server, 'connection');
  const client = track(connect());
  await once(client, 'connect');
  return { client, accepted: await accepted };
}

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(async () => {
  setDefaultSocketTimeout(null);
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describeWithProbe('process-wide keep-alive', () => {
  it('turns keep-alive on with the configured delay for clients and accepted sockets', async () => {
    setDefaultSocketTimeout({ keepAlive: 30_000 });
    const server = await listen();
    const { client, accepted } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    for (const socket of [client, accepted]) {
      const left = await keepAliveTimer(socket);
      expect(left).not.toBeNull();
      expect(left!).toBeGreaterThan(20);
      expect(left!).toBeLessThanOrEqual(30);
    }
  });

  it('follows a default set after the server started listening', async () => {
    const server = await listen();
    setDefaultSocketTimeout({ keepAlive: 20_000 });
    const { client, accepted } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    expect(await keepAliveTimer(accepted)).toBeLessThanOrEqual(20);
    expect(await keepAliveTimer(client)).toBeLessThanOrEqual(20);
  });

  it('reaches sockets made with new net.Socket().connect() and TLS clients', async () => {
    setDefaultSocketTimeout({ keepAlive: 30_000 });
    const server = await listen();
    const plain = await connectPair(server, () => new net.Socket().connect(portOf(server), '127.0.0.1'));
    expect(await keepAliveTimer(plain.client)).toBeGreaterThan(20);
    // The TCP connection under a TLS client (the server here never answers the handshake).
    const tlsClient = tls.connect({ port: portOf(server), host: '127.0.0.1' });
    const tlsPair = await connectPair(server, () => tlsClient);
    expect(await keepAliveTimer(tlsPair.client)).toBeGreaterThan(20);
  });

  it("applies a socket's own setSocketTimeout({ keepAlive }), even once connected", async () => {
    const server = await listen();
    const { client } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    expect(await keepAliveTimer(client)).toBeNull();
    client.setSocketTimeout({ keepAlive: 15_000 });
    const left = await keepAliveTimer(client);
    expect(left).not.toBeNull();
    expect(left!).toBeLessThanOrEqual(15);
  });

  it('treats a delay under one second as one second (Node takes whole seconds, 0 would mean the OS default)', async () => {
    setDefaultSocketTimeout({ keepAlive: 300 });
    const server = await listen();
    const { client } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    const left = await keepAliveTimer(client);
    expect(left).not.toBeNull();
    expect(left!).toBeLessThanOrEqual(1);
  });
});

describeWithProbe("the application's own choice", () => {
  beforeEach(() => setDefaultSocketTimeout({ keepAlive: 30_000 }));

  it('setKeepAlive(false) before connect leaves a client without keep-alive', async () => {
    const server = await listen();
    const { client } = await connectPair(server, () => {
      const socket = new net.Socket();
      socket.setKeepAlive(false);
      return socket.connect(portOf(server), '127.0.0.1');
    });
    expect(await keepAliveTimer(client)).toBeNull();
  });

  it("setKeepAlive(true, 10 s) keeps the application's delay", async () => {
    const server = await listen();
    const { client } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1').setKeepAlive(true, 10_000));
    expect(await keepAliveTimer(client)).toBeLessThanOrEqual(10);
  });

  it('the keepAlive option of net.connect() and of new net.Socket() wins', async () => {
    const server = await listen();
    const off = await connectPair(server, () => net.connect({ port: portOf(server), host: '127.0.0.1', keepAlive: false }));
    expect(await keepAliveTimer(off.client)).toBeNull();
    const own = await connectPair(server, () =>
      new net.Socket({ keepAlive: true, keepAliveInitialDelay: 10_000 } as net.SocketConstructorOpts).connect(portOf(server), '127.0.0.1'),
    );
    expect(await keepAliveTimer(own.client)).toBeLessThanOrEqual(10);
  });

  it('setKeepAlive(false) on an accepted socket in the connection handler wins', async () => {
    const server = await listen({}, (socket) => socket.setKeepAlive(false));
    const { accepted } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    expect(await keepAliveTimer(accepted)).toBeNull();
  });

  it("a server's own keepAlive options win", async () => {
    const server = await listen({ keepAlive: true, keepAliveInitialDelay: 10_000 });
    const { accepted } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    expect(await keepAliveTimer(accepted)).toBeLessThanOrEqual(10);
  });
});

describeWithProbe('with no keepAlive setting', () => {
  it('changes nothing: no keep-alive on either side, the server fields read as before', async () => {
    const server = await listen();
    const { client, accepted } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    expect(await keepAliveTimer(client)).toBeNull();
    expect(await keepAliveTimer(accepted)).toBeNull();
    expect(server).toMatchObject({ keepAlive: false, keepAliveInitialDelay: 0 });
  });
});

describeWithProbe('TIMEOUTSOCKET_KEEPALIVE', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL'); // by PID: the one we started
    child = undefined;
  });

  it.each([
    ['30s', (left: number | null) => left !== null && left > 20 && left <= 30],
    ['', (left: number | null) => left === null],
  ])('=%j under node -r register gives both sides the delay (or, empty, nothing)', async (value, expected) => {
    // The child connects to itself, prints its two local ports, and waits for stdin to close.
    const script = `
      const net = require('net');
      let accepted, connected = false;
      const report = () => {
        if (!accepted || !connected) return;
        console.log(JSON.stringify([client, accepted].map((s) => ({ localPort: s.localPort, remotePort: s.remotePort }))));
        process.stdin.on('end', () => process.exit(0)).resume();
      };
      let client;
      const server = net.createServer((socket) => { accepted = socket; report(); });
      server.listen(0, '127.0.0.1', () => {
        client = net.connect(server.address().port, '127.0.0.1', () => { connected = true; report(); });
      });
    `;
    const root = path.resolve(__dirname, '..');
    child = spawn(process.execPath, ['-r', './dist/lib/register.js', '-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH, TIMEOUTSOCKET_KEEPALIVE: value },
    });
    const started = child;
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const limit = setTimeout(() => reject(new Error(`child printed nothing in 5 s: ${out}`)), 5000);
      started.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) {
          clearTimeout(limit);
          resolve(out.trim());
        }
      });
    });
    const ends = JSON.parse(line) as Array<{ localPort: number; remotePort: number }>;
    const timers = await Promise.all(ends.map((socket) => keepAliveTimer(socket)));
    started.stdin.end();
    expect(timers.map(expected)).toEqual([true, true]);
  });
});

describe('install and uninstall', () => {
  it('wrap setKeepAlive and Server#listen, and put the originals back', () => {
    uninstall();
    const before = [net.Socket.prototype.setKeepAlive, net.Server.prototype.listen];
    install();
    expect(net.Socket.prototype.setKeepAlive).not.toBe(before[0]);
    expect(net.Server.prototype.listen).not.toBe(before[1]);
    uninstall();
    expect([net.Socket.prototype.setKeepAlive, net.Server.prototype.listen]).toEqual(before);
    expect(Object.prototype.hasOwnProperty.call(net.Server.prototype, 'listen')).toBe(true);
    install();
  });

  it('leaves servers adopted before an uninstall with their own values', async () => {
    setDefaultSocketTimeout({ keepAlive: 30_000 });
    const server = await listen();
    expect((server as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    uninstall();
    try {
      expect(server).toMatchObject({ keepAlive: false, keepAliveInitialDelay: 0 });
    } finally {
      install();
    }
  });
});

/**
 * The keep-alive options of connected sockets as the kernel holds them, by `getsockopt()`:
 * Python reads them on the socket descriptors handed to it as its fds 3, 4, … (a descriptor in
 * `stdio` is shared with the child), so no privilege is needed. One row per socket:
 * [SO_KEEPALIVE, TCP_KEEPIDLE s, TCP_KEEPINTVL s, TCP_KEEPCNT].
 */
const GETSOCKOPT_PY = `
import json, socket, sys
rows = []
for fd in range(3, 3 + int(sys.argv[1])):
    s = socket.socket(fileno=fd)
    rows.append([s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)] + [s.getsockopt(socket.IPPROTO_TCP, o) for o in (socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT)])
    s.detach()
print(json.dumps(rows))
`;

function hasPython(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('python3', ['-c', 'import socket; socket.TCP_KEEPINTVL'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

const describeWithGetsockopt = hasPython() ? describe : describe.skip;

/** [SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT] of each socket, read with getsockopt(). */
function keepAliveOptions(sockets: net.Socket[]): number[][] {
  const fds = sockets.map((socket) => (socket as unknown as { _handle: { fd: number } })._handle.fd);
  const out = execFileSync('python3', ['-c', GETSOCKOPT_PY, String(fds.length)], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'inherit', ...fds] });
  return JSON.parse(out) as number[][];
}

/** The same for a child process that reads its own sockets (plain JavaScript source). */
const KEEPALIVE_OPTIONS_SOURCE = `(sockets) => JSON.parse(require('child_process').execFileSync('python3', ['-c', ${JSON.stringify(GETSOCKOPT_PY)}, String(sockets.length)], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'inherit', ...sockets.map((s) => s._handle.fd)] }))`;

/** Whether this Node's setKeepAlive() takes the interval and count (24 and later; see lib/runtime.ts). */
const TAKES_PROBES = Number(process.versions.node.split('.')[0]) >= 24;

describeWithGetsockopt(`keep-alive probes on Node ${process.versions.node}, read with getsockopt()`, () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL'); // by PID: the one we started
    child = undefined;
  });

  it("gets libuv's interval (1 s) and count (10) with the shim's delay, not the OS's 75 s and 9", async () => {
    setDefaultSocketTimeout({ keepAlive: 30_000 });
    const server = await listen();
    const { client, accepted } = await connectPair(server, () => net.connect(portOf(server), '127.0.0.1'));
    expect(keepAliveOptions([client, accepted])).toEqual([
      [1, 30, 1, 10],
      [1, 30, 1, 10],
    ]);
  });

  /** Runs a child under register that connects to itself and prints the options of both sockets. */
  function childReport(value: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const script = `
      const net = require('net');
      const read = ${KEEPALIVE_OPTIONS_SOURCE};
      const server = net.createServer((accepted) => {
        setImmediate(() => { console.log(JSON.stringify(read([client, accepted]))); process.exit(0); });
      });
      let client;
      server.listen(0, '127.0.0.1', () => { client = net.connect(server.address().port, '127.0.0.1'); });
    `;
    const started = spawn(process.execPath, ['-r', './dist/lib/register.js', '-e', script], {
      cwd: path.resolve(__dirname, '..'),
      env: { PATH: process.env.PATH, TIMEOUTSOCKET_KEEPALIVE: value },
    });
    child = started;
    let stdout = '';
    let stderr = '';
    started.stdout.on('data', (chunk) => (stdout += chunk));
    started.stderr.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error(`child still running after 8 s: ${stdout}${stderr}`)), 8000);
      started.on('close', (code) => {
        clearTimeout(limit);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it(`TIMEOUTSOCKET_KEEPALIVE=30s,5s,4 sets delay, interval and count on both sides on 24 and later, and on 20 and 22 stops the process at start-up naming the line`, async () => {
    const result = await childReport('30s,5s,4');
    if (TAKES_PROBES) {
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual([
        [1, 30, 5, 4],
        [1, 30, 5, 4],
      ]);
    } else {
      expect(result.code).toBe(9);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'timeoutsocket: TIMEOUTSOCKET_KEEPALIVE="30s,5s,4": a probe interval and count need a Node line whose socket.setKeepAlive() ' +
          `takes them (24 and later); this is Node ${process.versions.node}, which takes the delay alone (e.g. TIMEOUTSOCKET_KEEPALIVE=30s)\n`,
      );
    }
  });
});
