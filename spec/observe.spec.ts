import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  closeAll,
  startBlackhole,
  startEchoServer,
  startHungServer,
  startSilentServer,
  startSinkServer,
  type Closable,
} from '../fixtures/servers';
import { SocketTimeoutError } from '../lib/errors';
import { CHANNELS, getStats, type InstallMessage, type TimeoutMessage, type UninstallMessage } from '../lib/observe';
import { install, uninstall } from '../lib/patch';
import { getDefaultSocketTimeout, setDefaultSocketTimeout } from '../lib/runtime';
import { blockEventLoop, fateOf, once, runNode, sleep } from './helpers';

const T = 150;
const ROOT = path.resolve(__dirname, '..');

const fixtures: Closable[] = [];
const sockets: net.Socket[] = [];
const subscriptions: Array<[string, (message: unknown) => void]> = [];

function connect(port: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  return socket;
}

/** Collects what `name` publishes until afterEach unsubscribes. */
function collect<M>(name: string): M[] {
  const messages: M[] = [];
  const listener = (message: unknown) => messages.push(message as M);
  diagnosticsChannel.subscribe(name, listener);
  subscriptions.push([name, listener]);
  return messages;
}

/** A fresh counting period: install resets the counters. */
function reinstall(): void {
  uninstall();
  install();
}

beforeEach(() => reinstall());
afterAll(() => uninstall());
afterEach(async () => {
  for (const [name, listener] of subscriptions.splice(0)) diagnosticsChannel.unsubscribe(name, listener);
  setDefaultSocketTimeout(null);
  for (const socket of sockets.splice(0)) socket.destroy();
  await closeAll(fixtures.splice(0));
});

describe('the channel names', () => {
  it('are exported as constants', () => {
    expect(CHANNELS).toEqual({
      timeout: 'timeoutsocket:timeout',
      late: 'timeoutsocket:late',
      never: 'timeoutsocket:never',
      install: 'timeoutsocket:install',
      uninstall: 'timeoutsocket:uninstall',
    });
    expect(Object.isFrozen(CHANNELS)).toBe(true);
  });
});

describe('getStats()', () => {
  it('starts from zero at install', () => {
    const before = Date.now();
    reinstall();
    expect(getStats()).toEqual({
      since: expect.any(Number),
      sockets: 0,
      armed: 0,
      timeouts: { connect: 0, read: 0, write: 0 },
      falseAlarmsAvoided: 0,
      reported: 0,
      late: 0,
      never: 0,
      protocols: {
        'request-reply': { sockets: 0, timeouts: 0 },
        stream: { sockets: 0, timeouts: 0 },
        'server-first': { sockets: 0, timeouts: 0 },
        redis: { sockets: 0, timeouts: 0 },
        http: { sockets: 0, timeouts: 0 },
      },
    });
    expect(getStats().since).toBeGreaterThanOrEqual(before);
  });

  it('counts a socket with a deadline once, and each deadline armed', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    socket.setSocketTimeout({ read: 2000 }); // the server side has none: only this socket is seen
    await once(socket, 'connect');
    socket.write('one');
    await once(socket, 'data');
    await sleep(20);
    socket.write('two');
    await once(socket, 'data');
    expect(getStats()).toMatchObject({ sockets: 1, armed: 2, timeouts: { connect: 0, read: 0, write: 0 } });
  });

  it('does not count sockets with no deadline in force', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    await once(socket, 'connect');
    socket.write('x');
    await once(socket, 'data');
    expect(getStats()).toMatchObject({ sockets: 0, armed: 0 });
  });

  it('hands out copies', () => {
    const stats = getStats();
    stats.timeouts.read = 99;
    expect(getStats().timeouts.read).toBe(0);
  });

  it('counts a false alarm the second look avoided when the loop was blocked', async () => {
    setDefaultSocketTimeout({ read: T });
    // The echo runs in a child process: its answer is in the kernel while this loop is blocked.
    const echo = await startHungServer();
    fixtures.push(echo);
    const socket = connect(echo.port);
    await once(socket, 'connect');
    socket.write('ping');
    blockEventLoop(T + 200);
    await once(socket, 'data');
    await sleep(20);
    expect(socket.destroyed).toBe(false);
    expect(getStats()).toMatchObject({ falseAlarmsAvoided: 1, timeouts: { connect: 0, read: 0, write: 0 } });
  });

  it('counts no false alarm when the timer fired on time and found the reply, nor for a timeout on time', async () => {
    setDefaultSocketTimeout({ read: T });
    const echo = await startEchoServer();
    const silent = await startSilentServer();
    fixtures.push(echo, silent);
    const answered = connect(echo.port);
    const unanswered = connect(silent.port);
    await Promise.all([once(answered, 'connect'), once(unanswered, 'connect')]);
    answered.write('ping');
    unanswered.write('ping');
    await once(answered, 'data');
    const fate = await fateOf(unanswered, 5000);
    expect(fate.error).toBeInstanceOf(SocketTimeoutError);
    await sleep(20); // the answered socket's timer has fired too by now: it found the reply
    expect(answered.destroyed).toBe(false);
    expect(getStats()).toMatchObject({ falseAlarmsAvoided: 0, timeouts: { connect: 0, read: 1, write: 0 } });
  });
});

