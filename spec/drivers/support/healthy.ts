/**
 * The healthy rows: traffic real applications send that no deadline may cut (see rows.ts for
 * the pass rule). Declared once, run by healthy.spec.ts in enforce mode and by
 * healthy-report.spec.ts in report mode, where the shim must also report nothing.
 */
import { Row, saveRows } from './report';
import { T } from './matrix';
import { Pair, RunSpec, ServerSaw, healthyProblems, pool, runRow, stopAll } from './rows';
import { NodeServer, Server, startMosquitto, startNodeServer, startPostgres, startRedis } from './servers';

/** The servers the healthy rows talk to, one set per file. */
interface Servers {
  redis: Server;
  postgres: Server;
  mosquitto: Server;
  rows: NodeServer;
  ws: NodeServer;
  sink: NodeServer;
  h2: NodeServer;
}

/** One healthy row. */
interface HealthyRow {
  driver: string;
  scenario: string;
  row: string;
  port: (s: Servers) => number;
  /** A rule for the row's destination, when the row is about one. */
  rules?: (port: number) => string;
  /** What the server itself must have logged. */
  saw?: (s: Servers) => ServerSaw;
}

/** How long a healthy run may take after its call: the longest row is 4 T, plus start-up on a busy machine. */
const PATIENCE_MS = 4 * T + 10000;
/** Healthy rows at once (each is two children that mostly wait). */
const AT_ONCE = 4;
const READ_3T = (port: number) => `127.0.0.1:${port} read=${3 * T}ms`;

const ROWS: HealthyRow[] = [
  {
    driver: 'ws',
    scenario: 'ws-send',
    row: 'sends every 1.5 T, no answer, for 4 T',
    port: (s) => s.ws.port,
    saw: (s) => ({ server: s.ws, what: 'message', count: (d) => d.sent ?? -1 }),
  },
  {
    driver: 'ws',
    scenario: 'ws-ping',
    row: "server's pings every 1.5 T, for 4 T",
    port: (s) => s.ws.port,
    saw: (s) => ({ server: s.ws, what: 'pong', count: (d) => d.sent ?? -1 }),
  },
  { driver: 'mqtt', scenario: 'mqtt-publish', row: 'QoS 0 publish every 1.5 T, subscriber gets all', port: (s) => s.mosquitto.port },
  { driver: 'ioredis', scenario: 'blpop', row: 'BLPOP timeout 2 T, answered after 1.5 T', port: (s) => s.redis.port },
  { driver: 'node-redis', scenario: 'blpop', row: 'BLPOP timeout 2 T, answered after 1.5 T', port: (s) => s.redis.port },
  { driver: 'bullmq', scenario: 'bullmq-idle', row: 'worker on an empty queue 4 T, then a job', port: (s) => s.redis.port },
  { driver: 'pg', scenario: 'listen', row: 'LISTEN idle 3 T, then a NOTIFY', port: (s) => s.postgres.port },
  { driver: 'pg', scenario: 'slow-query', row: 'pg_sleep(1.5 T), rule read=3 T', port: (s) => s.postgres.port, rules: READ_3T },
  {
    driver: 'shipper',
    scenario: 'ship',
    row: 'log line every 1.5 T, rule protocol=stream',
    port: (s) => s.sink.port,
    rules: (port) => `127.0.0.1:${port} protocol=stream`,
    saw: (s) => ({ server: s.sink, what: 'line', count: (d) => d.sent ?? -1 }),
  },
  { driver: 'http', scenario: 'long-poll', row: 'long poll answered after 1.5 T, rule read=3 T', port: (s) => s.rows.port, rules: READ_3T },
  { driver: 'http', scenario: 'sse', row: 'SSE for 4 T, an event every 1.5 T', port: (s) => s.rows.port },
  { driver: 'http', scenario: 'upload', row: 'upload, a 16 KiB piece every 1.5 T', port: (s) => s.rows.port },
  { driver: 'fetch', scenario: 'drip', row: 'Content-Length body, 1 KiB every T / 2', port: (s) => s.rows.port },
  {
    driver: 'http2',
    scenario: 'h2-idle',
    row: 'response stream idle for 2 T',
    port: (s) => s.h2.port,
    saw: (s) => ({ server: s.h2, what: 'request', count: () => 1 }),
  },
];

async function startServers(): Promise<Servers> {
  const [redis, postgres, mosquitto, rows, ws, sink, h2] = await Promise.all([
    startRedis(),
    startPostgres(),
    startMosquitto(),
    startNodeServer('rows', { timeoutMs: T }),
    startNodeServer('ws', { timeoutMs: T }),
    startNodeServer('sink', { timeoutMs: T }),
    startNodeServer('h2', { timeoutMs: T }),
  ]);
  return { redis, postgres, mosquitto, rows, ws, sink, h2 };
}

/** Declares every healthy row, in `mode`. */
export function describeHealthyRows(mode: 'enforce' | 'report'): void {
  const suffix = mode === 'report' ? ' (report mode)' : '';
  describe(`healthy traffic, unmodified clients, with the shim in ${mode} mode and without (T = ${T} ms)`, () => {
    let servers: Servers | undefined;
    let results = new Map<string, Promise<{ pair: Pair; problems: string[] }>>();
    const table: Row[] = [];

    beforeAll(async () => {
      servers = await startServers();
      const s = servers;
      // Every row starts now, AT_ONCE at a time; each test below waits for its own.
      results = pool(
        AT_ONCE,
        ROWS.map((r): [string, () => Promise<{ pair: Pair; problems: string[] }>] => [
          `${r.driver} ${r.scenario}`,
          async () => {
            const port = r.port(s);
            const spec: RunSpec = {
              driver: r.driver,
              scenario: r.scenario,
              port,
              rules: r.rules?.(port),
              mode,
              // The driver too: ioredis and node-redis both run 'blpop' on one redis-server,
              // and under load their rows can overlap (the key is `list:<tag>`).
              tag: `${r.driver}-${r.scenario}-${mode}`,
              patienceMs: PATIENCE_MS,
            };
            const pair = await runRow(spec);
            return { pair, problems: await healthyProblems(pair, spec, r.saw?.(s)) };
          },
        ]),
      );
    }, 60000);

    afterAll(async () => {
      // Let every row finish (a failed one included) before its servers go.
      await Promise.allSettled([...results.values()]);
      await stopAll(Object.values(servers ?? {}));
      saveRows(`healthy-${mode}`, table);
    }, 60000);

    for (const r of ROWS) {
      test(
        `${r.driver}: ${r.row}${suffix}`,
        async () => {
          const result = results.get(`${r.driver} ${r.scenario}`);
          if (!result) throw new Error('servers did not start');
          const { pair, problems } = await result;
          table.push({ driver: r.driver, row: `${r.row}${suffix}`, ...pair, pass: problems.length === 0, ...(mode === 'report' ? { mode } : {}) });
          expect(problems).toEqual([]);
        },
        PATIENCE_MS * Math.ceil(ROWS.length / AT_ONCE) + 30000,
      );
    }
  });
}
