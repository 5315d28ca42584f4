'use strict';
// Test plumbing shared by the client scripts, kept apart from the "legacy" client code itself.
// The script gets its scenario as one JSON argument and reports on stdout, one JSON line each:
//   {"event":"warm"}   warmed up; waiting for SIGUSR2 (sent once the test has made its fault)
//   {"event":"call"}   the measured operation has been called (its synchronous work is done)
//   {"ok":true,...} or {"ok":false,"code":...}   the verdict: the first success or failure
// and exits right after the verdict, so no reconnect loop outlives it.
const { performance } = require('node:perf_hooks');

const options = JSON.parse(process.argv[2] || '{}');
let before = 0;
let after = 0;
let done = false;

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
  emit({ ok: true, elapsedMs: elapsed(), syncMs: after ? Math.round(after - before) : undefined, detail });
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
    code: e && e.code,
    syscall: e && e.syscall,
    phase: e && e.phase,
    name: e && (e.name || (e.constructor && e.constructor.name)),
    message: String((e && e.message) || e),
    outer: e === err ? undefined : String((err && err.message) || err),
    elapsedMs: elapsed(),
    syncMs: after ? Math.round(after - before) : undefined,
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

module.exports = { options, ok, fail, measure, warm, sleep, host: '127.0.0.1' };
