'use strict';
// Node's http client with a keep-alive agent, as legacy code uses it: no timeout set here.
const http = require('node:http');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes } = h.options;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: h.host, port, method, path: '/', agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: text, reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  if (scenario === 'request') {
    return h.ok(await h.measure(() => request('GET')));
  }
  await request('GET');
  if (scenario === 'warm-request') {
    await h.warm();
    return h.ok(await h.measure(() => request('GET')));
  }
  if (scenario === 'warm-write') {
    const big = 'x'.repeat(bigBytes);
    await h.warm();
    return h.ok(await h.measure(() => request('POST', big)));
  }
  if (scenario === 'idle') {
    h.measure(() => undefined);
    await h.sleep(idleMs);
    const res = await request('GET');
    if (!res.reused) throw new Error('keep-alive socket was not reused');
    return h.ok(res);
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
