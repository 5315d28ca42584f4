/**
 * The client side of `--instructions` (bench/instructions.ts): a fixed amount of work, done one
 * unit after another, so that a process's instruction count is a function of that amount.
 *
 * `node [-r register] dist/bench/counted.js <workload> <port> <units> [warmup] [segments]` does
 * `warmup` units (so that JIT tier-up happens before the counted part; default
 * {@link DEFAULT_WARMUP}), then `units` more, and exits. Its last stdout line, a
 * {@link CountedProcess}, says what the process ran as.
 *
 * With `segments` (what `--instructions` uses), the `units` are done in that many equal segments
 * and the process calls {@link MARK_FUNCTION} at every boundary, and every as many units before
 * them through the warm-up ({@link planMarks}), nowhere else. Run under callgrind with `--dump-before=uv_os_getpriority`, each call
 * dumps the count since the last one, so one process yields the instructions of each segment
 * (bench/instructions.ts). Without it, nothing is marked: the older way, two processes with
 * two amounts, whose difference over the difference of the amounts is the cost of one unit.
 *
 * Workloads:
 * - `pingpong`: 64-byte round trips over one connection to the echo port.
 * - `churn`: short connections to the churn port: connect, write 16 bytes, read the echo and
 *   the server's FIN, close.
 * - `bulk`: whole transfers to the discard port, the CPU bench's own (bench/client.ts
 *   `sendBulk`, {@link BULK_TRANSFER}): connect, 256 MiB in 64 KiB writes each waiting for
 *   'drain', the server's `ok`, close. One unit = one transfer.
 * - `http`: GET requests through one keep-alive `http.Agent` connection to the http port.
 * - `fetch`: the same requests with `fetch()` (undici's pool, keep-alive).
 * - `awaitable-recv`: the ping-pong written with `await socket.sendAll()` / `await socket.recv()`
 *   (needs `-r register`: the API is the shim's).
 * - `awaitable-promise-socket`: the same with promise-socket's `write` / `read`, the nearest peer,
 *   its timeout armed (`setTimeout(60 s)`, as its README shows) as the recv side's are.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import { BULK_TRANSFER, sendBulk } from './client';

const HOST = '127.0.0.1';
/** Units done before the counted ones by default: the difference of two runs never holds them. */
const DEFAULT_WARMUP = 1000;
let WARMUP = DEFAULT_WARMUP;
const MESSAGE = Buffer.alloc(64, 'p');
/** promise-socket's timeout in the awaitable comparison: the recv side's armed value (60 s). */
const PEER_TIMEOUT_MS = 60_000;
const REQUEST = Buffer.alloc(16, 'c');
/** bulk: the counted transfers' writes that libuv queued (sendBulk), reported in {@link CountedProcess}. */
let queuedWrites = 0;
/** The workload this process runs. */
let counting = '';

/**
 * The native function a mark calls (`os.getPriority()` runs libuv's `uv_os_getpriority`), for
 * callgrind's `--dump-before`: nothing else in a counted process calls it, so each dump falls
 * exactly at a boundary between segments. The mark itself costs the same few hundred
 * instructions on every side, once per segment.
 */
export const MARK_FUNCTION = 'uv_os_getpriority';
/** The unit counts (warm-up included) at which {@link passed} marks; empty when not segmenting. */
let marks: number[] = [];
/** The next entry of {@link marks}, Infinity when none is left. */
let nextMark = Infinity;

/**
 * Sets the marks: every `units / segments` units, from the end of the warm-up back to the start
 * and on to the end. The counted segments are the last `segments`; the warm-up's marks are
 * there for V8: a branch first taken in optimised code deoptimises it, and with marks only in
 * the counted range TurboFan compiled the loop again inside it (up to 27 M instructions in one
 * segment of 250 short connections). Marked from the start, the mark is part of the feedback
 * before the code is optimised.
 */
function planMarks(units: number, segments: number): void {
  const size = units / segments;
  const first = WARMUP % size;
  marks = Array.from({ length: (WARMUP - first) / size + segments + 1 }, (_, k) => first + k * size);
  nextMark = marks.shift() ?? Infinity;
}

