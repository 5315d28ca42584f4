'use strict';
// ioredis as legacy code uses it. The only option changed is the retry policy, so the first
// failure is reported instead of retried forever; no timeout is set here.
const Redis = require('ioredis');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes, timeoutMs: T, tag } = h.options;

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
  if (scenario === 'blpop') {
    // BLPOP with its own timeout of 2 T, answered by another connection's LPUSH after 1.5 T.
    const pusher = client();
    for (const c of [redis, pusher]) h.watch(c, ['close', 'reconnecting', 'end'], 'ioredis');
    await pusher.ping();
    const key = `list:${tag}`;
    const popped = h.measure(() => redis.blpop(key, (2 * T) / 1000));
    await h.sleep(1.5 * T);
    await pusher.lpush(key, 'job');
    const reply = await popped;
    return h.ok({ sent: 1, received: reply && reply[1] === 'job' ? 1 : 0 });
  }
  if (scenario === 'warm-blpop') {
    // The test freezes the server once this BLPOP (own timeout 2 T) has gone out.
    await h.warm();
    const reply = await h.measure(() => redis.blpop(`list:${tag}`, (2 * T) / 1000));
    return h.ok(reply);
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
