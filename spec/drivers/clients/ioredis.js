'use strict';
// ioredis as legacy code uses it. The only option changed is the retry policy, so the first
// failure is reported instead of retried forever; no timeout is set here.
const Redis = require('ioredis');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes } = h.options;

function client() {
  const redis = new Redis({ host: h.host, port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', (err) => h.fail(err, 'error event'));
  return redis;
}

async function main() {
  if (scenario === 'request') {
    const redis = h.measure(() => client());
    await redis.get('key');
    return h.ok();
  }
  const redis = client();
  await redis.set('key', 'value');
  if (scenario === 'warm-request') {
    await h.warm();
    const value = await h.measure(() => redis.get('key'));
    return h.ok(value);
  }
  if (scenario === 'warm-write') {
    const big = 'x'.repeat(bigBytes);
    await h.warm();
    await h.measure(() => redis.set('big', big));
    return h.ok();
  }
  if (scenario === 'idle') {
    h.measure(() => undefined);
    await h.sleep(idleMs);
    return h.ok(await redis.get('key'));
  }
  if (scenario === 'subscribe') {
    const sub = client();
    await sub.subscribe('news');
    sub.on('message', (channel, message) => h.ok(message));
    h.measure(() => undefined);
    await h.sleep(idleMs);
    await redis.publish('news', 'hello');
    return undefined;
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