/** How many marks a process with these amounts makes ({@link planMarks}): callgrind writes one part more. */
export function markCount(warmup: number, units: number, segments: number): number {
  const size = units / segments;
  return Math.floor(warmup / size) + segments + 1;
}

/** Called with the units done so far, before each unit and after the last: marks a boundary. */
function passed(done: number): void {
  if (done !== nextMark) return;
  os.getPriority();
  nextMark = marks.shift() ?? Infinity;
}

/** `count` round trips one after another on `socket`: write 64 bytes, wait for 64 to come back. */
function roundTrips(socket: net.Socket, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      while (received >= MESSAGE.length && done < count) {
        received -= MESSAGE.length;
        done += 1;
        passed(done);
        if (done < count) socket.write(MESSAGE);
      }
      if (done === count) {
        socket.off('data', onData);
        socket.off('error', reject);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    passed(0);
    socket.write(MESSAGE);
  });
}

async function pingpong(port: number, units: number): Promise<void> {
  const socket = net.connect({ host: HOST, port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  await roundTrips(socket, WARMUP + units);
  socket.destroy();
}

/** The awaitable API, as far as these workloads use it (present only where the shim is installed). */
type AwaitableSocket = net.Socket & {
  recv(size: number): Promise<Buffer>;
  sendAll(data: Buffer): Promise<void>;
};

async function connected(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: HOST, port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** The ping-pong with `await sendAll()` / `await recv()`, the loop of bench/client.ts. */
async function awaitableRecv(port: number, units: number): Promise<void> {
  const socket = (await connected(port)) as AwaitableSocket;
  if (typeof socket.recv !== 'function') throw new Error('awaitable-recv needs -r dist/lib/register.js');
  for (let i = 0; i < WARMUP + units; i += 1) {
    passed(i);
    await socket.sendAll(MESSAGE);
    let received = 0;
    while (received < MESSAGE.length) {
      const chunk = await socket.recv(MESSAGE.length - received);
      if (chunk.length === 0) throw new Error('the echo server closed the connection');
      received += chunk.length;
    }
  }
  passed(WARMUP + units);
  socket.destroy();
}

/** The nearest peer: promise-socket's `write` / `read`, the loop of bench/client.ts. */
interface PeerSocket {
  write(data: Buffer): Promise<number>;
  read(size?: number): Promise<Buffer | string | undefined>;
  setTimeout(ms: number): unknown;
}

async function awaitablePromiseSocket(port: number, units: number): Promise<void> {
  // promise-socket is ESM-only: load it with a real dynamic import from this CommonJS build.
  const { PromiseSocket } = (await import('promise-socket')) as { PromiseSocket: new (socket: net.Socket) => PeerSocket };
  const socket = await connected(port);
  const peer = new PromiseSocket(socket);
  // Armed as the recv side is: promise-socket's README gives its timeout as `setTimeout(ms)`
  // (Node's idle timer, refreshed by every read and write), long enough never to fire.
  peer.setTimeout(PEER_TIMEOUT_MS);
  for (let i = 0; i < WARMUP + units; i += 1) {
    passed(i);
    await peer.write(MESSAGE);
    if ((await peer.read(MESSAGE.length)) === undefined) throw new Error('the echo server closed the connection');
  }
  passed(WARMUP + units);
  socket.destroy();
}

function shortConnection(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(REQUEST));
    socket.on('data', ignore);
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
}

async function churn(port: number, units: number): Promise<void> {
  for (let i = 0; i < WARMUP + units; i += 1) {
    passed(i);
    await shortConnection(port);
  }
  passed(WARMUP + units);
}

/** Whole bulk transfers, one connection each: the CPU bench's transfer (bench/client.ts). */
async function bulk(port: number, units: number): Promise<void> {
  const chunk = Buffer.alloc(BULK_TRANSFER.chunkBytes, 'b');
  // Marked from the first transfer, as every workload is (planMarks): a mark that never matched
  // would silence every later one.
  for (let i = 0; i < WARMUP + units; i += 1) {
    passed(i);
    const queued = await sendBulk(port, BULK_TRANSFER.bytes, chunk);
    if (i >= WARMUP) queuedWrites += queued;
  }
  passed(WARMUP + units);
}

function get(agent: http.Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: HOST, port, path: '/', agent }, (response) => {
      response.on('data', ignore);
      response.once('end', resolve);
      response.once('error', reject);
    });
    request.once('error', reject);
  });
}

