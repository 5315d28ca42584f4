/** recv and recvInto. */
import * as net from 'node:net';
import { Readable } from 'node:stream';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { startEofServer, startHungServer, startResetServer, startSilentServer, startSlowDripServer } from '../../fixtures/servers';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { SocketClosedError, SocketTimeoutError, WouldBlockError } from '../../lib/errors';
import { blockEventLoop, dataUntil, once, sleep } from '../helpers';
import { connected, fixtures, listeningServer, pair, portOf, rejectionOf, SLACK, T, TLS_CERT, TLS_KEY, timersArmedDuring, track, useAwaitableApi, whenBuffered } from './support';
import { random } from '../hostile-values';

useAwaitableApi();

describe('blocking mode', () => {
  it('recv waits for the first bytes and returns what is there, up to n', async () => {
    const drip = await startSlowDripServer({ chunk: 3, intervalMs: 30 });
    fixtures.push(drip);
    const socket = await connected(drip.port, null);
    await socket.sendAll('go');
    const first = await socket.recv(100);
    expect(first.toString()).toBe('xxx');
  });

  it('recv returns buffered bytes first and leaves the rest for the next call or a stream reader', async () => {
    const { client, peer } = await pair();
    await peer.sendAll('hello world');
    await whenBuffered(client, 11);
    expect((await client.recv(5)).toString()).toBe('hello');
    expect((await client.recv(1)).toString()).toBe(' ');
    const rest = await once<Buffer>(client.on('data', () => {}), 'data');
    expect(rest.toString()).toBe('world');
  });

  it('recv never adds a data listener nor switches the stream to flowing mode', async () => {
    const { client, peer } = await pair();
    const pending = client.recv(10);
    expect(client.listenerCount('data')).toBe(0);
    expect(client.readableFlowing).not.toBe(true);
    await peer.sendAll('abc');
    expect((await pending).toString()).toBe('abc');
    await sleep(5);
    expect(client.listenerCount('data')).toBe(0);
    expect(client.readableFlowing).not.toBe(true);
  });

  it('hands the stream over to a data listener added after recv, bytes in order', async () => {
    const { client, peer } = await pair();
    const first = client.recv(3);
    await peer.sendAll('abcdef');
    expect((await first).toString()).toBe('abc');
    const received = dataUntil(client, 6);
    await peer.sendAll('ghi');
    expect((await received).toString()).toBe('defghi');
    expect(client.readableFlowing).toBe(true);
  });

  it('recv tells orderly EOF (an empty Buffer, every time after) from a reset (ECONNRESET)', async () => {
    const eof = await startEofServer('bye');
    const reset = await startResetServer();
    fixtures.push(eof, reset);
    const a = await connected(eof.port);
    await a.sendAll('hi');
    expect((await a.recv(10)).toString()).toBe('bye');
    for (let i = 0; i < 3; i++) expect((await a.recv(10)).length).toBe(0);
    await once(a, 'close');
    expect((await a.recv(10)).length).toBe(0);

    const b = await connected(reset.port);
    await b.sendAll('hi');
    const { error } = await rejectionOf(b.recv(10));
    expect(error).toMatchObject({ code: 'ECONNRESET', syscall: 'read' });
    await expect(b.recv(10)).rejects.toBeInstanceOf(SocketClosedError);
  });

  it('two concurrent recvs queue in order and never interleave bytes', async () => {
    const { client, peer } = await pair();
    const first = client.recv(4);
    const second = client.recv(4);
    await peer.sendAll('AAAABBBB');
    expect((await first).toString()).toBe('AAAA');
    expect((await second).toString()).toBe('BBBB');
  });

  it('recvInto fills a caller buffer and says how much', async () => {
    const { client, peer } = await pair();
    await peer.sendAll('xyz');
    const buffer = Buffer.alloc(8);
    expect(await client.recvInto(buffer)).toBe(3);
    expect(buffer.subarray(0, 3).toString()).toBe('xyz');
    expect(await client.recvInto(Buffer.alloc(0))).toBe(0);
  });

  it('works on TLS sockets too', async () => {
    const server = tls.createServer({ key: TLS_KEY, cert: TLS_CERT }, (s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fixtures.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const socket = track(tls.connect({ port: portOf(server), host: '127.0.0.1', ca: TLS_CERT, servername: 'localhost' }));
    socket.on('error', () => {});
    await once(socket, 'secureConnect');
    socket.setSocketTimeout(2000);
    await socket.sendAll('secret');
    expect((await socket.recv(100)).toString()).toBe('secret');
    for (let round = 0; round < 5; round++) {
      // The first recv waited and read: these take each chunk as the socket reads it.
      await socket.sendAll(`round ${round}`);
      expect((await socket.recv(100)).toString()).toBe(`round ${round}`);
    }
    socket.setSocketTimeout(T);
    await expect(socket.recv(100)).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'recv' });
  });
});

