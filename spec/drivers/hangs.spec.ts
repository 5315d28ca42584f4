/**
 * Hangs past the first byte, and hangs of servers that speak first: each row must hang
 * without the shim (killed at its cap) and end with ETIMEDOUT in the right phase, within
 * T ± 20% of when the deadline was due, with it (see support/rows.ts). One row at a time:
 * their timing is asserted.
 */
import { T } from './support/matrix';
import { Row, saveRows } from './support/report';
import { Pair, hangProblems, runRow, stopAll } from './support/rows';
import {
  MariaDbServer,
  NodeServer,
  PortBusyError,
  Server,
  portIsFree,
  startMariaDb,
  startNodeServer,
  startRedis,
} from './support/servers';

/** The well-known ports the port table gives `server-first`. */
const SMTP_PORT = 2525;
const MYSQL_PORT = 3306;
const TEST_TIMEOUT_MS = 30000 + 10 * T;

interface Hang {
  driver: string;
  scenario: string;
  row: string;
  port: number;
  rules?: string;
  phase: string;
  /** When the deadline is due, after the fault began: T, or a blocking command's own timeout plus T. */
  dueMs: number;
  warm?: boolean;
  afterCall?: () => void;
}

/** A server on a fixed port, or why it could not have it. */
async function onFixedPort<S extends Server>(port: number, start: () => Promise<S>): Promise<S | string> {
  if (!(await portIsFree(port))) return `port ${port} is busy on this machine`;
  try {
    return await start();
  } catch (err) {
    if (err instanceof PortBusyError) return err.message;
    throw err;
  }
}

describe(`hangs past the first byte and silent greeters, unmodified clients, with and without the shim (T = ${T} ms)`, () => {
  let rows: NodeServer | undefined;
  let redis: Server | undefined;
  let smtpFree: NodeServer | undefined;
  let smtpWellKnown: NodeServer | string = 'not started';
  let mariadb: MariaDbServer | undefined;
  /** Why MariaDB is not on 3306, in two words (the row then names its rule), or undefined when it is. */
  let mariadbElsewhere: string | undefined;
  const table: Row[] = [];

  beforeAll(async () => {
    const mariadbStart = (async () => {
      const onWellKnown = await onFixedPort(MYSQL_PORT, () => startMariaDb(MYSQL_PORT)).catch((err: Error) => err.message);
      if (typeof onWellKnown !== 'string') return onWellKnown;
      // 3306 is taken (or refused us): a free port, given the protocol by a rule instead.
      mariadbElsewhere = /is busy/.test(onWellKnown) ? `${MYSQL_PORT} busy` : `${MYSQL_PORT} failed`;
      process.stdout.write(`driver suite: MariaDB not on ${MYSQL_PORT}: ${onWellKnown.split('\n')[0]}\n`);
      return startMariaDb();
    })();
    [rows, redis, smtpFree, smtpWellKnown, mariadb] = await Promise.all([
      startNodeServer('rows', { timeoutMs: T }),
      startRedis(),
      startNodeServer('silent'),
      onFixedPort(SMTP_PORT, () => startNodeServer('silent', { port: SMTP_PORT })),
      mariadbStart,
    ]);
    // "SIGSTOPped after it started listening": it stays frozen for every row.
    mariadb.freeze();
  }, 60000);

  afterEach(() => {
    // A row that failed half-way must not leave redis frozen for the next one.
    redis?.thaw();
  });

  afterAll(async () => {
    await stopAll([rows, redis, smtpFree, typeof smtpWellKnown === 'string' ? undefined : smtpWellKnown, mariadb]);
    saveRows('hangs', table);
  }, 30000);

  const need = <S>(s: S | undefined): S => {
    if (!s) throw new Error('server did not start');
    return s;
  };

  const row = (name: string, hang: () => Hang | string) =>
    test(
      name,
      async () => {
        const h = hang();
        if (typeof h === 'string') {
          // A well-known port held by something else on this machine: say so, in the table too.
          const none = { status: 'crashed' as const, waitedMs: 0, output: '' };
          table.push({ driver: name.split(':')[0], row: name.slice(name.indexOf(':') + 2), withShim: none, withoutShim: none, pass: true, skipped: h });
          process.stdout.write(`driver suite: ${name}: NOT RUN, ${h}\n`);
          return;
        }
        // Killed at the cap: a whole T past when the shim's deadline was due.
        const capMs = h.dueMs + T + 100;
        const pair: Pair = await runRow({ ...h, tag: `${h.scenario}-hang`, patienceMs: capMs });
        const problems = hangProblems(pair, h.phase, h.dueMs, capMs - 100);
        table.push({ driver: h.driver, row: h.row, ...pair, pass: problems.length === 0 });
        expect(problems).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

  row('http: Content-Length body stops halfway', () => ({
    driver: 'http',
    scenario: 'halfway',
    row: 'Content-Length body stops halfway',
    port: need(rows).port,
    phase: 'read',
    dueMs: T,
  }));

  row('fetch: Content-Length body stops halfway', () => ({
    driver: 'fetch',
    scenario: 'halfway',
    row: 'Content-Length body stops halfway',
    port: need(rows).port,
    phase: 'read',
    dueMs: T,
  }));

  row(`nodemailer: SMTP server never greets, port ${SMTP_PORT} (port table)`, () =>
    typeof smtpWellKnown === 'string'
      ? smtpWellKnown
      : {
          driver: 'nodemailer',
          scenario: 'send',
          row: `SMTP server never greets, port ${SMTP_PORT} (port table)`,
          port: smtpWellKnown.port,
          phase: 'read',
          dueMs: T,
        },
  );

  row('nodemailer: SMTP server never greets, free port, rule protocol=server-first', () => {
    const port = need(smtpFree).port;
    return {
      driver: 'nodemailer',
      scenario: 'send',
      row: 'SMTP server never greets, free port, rule protocol=server-first',
      port,
      rules: `127.0.0.1:${port} protocol=server-first`,
      phase: 'read',
      dueMs: T,
    };
  });

  row('mysql2: MariaDB SIGSTOPped after it started listening', () => {
    const server = need(mariadb);
    // A refused connect would mean the server is gone, not frozen: say so rather than blame the client.
    if (!server.alive()) throw new Error(`mariadbd exited before the row: ${server.log()}`);
    const port = server.port;
    return {
      driver: 'mysql2',
      scenario: 'connect',
      row:
        mariadbElsewhere === undefined
          ? `MariaDB SIGSTOPped after listening, port ${MYSQL_PORT} (port table)`
          : `MariaDB SIGSTOPped after listening, free port (${mariadbElsewhere}), rule protocol=server-first`,
      port,
      rules: mariadbElsewhere === undefined ? undefined : `127.0.0.1:${port} protocol=server-first`,
      phase: 'read',
      dueMs: T,
    };
  });

  row('ioredis: redis SIGSTOPped during a BLPOP with its own timeout of 2 T', () => {
    const s = need(redis);
    return {
      driver: 'ioredis',
      scenario: 'warm-blpop',
      row: 'redis SIGSTOPped during BLPOP timeout 2 T: ends at 2 T + T',
      port: s.port,
      phase: 'read',
      dueMs: 3 * T,
      warm: true,
      afterCall: () => s.freeze(),
    };
  });
});
