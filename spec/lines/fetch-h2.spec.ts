/**
 * `fetch()` over TLS on every supported line: undici 8 (Node 26) negotiates HTTP/2 by ALPN
 * (allowH2), the undici of 20, 22 and 24 speaks HTTP/1.1. An HTTP/2 connection carries several
 * requests at once as streams, so its socket is a `stream` (no reply deadline: one stream's
 * answer says nothing of another's), while an HTTP/1.1 one is `http`. Loopback only: the server
 * is a `node:http2` secure server here that also speaks HTTP/1.1, answering one request late.
 */
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import * as path from 'node:path';
import { runNode } from '../helpers';

const ROOT = path.resolve(__dirname, '../..');
/** Whether this line's fetch negotiates HTTP/2 (undici 8 and later). */
const FETCH_SPEAKS_H2 = Number((process.versions as { undici?: string }).undici?.split('.')[0] ?? 0) >= 8;
const READ_MS = 300;

/** The child: two requests at once, the slow one answered after 2 x read; prints what it saw. */
const CLIENT = `
  const { getStats } = require('./dist/lib/index.js');
  const base = 'https://127.0.0.1:' + process.argv[1];
  Promise.all([fetch(base + '/slow'), fetch(base + '/fast')])
    .then((responses) => Promise.all(responses.map((r) => r.text())))
    .then((texts) => console.log(JSON.stringify({ texts, protocols: getStats().protocols })), (e) => console.log(JSON.stringify({ error: String(e.cause ?? e) })));
`;

describe(`fetch() over TLS on Node ${process.versions.node}`, () => {
  let server: http2.Http2SecureServer | undefined;
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<net.Socket>();
  afterEach(async () => {
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  });

  it(FETCH_SPEAKS_H2 ? 'HTTP/2: the connection is a stream, and a request answered after 2 x read next to a quick one is not cut' : 'HTTP/1.1: the connection is http, and a request answered after 2 x read is cut', async () => {
    const tlsDir = path.join(ROOT, 'fixtures', 'tls');
    server = http2.createSecureServer({ key: fs.readFileSync(path.join(tlsDir, 'key.pem')), cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')), allowHTTP1: true }, (req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 2 * READ_MS);
      else res.end('fast');
    });
    server.on('session', (session) => sessions.add(session));
    server.on('secureConnection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const result = await runNode(
      ['-r', './dist/lib/register.js', '-e', CLIENT, String(port)],
      // The fixture's certificate is self-signed; the child trusts it for this one test.
      { NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1', TIMEOUTSOCKET_READ_TIMEOUT: `${READ_MS}ms`, TIMEOUTSOCKET_CONNECT_TIMEOUT: '5s' },
      ROOT,
    );
    const printed = JSON.parse(result.stdout.trim()) as { texts?: string[]; error?: string; protocols: Record<string, { sockets: number }> };
    if (FETCH_SPEAKS_H2) {
      expect(printed.texts).toEqual(['slow', 'fast']);
      expect(printed.protocols.stream!.sockets).toBe(1);
      expect(printed.protocols.http!.sockets).toBe(0);
    } else {
      // The witness that the read deadline was armed: over HTTP/1.1 the slow request's own
      // connection is http, and its answer after 2 x read is cut.
      expect(printed.error).toMatch(/ETIMEDOUT|timed out/i);
    }
  });
});
