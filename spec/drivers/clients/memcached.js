'use strict';
// memcached (the `memcached` package) as legacy code uses it. No timeout is set here; two
// defaults change: `retries: 0`, so the connection pool reports the first failed connect
// instead of retrying it with back-off, and `maxValue`, raised so a large value is sent at all
// (the package refuses values over 1 MB before writing).
// The package turns socket errors into strings: a failure after connect reaches no callback,
// only the 'issue' event, whose last message is the error's text.
const Memcached = require('memcached');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes } = h.options;

const mc = new Memcached(`${h.host}:${port}`, { retries: 0, maxValue: Math.max(1048576, (bigBytes || 0) * 2) });
const lastMessage = (details) => (details && details.messages ? details.messages[details.messages.length - 1] : details);
mc.on('issue', (details) => h.fail(lastMessage(details), 'issue event'));
mc.on('failure', (details) => h.fail(lastMessage(details), 'failure event'));

const call = (method, ...args) =>
  new Promise((resolve, reject) => mc[method](...args, (err, value) => (err ? reject(err) : resolve(value))));

async function main() {
  if (scenario === 'request') {
    return h.ok(await h.measure(() => call('get', 'key')));
  }
  await call('set', 'key', 'value', 0);
  if (scenario === 'warm-request') {
    await h.warm();
    return h.ok(await h.measure(() => call('get', 'key')));
  }
  if (scenario === 'warm-write') {
    const big = 'x'.repeat(bigBytes);
    await h.warm();
    await h.measure(() => call('set', 'big', big, 0));
    return h.ok();
  }
  if (scenario === 'idle') {
    h.measure(() => undefined);
    await h.sleep(idleMs);
    return h.ok(await call('get', 'key'));
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