describe('a deadline that fires', () => {
  it('connect: is counted and published with socket, phase, timeout, error and elapsed', async () => {
    const messages = collect<TimeoutMessage>(CHANNELS.timeout);
    const hole = await startBlackhole();
    fixtures.push(hole);
    setDefaultSocketTimeout({ connect: T }); // after the blackhole's own filler connections
    const socket = connect(hole.port);
    const fate = await fateOf(socket, 3000);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message.socket).toBe(socket);
    expect(message).toMatchObject({ phase: 'connect', timeout: T });
    expect(message.error).toBe(fate.error);
    expect(message.error).toBeInstanceOf(SocketTimeoutError);
    expect(message.elapsed).toBeGreaterThanOrEqual(T - 2);
    expect(getStats()).toMatchObject({ sockets: 1, armed: 1, timeouts: { connect: 1, read: 0, write: 0 } });
  });

  it('read: is counted and published before the socket is destroyed', async () => {
    let destroyedWhenPublished: boolean | undefined;
    const messages = collect<TimeoutMessage>(CHANNELS.timeout);
    diagnosticsChannel.subscribe(CHANNELS.timeout, function seeState(message) {
      destroyedWhenPublished = (message as TimeoutMessage).socket.destroyed;
      diagnosticsChannel.unsubscribe(CHANNELS.timeout, seeState);
    });
    setDefaultSocketTimeout({ read: T });
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = connect(silent.port);
    await once(socket, 'connect');
    socket.write('request');
    const fate = await fateOf(socket, 3000);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ socket, phase: 'read', timeout: T, error: fate.error });
    expect(messages[0].elapsed).toBeGreaterThanOrEqual(T - 2);
    expect(destroyedWhenPublished).toBe(false);
    expect(getStats().timeouts).toEqual({ connect: 0, read: 1, write: 0 });
  });

  it('write: is counted and published', async () => {
    const messages = collect<TimeoutMessage>(CHANNELS.timeout);
    setDefaultSocketTimeout({ write: T });
    const sink = await startSinkServer();
    fixtures.push(sink);
    const socket = connect(sink.port);
    await once(socket, 'connect');
    socket.write(Buffer.alloc(32 << 20));
    const fate = await fateOf(socket, 5000);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ socket, phase: 'write', timeout: T, error: fate.error });
    expect(messages[0].elapsed).toBeGreaterThanOrEqual(T - 2);
    expect(getStats().timeouts).toEqual({ connect: 0, read: 0, write: 1 });
    expect(getStats().armed).toBeGreaterThanOrEqual(1);
  });

  it('is not published when nobody subscribed, and the socket still fails the same way', async () => {
    expect(diagnosticsChannel.channel(CHANNELS.timeout).hasSubscribers).toBe(false);
    setDefaultSocketTimeout({ read: T });
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = connect(silent.port);
    await once(socket, 'connect');
    socket.write('request');
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read' });
    expect(getStats().timeouts.read).toBe(1);
  });
});

