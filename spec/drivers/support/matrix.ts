/**
 * The rows every driver is put through: the same unmodified client script twice at once, one
 * child with the shim preloaded (`node -r dist/lib/register.js`) and one without, against a
 * real server on loopback, healthy or under a fault.
 *
 * With the shim, every fault must end in ETIMEDOUT from the shim, in the phase that ran out,
 * T ± 20% after the call (its synchronous part excluded); without it, the same fault must
 * still be hanging at 2 × T, when the child is killed: the fault bites. Healthy and idle rows
 * succeed either way, and a refused port stays ECONNREFUSED.
 */
import { ClientOptions, ClientRun, Outcome, Scenario } from './client';
import { fullAcceptQueue, refusedPort } from './faults';
import { Row, saveRows } from './report';
import type { Server } from './servers';

/** The timeout T given to the shim, in ms. */
export const T = Number(process.env.DRIVER_SUITE_T_MS ?? 1000);
/** How far from T a timeout may land: ± 20%. */
export const SLACK = 0.2;
/** Idle rows stay idle for longer than T. */
const IDLE_MS = Math.round(1.5 * T);
/**
 * Large enough to outlast loopback buffering: with the receiver stopped, its receive buffer
 * does not grow (autotuning runs when the application reads), so the kernel takes about
 * 4 MiB (`ss -tn` here: ~3.7 MiB Send-Q plus ~124 KiB Recv-Q). Four times that, and no more:
 * building and encoding the value costs CPU that the rows running alongside also need.
 */
const BIG_BYTES = 16 * 1024 * 1024;
/** Each test's own bound; the global watchdog bounds the whole run. */
const TEST_TIMEOUT_MS = 30000 + 10 * T;

/** A driver under test. */
export interface DriverSpec {
  /** Its client script: clients/<driver>.js. */
  driver: string;
  /** Starts the real server it talks to. */
  start: () => Promise<Server>;
  /** Whether the client script has the pub/sub ('subscribe') scenario. */
  subscribe?: boolean;
}

interface Pair {
  withShim: Outcome;
  withoutShim: Outcome;
}

interface PairOptions {
  scenario: Scenario;
  port: number;
  /** Called once both clients have warmed up, before they are let go (warm-* scenarios). */
  afterWarm?: () => void;
  patienceMs: number;
}

async function runPair(driver: string, o: PairOptions): Promise<Pair> {
  const base: Omit<ClientOptions, 'shim'> = {
    driver,
    scenario: o.scenario,
    port: o.port,
    timeoutMs: T,
    idleMs: IDLE_MS,
    bigBytes: BIG_BYTES,
  };
  const runs = [new ClientRun({ ...base, shim: true }), new ClientRun({ ...base, shim: false })];
  try {
    if (o.scenario.startsWith('warm-')) {
      await Promise.all(runs.map((r) => r.warm()));
      o.afterWarm?.();
      for (const r of runs) r.go();
    }
    const [withShim, withoutShim] = await Promise.all(runs.map((r) => r.outcome(o.patienceMs)));
    return { withShim, withoutShim };
  } finally {
    await Promise.all(runs.map((r) => r.kill()));
  }
}

// --- expectations: each returns what is wrong, so a failing row says why --------------------

function describeOutcome(o: Outcome): string {
  const { output, ...rest } = o;
  return `${JSON.stringify(rest)}\n--- child output ---\n${output}`;
}

function succeeded(o: Outcome, column: string): string[] {
  return o.status === 'ok' ? [] : [`${column}: expected success, got ${describeOutcome(o)}`];
}

function timedOut(o: Outcome, phase: string): string[] {
  const problems: string[] = [];
  if (o.status !== 'error' || o.code !== 'ETIMEDOUT') {
    return [`with shim: expected ETIMEDOUT (${phase}), got ${describeOutcome(o)}`];
  }
  if (o.phase !== phase) problems.push(`with shim: expected phase '${phase}', got '${o.phase}' (${o.message})`);
  const ms = o.elapsedMs ?? -1;
  if (ms < T * (1 - SLACK) || ms > T * (1 + SLACK)) {
    problems.push(`with shim: ETIMEDOUT after ${ms} ms, outside T ± ${SLACK * 100}% (${T * (1 - SLACK)}..${T * (1 + SLACK)} ms; call took ${o.syncMs} ms synchronously)`);
  }
  return problems;
}

/** How long a client gets after its call before it counts as hung and is killed: 2 × T, plus timer slack. */
const HANG_AFTER_MS = 2 * T + 100;

