/**
 * The benchmark's client side: one workload per process, run by the orchestrator (run.ts) under
 * plain Node and again with `-r dist/lib/register.js` and every timeout armed.
 *
 * `node [-r register] dist/bench/client.js <workload> '<params json>'` prints one JSON line, a
 * {@link ClientResult}. The code is the same in both runs; only the preload differs. Work is
 * counted inside a measured window after a warm-up, and CPU is this process's own
 * `process.cpuUsage()` over that window, so the figure that matters (work per client
 * CPU-second) does not depend on how busy the server or the machine was.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

const HOST = '127.0.0.1';

/** What a client prints: one JSON line. */
export interface ClientResult {
  readonly workload: string;
  readonly variant: string;
  /** Whether the shim was installed in this process (`setSocketTimeout` on the prototype). */
  readonly patched: boolean;
  /** The deadlines a fresh socket had (the process default), or null when not patched. */
  readonly armed: { connect: number | null; read: number | null; write: number | null } | null;
  /** The process deadline mode (`enforce` or `report`), or null when not patched. */
  readonly mode: 'enforce' | 'report' | null;
  /** Units of work done in the measured window (`unit` names them). */
  readonly work: number;
  readonly unit: string;
  /** Client CPU (user + system) and wall time over the measured window, in ms. */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** Workload-specific figures (memory, lateness). */
  readonly extra: Record<string, number | string>;
  /** Set instead of figures when the workload cannot run here (e.g. the awaitable API is missing). */
  readonly pending?: string;
}

/** A window of measurement: CPU and wall time since `start()`. */
class Meter {
  private cpu = process.cpuUsage();
  private wall = performance.now();
  start(): void {
    this.cpu = process.cpuUsage();
    this.wall = performance.now();
  }
  /**
   * The window's CPU, also split into user and system time: the shim's extra work is user-space
   * code, the kernel's share (syscalls, the loopback's copies) is the same on both sides, so the
   * split shows which one a ratio moved by.
   */
  stop(): { cpuMs: number; wallMs: number; userMs: number; systemMs: number } {
    const cpu = process.cpuUsage(this.cpu);
    return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - this.wall, userMs: cpu.user / 1000, systemMs: cpu.system / 1000 };
  }
}

interface Common {
  readonly port: number;
}

function isPatched(): boolean {
  return typeof (net.Socket.prototype as { setSocketTimeout?: unknown }).setSocketTimeout === 'function';
}

function armedDefaults(): ClientResult['armed'] {
  if (!isPatched()) return null;
  const probe = new net.Socket();
  const timeouts = probe.getSocketTimeout();
  probe.destroy();
  return timeouts;
}

/**
 * The deadline mode the shim runs in. Loaded only where the shim is installed, from the copy the
 * preload already loaded (dist/lib/mode.js), so it costs the plain side nothing.
 */