describe('install and uninstall', () => {
  it('publish the defaults on install and the final counters on uninstall', () => {
    const installs = collect<InstallMessage>(CHANNELS.install);
    const uninstalls = collect<UninstallMessage>(CHANNELS.uninstall);
    setDefaultSocketTimeout({ read: 250, keepAlive: 30_000 });
    expect(uninstall()).toBe(true);
    expect(uninstall()).toBe(false); // nothing to remove: no second message
    expect(install()).toBe(true);
    expect(install()).toBe(false);
    expect(uninstalls).toEqual([{ stats: expect.objectContaining({ sockets: 0, timeouts: { connect: 0, read: 0, write: 0 } }) }]);
    expect(installs).toEqual([{ defaults: getDefaultSocketTimeout() }]);
    expect(installs[0].defaults).toEqual({ connect: null, read: 250, write: null, keepAlive: 30_000 });
  });
});


describe('NODE_DEBUG=timeoutsocket', () => {
  // One answered request and one a silent server never answers, in a child process that loads
  // the built package (dist/, as `npm test` builds it first).
  const SCRIPT = `
    const net = require('net');
    const { setDefaultSocketTimeout } = require('./dist/lib/index.js');
    setDefaultSocketTimeout({ read: 100 });
    const echo = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1', () => {
      const silent = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
        const local = [];
        const a = net.connect(echo.address().port, '127.0.0.1', () => { local.push(a.localPort); a.write('ping'); });
        a.on('data', () => setTimeout(() => {
          a.destroy();
          const b = net.connect(silent.address().port, '127.0.0.1', () => { local.push(b.localPort); b.write('ping'); });
          b.on('error', () => {});
          b.on('close', () => {
            console.log(JSON.stringify({ echo: echo.address().port, silent: silent.address().port, local }));
            echo.close(); silent.close();
          });
        }, 150));
      });
    });
  `;

  it('prints one line per protocol chosen and per deadline armed, cleared and fired, each naming the protocol', async () => {
    const { stdout, stderr } = await runNode(['-e', SCRIPT], { NODE_DEBUG: 'timeoutsocket' }, ROOT);
    const ports = JSON.parse(stdout);
    const lines = stderr.trim().split('\n').map((line) => line.replace(/^TIMEOUTSOCKET \d+: /, ''));
    const ms = '\\d+ ms';
    const about = (port: number, local: number) => `127\\.0\\.0\\.1:${port} \\(local port ${local}, protocol request-reply, no rule\\)`;
    const expected = [
      /^installed, defaults/,
      new RegExp(`^protocol request-reply \\(default\\) ${about(ports.echo, ports.local[0])}$`),
      new RegExp(`^armed read 100 ms ${about(ports.echo, ports.local[0])}$`),
      new RegExp(`^cleared read after ${ms} ${about(ports.echo, ports.local[0])}$`),
      new RegExp(`^protocol request-reply \\(default\\) ${about(ports.silent, ports.local[1])}$`),
      new RegExp(`^armed read 100 ms ${about(ports.silent, ports.local[1])}$`),
      new RegExp(`^fired read after ${ms} \\(timeout 100 ms\\) ${about(ports.silent, ports.local[1])}$`),
    ];
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(expected[i]));
  });

  it('prints nothing when NODE_DEBUG does not name timeoutsocket', async () => {
    const { stdout, stderr } = await runNode(['-e', SCRIPT], { NODE_DEBUG: 'net-not-this' }, ROOT);
    expect(JSON.parse(stdout)).toHaveProperty('silent');
    expect(stderr).toBe('');
  });
});