describe('timeout mode', () => {
  it('recv rejects at the timeout, consumes nothing, and leaves the socket open and usable', async () => {
    const { client, peer } = await pair();
    client.setSocketTimeout(T);
    const startedAt = performance.now(); // before the call: a pause inside it (a GC) must not shorten the time
    const { error, elapsed } = await rejectionOf(client.recv(10), startedAt);
    expect(error).toBeInstanceOf(SocketTimeoutError);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'recv', timeout: T });
    expect(elapsed).toBeGreaterThanOrEqual(T - 2);
    expect(elapsed).toBeLessThan(T + SLACK);
    expect(client.destroyed).toBe(false);
    await peer.sendAll('late');
    expect((await client.recv(10)).toString()).toBe('late');
  });

  it('a recv after one that timed out has a deadline of its own, from its own start', async () => {
    // The socket's calls share one job object when each waits first in line (recv.ts waitAtOnce):
    // the second call must not inherit the first one's due time or settled state.
    const { client, peer } = await pair();
    client.setSocketTimeout(T);
    await expect(client.recv(10)).rejects.toBeInstanceOf(SocketTimeoutError);
    const startedAt = performance.now();
    const { error, elapsed } = await rejectionOf(client.recv(10), startedAt);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'recv', timeout: T });
    expect(elapsed).toBeGreaterThanOrEqual(T - 2);
    expect(elapsed).toBeLessThan(T + SLACK);
    await peer.sendAll('third');
    expect((await client.recv(10)).toString()).toBe('third');
  });

  it('stands the destroying reply deadline down for a socket driven through calls', async () => {
    setDefaultSocketTimeout({ read: T });
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = await connected(silent.port, T);
    await socket.sendAll('request');
    await expect(socket.recv(10)).rejects.toBeInstanceOf(SocketTimeoutError);
    await sleep(T);
    expect(socket.destroyed).toBe(false);
  });
});

describe('timeout mode, blocked again by the callback that delivered the previous answer', () => {
  // The pattern of back-to-back blocks: recv N's deadline runs out while the loop is blocked and
  // its answer waits in the kernel; the I/O callback that delivers that answer (the await below
  // resumes in it) writes request N + 1, arms recv N + 1 and blocks again, before recv N's
  // second look has run. That second look belongs to recv N (answered): recv N + 1 never had a
  // first look nor a turn of I/O of its own, so it must not be timed out by it.
  const READ = 100;
  const BLOCK = 1.5 * READ;

  it('is never a false timeout over 20 rounds, and a recv nobody answers still times out', async () => {
    const echo = await startHungServer(); // a child process: it answers while this loop is blocked
    fixtures.push(echo);
    const socket = await connected(echo.port, READ);
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      socket.write('ping');
      const reply = socket.recv(4); // armed: its deadline runs out during the block
      const armedAt = performance.now();
      blockEventLoop(BLOCK);
      expect(performance.now() - armedAt).toBeGreaterThan(READ); // the deadline was due while the loop was blocked
      expect((await reply).toString()).toBe('ping');
    }
    // The witness: the same socket's calls do have a deadline.
    const startedAt = performance.now();
    const { error, elapsed } = await rejectionOf(socket.recv(4), startedAt);
    expect(error).toBeInstanceOf(SocketTimeoutError);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', syscall: 'recv', timeout: READ });
    expect(elapsed).toBeGreaterThanOrEqual(READ - 2);
    expect(socket.destroyed).toBe(false);
  }, 20_000);
});

