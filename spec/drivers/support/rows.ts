/**
 * The second kind of row: one client script doing one thing that real applications do, run
 * twice at once (plain, and with the shim preloaded at T), each row with its own pass rule.
 *
 * - A healthy row is traffic that must not be cut: both runs succeed, the library reported no
 *   error, close, offline or reconnect event (the client scripts watch for them, see
 *   clients/harness.js `watch`), the other end got everything that was sent, and the shim was
 *   really watching (its getStats() counted the sockets and armed deadlines). In report mode,
 *   the shim must also have reported nothing: no `timeoutsocket:timeout`, `timeoutsocket:late` or
 *   `timeoutsocket:never` message, and getStats() counted no reported deadline.
 * - A hang row is a fault past the first byte: the plain run is still waiting at its cap and is
 *   killed; with the shim it ends in ETIMEDOUT, in the right phase, within T ± 20% of when the
 *   deadline was due (the moment the fault began, plus whatever the protocol allows on top).
 */
import { ClientOptions, ClientRun, Outcome } from './client';
import { T, SLACK } from './matrix';
import type { NodeServer, Server } from './servers';

/** Both columns of one row. */
export interface Pair {
  withShim: Outcome;
  withoutShim: Outcome;
}

/** What a row runs: a client script and scenario against a port, with the shim's settings. */
export interface RunSpec {
  driver: string;
  scenario: string;
  port: number;
  /** TIMEOUTSOCKET_RULES for the run. */
  rules?: string;
  /** TIMEOUTSOCKET_MODE for the run (enforce unless given). */
  mode?: 'enforce' | 'report';
  /** The row's name in server logs; each column appends `-shim` / `-plain`. */
  tag: string;
  /** How long after its call a run may take before it counts as hung and is killed. */
  patienceMs: number;
  /** The client says "warm" and waits; this runs before both are let go. */
  afterWarm?: () => void;
  /** The client script warms up and waits for the go (implied by afterWarm). */
  warm?: boolean;
  /** Runs once both clients have made their call (a fault that must begin after it). */
  afterCall?: () => void;
}

/** The tag a column's run uses. */
export function tagOf(spec: Pick<RunSpec, 'tag'>, shim: boolean): string {
  return `${spec.tag}-${shim ? 'shim' : 'plain'}`;
}

/** Run the two columns of a row at the same time. */
export async function runRow(spec: RunSpec): Promise<Pair> {
  const base = (shim: boolean): ClientOptions => ({
    driver: spec.driver,
    scenario: spec.scenario,
    port: spec.port,
    shim,
    timeoutMs: T,
    tag: tagOf(spec, shim),
    rules: spec.rules,
    mode: spec.mode,
  });
  const runs = [new ClientRun(base(true)), new ClientRun(base(false))];
  try {
    if (spec.warm || spec.afterWarm) {
      await Promise.all(runs.map((r) => r.warm()));
      spec.afterWarm?.();
      for (const r of runs) r.go();
    }
    if (spec.afterCall) {
      const after = spec.afterCall;
      // Only once both have called; a run that ends before its call is reported by outcome().
      void Promise.all(runs.map((r) => r.whenCalled())).then(() => after());
    }
    const [withShim, withoutShim] = await Promise.all(runs.map((r) => r.outcome(spec.patienceMs)));
    return { withShim, withoutShim };
  } finally {
    await Promise.all(runs.map((r) => r.kill()));
  }
}

// --- expectations: each returns what is wrong, so a failing row says why --------------------

function show(o: Outcome): string {
  const { output, ...rest } = o;
  return `${JSON.stringify(rest)}\n--- child output ---\n${output}`;
}

/** What the client scripts report in their verdict's `detail` on the healthy rows. */
interface Detail {
  /** Messages (or bytes) the client sent that the other end must have got. */
  sent?: number;
  /** What came back or was confirmed by the other end. */
  received?: unknown;
  /** What `received` must be, when it is not `sent`. */
  expected?: unknown;
  /** The least `sent` that makes the row mean something (pings seen, say). */
  atLeast?: number;
}

/** What the server itself must have logged for a healthy run, per tag. */
export interface ServerSaw {
  server: NodeServer;
  /** The start of the logged line after the tag: 'message', 'line', 'pong', 'POST /upload'. */
  what: string;
  /** How many such lines: from the client's own count, or fixed. */
  count: (detail: Detail) => number;
}

