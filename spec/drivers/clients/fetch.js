'use strict';
// fetch() (Node's bundled undici) as an application uses it, reading the body as it streams.
// No timeout (and no AbortSignal) set here.
const h = require('./harness');

const { scenario, port, tag } = h.options;

async function readAll(res, onFirst) {
  const reader = res.body.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    if (bytes === 0) onFirst();
    bytes += value.length;
  }
}

async function main() {
  if (scenario === 'drip') {
    // 8 KiB with a Content-Length, 1 KiB every T / 2: slow but steady.
    const res = await h.measure(() => fetch(`http://${h.host}:${port}/drip?tag=${tag}`));
    const received = await readAll(res, () => {});
    return h.ok({ expected: Number(res.headers.get('content-length')), received });
  }
  if (scenario === 'halfway') {
    // 2048 bytes declared, 1024 sent, then nothing: the clock starts at the first body bytes.
    const res = await fetch(`http://${h.host}:${port}/halfway?tag=${tag}`);
    return h.ok({ received: await readAll(res, () => h.mark()) });
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
