/**
 * Report mode in the engine: every deadline tracked as in enforce mode, nothing destroyed, each
 * one that runs out reported once, and then its answer reported late or never.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  closeAll,
  startBlackhole,
  startEchoServer,
  startSilentServer,
  startSinkServer,
  startSlowAnswerServer,
  type Closable,
} from '../../fixtures/servers';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { getDeadlineMode, setDeadlineMode } from '../../lib/mode';
import { CHANNELS, getStats, type LateMessage, type NeverMessage, type TimeoutMessage } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { setSocketTimeoutRules } from '../../lib/rules/index';
import { fateOf, once } from '../helpers';
import { ChannelLog } from './support';

const T = 150;
/** Scheduling slack on a loaded 2-core machine. */
const SLACK = 150;

const fixtures: Closable[] = [];
const sockets: net.Socket[] = [];
let timeouts: ChannelLog<TimeoutMessage>;
let lates: ChannelLog<LateMessage>;
let nevers: ChannelLog<NeverMessage>;

function connect(port: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  return socket;
}

beforeEach(() => {
  install(); // counters from zero
  timeouts = new ChannelLog(CHANNELS.timeout);
  lates = new ChannelLog(CHANNELS.late);
  nevers = new ChannelLog(CHANNELS.never);
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  timeouts.close();
  lates.close();
  nevers.close();
  setDefaultSocketTimeout(null);
  setSocketTimeoutRules(null);
  setDeadlineMode('enforce');
  await closeAll(fixtures.splice(0));
  uninstall();
});

describe('setDeadlineMode / getDeadlineMode', () => {
  it('is enforce by default and takes report or enforce', () => {
    expect(getDeadlineMode()).toBe('enforce');
    setDeadlineMode('report');
    expect(getDeadlineMode()).toBe('report');
    setDeadlineMode('enforce');
    expect(getDeadlineMode()).toBe('enforce');
  });

  it.each([
    [5, TypeError, "mode must be 'enforce' or 'report', got 5 (a number)"],
    [null, TypeError, "mode must be 'enforce' or 'report', got null"],
    [{ mode: 'report' }, TypeError, "mode must be 'enforce' or 'report', got { mode: 'report' }"],
    ['Report', RangeError, "mode must be 'enforce' or 'report', got 'Report'"],
    ['off', RangeError, "mode must be 'enforce' or 'report', got 'off'"],
  ])('rejects %p, quoting it', (value, kind, message) => {
    expect(() => setDeadlineMode(value as never)).toThrow(kind);
    expect(() => setDeadlineMode(value as never)).toThrow(message);
    expect(getDeadlineMode()).toBe('enforce');
  });
});