describe('non-blocking mode', () => {
  it('recv rejects at once with WouldBlockError and leaves no timer or listener behind', async () => {
    const { client } = await pair();
    client.setBlocking(false);
    await expect(client.recv(10)).rejects.toBeInstanceOf(WouldBlockError); // first call sets the socket up
    const listeners = client.eventNames().map((name) => `${String(name)}:${client.listenerCount(name)}`);
    let error = new Error('not run') as Error & Record<string, unknown>;
    const armed = await timersArmedDuring(async () => {
      ({ error } = await rejectionOf(client.recv(10)));
    });
    expect(error).toMatchObject({ code: 'EAGAIN', syscall: 'recv' });
    expect(typeof error.errno).toBe('number');
    expect(armed).toBe(0);
    expect(client.eventNames().map((name) => `${String(name)}:${client.listenerCount(name)}`)).toEqual(listeners);
  });

  it('recv returns what is buffered without waiting', async () => {
    const { client, peer } = await pair();
    client.setBlocking(false);
    await peer.sendAll('ready');
    await whenBuffered(client, 5);
    expect((await client.recv(10)).toString()).toBe('ready');
  });
});

describe('randomised integrity', () => {
  it.each([1, 2, 3])('receives every byte in order with random sizes and timeouts (seed %d)', async (seed) => {
    const rand = random(seed);
    const { client, peer } = await pair();
    const total = 3 << 20;
    const sent = Buffer.alloc(total);
    for (let i = 0; i < total; i++) sent[i] = (i * 31 + seed) & 0xff;
    // Halfway, the writer stops until a recv has timed out: on a loaded machine its random pauses
    // alone may all be shorter than the reader's deadlines, and then nothing would prove that a
    // timed-out recv lost no bytes. Waiting on the event, not on a sleep, makes one certain.
    let timedOut: () => void = () => {};
    const firstTimeout = new Promise<void>((resolve) => (timedOut = resolve));
    const writer = (async () => {
      let paused = false;
      for (let offset = 0; offset < total; ) {
        const size = Math.min(total - offset, 1 + Math.floor(rand() * 200_000));
        await peer.sendAll(sent.subarray(offset, offset + size));
        offset += size;
        if (!paused && offset >= total / 2) {
          paused = true;
          await firstTimeout;
        }
        if (rand() < 0.3) await sleep(Math.floor(rand() * 15));
      }
      peer.end();
    })();
    const parts: Buffer[] = [];
    let timeouts = 0;
    for (;;) {
      client.setSocketTimeout(1 + Math.floor(rand() * 10));
      try {
        const chunk = await client.recv(1 + Math.floor(rand() * 100_000));
        if (chunk.length === 0) break;
        parts.push(chunk);
      } catch (error) {
        if (!(error instanceof SocketTimeoutError)) throw error;
        timeouts += 1;
        timedOut();
      }
    }
    await writer;
    expect(Buffer.concat(parts).equals(sent)).toBe(true);
    expect(timeouts).toBeGreaterThan(0); // the test only proves something if calls did time out
  });
});

