'use strict';
// pg (node-postgres) as legacy code uses it: a plain Client, no timeout set here.
const { Client } = require('pg');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes, timeoutMs: T } = h.options;

function client() {
  const pg = new Client({ host: h.host, port, user: 'postgres', database: 'postgres' });
  pg.on('error', (err) => h.fail(err, 'error event'));
  return pg;
}

async function main() {
  if (scenario === 'request') {
    const pg = client();
    await h.measure(() => pg.connect());
    const { rows } = await pg.query('SELECT 1 AS one');
    return h.ok(rows[0].one);
  }
  const pg = client();
  await pg.connect();
  await pg.query('SELECT 1');
  if (scenario === 'warm-request') {
    await h.warm();
    const { rows } = await h.measure(() => pg.query('SELECT 2 AS two'));
    return h.ok(rows[0].two);
  }
  if (scenario === 'warm-write') {
    const big = 'x'.repeat(bigBytes);
    await h.warm();
    const { rows } = await h.measure(() => pg.query('SELECT length($1::text) AS n', [big]));
    return h.ok(rows[0].n);
  }
  if (scenario === 'idle') {
    h.measure(() => undefined);
    await h.sleep(idleMs);
    const { rows } = await pg.query('SELECT 3 AS three');
    return h.ok(rows[0].three);
  }
  if (scenario === 'listen') {
    // LISTEN, idle for 3 T, then another connection's NOTIFY must arrive.
    const listener = client();
    await listener.connect();
    for (const c of [pg, listener]) h.watch(c, ['end'], 'pg');
    listener.on('notification', (n) => h.ok({ sent: 1, received: n.payload === 'hello' ? 1 : 0 }));
    await listener.query('LISTEN news');
    h.measure(() => undefined);
    await h.sleep(3 * T);
    await pg.query("NOTIFY news, 'hello'");
    return undefined;
  }
  if (scenario === 'slow-query') {
    // A query that takes 1.5 T on the server: slower than T, legitimately.
    h.watch(pg, ['end'], 'pg');
    const { rows } = await h.measure(() => pg.query('SELECT 1 AS one FROM pg_sleep($1::float8)', [(1.5 * T) / 1000]));
    return h.ok({ expected: 1, received: rows[0].one });
  }
  if (scenario === 'subscribe') {
    const listener = client();
    await listener.connect();
    listener.on('notification', (n) => h.ok(n.payload));
    await listener.query('LISTEN news');
    h.measure(() => undefined);
    await h.sleep(idleMs);
    await pg.query("NOTIFY news, 'hello'");
    return undefined;
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
