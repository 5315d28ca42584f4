'use strict';
// node:http2 (h2c) as a gRPC-style client uses it: one request whose response headers come at
// once and whose body comes after 2 T of silence. No timeout set here.
const http2 = require('node:http2');
const h = require('./harness');

const { scenario, port, tag } = h.options;

async function main() {
  if (scenario === 'h2-idle') {
    const session = http2.connect(`http://${h.host}:${port}`);
    h.watch(session, ['error', 'close', 'goaway', 'frameError'], 'session');
    const req = h.measure(() => session.request({ ':path': `/?tag=${tag}` }));
    h.watch(req, ['error', 'aborted'], 'stream');
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (text) => { body += text; });
    req.on('end', () => h.ok({ expected: 'done', received: body }));
    req.end();
    return undefined;
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