function deadlineMode(): ClientResult['mode'] {
  if (!isPatched()) return null;
  const { getDeadlineMode } = require('../lib/mode') as typeof import('../lib/mode');
  return getDeadlineMode();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Connects one socket; rejects on error or after `ms`. */
function connect(port: number, ms = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${HOST}:${port} not done within ${ms} ms`));
    }, ms);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** Connects `count` sockets, `concurrency` at a time. */
async function connectMany(port: number, count: number, concurrency: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i += concurrency) {
    const batch = Math.min(concurrency, count - i);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => connect(port)))));
  }
  return sockets;
}

/**
 * Runs `loop` on every connection until told to stop, counting round trips; measures the window
 * between `warmupMs` and `warmupMs + durationMs`, or, given `messages`, from `warmupMs` until
 * that many more round trips are done (a fixed amount of work, for the outside A/B in ab.sh,
 * which times whole processes).
 */
async function timedRoundTrips(
  sockets: net.Socket[],
  warmupMs: number,
  durationMs: number,
  loop: (socket: net.Socket, running: () => boolean, count: () => void) => Promise<void>,
  messages?: number,
): Promise<{ work: number; cpuMs: number; wallMs: number }> {
  let running = true;
  let trips = 0;
  let stopAt = Infinity;
  let reached = (): void => {};
  const loops = sockets.map((socket) =>
    loop(
      socket,
      () => running,
      () => {
        trips += 1;
        if (trips === stopAt) reached();
      },
    ),
  );
  await delay(warmupMs);
  const meter = new Meter();
  const before = trips;
  meter.start();
  if (messages === undefined) await delay(durationMs);
  else
    await new Promise<void>((resolve) => {
      reached = resolve;
      stopAt = before + messages;
    });
  const work = trips - before;
  const { cpuMs, wallMs } = meter.stop();
  running = false;
  await Promise.race([Promise.allSettled(loops), delay(2000)]);
  for (const socket of sockets) socket.destroy();
  return { work, cpuMs, wallMs };
}

const MESSAGE_BYTES = 64;

/** Event-style ping-pong: write 64 bytes, count the reply on 'data', write again. */
function eventLoop(socket: net.Socket, running: () => boolean, count: () => void): Promise<void> {
  const message = Buffer.alloc(MESSAGE_BYTES, 'p');
  socket.setNoDelay(true);
  return new Promise((resolve) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received < MESSAGE_BYTES) return;
      received -= MESSAGE_BYTES;
      count();
      if (running()) socket.write(message);
      else resolve();
    });
    socket.once('close', () => resolve());
    socket.write(message);
  });
}

/** The awaitable API, as far as this workload uses it (present only where the shim is installed). */
type AwaitableSocket = net.Socket & {
  recv(size: number): Promise<Buffer>;
  sendAll(data: Buffer): Promise<void>;
};

/** Awaitable ping-pong with timeoutsocket's `sendAll` / `recv`. */
async function recvLoop(socket: net.Socket, running: () => boolean, count: () => void): Promise<void> {
  const s: AwaitableSocket = socket;
  const message = Buffer.alloc(MESSAGE_BYTES, 'p');
  socket.setNoDelay(true);
  while (running()) {
    await s.sendAll(message);
    let received = 0;
    while (received < MESSAGE_BYTES) {
      const chunk = await s.recv(MESSAGE_BYTES - received);
      if (chunk.length === 0) return;
      received += chunk.length;
    }
    count();
  }
}

/** The nearest peer: promise-socket's `write` / `read`. */
interface PeerSocket {
  write(data: Buffer): Promise<number>;
  read(size?: number): Promise<Buffer | string | undefined>;
  setTimeout(ms: number): unknown;
}

async function promiseSocketLoop(socket: net.Socket, running: () => boolean, count: () => void): Promise<void> {
  // promise-socket is ESM-only: load it with a real dynamic import from this CommonJS build.
  const { PromiseSocket } = (await import('promise-socket')) as {
    PromiseSocket: new (socket: net.Socket) => PeerSocket;
  };
  const peer = new PromiseSocket(socket);
  // Armed as the recv side is (every timeout, 60 s): promise-socket's README gives its timeout
  // as `setTimeout(ms)`, Node's idle timer refreshed by every read and write.
  peer.setTimeout(60_000);
  const message = Buffer.alloc(MESSAGE_BYTES, 'p');
  socket.setNoDelay(true);
  while (running()) {
    await peer.write(message);
    // Readable.read(n) hands back exactly n bytes once they are buffered.
    const chunk = await peer.read(MESSAGE_BYTES);
    if (chunk === undefined) return;
    count();
  }
}

interface PingPongParams extends Common {
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** A fixed amount of round trips after the warm-up instead of `durationMs` (ab.sh). */
  readonly messages?: number;
  readonly variant?: 'events' | 'recv' | 'promise-socket';
}

async function pingpong(p: PingPongParams): Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>> {
  const variant = p.variant ?? 'events';
  if (variant === 'recv' && typeof (net.Socket.prototype as { recv?: unknown }).recv !== 'function') {
    return { variant, work: 0, unit: 'messages', cpuMs: 0, wallMs: 0, extra: {}, pending: 'API not installed' };
  }
  if (p.messages !== undefined && !(Number.isInteger(p.messages) && p.messages >= 1)) {
    throw new RangeError(`pingpong: messages must be a whole number >= 1, got ${JSON.stringify(p.messages)}`);
  }
  const loop = variant === 'recv' ? recvLoop : variant === 'promise-socket' ? promiseSocketLoop : eventLoop;
  const sockets = await connectMany(p.port, p.connections, p.connections);
  for (const socket of sockets) socket.on('error', () => {});
  const result = await timedRoundTrips(sockets, p.warmupMs, p.durationMs, loop, p.messages);
  return { variant, unit: 'messages', extra: {}, ...result };
}

/**
 * One bulk transfer as the CPU bench makes it (bench/run.ts, both plans) and `--instructions`
 * counts it (bench/counted.ts): 256 MiB in writes of 64 KiB, four times the stream's
 * highWaterMark, so every write returns false and waits for 'drain'.
 */
export const BULK_TRANSFER = { bytes: 256 * 2 ** 20, chunkBytes: 64 * 1024 } as const;

interface BulkParams extends Common {
  readonly bytes: number;
  readonly warmupBytes: number;
  readonly chunkBytes: number;
  /** Measured transfers of `bytes` each, one connection per transfer; all of them count. */
  readonly transfers?: number;
}

/** Resolves at the next 'drain', rejects on 'error'; leaves no listener behind either way. */
function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      socket.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      socket.off('drain', onDrain);
      reject(err);
    };
    socket.once('drain', onDrain);
    socket.once('error', onError);
  });
}

/**
 * One bulk transfer: writes `bytes` through one connection honouring backpressure, then waits
 * for the server's `ok`. Also what `--instructions` counts per bulk transfer (bench/counted.ts).
 * @returns how many of its writes libuv queued (not written at once: the kernel's send buffer
 * was full), the writes the shim's write deadline watches; the rest completed synchronously.
 */
export async function sendBulk(port: number, bytes: number, chunk: Buffer): Promise<number> {
  const socket = await connect(port);
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', () => {});
    socket.once('end', () => resolve());
    socket.once('error', reject);
  });
  let sent = 0;
  let queued = 0;
  while (sent < bytes) {
    const piece = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent);
    sent += piece.length;
    if (!socket.write(piece)) {
      // A write completed synchronously has been counted out of the stream already.
      if (socket.writableLength > 0) queued += 1;
      await drained(socket);
    }
  }
  socket.end();
  await done;
  socket.destroy();
  return queued;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

/**
 * Several whole transfers in one process (connect, every byte, the server's answer, close), and
 * the result is all of them: their bytes over their summed CPU. Not the median transfer: CPU per
 * transfer varies by up to a factor of two from one transfer to the next on a small shared
 * machine, and a median drops exactly the transfers that cost more, which may be where the
 * shim's cost is (more waits for 'drain', more write deadlines armed). The sum is what a user
 * pays for the bytes; several transfers per process average the spread instead of hiding it.
 * Each transfer's CPU is kept in `extra.cpuMsPerTransfer`.
 */
async function bulk(p: BulkParams): Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>> {
  const chunk = Buffer.alloc(p.chunkBytes, 'b');
  await sendBulk(p.port, p.warmupBytes, chunk);
  const cpu: number[] = [];
  const wall: number[] = [];
  const queued: number[] = [];
  for (let i = 0; i < (p.transfers ?? 1); i += 1) {
    const meter = new Meter();
    meter.start();
    queued.push(await sendBulk(p.port, p.bytes, chunk));
    const { cpuMs, wallMs } = meter.stop();
    cpu.push(cpuMs);
    wall.push(wallMs);
  }
  const extra = {
    transfers: cpu.length,
    cpuMsPerTransfer: cpu.map((ms) => ms.toFixed(1)).join(' '),
    writesPerTransfer: Math.ceil(p.bytes / p.chunkBytes),
    queuedWritesPerTransfer: queued.join(' '),
  };
  return { variant: 'events', work: (cpu.length * p.bytes) / 2 ** 20, unit: 'MiB', cpuMs: sum(cpu), wallMs: sum(wall), extra };
}

interface ChurnParams extends Common {
  readonly connections: number;
  readonly warmup: number;
  readonly concurrency: number;
}

/**
 * One short connection: connect, send 16 bytes, read the echo and the server's FIN, close. The
 * server closes first (our FIN only answers its FIN, `allowHalfOpen` being false), so TIME_WAIT
 * lands on the server's side and thousands of connections do not use up our ephemeral ports.
 */
function shortConnection(port: number, request: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(request));
    socket.on('data', () => {});
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
}

async function churnConnections(port: number, total: number, concurrency: number): Promise<void> {
  const request = Buffer.alloc(16, 'c');
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started += 1;
      await shortConnection(port, request);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function churn(p: ChurnParams): Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>> {
  await churnConnections(p.port, p.warmup, p.concurrency);
  const meter = new Meter();
  meter.start();
  await churnConnections(p.port, p.connections, p.concurrency);
  const { cpuMs, wallMs, userMs, systemMs } = meter.stop();
  return { variant: 'events', work: p.connections, unit: 'connections', cpuMs, wallMs, extra: { userMs, systemMs } };
}

interface MemoryParams extends Common {
  readonly sockets: number;
  readonly concurrency: number;
}

/** Full collections until the heap stops shrinking (bounded), then a sample. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('memory workload needs --expose-gc');
  for (let i = 0; i < 5; i += 1) {
    gc();
    await delay(20);
  }
  return process.memoryUsage();
}

async function memory(p: MemoryParams): Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>> {
  // Warm the code paths (and the heap's first pages) with a few sockets first.
  for (const socket of await connectMany(p.port, 50, 50)) socket.destroy();
  await delay(50);
  const before = await settledMemory();
  const meter = new Meter();
  meter.start();
  const sockets = await connectMany(p.port, p.sockets, p.concurrency);
  const after = await settledMemory();
  const { cpuMs, wallMs } = meter.stop();
  const extra = {
    sockets: sockets.length,
    heapPerSocket: (after.heapUsed - before.heapUsed) / sockets.length,
    rssPerSocket: (after.rss - before.rss) / sockets.length,
    externalPerSocket: (after.external - before.external) / sockets.length,
  };
  // RST, not FIN: a client that closes first leaves 10,000 ports in TIME_WAIT for a minute,
  // enough to starve the next rounds of ephemeral ports.
  for (const socket of sockets) socket.resetAndDestroy();
  return { variant: 'events', work: sockets.length, unit: 'sockets', cpuMs, wallMs, extra };
}

interface AccuracyParams {
  readonly silentPort: number;
  readonly loadPort: number;
  readonly sockets: number;
  readonly timeoutMs: number;
  readonly spreadMs: number;
  readonly loadConnections: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * Lateness of fired deadlines under load. Patched: `sockets` connections to a silent server each
 * send a request with a `timeoutMs` reply deadline, spread over `spreadMs`, while ping-pong load
 * runs; lateness = when the error arrived - (when the request was written + timeoutMs). Plain:
 * the same schedule with a bare `setTimeout(timeoutMs)` per socket, the floor any timer-based
 * deadline in this process can reach.
 */
async function accuracy(p: AccuracyParams): Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>> {
  const patched = isPatched();
  const load = await connectMany(p.loadPort, p.loadConnections, p.loadConnections);
  const silent = await connectMany(p.silentPort, p.sockets, 200);
  let running = true;
  let trips = 0;
  for (const socket of load) {
    socket.on('error', () => {});
    void eventLoop(
      socket,
      () => running,
      () => void (trips += 1),
    );
  }
  await delay(300);
  const lateness: number[] = [];
  const wrongErrors: string[] = [];
  const request = Buffer.alloc(16, 'q');
  const allFired = new Promise<void>((resolve) => {
    const settle = (late: number) => {
      lateness.push(late);
      if (lateness.length + wrongErrors.length === silent.length) resolve();
    };
    let next = 0;
    const started = performance.now();
    // One interval hands out the requests on schedule: a timer per socket would add its own lateness.
    const pacer = setInterval(() => {
      const due = Math.min(silent.length, Math.floor(((performance.now() - started) / p.spreadMs) * silent.length) + 1);
      for (; next < due; next += 1) {
        const socket = silent[next];
        let writtenAt = 0;
        if (patched) {
          socket.setSocketTimeout({ read: p.timeoutMs });
          socket.once('error', (err: Error & { code?: string }) => {
            if (err.code !== 'ETIMEDOUT') wrongErrors.push(String(err.code));
            settle(performance.now() - writtenAt - p.timeoutMs);
          });
        }
        socket.write(request);
        writtenAt = performance.now();
        if (!patched) setTimeout(() => settle(performance.now() - writtenAt - p.timeoutMs), p.timeoutMs);
      }
      if (next === silent.length) clearInterval(pacer);
    }, 1);
  });
  const meter = new Meter();
  meter.start();
  const bound = p.spreadMs + p.timeoutMs + 10_000;
  await Promise.race([allFired, delay(bound)]);
  const { cpuMs, wallMs } = meter.stop();
  running = false;
  for (const socket of [...load, ...silent]) if (!socket.destroyed) socket.resetAndDestroy();
  lateness.sort((a, b) => a - b);
  const extra = {
    fired: lateness.length,
    wrongErrors: wrongErrors.length,
    p50: percentile(lateness, 0.5),
    p99: percentile(lateness, 0.99),
    max: lateness[lateness.length - 1] ?? NaN,
    loadMessages: trips,
  };
  return { variant: patched ? 'socket deadline' : 'bare setTimeout', work: lateness.length, unit: 'timeouts', cpuMs, wallMs, extra };
}


interface RequestsParams extends Common {
  /** Requests in the measured window, one after another over one keep-alive connection. */
  readonly requests: number;
  readonly warmup: number;
}

function agentGet(agent: http.Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: HOST, port, path: '/', agent }, (response) => {
      response.on('data', () => {});
      response.once('end', resolve);
      response.once('error', reject);
    });
    request.once('error', reject);
  });
}

/** An http keep-alive client: `requests` GETs through one `http.Agent` against the http port. */
async function httpAgent(p: RequestsParams): Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < p.warmup; i += 1) await agentGet(agent, p.port);
  const meter = new Meter();
  meter.start();
  for (let i = 0; i < p.requests; i += 1) await agentGet(agent, p.port);
  const { cpuMs, wallMs, userMs, systemMs } = meter.stop();
  agent.destroy();
  return { variant: 'events', work: p.requests, unit: 'requests', cpuMs, wallMs, extra: { userMs, systemMs } };
}

/** The same requests with `fetch()` (undici's pool keeps the connection alive). */
async function fetchRequests(p: RequestsParams): Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>> {
  const url = `http://${HOST}:${p.port}/`;
  const one = async (): Promise<void> => {
    const response = await fetch(url);
    await response.arrayBuffer();
  };
  for (let i = 0; i < p.warmup; i += 1) await one();
  const meter = new Meter();
  meter.start();
  for (let i = 0; i < p.requests; i += 1) await one();
  const { cpuMs, wallMs, userMs, systemMs } = meter.stop();
  return { variant: 'events', work: p.requests, unit: 'requests', cpuMs, wallMs, extra: { userMs, systemMs } };
}

const WORKLOADS: Record<string, (params: never) => Promise<Omit<ClientResult, 'workload' | 'patched' | 'armed' | 'mode'>>> = {
  pingpong,
  bulk,
  churn,
  memory,
  accuracy,
  http: httpAgent,
  fetch: fetchRequests,
};

async function main(argv: string[]): Promise<void> {
  const [workload = '', json = '{}'] = argv;
  const run = WORKLOADS[workload];
  if (run === undefined) throw new Error(`unknown workload ${JSON.stringify(workload)}: ${Object.keys(WORKLOADS).join(', ')}`);
  const result = await run(JSON.parse(json) as never);
  const line: ClientResult = { workload, patched: isPatched(), armed: armedDefaults(), mode: deadlineMode(), ...result };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench client: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
