'use strict';
// node-redis (`redis`) as legacy code uses it. The only option changed is the reconnect
// strategy, so the first failure is reported instead of reconnected; no timeout is set here.
const { createClient } = require('redis');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes, timeoutMs: T, tag } = h.options;

function client() {
  const redis = createClient({ socket: { host: h.host, port, reconnectStrategy: false } });
  redis.on('error', (err) => h.fail(err, 'error event'));
  return redis;
}

async function main() {
  if (scenario === 'request') {
    const redis = client();
    await h.measure(() => redis.connect());
    await redis.get('key');
    return h.ok();
  }
  const redis = client();
  await redis.connect();
  await redis.set('key', 'value');
  if (scenario === 'warm-request') {
    await h.warm();
    return h.ok(await h.measure(() => redis.get('key')));
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
    await pusher.connect();
    for (const c of [redis, pusher]) h.watch(c, ['end', 'reconnecting'], 'node-redis');
    const key = `list:${tag}`;
    const popped = h.measure(() => redis.blPop(key, (2 * T) / 1000));
    await h.sleep(1.5 * T);
    await pusher.lPush(key, 'job');
    const reply = await popped;
    return h.ok({ sent: 1, received: reply && reply.element === 'job' ? 1 : 0 });
  }
  if (scenario === 'subscribe') {
    const sub = redis.duplicate();
    sub.on('error', (err) => h.fail(err, 'error event'));
    await sub.connect();
    await sub.subscribe('news', (message) => h.ok(message));
    h.measure(() => undefined);
    await h.sleep(idleMs);
    await redis.publish('news', 'hello');
    return undefined;
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