async function httpAgent(port: number, units: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < WARMUP + units; i += 1) {
    passed(i);
    await get(agent, port);
  }
  passed(WARMUP + units);
  agent.destroy();
}

async function fetchLoop(port: number, units: number): Promise<void> {
  const url = `http://${HOST}:${port}/`;
  for (let i = 0; i < WARMUP + units; i += 1) {
    passed(i);
    const response = await fetch(url);
    await response.arrayBuffer();
  }
  passed(WARMUP + units);
}

function ignore(): void {}

const WORKLOADS: Record<string, (port: number, units: number) => Promise<void>> = {
  pingpong,
  churn,
  bulk,
  http: httpAgent,
  fetch: fetchLoop,
  'awaitable-recv': awaitableRecv,
  'awaitable-promise-socket': awaitablePromiseSocket,
};

/** The names `counted.js` accepts. */
export const COUNTED_WORKLOADS = Object.keys(WORKLOADS);

/** What a counted process printed at its end: what it ran as, for the counter to check. */
export interface CountedProcess {
  /** Whether the shim was installed (`setSocketTimeout` on the prototype). */
  readonly patched: boolean;
  /** A fresh socket's deadlines (the process default), or null when not patched. */
  readonly armed: { connect: number | null; read: number | null; write: number | null } | null;
  /** The process deadline mode, or null when not patched. */
  readonly mode: 'enforce' | 'report' | null;
  /**
   * bulk only: of the counted transfers' writes, how many libuv queued (the kernel's send buffer
   * was full) rather than wrote at once. How many it queues depends on timing (valgrind slows the
   * client, not the server), and a queued write costs more on either side, so the counter
   * reports it next to the count.
   */
  readonly queuedWrites?: number;
}

/** This process as a {@link CountedProcess}; reads the mode from the copy the preload loaded. */
function describeProcess(): CountedProcess {
  if (typeof (net.Socket.prototype as { setSocketTimeout?: unknown }).setSocketTimeout !== 'function') {
    return { patched: false, armed: null, mode: null, ...bulkFigures() };
  }
  const probe = new net.Socket();
  const armed = probe.getSocketTimeout();
  probe.destroy();
  const { getDeadlineMode } = require('../lib/mode') as typeof import('../lib/mode');
  return { patched: true, armed, mode: getDeadlineMode(), ...bulkFigures() };
}

function bulkFigures(): Pick<CountedProcess, 'queuedWrites'> {
  return counting === 'bulk' ? { queuedWrites } : {};
}

if (require.main === module) {
  const [name = '', port = '', units = '', warmup, segments] = process.argv.slice(2);
  if (warmup !== undefined) WARMUP = Number(warmup);
  if (!(Number.isInteger(WARMUP) && WARMUP >= 0)) {
    process.stderr.write(`counted.js: warmup must be a count >= 0, got ${JSON.stringify(warmup)}\n`);
    process.exit(2);
  }
  if (segments !== undefined) {
    const parts = Number(segments);
    if (!(Number.isInteger(parts) && parts > 0 && Number(units) % parts === 0)) {
      process.stderr.write(`counted.js: segments must be a whole number > 0 that divides units (${units}), got ${JSON.stringify(segments)}\n`);
      process.exit(2);
    }
    planMarks(Number(units), parts);
  }
  const run = WORKLOADS[name];
  counting = name;
  if (run === undefined || !(Number(port) > 0) || !(Number(units) >= 0)) {
    process.stderr.write(`usage: counted.js <${COUNTED_WORKLOADS.join('|')}> <port> <units> [warmup] [segments]\n`);
    process.exit(2);
  }
  run(Number(port), Number(units)).then(
    () => {
      if (nextMark !== Infinity) {
        // A workload that skipped a mark: its parts would not be the segments the counter expects.
        process.stderr.write(`counted.js: ${name} left marks unmade, from ${nextMark} on\n`);
        process.exit(1);
      }
      process.stdout.write(`${JSON.stringify(describeProcess())}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`counted ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