describe('report mode against the fault servers', () => {
  beforeEach(() => setDeadlineMode('report'));

  it('blackhole connect: reported once, left connecting, then never when it is closed', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    setDefaultSocketTimeout({ connect: T });
    const before = getStats();
    const socket = connect(hole.port);
    socket.on('error', () => {});
    const reported = await timeouts.next();
    const seenAt = performance.now();
    expect(reported).toMatchObject({ phase: 'connect', timeout: T, enforced: false, socket });
    expect(reported.destination).toMatchObject({ host: '127.0.0.1', address: '127.0.0.1', port: hole.port, acceptedOn: undefined });
    // The deadline was armed and ran out (the counters prove it); the socket goes on connecting.
    expect(getStats().armed).toBeGreaterThan(before.armed);
    expect(getStats()).toMatchObject({ reported: 1, late: 0, never: 0, timeouts: { connect: 0, read: 0, write: 0 } });
    expect(socket.destroyed).toBe(false);
    expect(socket.connecting).toBe(true);
    const closedAt = performance.now();
    socket.destroy();
    const never = await nevers.next();
    expect(never).toMatchObject({ phase: 'connect', timeout: T, error: undefined, wroteAfter: 0, socket });
    expect(never.elapsed).toBeGreaterThanOrEqual(reported.elapsed + (closedAt - seenAt) - 1);
    expect(getStats()).toMatchObject({ reported: 1, late: 0, never: 1 });
    expect(timeouts.messages).toHaveLength(1);
  });

  it('blackhole that opens: the connect is reported, then late when it completes at a SYN retransmission', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    setDefaultSocketTimeout({ connect: T });
    const started = performance.now();
    const socket = connect(hole.port);
    const connected = once(socket, 'connect', 10_000);
    expect(await timeouts.next()).toMatchObject({ phase: 'connect', enforced: false });
    await hole.open();
    await connected;
    const connectedAfter = performance.now() - started;
    const late = await lates.next();
    expect(late).toMatchObject({ phase: 'connect', timeout: T, socket });
    expect(late.elapsed).toBeGreaterThan(T);
    // Timed at the connection itself (afterConnect), before 'connect' reached the application.
    expect(late.elapsed).toBeLessThanOrEqual(connectedAfter + 1);
    expect(lates.messages).toHaveLength(1);
    expect(late.late).toBeCloseTo(late.elapsed - T, 5);
    expect(getStats()).toMatchObject({ reported: 1, late: 1, never: 0, timeouts: { connect: 0 } });
    expect(socket.destroyed).toBe(false);
  });

  it('silent server: the reply deadline is reported, writes still go through, never at close', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    setDefaultSocketTimeout({ read: T });
    const socket = connect(silent.port);
    await once(socket, 'connect');
    socket.write('request\n');
    const reported = await timeouts.next();
    expect(reported).toMatchObject({ phase: 'read', timeout: T, enforced: false });
    expect(reported.elapsed).toBeGreaterThanOrEqual(T - 1);
    expect(socket.destroyed).toBe(false);
    await new Promise<void>((resolve, reject) => socket.write('more\n', (error) => (error ? reject(error) : resolve())));
    socket.end();
    const never = await nevers.next();
    expect(never).toMatchObject({ phase: 'read', error: undefined, wroteAfter: 5 });
    expect(getStats()).toMatchObject({ reported: 1, late: 0, never: 1, timeouts: { read: 0 } });
  });

  it('sink: the write stall is reported, and late once the reader resumes; the write completes', async () => {
    const sink = await startSinkServer();
    fixtures.push(sink);
    setDefaultSocketTimeout({ write: T });
    const socket = connect(sink.port);
    await once(socket, 'connect');
    const written = new Promise<Error | null | undefined>((resolve) => socket.write(Buffer.alloc(16 * 1024 * 1024), resolve));
    const reported = await timeouts.next();
    const seenAt = performance.now();
    expect(reported).toMatchObject({ phase: 'write', timeout: T, enforced: false });
    expect(lates.messages).toHaveLength(0);
    const resumedAt = performance.now();
    sink.resume();
    const late = await lates.next();
    expect(late).toMatchObject({ phase: 'write', timeout: T });
    expect(late.elapsed).toBeGreaterThanOrEqual(reported.elapsed + (resumedAt - seenAt) - 1);
    expect(late.late).toBeCloseTo(late.elapsed - T, 5);
    expect(await written).toBeFalsy();
    expect(socket.destroyed).toBe(false);
    expect(getStats()).toMatchObject({ reported: 1, late: 1, never: 0, timeouts: { write: 0 } });
  });

  it('slow answer: the reply deadline is reported at T and the answer late, timed to within its sampling', async () => {
    const delayMs = 3 * T;
    const slow = await startSlowAnswerServer({ delayMs });
    fixtures.push(slow);
    setDefaultSocketTimeout({ read: T });
    const socket = connect(slow.port);
    await once(socket, 'connect');
    const sentAt = performance.now();
    socket.write('query\n');
    const reply = once<Buffer>(socket, 'data');
    expect(await timeouts.next()).toMatchObject({ phase: 'read', enforced: false });
    expect(String(await reply)).toBe('ok\n');
    const answeredAfter = performance.now() - sentAt;
    const late = await lates.next();
    expect(late).toMatchObject({ phase: 'read', timeout: T, protocol: 'request-reply', rule: undefined });
    expect(late.elapsed).toBeGreaterThanOrEqual(delayMs - 1);
    // Seen at the next look: within a twentieth of the elapsed time (plus scheduling).
    expect(late.elapsed).toBeLessThanOrEqual(answeredAfter * 1.05 + SLACK);
    expect(socket.destroyed).toBe(false);
    expect(getStats()).toMatchObject({ reported: 1, late: 1, never: 0 });
  });

  it('slow answer read by a client that closes at once: late, settled at close', async () => {
    const slow = await startSlowAnswerServer({ delayMs: 2 * T });
    fixtures.push(slow);
    setDefaultSocketTimeout({ read: T });
    const socket = connect(slow.port);
    await once(socket, 'connect');
    socket.write('query\n');
    socket.once('data', () => socket.destroy());
    await timeouts.next();
    const late = await lates.next();
    expect(late.elapsed).toBeGreaterThanOrEqual(2 * T - 1);
    expect(nevers.messages).toHaveLength(0);
  });

  it('a reset after the deadline ran out: never, with the error code', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    setDefaultSocketTimeout({ read: T });
    const socket = connect(silent.port);
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('request\n');
    await timeouts.next();
    for (const accepted of silent.sockets) accepted.resetAndDestroy();
    expect(await nevers.next()).toMatchObject({ phase: 'read', error: 'ECONNRESET' });
  });

  it('each deadline is reported once, however long it stays overdue', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    setDefaultSocketTimeout({ read: T });
    const socket = connect(silent.port);
    await once(socket, 'connect');
    socket.write('a');
    await timeouts.next();
    // A later write in the same unanswered window extends it; it runs out again, silently.
    socket.write('b');
    // The clock: a second socket written to now, with twice the timeout, is reported well after
    // the first socket's extended window ran out a second time.
    const clock = connect(silent.port);
    clock.setSocketTimeout({ read: 2 * T });
    await once(clock, 'connect');
    clock.write('tick');
    await timeouts.next((message) => message.socket === clock);
    socket.destroy();
    await nevers.next((message) => message.socket === socket);
    expect(timeouts.messages.filter((message) => message.socket === socket)).toHaveLength(1);
    expect(getStats()).toMatchObject({ reported: 2, never: 1 });
  });
});