function hung(o: Outcome): string[] {
  return o.status === 'hung' && o.waitedMs >= 2 * T
    ? []
    : [`without shim: the fault did not bite (expected still waiting at ${2 * T} ms), got ${describeOutcome(o)}`];
}

function refused(o: Outcome, column: string): string[] {
  return o.status === 'error' && o.code === 'ECONNREFUSED'
    ? []
    : [`${column}: expected ECONNREFUSED, got ${describeOutcome(o)}`];
}

/** Declares the whole matrix for one driver. */
export function describeDriver(spec: DriverSpec): void {
  describe(`${spec.driver}, unmodified, with and without the shim (T = ${T} ms)`, () => {
    let server: Server | undefined;
    const rows: Row[] = [];

    beforeAll(async () => {
      server = await spec.start();
    }, 60000);

    afterEach(() => {
      // A row that failed half-way must not leave the server frozen for the next one.
      server?.thaw();
    });

    afterAll(async () => {
      await server?.stop();
      saveRows(spec.driver, rows);
    }, 20000);

    const live = (): Server => {
      if (!server) throw new Error('server did not start');
      return server;
    };

    /** One row: run the pair, record it in the table, then assert. */
    const row = (name: string, body: () => Promise<{ pair: Pair; problems: string[] }>) =>
      test(
        name,
        async () => {
          const { pair, problems } = await body();
          rows.push({ driver: spec.driver, row: name, ...pair, pass: problems.length === 0 });
          expect(problems).toEqual([]);
        },
        TEST_TIMEOUT_MS,
      );

    row('healthy server', async () => {
      const pair = await runPair(spec.driver, { scenario: 'request', port: live().port, patienceMs: 10 * T });
      return { pair, problems: [...succeeded(pair.withShim, 'with shim'), ...succeeded(pair.withoutShim, 'without shim')] };
    });

    row('idle longer than T, then a request', async () => {
      const pair = await runPair(spec.driver, { scenario: 'idle', port: live().port, patienceMs: IDLE_MS + 10 * T });
      return { pair, problems: [...succeeded(pair.withShim, 'with shim'), ...succeeded(pair.withoutShim, 'without shim')] };
    });

    if (spec.subscribe) {
      row('subscriber idle longer than T', async () => {
        const pair = await runPair(spec.driver, { scenario: 'subscribe', port: live().port, patienceMs: IDLE_MS + 10 * T });
        return { pair, problems: [...succeeded(pair.withShim, 'with shim'), ...succeeded(pair.withoutShim, 'without shim')] };
      });
    }

    row('server hung after warm-up', async () => {
      const s = live();
      const pair = await runPair(spec.driver, { scenario: 'warm-request', port: s.port, afterWarm: () => s.freeze(), patienceMs: HANG_AFTER_MS });
      s.thaw();
      return { pair, problems: [...timedOut(pair.withShim, 'read'), ...hung(pair.withoutShim)] };
    });

    row('server frozen before connect', async () => {
      const s = live();
      s.freeze();
      try {
        const pair = await runPair(spec.driver, { scenario: 'request', port: s.port, patienceMs: HANG_AFTER_MS });
        return { pair, problems: [...timedOut(pair.withShim, 'read'), ...hung(pair.withoutShim)] };
      } finally {
        s.thaw();
      }
    });

    row('accept queue full, SYN dropped', async () => {
      const dropping = await fullAcceptQueue();
      try {
        const pair = await runPair(spec.driver, { scenario: 'request', port: dropping.port, patienceMs: HANG_AFTER_MS });
        return { pair, problems: [...timedOut(pair.withShim, 'connect'), ...hung(pair.withoutShim)] };
      } finally {
        await dropping.stop();
      }
    });

    row('peer stops reading during a large write', async () => {
      const s = live();
      const pair = await runPair(spec.driver, { scenario: 'warm-write', port: s.port, afterWarm: () => s.freeze(), patienceMs: HANG_AFTER_MS });
      s.thaw();
      return { pair, problems: [...timedOut(pair.withShim, 'write'), ...hung(pair.withoutShim)] };
    });

    row('refused port', async () => {
      const port = await refusedPort();
      const pair = await runPair(spec.driver, { scenario: 'request', port, patienceMs: 10 * T });
      return { pair, problems: [...refused(pair.withShim, 'with shim'), ...refused(pair.withoutShim, 'without shim')] };
    });
  });
}
