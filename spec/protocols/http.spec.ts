import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import * as net from 'node:net';
import { protocolOfSocket, setProtocol, type InternalSocket } from '../../lib/engine';
import { getStats } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { declaresLength } from '../../lib/protocols/http-spec';
import { withDeadline } from '../../fixtures/bounded';
import { trackServer } from '../../fixtures/tracked-server';
import { cleanUp, expectFiredOnTime, fate, keep, recordTimeouts, SANITY, serve, staysOpen, T, track } from './support';
import { once } from '../helpers';
import { HTTP_CHANNELS } from '../../lib/protocols/http';

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(cleanUp);
beforeEach(() => setDefaultSocketTimeout(T));

/** An http server on loopback, closed (connections included) after the test. */
async function httpServer(handler: http.RequestListener): Promise<number> {
  return keep(await trackServer(http.createServer(handler))).port;
}

/** A handler that sends the head and half of a 20-byte body, then stalls; resolves `stalled` when it did. */
function halfBody(): { handler: http.RequestListener; stalled: Promise<number> } {
  let mark: (at: number) => void = () => {};
  const stalled = new Promise<number>((resolve) => (mark = resolve));
  const handler: http.RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-length': '20' });
    res.write('0123456789', () => mark(performance.now()));
  };
  return { handler, stalled };
}

describe('declaresLength: which responses are bounded by inactivity', () => {
  it.each([
    ['GET', 200, '10', undefined, true],
    ['GET', 200, undefined, undefined, false], // close-delimited
    ['GET', 200, '10', 'chunked', false], // chunked wins
    ['HEAD', 200, '10', undefined, false],
    ['GET', 204, '10', undefined, false],
    ['GET', 304, '10', undefined, false],
    ['GET', 200, '0', undefined, false],
    ['GET', 200, 'ten', undefined, false],
  ])('%s %i content-length %s transfer-encoding %s: %s', (method, status, length, encoding, expected) => {
    expect(declaresLength(method, status, length, encoding)).toBe(expected);
  });
});