describe('the hand-over: a chunk read while a recv waits', () => {
  /**
   * Counts the chunks that enter the stream's buffer from now on (its array's push, 20 to 26):
   * a chunk handed over to a recv never does.
   */
  function chunksToStream(socket: net.Socket): { count: number } {
    const buffer = (socket as unknown as { _readableState: { buffer: { push: (...args: unknown[]) => unknown } } })._readableState.buffer;
    const counter = { count: 0 };
    const push = buffer.push;
    buffer.push = function (this: unknown, ...args: unknown[]) {
      counter.count++;
      return push.apply(this, args);
    };
    return counter;
  }

  /** A client of a fresh server made by `make` (a subclass, other options), with its accepted peer. */
  async function pairOf(make: () => net.Socket): Promise<{ client: net.Socket; peer: net.Socket }> {
    const server = await listeningServer();
    const client = track(make());
    const peer = server.accept();
    client.connect(portOf(server), '127.0.0.1');
    await once(client, 'connect');
    return { client, peer: track(await peer) };
  }

  /** The readable state's fields a push and a read of it move. */
  function readableFields(socket: net.Socket): Record<string, unknown> {
    const state = (socket as unknown as { _readableState: Record<string, unknown> & { buffer: { length: number } } })._readableState;
    const fields: Record<string, unknown> = { buffered: state.buffer.length };
    for (const key of ['length', 'needReadable', 'flowing', 'emittedReadable', 'dataEmitted', 'ended', 'endEmitted', 'readableListening', 'reading', 'sync', 'readingMore', 'resumeScheduled', 'highWaterMark']) fields[key] = state[key];
    return fields;
  }

  /** A pair whose client has had a recv wait and read: from now on its waiting recvs take chunks as they come. */
  async function warmPair(): Promise<{ client: net.Socket; peer: net.Socket }> {
    const { client, peer } = await pair();
    const pending = client.recv(10);
    await peer.sendAll('warm');
    expect((await pending).toString()).toBe('warm');
    return { client, peer };
  }

  it('hands each chunk to the waiting recv, bytes in order, and leaves the stream as reading it would', async () => {
    const { client, peer } = await warmPair();
    const toStream = chunksToStream(client);
    for (let round = 0; round < 20; round++) {
      const pending = client.recv(100);
      await peer.sendAll(`round ${round}`);
      expect((await pending).toString()).toBe(`round ${round}`);
    }
    expect(toStream.count).toBe(0);
    expect(client.readableLength).toBe(0);
    expect(client.listenerCount('data')).toBe(0);
    expect(client.listenerCount('readable')).toBe(1);
    expect(client.readableFlowing).not.toBe(true);
    expect(client.readableDidRead).toBe(true);
  });

  it('a chunk larger than the recv asked for goes through the stream: n bytes now, the rest for the next call', async () => {
    const { client, peer } = await warmPair();
    const toStream = chunksToStream(client);
    const first = client.recv(3);
    await peer.sendAll('abcdef');
    expect((await first).toString()).toBe('abc');
    expect(toStream.count).toBe(1);
    expect((await client.recv(10)).toString()).toBe('def');
  });

  it("takes nothing from another reader: with the application's own 'readable' listener every chunk goes through the stream", async () => {
    const { client, peer } = await warmPair();
    const toStream = chunksToStream(client);
    let events = 0;
    const listener = (): void => {
      events++;
    };
    client.on('readable', listener);
    const pending = client.recv(10);
    await peer.sendAll('both');
    expect((await pending).toString()).toBe('both');
    expect(toStream.count).toBe(1);
    expect(events).toBeGreaterThan(0);
    client.off('readable', listener);
  });

  it("nor from a 'readable' listener the application added before its first recv, nor after it removed it again", async () => {
    const { client, peer } = await pair();
    let events = 0;
    const listener = (): void => {
      events++;
    };
    client.on('readable', listener);
    const first = client.recv(10);
    await peer.sendAll('one');
    expect((await first).toString()).toBe('one');
    const toStream = chunksToStream(client);
    const second = client.recv(10);
    await peer.sendAll('two');
    expect((await second).toString()).toBe('two');
    expect(toStream.count).toBe(1);
    client.off('readable', listener);
    const third = client.recv(10);
    await peer.sendAll('three');
    expect((await third).toString()).toBe('three');
    expect(toStream.count).toBe(2); // once another reader was there, every chunk goes through the stream
    expect(events).toBeGreaterThan(0);
  });

  it('a recv that timed out takes nothing: the chunk that comes after it waits in the stream for the next call', async () => {
    const { client, peer } = await warmPair();
    client.setSocketTimeout(T);
    const toStream = chunksToStream(client);
    await expect(client.recv(10)).rejects.toBeInstanceOf(SocketTimeoutError);
    await peer.sendAll('late');
    await whenBuffered(client, 4);
    expect(toStream.count).toBe(1);
    expect((await client.recv(10)).toString()).toBe('late');
  });

  it('tells EOF after the chunks it took: an empty Buffer, every time after', async () => {
    const { client, peer } = await warmPair();
    const pending = client.recv(10);
    await peer.sendAll('taken');
    expect((await pending).toString()).toBe('taken');
    const eof = client.recv(10);
    peer.end();
    expect((await eof).length).toBe(0);
    expect((await client.recv(10)).length).toBe(0);
  });

  it('a chunk not below the high-water mark goes through the stream, whose read raises the mark as for any reader', async () => {
    const { client, peer } = await pairOf(() => new net.Socket({ readableHighWaterMark: 1024 } as net.SocketConstructorOpts));
    client.setSocketTimeout(2000);
    const warm = client.recv(10);
    await peer.sendAll('warm');
    expect((await warm).toString()).toBe('warm');
    expect(client.readableHighWaterMark).toBe(1024);
    const toStream = chunksToStream(client);
    let largest = 0;
    let total = 0;
    const pending = client.recv(1 << 20);
    await peer.sendAll(Buffer.alloc(4000, 1));
    for (let chunk = await pending; ; chunk = await client.recv(1 << 20)) {
      largest = Math.max(largest, chunk.length);
      total += chunk.length;
      if (total >= 4000) break;
    }
    expect(largest).toBeGreaterThanOrEqual(1024); // the test's premise: a chunk at the mark or above it came
    expect(toStream.count).toBeGreaterThan(0);
    // Readable's read(n) raises the mark to the power of two at or above n when n is above it.
    expect(client.readableHighWaterMark).toBe(largest > 1024 ? 2 ** Math.ceil(Math.log2(largest)) : 1024);
  });

  it('a small chunk for a recv asking more than the high-water mark: handed over, the mark and the state as a read of the chunk leaves them', async () => {
    const { client, peer } = await pairOf(() => new net.Socket({ readableHighWaterMark: 1024 } as net.SocketConstructorOpts));
    client.setSocketTimeout(2000);
    const warm = client.recv(10);
    await peer.sendAll('warm');
    expect((await warm).toString()).toBe('warm');
    await sleep(5); // the read(0) the warm-up's push scheduled has run
    const before = readableFields(client);
    const toStream = chunksToStream(client);
    const pending = client.recv(1 << 20);
    await peer.sendAll('small');
    expect((await pending).toString()).toBe('small');
    await sleep(5);
    expect(toStream.count).toBe(0);
    expect(readableFields(client)).toEqual(before); // highWaterMark 1024 among them: read(5) does not raise it
  });

  it("a subclass's push sees and transforms every chunk: no hand-over for it", async () => {
    class Upper extends net.Socket {
      seen = 0;
      override push(chunk: unknown, encoding?: BufferEncoding): boolean {
        if (Buffer.isBuffer(chunk)) {
          this.seen += chunk.length;
          chunk = Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1');
        }
        return super.push(chunk, encoding);
      }
    }
    const { client, peer } = await pairOf(() => new Upper());
    client.setSocketTimeout(2000);
    for (const word of ['warm', 'hello', 'world']) {
      const pending = client.recv(100);
      await peer.sendAll(word);
      expect((await pending).toString()).toBe(word.toUpperCase());
    }
    expect((client as Upper).seen).toBe(14);
    expect(Object.prototype.hasOwnProperty.call(client, 'push')).toBe(false);
  });

  it("an instance's own push, set before its first recv, sees every chunk", async () => {
    const { client, peer } = await pair();
    let seen = 0;
    const push = client.push;
    client.push = function (this: net.Socket, chunk: unknown, encoding?: BufferEncoding): boolean {
      if (Buffer.isBuffer(chunk)) seen += chunk.length;
      return push.call(this, chunk, encoding);
    };
    for (const word of ['warm', 'hello', 'world']) {
      const pending = client.recv(100);
      await peer.sendAll(word);
      expect((await pending).toString()).toBe(word);
    }
    expect(seen).toBe(14);
  });

  it('Readable.prototype.push patched after the hand-over began sees every later chunk', async () => {
    const { client, peer } = await warmPair();
    const original = Readable.prototype.push;
    let seen = 0;
    Readable.prototype.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
      if (this === client && Buffer.isBuffer(chunk)) seen += chunk.length;
      return original.call(this, chunk, encoding);
    };
    try {
      for (const word of ['hello', 'world']) {
        const pending = client.recv(100);
        await peer.sendAll(word);
        expect((await pending).toString()).toBe(word);
      }
    } finally {
      Readable.prototype.push = original;
    }
    expect(seen).toBe(10);
  });

  it("a waiting job without takeChunk (another copy of the package shares the state's symbol) is served through the stream", async () => {
    const { client, peer } = await warmPair();
    const state = (client as unknown as Record<symbol, { spareRecv: Record<string, unknown> }>)[Symbol.for('timeoutsocket.await.v1')];
    Object.defineProperty(state.spareRecv, 'takeChunk', { value: undefined, configurable: true }); // as an older copy's job
    const toStream = chunksToStream(client);
    const pending = client.recv(100);
    await peer.sendAll('older');
    expect((await pending).toString()).toBe('older');
    expect(toStream.count).toBe(1);
    delete state.spareRecv.takeChunk;
  });

  describe('goes through the stream whenever its push would do more than buffer', () => {
    it('an encoding set while the recv waits: the chunk is decoded into the buffer', async () => {
      const { client, peer } = await warmPair();
      const toStream = chunksToStream(client);
      const pending = client.recv(100);
      client.setEncoding('latin1');
      await peer.sendAll('text');
      expect(String(await pending)).toBe('text');
      expect(toStream.count).toBe(1);
    });

    it('a flowing stream: the chunk goes through it', async () => {
      const { client, peer } = await warmPair();
      const toStream = chunksToStream(client);
      const pending = client.recv(100);
      (client as unknown as { readableFlowing: boolean }).readableFlowing = true; // Readable's setter
      await peer.sendAll('flow');
      expect(String(await pending)).toBe('flow');
      expect(toStream.count).toBe(1);
    });

    it('EOF received: a chunk pushed after it is the stream\'s error, never bytes for the recv', async () => {
      const { client } = await warmPair();
      const errors: Error[] = [];
      client.on('error', (error) => errors.push(error));
      const pending = client.recv(100);
      client.push(null); // as onStreamRead does at the peer's FIN
      client.push(Buffer.from('after')); // what the handle would push next
      const outcome = await pending.then(
        (bytes) => String(bytes),
        (error: Error) => error,
      );
      expect(outcome).toBe(''); // EOF, as the stream tells it
      const deadline = performance.now() + 2000;
      while (errors.length === 0 && performance.now() < deadline) await sleep(5);
      expect(errors.map((error) => (error as Error & { code?: string }).code)).toEqual(['ERR_STREAM_PUSH_AFTER_EOF']);
    });

    it('bytes buffered (unshifted in the same tick): the chunk goes behind them', async () => {
      const { client } = await warmPair();
      const toStream = chunksToStream(client);
      const pending = client.recv(100);
      client.unshift(Buffer.from('first '));
      client.push(Buffer.from('then')); // as onStreamRead pushes a chunk it read
      expect(String(await pending)).toBe('first then');
      expect(toStream.count).toBe(1);
    });
  });

  it('a data listener added after the hand-over gets every later chunk, in order', async () => {
    const { client, peer } = await warmPair();
    const pending = client.recv(10);
    await peer.sendAll('taken');
    expect((await pending).toString()).toBe('taken');
    const received = dataUntil(client, 8);
    await peer.sendAll('streamed');
    expect((await received).toString()).toBe('streamed');
  });
});

describe('memory', () => {
  /** V8's collector, reached without starting the process with --expose-gc. */
  function collector(): () => void {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  }

  it('a waiting recv (the socket reuses its job for those) lets go of the Buffer it resolved with once the application drops it', async () => {
    const gc = collector();
    const { client, peer } = await pair();
    // In a function of its own, so that no variable of this one holds the Buffer or its promise.
    const receive = async (): Promise<WeakRef<Buffer>> => {
      const pending = client.recv(1 << 16); // nothing buffered, nothing queued: the reused job waits
      await peer.sendAll(Buffer.alloc(1000, 1));
      const received = await pending;
      expect(received.length).toBeGreaterThan(0);
      return new WeakRef(received);
    };
    const ref = await receive();
    // No deref() before the last: it keeps its target alive to the end of the job it runs in.
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(ref.deref()).toBeUndefined();
  });
});
