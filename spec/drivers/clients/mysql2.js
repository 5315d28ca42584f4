'use strict';
// mysql2 as an application connects, with its own connectTimeout set far above the suite's T
// (10 min) so that only the shim can end a hang. The server speaks first (its handshake).
const mysql = require('mysql2/promise');
const h = require('./harness');

const { scenario, port } = h.options;

async function main() {
  if (scenario === 'connect') {
    const conn = await h.measure(() => mysql.createConnection({ host: h.host, port, user: 'root', connectTimeout: 600000 }));
    const [rows] = await conn.query('SELECT 1 AS one');
    return h.ok(rows[0].one);
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