describe('healthy traffic in report mode', () => {
  /** One exchange with `port`, every event the client sees in order, and the bytes it read. */
  const exchange = async (port: number): Promise<{ events: string[]; bytes: string }> => {
    const socket = connect(port);
    const events: string[] = [];
    let bytes = '';
    for (const event of ['connect', 'ready', 'end', 'finish', 'close', 'error', 'timeout']) socket.on(event, () => events.push(event));
    socket.on('data', (chunk) => {
      events.push('data');
      bytes += chunk;
      socket.end();
    });
    await once(socket, 'connect');
    socket.write('query\n');
    await fateOf(socket, 5000);
    return { events, bytes };
  };

  it('a slow answer, whose deadline runs out, is byte-for-byte and event-for-event what it is without the shim', async () => {
    const slow = await startSlowAnswerServer({ delayMs: 2 * T });
    fixtures.push(slow);
    uninstall();
    const plain = await exchange(slow.port);
    install();
    setDeadlineMode('report');
    setDefaultSocketTimeout(T);
    const reportMode = await exchange(slow.port);
    expect(getStats()).toMatchObject({ reported: 1, late: 1 }); // the deadline did run out
    expect(reportMode).toEqual(plain);
    expect(plain.events).toEqual(['connect', 'ready', 'data', 'finish', 'end', 'close']);
  });

  it('is byte-for-byte and event-for-event what it is with no deadline', async () => {
    const echo = await startEchoServer();
    fixtures.push(echo);
    const run = async (): Promise<{ events: string[]; bytes: string }> => {
      const socket = connect(echo.port);
      const events: string[] = [];
      let bytes = '';
      for (const event of ['connect', 'ready', 'end', 'finish', 'close', 'error', 'timeout']) socket.on(event, () => events.push(event));
      socket.on('data', (chunk) => {
        events.push('data');
        bytes += chunk;
      });
      await once(socket, 'connect');
      socket.end('ping\n');
      await fateOf(socket, 5000);
      return { events, bytes };
    };
    const plain = await run();
    setDeadlineMode('report');
    setDefaultSocketTimeout(T);
    const before = getStats().armed;
    const reportMode = await run();
    expect(getStats().armed).toBeGreaterThan(before); // the deadlines were armed
    expect(reportMode).toEqual(plain);
    expect(getStats().reported).toBe(0);
  });
});

describe('mode= in rules', () => {
  it('mode=enforce enforces for its destination in a process in report mode', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    setDeadlineMode('report');
    setDefaultSocketTimeout({ read: T });
    setSocketTimeoutRules(`127.0.0.1:${silent.port} mode=enforce`);
    const socket = connect(silent.port);
    await once(socket, 'connect');
    socket.write('request\n');
    const fate = await fateOf(socket, 5000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read' });
    expect(timeouts.messages[0]).toMatchObject({ enforced: true, rule: { mode: 'enforce' } });
    expect(getStats()).toMatchObject({ reported: 0, timeouts: { read: 1 } });
  });

  it('mode=report reports for its destination in a process that enforces', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    setDefaultSocketTimeout({ read: T });
    setSocketTimeoutRules(`*:${silent.port} mode=report`);
    const socket = connect(silent.port);
    await once(socket, 'connect');
    socket.write('request\n');
    expect(await timeouts.next()).toMatchObject({ enforced: false, rule: { mode: 'report', index: 1 } });
    expect(socket.destroyed).toBe(false);
    socket.destroy();
    expect(await nevers.next()).toMatchObject({ rule: { text: `*:${silent.port} mode=report` } });
  });
});

describe('the awaitable API in report mode', () => {
  it('keeps its per-call deadlines: a recv timeout still rejects (the caller asked for it)', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    setDeadlineMode('report');
    const socket = connect(silent.port);
    await once(socket, 'connect');
    socket.setSocketTimeout(T);
    await expect(socket.recv(10)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(socket.destroyed).toBe(false);
  });
});