describe('http: Node http and fetch, through their diagnostics_channel messages', () => {
  it('Node http: a Content-Length body that stops halfway ends with ETIMEDOUT (read) at T after the stall', async () => {
    const { handler, stalled } = halfBody();
    const port = await httpServer(handler);
    const agent = new http.Agent({ keepAlive: false });
    const httpTimeouts = getStats().protocols.http.timeouts;
    recordTimeouts();
    let body = '';
    const result = await new Promise<{ error: Error & { code?: string; phase?: string }; at: number }>((resolve, reject) => {
      const request = http.get({ port, host: '127.0.0.1', agent }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', (error) => resolve({ error, at: performance.now() }));
        res.on('end', () => reject(new Error('the body ended')));
      });
      request.on('error', (error) => resolve({ error, at: performance.now() }));
    });
    const stallAt = await stalled;
    expect(result.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
    expect(body).toBe('0123456789');
    expect(getStats().protocols.http.timeouts).toBe(httpTimeouts + 1);
    expect(result.at - stallAt).toBeGreaterThanOrEqual(T - 1);
    expect(result.at - stallAt).toBeLessThanOrEqual(T + SANITY);
    expectFiredOnTime(T);
  });

  it('https: a body that stops halfway ends with ETIMEDOUT (read) at T after the stall, the handshake being the connect phase\'s', async () => {
    const { handler, stalled } = halfBody();
    const tlsDir = path.join(__dirname, '..', '..', 'fixtures', 'tls');
    const server = https.createServer({ key: fs.readFileSync(path.join(tlsDir, 'key.pem')), cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')) }, handler);
    const { port } = keep(await trackServer(server));
    recordTimeouts();
    const error = await new Promise<Error & { code?: string; phase?: string }>((resolve, reject) => {
      const request = https.get({ port, host: '127.0.0.1', agent: false, rejectUnauthorized: false }, (res) => {
        res.resume();
        res.on('error', resolve);
        res.on('end', () => reject(new Error('the body ended')));
      });
      request.on('error', resolve);
    });
    const at = performance.now();
    const stallAt = await stalled;
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
    expect(at - stallAt).toBeGreaterThanOrEqual(T - 1);
    expect(at - stallAt).toBeLessThanOrEqual(T + SANITY);
    expectFiredOnTime(T);
  });

  it('fetch(): a Content-Length body that stops halfway rejects with ETIMEDOUT (read) at T after the stall', async () => {
    const { handler, stalled } = halfBody();
    const port = await httpServer(handler);
    recordTimeouts();
    const response = await fetch(`http://127.0.0.1:${port}/`);
    const failure = await response.text().then(
      () => undefined,
      (error: Error) => ({ error, at: performance.now() }),
    );
    const stallAt = await stalled;
    expect(failure).toBeDefined();
    expect(failure!.error.message).toBe('terminated');
    // undici puts the socket's error in `cause` only when it is an Error of its own realm, which
    // Jest's sandbox is not: the deadline itself is read from the timeout channel here.
    expect(expectFiredOnTime(T)).toMatchObject({ phase: 'read', protocol: 'http', error: { code: 'ETIMEDOUT' } });
    expect(failure!.at - stallAt).toBeGreaterThanOrEqual(T - 1);
    expect(failure!.at - stallAt).toBeLessThanOrEqual(T + SANITY);
  });

  it('a response that never starts ends with ETIMEDOUT (read) at T after the request ended', async () => {
    const port = await httpServer(() => {});
    recordTimeouts();
    const started = performance.now();
    const error = await new Promise<Error & { code?: string }>((resolve) => {
      http.get({ port, host: '127.0.0.1', agent: false }, () => {}).on('error', resolve);
    });
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read' });
    expect(performance.now() - started).toBeLessThanOrEqual(T + SANITY); // + connect on loopback
    expectFiredOnTime(T);
  });

  it('SSE with an event every 1.5 T stays open for 3 T (open-ended: settled by the head)', async () => {
    let timer: NodeJS.Timeout | undefined;
    const port = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      timer = setInterval(() => res.write('data: tick\n\n'), 1.5 * T);
    });
    try {
      const armed = getStats().armed;
      const { res, socket } = await new Promise<{ res: http.IncomingMessage; socket: net.Socket }>((resolve, reject) => {
        const request = http.get({ port, host: '127.0.0.1', agent: false }, (res) => resolve({ res, socket: request.socket! }));
        request.on('error', reject);
      });
      res.resume();
      expect(protocolOfSocket(socket as InternalSocket)).toBe('http');
      expect(getStats().armed).toBeGreaterThan(armed); // the reply deadline was armed
      await staysOpen(socket, 3 * T);
    } finally {
      clearInterval(timer);
    }
  });

  it('a Content-Length body that keeps coming, slower than T in total but never idle for T, completes', async () => {
    const readTimeouts = getStats().timeouts.read;
    const port = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': '8' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write('x');
        if (++sent === 8) {
          clearInterval(timer);
          res.end();
        }
      }, T / 4);
    });
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ port, host: '127.0.0.1', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      }).on('error', reject);
    });
    expect(body).toBe('xxxxxxxx');
    expect(getStats().timeouts.read).toBe(readTimeouts);
  });

  it('a rule beats the client layer: an http request on a socket forced to stream gets no reply deadline', async () => {
    const port = await httpServer(() => {}); // never answers
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const request = http.get({
        port,
        host: '127.0.0.1',
        // No agent: Node's http then uses createConnection itself.
        createConnection: (options) => {
          const raw = new net.Socket();
          setProtocol(raw as InternalSocket, 'stream'); // what a rule does inside connect()
          return raw.connect(options as net.NetConnectOpts);
        },
      });
      request.on('error', () => {});
      request.on('socket', (s: net.Socket) => (s.connecting ? s.once('connect', () => resolve(s)) : resolve(s)));
      setTimeout(() => reject(new Error('no socket')), 2000);
    });
    await staysOpen(socket, 3 * T);
    expect(protocolOfSocket(socket as InternalSocket)).toBe('stream');
  });

  it('a keep-alive socket idle in its agent pool has no deadline', async () => {
    const readTimeouts = getStats().timeouts.read;
    const port = await httpServer((_req, res) => res.end('ok'));
    const agent = new http.Agent({ keepAlive: true });
    keep({ close: async () => agent.destroy() });
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const request = http.get({ port, host: '127.0.0.1', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(request.socket!));
      });
      request.on('error', reject);
    });
    expect(protocolOfSocket(socket as InternalSocket)).toBe('http');
    await staysOpen(socket, 3 * T);
    expect(getStats().timeouts.read).toBe(readTimeouts);
  });

  it('Node http, keep-alive: a response complete before the request ended leaves the pooled socket idle, with no deadline', async () => {
    // A server answering before the upload ends (a 401 or 413): request.start then comes after
    // the whole response, and must not open a reply window on the socket going back to the pool.
    const server = await serve((socket) => {
      let answered = false;
      socket.on('data', (chunk: Buffer) => {
        if (answered || !chunk.includes('\r\n\r\n')) return;
        answered = true;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      });
    });
    const agent = new http.Agent({ keepAlive: true });
    keep({ close: async () => agent.destroy() });
    const armed = getStats().armed;
    const readTimeouts = getStats().timeouts.read;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const request = http.request({ port: server.port, host: '127.0.0.1', method: 'POST', agent, headers: { 'content-length': '4' } });
      request.on('error', reject);
      request.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          request.socket!.once('free', () => resolve(request.socket!));
          request.end('cd');
        });
      });
      request.write('ab');
    });
    expect(protocolOfSocket(socket as InternalSocket)).toBe('http');
    expect(getStats().armed).toBeGreaterThan(armed); // deadlines were in force on this socket
    await staysOpen(socket, 3 * T);
    expect(getStats().timeouts.read).toBe(readTimeouts);
  });

  it('fetch(): a response whose head came before the upload ended is still bounded by inactivity, not settled by a reply window', async () => {
    // undici:request:headers comes before undici:request:bodySent: the late bodySent must not
    // replace the body's inactivity window by a reply window that the next body byte settles.
    let mark: (at: number) => void = () => {};
    const stalled = new Promise<number>((resolve) => (mark = resolve));
    const port = await httpServer((req, res) => {
      res.writeHead(200, { 'content-length': '20' });
      res.write('0123456789');
      req.resume();
      req.on('end', () => res.write('abcde', () => mark(performance.now())));
    });
    recordTimeouts();
    let upload: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({ start: (controller) => { upload = controller; controller.enqueue(Buffer.from('ab')); } });
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    upload!.close(); // the upload ends after the response's head
    const read = response.text().then(
      () => undefined,
      (error: Error) => ({ error, at: performance.now() }),
    );
    const failure = await withDeadline(read, 10 * T, 'the stalled body to fail');
    const stallAt = await stalled;
    expect(failure).toBeDefined();
    expect(expectFiredOnTime(T)).toMatchObject({ phase: 'read', protocol: 'http', error: { code: 'ETIMEDOUT' } });
    expect(failure!.at - stallAt).toBeGreaterThanOrEqual(T - 1);
    expect(failure!.at - stallAt).toBeLessThanOrEqual(T + SANITY);
  });

  it('a response body the application does not read for 3 T is not blamed on the server', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(256 * 1024) });
      res.end(Buffer.alloc(256 * 1024, 0x61));
    });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ port, host: '127.0.0.1', agent: false }, resolve).on('error', reject);
    });
    res.pause();
    await staysOpen(res.socket, 3 * T);
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
  });
});

