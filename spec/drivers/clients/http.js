'use strict';
// Node's http client with a keep-alive agent, as legacy code uses it: no timeout set here.
const http = require('node:http');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes, timeoutMs: T, tag } = h.options;
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

/** A GET whose response is read chunk by chunk; `onChunk` sees each. */
function stream(path, onChunk) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: h.host, port, path: `${path}?tag=${tag}`, agent }, (res) => {
      res.on('data', (chunk) => onChunk(chunk, res));
      res.on('end', () => resolve(res));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** A POST whose body goes out in `pieces` chunks of `size` bytes, one every `gapMs`. */
function upload(pieces, size, gapMs) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: h.host, port, method: 'POST', path: `/upload?tag=${tag}`, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    let n = 0;
    const next = () => {
      n += 1;
      if (n < pieces) {
        req.write(Buffer.alloc(size, 121));
        setTimeout(next, gapMs);
      } else {
        req.end(Buffer.alloc(size, 121));
      }
    };
    next();
  });
}

async function main() {
  if (scenario === 'long-poll') {
    // The server holds the request for 1.5 T before it answers.
    const res = await h.measure(() => new Promise((resolve, reject) => {
      http.get({ host: h.host, port, path: `/poll?tag=${tag}`, agent }, (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (chunk) => { text += chunk; });
        r.on('end', () => resolve(text));
        r.on('error', reject);
      }).on('error', reject);
    }));
    return h.ok({ expected: 'news', received: res });
  }
  if (scenario === 'sse') {
    // Server-sent events for 4 T, one every 1.5 T; every one must arrive, in order.
    let text = '';
    const done = h.measure(() => stream('/sse', (chunk) => { text += chunk; }));
    done.catch((err) => h.fail(err, 'rejected'));
    await h.sleep(4 * T);
    const events = text.split('\n\n').filter(Boolean).map((e) => Number(e.replace('data: ', '')));
    const inOrder = events.every((n, i) => n === i + 1);
    return h.ok({ expected: Math.floor(4 / 1.5), received: inOrder ? events.length : -1 });
  }
  if (scenario === 'upload') {
    // Three 16 KiB pieces, 1.5 T apart: the server answers with the length it read.
    const sent = 3 * 16384;
    const answer = await h.measure(() => upload(3, 16384, 1.5 * T));
    return h.ok({ sent, received: Number(answer) });
  }
  if (scenario === 'halfway') {
    // 2048 bytes declared, 1024 sent, then nothing: the clock starts at the first body bytes.
    let bytes = 0;
    await stream('/halfway', (chunk) => {
      if (bytes === 0) h.mark();
      bytes += chunk.length;
    });
    return h.ok({ received: bytes });
  }
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
