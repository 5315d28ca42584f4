'use strict';
// Test plumbing shared by the client scripts, kept apart from the "legacy" client code itself.
// The script gets its scenario as one JSON argument and reports on stdout, one JSON line each:
//   {"event":"warm"}   warmed up; waiting for SIGUSR2 (sent once the test has made its fault)
//   {"event":"call"}   the measured operation has been called (its synchronous work is done)
//   {"ok":true,...} or {"ok":false,"code":...}   the verdict: the first success or failure
// and exits right after the verdict, so no reconnect loop outlives it. The verdict also carries
// what the shim published meanwhile (every `timeoutsocket:timeout`, `timeoutsocket:late` and
// `timeoutsocket:never` message, summarised) and, when the shim is preloaded, its getStats() and deadline mode.
const diagnosticsChannel = require('node:diagnostics_channel');
const { dirname, join } = require('node:path');
const { performance } = require('node:perf_hooks');

const options = JSON.parse(process.argv[2] || '{}');
let before = 0;
let after = 0;
let done = false;

// Subscribing by name works before the shim creates the channel, and only makes the shim publish.
const reports = [];
for (const name of ['timeoutsocket:timeout', 'timeoutsocket:late', 'timeoutsocket:never']) {
  diagnosticsChannel.subscribe(name, (m) => {
    reports.push({
      channel: name,
      phase: m && m.phase,
      timeout: m && m.timeout,
      elapsed: m && typeof m.elapsed === 'number' ? Math.round(m.elapsed) : undefined,
      enforced: m && m.enforced,
      protocol: m && m.protocol,
      rule: m && m.rule !== undefined ? String(m.rule && m.rule.text !== undefined ? m.rule.text : m.rule) : undefined,
    });
  });
}

/** The preloaded shim's counters and mode (from its own build), or undefined without the shim. */
function shimState() {
  const register = Object.keys(require.cache).find((k) => /[\\/]dist[\\/]lib[\\/]register\.js$/.test(k));
  if (!register) return undefined;
  const api = require(join(dirname(register), 'index.js'));
  return {
    stats: api.getStats(),
    mode: typeof api.getDeadlineMode === 'function' ? api.getDeadlineMode() : 'enforce (no report mode in this build)',
  };
}

function emit(record) {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function elapsed() {
  // A verdict can come before the clock starts (a refused connect): it took no time then.
  return before ? Math.round(performance.now() - (after || performance.now())) : undefined;
}

// Libraries wrap errors: report the first error in the chain that carries a code.
// Some (memcached) keep only the text, "connect ECONNREFUSED 127.0.0.1:port": read it back.
function fromText(err) {
  const text = String((err && err.message) || err);
  const match = /\b(connect|read|write)\s+(E[A-Z]+)\b/.exec(text);
  return match ? { code: match[2], syscall: match[1], phase: match[1], name: 'parsed from message', message: text } : err;
}

function coded(err) {
  const seen = new Set();
  const queue = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    if (e.code) return e;
    queue.push(e.cause, e.originalError, e.lastNodeError, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return fromText(err);
}

/** Report success (once) and exit. */
function ok(detail) {
  if (done) return;
  done = true;
  emit({ ok: true, elapsedMs: elapsed(), syncMs: after ? Math.round(after - before) : undefined, detail, reports, shim: shimState() });
  process.exit(0);
}

/** Report the first failure (once) and exit. `source` says where it surfaced. */
function fail(err, source) {
  if (done) return;
  done = true;
  const e = coded(err);
  emit({
    ok: false,
    source,
    // nodemailer puts its own step code (ESOCKET) in `code` and keeps the system error's in
    // `originalCode`: the system code is the one the table compares.
    code: e && (e.originalCode || e.code),
    libraryCode: e && e.originalCode ? e.code : undefined,
    syscall: e && e.syscall,
    phase: e && e.phase,
    name: e && (e.name || (e.constructor && e.constructor.name)),
    message: String((e && e.message) || e),
    outer: e === err ? undefined : String((err && err.message) || err),
    elapsedMs: elapsed(),
    syncMs: after ? Math.round(after - before) : undefined,
    reports,
    shim: shimState(),
  });
  process.exit(0);
}

/**
 * Run the operation under test. The clock starts once the library's own synchronous work is
 * done, including what it defers to the next tick or a queued setImmediate (node-redis
 * encodes commands later; http hands the body to the socket when the agent assigns it):
 * this immediate runs after those.
 */
function measure(operation) {
  before = performance.now();
  const result = operation();
  setImmediate(() => {
    after = performance.now();
    emit({ event: 'call' });
  });
  return result;
}

/**
 * Start the clock now, with nothing called: for a fault that begins in the middle of an
 * operation (a body that stops halfway starts its clock at the first body bytes).
 */
function mark() {
  if (before) return;
  before = performance.now();
  after = before;
  emit({ event: 'call' });
}

/**
 * A healthy row fails on the first sign of trouble the library itself reports: each of
 * `events` on `emitter` ('error', 'close', 'offline', 'reconnect', ...) is a failure.
 */
function watch(emitter, events, what) {
  for (const event of events) {
    emitter.on(event, (arg) => fail(arg instanceof Error ? arg : new Error(`${what} emitted '${event}'`), `${what} '${event}' event`));
  }
  return emitter;
}

/** Say "warm" and wait for the test's SIGUSR2 (the listener is in place before the line goes out). */
function warm() {
  // A signal listener does not keep the event loop alive, and an idle keep-alive socket is
  // unref'd by its agent: hold the loop open until the signal comes.
  const hold = setInterval(() => {}, 60000);
  const go = new Promise((resolve) => process.once('SIGUSR2', () => {
    clearInterval(hold);
    resolve();
  }));
  emit({ event: 'warm' });
  return go;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

process.on('uncaughtException', (err) => fail(err, 'uncaughtException'));
process.on('unhandledRejection', (err) => fail(err, 'unhandledRejection'));

module.exports = { options, ok, fail, measure, mark, watch, warm, sleep, host: '127.0.0.1' };