describe("undici's requests: what the watcher leaves on them", () => {
  /** Collects every undici request made while `run` runs, `prepare` applied to each at creation. */
  async function undiciRequestsDuring(run: () => Promise<void>, prepare: (request: object) => void = () => {}): Promise<object[]> {
    const requests: object[] = [];
    const onCreate = (message: unknown): void => {
      const { request } = message as { request: object };
      prepare(request);
      requests.push(request);
    };
    diagnosticsChannel.subscribe('undici:request:create', onCreate);
    try {
      await run();
    } finally {
      diagnosticsChannel.unsubscribe('undici:request:create', onCreate);
    }
    return requests;
  }
  const ourSymbols = (object: object) => Object.getOwnPropertySymbols(object).map(String).filter((name) => name.includes('timeoutsocket'));

  it('with no timeout set, a request stays exactly as undici made it; with one, it carries the marks', async () => {
    const port = await httpServer((_req, res) => res.end('ok'));
    setDefaultSocketTimeout(null);
    const untimed = await undiciRequestsDuring(async () => void (await (await fetch(`http://127.0.0.1:${port}/`)).text()));
    setDefaultSocketTimeout(T);
    const timed = await undiciRequestsDuring(async () => void (await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).text()));
    expect(untimed).toHaveLength(1);
    expect(ourSymbols(untimed[0]!)).toEqual([]);
    // The witness: the same watcher marks a request on a socket with a deadline.
    expect(timed).toHaveLength(1);
    expect(ourSymbols(timed[0]!)).toHaveLength(2);
  });

  // undici 8 (Node 26) writes to its request after 'undici:request:create' itself, so there a
  // request made non-extensible then cannot be sent at all (fetch fails): nothing to keep.
  const undiciWritesItsRequest = Number((process.versions as { undici?: string }).undici?.split('.')[0] ?? 0) >= 8;

  (undiciWritesItsRequest ? it.skip : it)('a request made non-extensible by other code keeps its body deadline (a Content-Length body that stops halfway)', async () => {
    const { handler, stalled } = halfBody();
    const port = await httpServer(handler);
    const fired = getStats().timeouts.read;
    let failure: string | undefined;
    let elapsed = 0;
    const requests = await undiciRequestsDuring(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        const started = await stalled;
        failure = await withDeadline(
          response.text().then(
            () => 'ended',
            () => 'failed',
          ),
          4 * T,
          'the stalled body',
        );
        elapsed = performance.now() - started;
      },
      (request) => Object.preventExtensions(request),
    );
    expect(requests.map((request) => Object.isExtensible(request))).toEqual([false]);
    expect(failure).toBe('failed');
    expect(getStats().timeouts.read).toBe(fired + 1);
    expect(elapsed).toBeLessThan(3 * T);
  });

  (undiciWritesItsRequest ? it : it.skip)('undici 8 and later: a request made non-extensible at creation fails in undici itself, before the watcher sees it', async () => {
    const port = await httpServer((_req, res) => res.end('ok'));
    const requests = await undiciRequestsDuring(
      async () => {
        await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/not extensible/) } });
      },
      (request) => Object.preventExtensions(request),
    );
    expect(requests).toHaveLength(1);
  });
});

