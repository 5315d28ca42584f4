import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { protocolOfSocket, setProtocol, type InternalSocket } from '../../lib/engine';
import { getStats } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { BECOMES_STREAM, looksLikeResp, NO_DEADLINE, PLAIN_WINDOW, redisWindow } from '../../lib/protocols/redis';
import { cleanUp, connectTo, expectFiredOnTime, fate, firstData, keep, recordTimeouts, resp, SANITY, serve, staysOpen, T, track } from './support';
import { trackServer } from '../../fixtures/tracked-server';

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(cleanUp);

const READ = 1000;
const win = (text: string): number => redisWindow(Buffer.from(text, 'latin1'), READ);

describe('redisWindow: the reply window of the commands one write carries', () => {
  it.each([
    ['a plain command', resp('GET', 'k'), PLAIN_WINDOW],
    ['BLPOP: its last argument, in seconds, plus read', resp('BLPOP', 'q1', 'q2', '2'), 3000],
    ['BRPOP with a fractional timeout', resp('BRPOP', 'q', '0.25'), 1250],
    ['BRPOPLPUSH', resp('BRPOPLPUSH', 'a', 'b', '1'), 2000],
    ['BLMOVE', resp('BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '3'), 4000],
    ['BZPOPMIN', resp('BZPOPMIN', 'z', '1.5'), 2500],
    ['BZPOPMAX in lower case', resp('bzpopmax', 'z', '1'), 2000],
    ['BLMPOP: its first argument', resp('BLMPOP', '2', '1', 'q', 'LEFT'), 3000],
    ['BZMPOP: its first argument', resp('BZMPOP', '1', '1', 'z', 'MIN', 'COUNT', '2'), 2000],
    ['XREAD BLOCK: milliseconds', resp('XREAD', 'COUNT', '1', 'BLOCK', '500', 'STREAMS', 's', '$'), 1500],
    ['XREADGROUP BLOCK', resp('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '250', 'STREAMS', 's', '>'), 1250],
    ['XREAD without BLOCK', resp('XREAD', 'COUNT', '1', 'STREAMS', 's', '0'), PLAIN_WINDOW],
    ['XREADGROUP whose consumer is named streams', resp('XREADGROUP', 'GROUP', 'g', 'streams', 'BLOCK', '5000', 'STREAMS', 's', '>'), 6000],
    ['XREADGROUP whose group is named STREAMS', resp('XREADGROUP', 'GROUP', 'STREAMS', 'c', 'BLOCK', '250', 'STREAMS', 's', '>'), 1250],
    ['XREADGROUP whose group is named block', resp('XREADGROUP', 'GROUP', 'block', 'c', 'STREAMS', 's', '>'), PLAIN_WINDOW],
    ['XREADGROUP with COUNT and NOACK before BLOCK', resp('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', 'NOACK', 'BLOCK', '250', 'STREAMS', 's', '>'), 1250],
    ['XREAD whose COUNT value looks like a keyword', resp('XREAD', 'COUNT', 'streams', 'BLOCK', '250', 'STREAMS', 's', '$'), 1250],
    ['XREAD BLOCK after a COUNT value spelled block', resp('XREAD', 'COUNT', 'block', 'STREAMS', 's', '$'), PLAIN_WINDOW],
    ['XREADGROUP cut off before its consumer', resp('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '250', 'STREAMS', 's', '>').slice(0, 39), NO_DEADLINE],
    ['WAIT: milliseconds', resp('WAIT', '1', '100'), 1100],
    ['WAITAOF: milliseconds', resp('WAITAOF', '1', '0', '200'), 1200],
    ['BLPOP 0 blocks for ever', resp('BLPOP', 'q', '0'), NO_DEADLINE],
    ['XREAD BLOCK 0 blocks for ever', resp('XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'), NO_DEADLINE],
    ['WAIT 0 blocks for ever', resp('WAIT', '1', '0'), NO_DEADLINE],
    ['a timeout Redis rejects at once', resp('BLPOP', 'q', 'soon'), PLAIN_WINDOW],
    ['a negative timeout', resp('BLPOP', 'q', '-1'), PLAIN_WINDOW],
    ['SUBSCRIBE', resp('SUBSCRIBE', 'news'), BECOMES_STREAM],
    ['PSUBSCRIBE', resp('PSUBSCRIBE', 'n*'), BECOMES_STREAM],
    ['SSUBSCRIBE', resp('SSUBSCRIBE', 'n'), BECOMES_STREAM],
    ['MONITOR', resp('MONITOR'), BECOMES_STREAM],
    ['a pipeline: the most patient command wins', resp('GET', 'a') + resp('BLPOP', 'q', '1') + resp('BLPOP', 'q', '4'), 5000],
    ['a pipeline with a command blocking for ever', resp('BLPOP', 'q', '1') + resp('WAIT', '1', '0'), NO_DEADLINE],
    ['an inline command', 'BLPOP q 2\r\n', 3000],
    ['an inline SUBSCRIBE', 'subscribe news\r\n', BECOMES_STREAM],
    ['an inline plain command', 'PING\r\n', PLAIN_WINDOW],
    ['a blocking command cut off before its last argument', resp('BLPOP', 'q', '2').slice(0, 16), NO_DEADLINE],
    ['a timeout beyond a timer\'s reach', resp('BLPOP', 'q', '9999999'), NO_DEADLINE],
    ['bytes that are no command', '\u0000\u0001binary', PLAIN_WINDOW],
  ])('%s', (_what, text, expected) => {
    expect(win(text)).toBe(expected);
  });

  it('recognises RESP from the first bytes, and nothing else', () => {
    expect(looksLikeResp(Buffer.from(resp('PING')))).toBe(true);
    expect(looksLikeResp(Buffer.from('*3\r\n$3\r\nSET'))).toBe(true);
    expect(looksLikeResp(Buffer.from('PING\r\n'))).toBe(false);
    expect(looksLikeResp(Buffer.from('*\r\n$'))).toBe(false);
    expect(looksLikeResp(Buffer.from('GET / HTTP/1.1\r\n'))).toBe(false);
  });
});

/** A Redis-like server: answers each command through `answer` (which may answer later, or never). */
function redisServer(answer: (command: string[], socket: net.Socket) => void) {
  return serve((socket) => {
    socket.on('data', (chunk: Buffer) => {
      for (const command of parse(chunk.toString('latin1'))) answer(command, socket);
    });
  });
}

/** Parses RESP command arrays (enough for the specs: whole commands per chunk). */
function parse(text: string): string[][] {
  const commands: string[][] = [];
  const lines = text.split('\r\n');
  for (let i = 0; i < lines.length; ) {
    const head = lines[i++]!;
    if (!head.startsWith('*')) continue;
    const args: string[] = [];
    for (let n = Number(head.slice(1)); n > 0; n--) {
      i++; // $len
      args.push(lines[i++]!);
    }
    commands.push(args);
  }
  return commands;
}

describe('redis connections (chosen by their RESP bytes)', () => {
  beforeEach(() => setDefaultSocketTimeout(T));

  it('a plain command to a server that never answers ends with ETIMEDOUT (read) at T', async () => {
    const server = await redisServer(() => {});
    const socket = await connectTo(server.port);
    recordTimeouts();
    const fated = fate(socket);
    const written = performance.now();
    socket.write(resp('GET', 'k'));
    const { error } = await fated;
    expect(protocolOfSocket(socket as InternalSocket)).toBeUndefined(); // released on destroy
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
    expect(performance.now() - written).toBeGreaterThanOrEqual(T - 1);
    expect(performance.now() - written).toBeLessThanOrEqual(T + SANITY);
    expectFiredOnTime(T, socket);
    expect(getStats().protocols.redis.timeouts).toBe(1);
  });

  it('BLPOP with a timeout of 2 T answered after 1.5 T stays open for 3 T', async () => {
    const server = await redisServer((command, socket) => {
      if (command[0] === 'BLPOP') setTimeout(() => socket.write('*2\r\n$1\r\nq\r\n$1\r\nx\r\n'), 1.5 * T);
    });
    const socket = await connectTo(server.port);
    const armed = getStats().armed;
    const answered = firstData(socket);
    socket.write(resp('BLPOP', 'q', String((2 * T) / 1000)));
    expect(protocolOfSocket(socket as InternalSocket)).toBe('redis');
    expect(getStats().armed).toBe(armed + 1); // the window was armed, with its own deadline
    await staysOpen(socket, 3 * T);
    await expect(answered).resolves.toBeInstanceOf(Buffer);
  });

  it('over TLS, BLPOP with a timeout of 2 T written before the handshake ended, answered after 1.5 T, stays open for 3 T', async () => {
    // The window opens at 'secure', once the write's bytes are gone: the limit is read at the write.
    const tlsDir = path.join(__dirname, '..', '..', 'fixtures', 'tls');
    const server = tls.createServer({ key: fs.readFileSync(path.join(tlsDir, 'key.pem')), cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')) }, (socket) => {
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        if (parse(chunk.toString('latin1')).some((command) => command[0] === 'BLPOP')) {
          setTimeout(() => socket.write('*2\r\n$1\r\nq\r\n$1\r\nx\r\n'), 1.5 * T);
        }
      });
    });
    const { port } = keep(await trackServer(server));
    const { armed, timeouts } = getStats();
    const socket = track(tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }));
    socket.on('error', () => {});
    const answered = firstData(socket);
    socket.write(resp('BLPOP', 'q', String((2 * T) / 1000))); // still connecting: before the handshake
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    expect(protocolOfSocket(socket as unknown as InternalSocket)).toBe('redis');
    await staysOpen(socket, 3 * T);
    await expect(answered).resolves.toBeInstanceOf(Buffer);
    expect(getStats().armed).toBeGreaterThanOrEqual(armed + 2); // connect, then the reply window (and write watches)
    expect(getStats().timeouts.read).toBe(timeouts.read);
  });

  it('a blocking command whose server froze ends with ETIMEDOUT at its timeout plus T', async () => {
    const server = await redisServer(() => {});
    const socket = await connectTo(server.port);
    recordTimeouts();
    const fated = fate(socket);
    const written = performance.now();
    socket.write(resp('BRPOP', 'q', String(T / 1000)));
    const { error } = await fated;
    const elapsed = performance.now() - written;
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: 2 * T });
    expect(elapsed).toBeGreaterThanOrEqual(2 * T - 1);
    expect(elapsed).toBeLessThanOrEqual(2 * T + SANITY);
    expectFiredOnTime(2 * T, socket);
  });

  it('BLPOP 0 blocks for ever: no deadline, and commands pipelined behind it wait with it', async () => {
    const server = await redisServer(() => {});
    const socket = await connectTo(server.port);
    socket.write(resp('BLPOP', 'q', '0'));
    setTimeout(() => socket.write(resp('GET', 'k')), T / 2);
    expect(protocolOfSocket(socket as InternalSocket)).toBe('redis');
    await staysOpen(socket, 3 * T);
  });

  it('after SUBSCRIBE the connection is a stream: messages every 1.5 T and no writes keep it open', async () => {
    let timer: NodeJS.Timeout | undefined;
    const server = await redisServer((command, socket) => {
      if (command[0] !== 'SUBSCRIBE') return;
      socket.write('*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n');
      timer = setInterval(() => socket.write('*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n'), 1.5 * T);
    });
    try {
      const socket = await connectTo(server.port);
      const streams = getStats().protocols.stream.sockets;
      socket.write(resp('SUBSCRIBE', 'news'));
      expect(protocolOfSocket(socket as InternalSocket)).toBe('stream');
      expect(getStats().protocols.stream.sockets).toBe(streams + 1);
      // A later PING (what clients send to keep a subscriber alive) opens no reply window.
      setTimeout(() => socket.write(resp('PING')), T / 2);
      await staysOpen(socket, 3 * T);
    } finally {
      clearInterval(timer);
    }
  });

  it('is chosen by a rule for inline commands, which are read too', async () => {
    const server = await serve((socket) => socket.on('data', () => setTimeout(() => socket.write('+OK\r\n'), 1.5 * T)));
    const socket = await connectTo(server.port, (s) => setProtocol(s as InternalSocket, 'redis'));
    const armed = getStats().armed;
    socket.write('BLPOP q 1\r\n');
    expect(protocolOfSocket(socket as InternalSocket)).toBe('redis');
    expect(getStats().armed).toBe(armed + 1);
    await staysOpen(socket, 3 * T);
  });
});