/** The checks of a healthy column. */
async function healthyColumn(o: Outcome, column: string, mode: 'enforce' | 'report', tag: string, saw?: ServerSaw): Promise<string[]> {
  if (o.status !== 'ok') return [`${column}: expected success with no error, close or reconnect, got ${show(o)}`];
  const problems: string[] = [];
  const d = (o.detail ?? {}) as Detail;
  const want = d.expected !== undefined ? d.expected : d.sent;
  if (want !== undefined && JSON.stringify(d.received ?? want) !== JSON.stringify(want)) {
    problems.push(`${column}: the other end did not get everything: expected ${JSON.stringify(want)}, got ${JSON.stringify(d.received)}`);
  }
  if (d.atLeast !== undefined && (d.sent ?? 0) < d.atLeast) {
    problems.push(`${column}: only ${d.sent} sent, the row needs at least ${d.atLeast} to mean something`);
  }
  if (saw) {
    const count = saw.count(d);
    // The server logs what it got as it gets it: give the last line a moment to arrive.
    if (!(await saw.server.waitSeen(tag, count, 2000, saw.what))) {
      problems.push(`${column}: the server logged ${saw.server.seen(tag, saw.what)} '${saw.what}' for ${tag}, expected ${count}`);
    }
  }
  if (column === 'with shim') {
    if (!o.shim) problems.push('with shim: the shim was not loaded in the child');
    else {
      // A healthy row proves nothing if no deadline was ever in force.
      if (o.shim.stats.sockets === 0 || o.shim.stats.armed === 0) {
        problems.push(`with shim: no deadline was ever armed (getStats() ${JSON.stringify(o.shim.stats)})`);
      }
      if (mode === 'report' && o.shim.mode !== 'report') problems.push(`with shim: expected report mode, the shim says '${o.shim.mode}'`);
      if (o.shim.stats.reported) problems.push(`with shim: getStats() counted ${o.shim.stats.reported} reported deadline(s)`);
    }
    const reports = o.reports ?? [];
    if (reports.length > 0) problems.push(`with shim: the shim reported ${JSON.stringify(reports)}`);
  }
  return problems;
}

/** Problems with a healthy row, [] if none. */
export async function healthyProblems(pair: Pair, spec: RunSpec, saw?: ServerSaw): Promise<string[]> {
  const mode = spec.mode ?? 'enforce';
  return [
    ...(await healthyColumn(pair.withShim, 'with shim', mode, tagOf(spec, true), saw)),
    ...(await healthyColumn(pair.withoutShim, 'without shim', mode, tagOf(spec, false), saw)),
  ];
}

/**
 * Problems with a hang row, [] if none: the shim ended it with ETIMEDOUT in `phase`, `dueMs`
 * ± 20% of T after the fault began (T, or a blocking command's own timeout plus T), and the
 * plain run was still waiting at its cap.
 */
export function hangProblems(pair: Pair, phase: string, dueMs: number, capMs: number): string[] {
  const problems: string[] = [];
  const o = pair.withShim;
  if (o.status !== 'error' || o.code !== 'ETIMEDOUT') {
    problems.push(`with shim: expected ETIMEDOUT (${phase}) at ${dueMs} ms, got ${show(o)}`);
  } else {
    if (o.phase !== phase) problems.push(`with shim: expected phase '${phase}', got '${o.phase}' (${o.message})`);
    const ms = o.elapsedMs ?? -1;
    const low = dueMs - SLACK * T;
    const high = dueMs + SLACK * T;
    if (ms < low || ms > high) problems.push(`with shim: ETIMEDOUT after ${ms} ms, outside ${low}..${high} ms of the fault`);
  }
  const p = pair.withoutShim;
  if (p.status !== 'hung' || p.waitedMs < capMs - 100) {
    problems.push(`without shim: the fault did not bite (expected still waiting at ${capMs} ms), got ${show(p)}`);
  }
  return problems;
}

/** Servers a row file owns; stopped together. */
export async function stopAll(servers: Array<Server | undefined>): Promise<void> {
  await Promise.all(servers.map((s) => s?.stop()));
}

/**
 * Run `jobs` with at most `limit` at once, each job's result kept under its key. Healthy rows
 * mostly wait (a message every 1.5 T), so several at once cost little CPU and keep the suite
 * short; the hang rows, whose timing is asserted, run one at a time.
 */
export function pool<R>(limit: number, jobs: Array<[string, () => Promise<R>]>): Map<string, Promise<R>> {
  const results = new Map<string, Promise<R>>();
  let running = 0;
  const queue: Array<() => void> = [];
  const acquire = (): Promise<void> => {
    if (running < limit) {
      running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  };
  // A finished job hands its slot to the next one waiting, or gives it back.
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else running -= 1;
  };
  for (const [key, job] of jobs) {
    const result = acquire().then(job);
    void result.then(release, release);
    results.set(key, result);
  }
  return results;
}