describe('undici over HTTP/2 (ALPN h2): the connection stays a stream', () => {
  const tlsDir = path.join(__dirname, '..', '..', 'fixtures', 'tls');
  const key = fs.readFileSync(path.join(tlsDir, 'key.pem'));
  const cert = fs.readFileSync(path.join(tlsDir, 'cert.pem'));

  const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

  /** A TLS server choosing `h2` or `http/1.1` by ALPN that reads everything and never answers. */
  async function silentTlsServer(): Promise<number> {
    const server = tls.createServer({ key, cert, ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => {
      socket.on('error', () => {});
      socket.resume();
    });
    return keep(await trackServer(server)).port;
  }

  /** A TLS client offering only `alpn`, once its handshake ended. */
  async function tlsClient(port: number, alpn: string): Promise<tls.TLSSocket> {
    const socket = track(tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: [alpn] }));
    socket.on('error', () => {});
    await once(socket, 'secureConnect');
    expect(socket.alpnProtocol).toBe(alpn);
    return socket;
  }

  /** What undici publishes for a request it sends on `socket` (undici 8 also for each h2 stream). */
  function undiciSends(socket: net.Socket): void {
    const request = { method: 'GET' };
    diagnosticsChannel.channel(HTTP_CHANNELS.undiciSendHeaders).publish({ request, headers: 'GET / HTTP/1.1\r\n\r\n', socket });
    diagnosticsChannel.channel(HTTP_CHANNELS.undiciBodySent).publish({ request });
  }

  it('over http/1.1 the same messages make it http, with a reply deadline (the witness)', async () => {
    const socket = await tlsClient(await silentTlsServer(), 'http/1.1');
    undiciSends(socket);
    expect(protocolOfSocket(socket as unknown as InternalSocket)).toBe('http');
    recordTimeouts();
    const { error } = await fate(socket);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read' });
  });

  it("over h2 undici's request messages leave it a stream: one stream's answer says nothing of another's", async () => {
    const socket = await tlsClient(await silentTlsServer(), 'h2');
    socket.write(H2_PREFACE); // what undici writes first on an h2 connection
    expect(protocolOfSocket(socket as unknown as InternalSocket)).toBe('stream');
    undiciSends(socket);
    expect(protocolOfSocket(socket as unknown as InternalSocket)).toBe('stream');
    await staysOpen(socket, 3 * T);
  });

  it('over h2 with nothing written through the socket (node:http2 writes through the handle), the request messages choose stream', async () => {
    const socket = await tlsClient(await silentTlsServer(), 'h2');
    const streams = getStats().protocols.stream.sockets;
    undiciSends(socket);
    expect(protocolOfSocket(socket as unknown as InternalSocket)).toBe('stream');
    expect(getStats().protocols.stream.sockets).toBe(streams + 1);
    await staysOpen(socket, 3 * T);
  });
});
