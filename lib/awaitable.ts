/**
 * The awaitable socket API: Python's socket contract (blocking, timeout and non-blocking
 * modes; recv, send, sendall, connect_ex, accept, create_connection) as promises on every
 * `net.Socket` and `net.Server`.
 *
 * Calls are jobs in a per-socket FIFO per direction (two recvs never interleave bytes). A job
 * first tries to finish at once; if it cannot, non-blocking mode rejects it with
 * WouldBlockError, and the other modes wait for the stream event that can change the answer
 * ('readable', 'drain', 'close', a new connection), bounded by the mode's timeout. Waiting
 * never adds a 'data' listener nor switches the stream to flowing mode: bytes are taken with
 * `read(n)` only when a call completes, so a call that times out consumes nothing.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setImmediate, setTimeout } from 'node:timers';
import { isNonBlocking, normalizeTimeout, type PhaseTimeouts, type TimeoutSetting } from './config';
import { DUE_SLACK_MS, effectiveTimeouts, isOn, SETTING, standDown, type InternalSocket } from './engine';
import { AbortError, SocketClosedError, SocketTimeoutError, WouldBlockError } from './errors';

/** Options every awaitable call takes as its last argument. */
export interface CallOptions {
  /** Cancels the call: it rejects with an `AbortError` and, for receives, consumes nothing. */
  signal?: AbortSignal;
}

/** Options of {@link createConnection}. */
export interface CreateConnectionOptions extends CallOptions {
  /**
   * The socket's mode, as `setSocketTimeout` takes it: `null` blocking, milliseconds, or `0`
   * non-blocking (the connect itself still waits, bounded by the process default). Default:
   * the process default.
   */
  timeout?: TimeoutSetting;
}

/** What `connectEx` resolves to: `0` when connected, else a Node error code string. */
export type ConnectExResult = 0 | string;

type Direction = 'recv' | 'send' | 'accept';

/** Which phase's value bounds each kind of call (for a number setting they are all the same). */
const PHASE_OF: Record<Direction, keyof PhaseTimeouts> = { recv: 'read', send: 'write', accept: 'read' };

const EMPTY = Buffer.alloc(0);

const now = (): number => performance.now();

// ---------------------------------------------------------------------------------------------
// Jobs and the per-socket state that runs them.
// ---------------------------------------------------------------------------------------------

/** One pending call. `attempt` finishes it if it can and says whether it did. */
abstract class Job<T> {
  due = 0;
  settled = false;
  private abortListener: (() => void) | undefined;

  constructor(
    readonly direction: Direction,
    readonly syscall: string,
    private readonly resolveFn: (value: T) => void,
    private readonly rejectFn: (error: Error) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Tries to complete now; true once the job is settled. */
  abstract attempt(nonBlocking: boolean): boolean;

  /** Whether the job waits for its direction's stream event (false: its own callback wakes it). */
  waitsForEvent(): boolean {
    return true;
  }

  /** The deadline ran out. Receives and accepts reject and consume nothing. */
  expire(owner: AwaitTarget, timeout: number): void {
    const socket = owner as Partial<net.Socket>;
    this.reject(
      new SocketTimeoutError({
        phase: this.direction,
        syscall: this.syscall,
        timeout,
        address: socket.remoteAddress,
        port: socket.remotePort,
      }),
    );
  }

  /** Called when the job's abort signal fires while it is pending. */
  abort(): void {
    this.reject(new AbortError(this.syscall, this.signal?.reason));
  }

  watchAbort(onAbort: () => void): void {
    if (this.signal === undefined) return;
    this.abortListener = onAbort;
    this.signal.addEventListener('abort', onAbort, { once: true });
  }

  resolve(value: T): true {
    if (!this.settled) {
      this.settled = true;
      this.unwatchAbort();
      this.resolveFn(value);
    }
    return true;
  }

  reject(error: Error): true {
    if (!this.settled) {
      this.settled = true;
      this.unwatchAbort();
      this.rejectFn(error);
    }
    return true;
  }

  private unwatchAbort(): void {
    if (this.abortListener !== undefined) this.signal!.removeEventListener('abort', this.abortListener);
  }
}

/** A socket or a server driven through this API. */
type AwaitTarget = (InternalSocket | net.Server) & { [AWAIT]?: AwaitState };

const AWAIT = Symbol.for('timeoutsocket.await.v1');

/** Per socket (or server): the job queues, the one call timer, what the socket ended with. */
class AwaitState {
  readonly queues: Record<Direction, Job<unknown>[]> = { recv: [], send: [], accept: [] };
  /** The error the socket was destroyed with, until a call has reported it. */
  error: Error | undefined = undefined;
  /** connectEx bookkeeping. */
  connectState: 'idle' | 'pending' | 'connected' | 'failed' = 'idle';
  connectCode: string | undefined = undefined;
  connectWaiters: Array<() => void> = [];
  /** accept(): connections that arrived with nobody listening for them. */
  readonly arrivals: net.Socket[] = [];
  /** A server whose accept() was called: its waiting connections belong to the API. */
  accepting = false;
  overflowWarned = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerDue = 0;
  private confirming = false;
  private listening = { recv: false, send: false };

  /** Bound once, so adding and removing them allocates nothing per call. */
  readonly onRecvEvent = (): void => this.pump('recv');
  readonly onSendEvent = (): void => this.pump('send');
  readonly onCloseEvent = (): void => {
    this.pump('recv');
    this.pump('send');
    this.pump('accept');
  };
  readonly onError = (error: Error): void => {
    this.error ??= error;
  };

  constructor(readonly target: AwaitTarget) {}

  /** Queues a job, runs it at once if it is first in line. */
  enqueue<T>(job: Job<T>): void {
    const queue = this.queues[job.direction];
    queue.push(job as Job<unknown>);
    job.watchAbort(() => this.cancel(job as Job<unknown>));
    if (queue.length === 1) this.pump(job.direction);
  }

  /** Runs the jobs of one direction until one has to wait (or rejects it in non-blocking mode). */
  pump(direction: Direction): void {
    const queue = this.queues[direction];
    const timeouts = effectiveTimeouts(this.target as InternalSocket);
    const nonBlocking = isNonBlocking(timeouts);
    while (queue.length > 0) {
      const job = queue[0];
      if (job.settled || job.attempt(nonBlocking)) {
        queue.shift();
        continue;
      }
      if (nonBlocking) {
        job.reject(new WouldBlockError(job.syscall));
        queue.shift();
        continue;
      }
      const timeout = timeouts[PHASE_OF[direction]];
      if (job.due === 0 && isOn(timeout)) {
        job.due = now() + timeout;
        this.schedule(job.due);
      }
      this.listen(direction, job.waitsForEvent());
      return;
    }
    this.listen(direction, false);
  }

  private cancel(job: Job<unknown>): void {
    if (job.settled) return;
    job.abort();
    this.pump(job.direction);
  }

  /**
   * Adds the one listener a waiting direction needs, and removes it when nothing waits:
   * 'readable' (which Node also emits at EOF) for receives, 'drain' for sends. Accepts are woken
   * by the patch (a new connection, listen, close), and a socket's 'close' by the listener
   * {@link stateOf} adds once.
   */
  private listen(direction: Direction, on: boolean): void {
    if (direction === 'recv') {
      if (on) this.keepReadable();
    } else if (direction === 'send' && this.listening.send !== on) {
      this.listening.send = on;
      (this.target as EventEmitter)[on ? 'on' : 'removeListener']('drain', this.onSendEvent);
    }
  }

  /**
   * Once a receive had to wait, the 'readable' listener stays: adding and removing it around
   * every call costs two stream state changes and a tick per message. It keeps the stream in
   * paused mode, never flowing; the moment the application adds a 'data' listener (a pipe, a
   * stream reader) it is taken off again, and Node resumes the flow for that reader.
   */
  private keepReadable(): void {
    if (this.listening.recv) return;
    this.listening.recv = true;
    const emitter = this.target as EventEmitter;
    emitter.on('readable', this.onRecvEvent);
    if (!this.watchingDataListeners) {
      this.watchingDataListeners = true;
      emitter.on('newListener', this.onNewListener);
    }
  }

  private watchingDataListeners = false;

  readonly onNewListener = (event: string | symbol): void => {
    if (event !== 'data' || !this.listening.recv) return;
    this.listening.recv = false;
    (this.target as EventEmitter).removeListener('readable', this.onRecvEvent);
  };

  // The one timer: refreshed to the earliest due job, checked lazily, lag-proof.

  private schedule(due: number): void {
    if (this.timerDue !== 0 && this.timerDue <= due) return;
    const delay = Math.max(1, Math.ceil(due - now()));
    this.timerDue = due;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.onTimer(false), delay).unref();
    } else {
      (this.timer as unknown as { _idleTimeout: number })._idleTimeout = delay;
      this.timer.refresh();
    }
  }

  /**
   * `confirmed`: the second look, after pending I/O ran (as in the engine: a loop blocked across
   * the deadline may hold the answer unread); only then is an expired job's verdict final.
   */
  private onTimer(confirmed: boolean): void {
    const at = now();
    if (!confirmed) this.timerDue = 0;
    let expired = false;
    for (const direction of ['recv', 'send', 'accept'] as const) {
      const job = this.queues[direction][0];
      if (job === undefined || job.due === 0) continue;
      if (at < job.due - DUE_SLACK_MS) {
        this.schedule(job.due);
      } else if (!confirmed) {
        expired = true;
      } else {
        const timeout = effectiveTimeouts(this.target as InternalSocket)[PHASE_OF[direction]];
        job.expire(this.target, isOn(timeout) ? timeout : 0);
        this.pump(direction);
      }
    }
    // The loop may have been blocked while the answer arrived: let pending I/O run, then look again.
    if (expired && !this.confirming) {
      this.confirming = true;
      setImmediate(() => {
        this.confirming = false;
        this.onTimer(true);
      });
    }
  }
}

/** The API state of a socket or server, created on its first awaitable call. */
function stateOf(target: AwaitTarget): AwaitState {
  let state = target[AWAIT];
  if (state === undefined) {
    state = new AwaitState(target);
    target[AWAIT] = state;
    if (target instanceof net.Socket) {
      // From now on this socket is driven through calls: the destroying reply/write deadlines
      // stand down, and an error is delivered to the next call instead of crashing the process
      // (the one listener the API adds for good).
      standDown(target as InternalSocket);
      target.on('error', state.onError);
      target.on('close', state.onCloseEvent);
    }
  }
  return state;
}

/** Runs `job` on `target`: a promise that settles with it. */
function run<T>(target: AwaitTarget, make: (resolve: (v: T) => void, reject: (e: Error) => void) => Job<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const job = make(resolve, reject);
    if (job.signal?.aborted) {
      job.abort();
      return;
    }
    stateOf(target).enqueue(job);
  });
}

// ---------------------------------------------------------------------------------------------
// Argument checks: bad input names the bad value.
// ---------------------------------------------------------------------------------------------

const NO_OPTIONS: CallOptions = Object.freeze({});

function checkOptions(options: unknown, call: string): CallOptions {
  if (options === undefined) return NO_OPTIONS;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${call}: options must be an object like { signal }, got ${String(options)}`);
  }
  const { signal } = options as CallOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${call}: options.signal must be an AbortSignal, got ${String(signal)}`);
  }
  return options as CallOptions;
}

function checkSize(n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`recv(n): n must be a number of bytes, got ${typeof n === 'string' ? JSON.stringify(n) : String(n)}`);
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`recv(n): n must be an integer > 0, got ${n}`);
  return n;
}

function toBuffer(data: unknown, call: string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data);
  throw new TypeError(`${call}(data): data must be a Buffer, Uint8Array or string, got ${data === null ? 'null' : typeof data}`);
}

// ---------------------------------------------------------------------------------------------
// Receiving.
// ---------------------------------------------------------------------------------------------

interface ReadableInternals {
  _readableState?: { ended?: boolean };
}

/**
 * Takes up to `n` buffered bytes, the empty buffer at orderly EOF, or null when nothing is there
 * yet. Reading exactly what is returned leaves the rest buffered for the next call or stream reader.
 */
function takeBytes(socket: net.Socket, n: number): Buffer | null {
  const length = socket.readableLength;
  if (length > 0) return socket.read(Math.min(n, length)) as Buffer;
  if (socket.readableEnded) return EMPTY;
  if ((socket as ReadableInternals)._readableState?.ended) {
    socket.read(0); // lets the stream emit 'end', so the socket winds down as it would for any reader
    return EMPTY;
  }
  return null;
}

/** Why a call on a destroyed socket fails: its own error once, then "closed". */
function closedError(socket: net.Socket, syscall: string): Error {
  const state = (socket as AwaitTarget)[AWAIT];
  const error = state?.error;
  if (state !== undefined && error !== undefined) {
    state.error = undefined;
    return error;
  }
  return new SocketClosedError(syscall);
}

function isUnconnected(socket: net.Socket): boolean {
  return !socket.connecting && (socket as InternalSocket)._handle == null;
}

class RecvJob extends Job<Buffer> {
  constructor(
    private readonly socket: net.Socket,
    private readonly n: number,
    resolve: (b: Buffer) => void,
    reject: (e: Error) => void,
    signal: AbortSignal | undefined,
  ) {
    super('recv', 'recv', resolve, reject, signal);
  }

  attempt(): boolean {
    const bytes = takeBytes(this.socket, this.n);
    if (bytes !== null) return this.resolve(bytes);
    if (this.socket.destroyed) return this.reject(closedError(this.socket, 'recv'));
    if (isUnconnected(this.socket)) return this.reject(new SocketClosedError('recv', 'socket is not connected'));
    return false;
  }
}

function checkByteStream(socket: net.Socket, call: string): void {
  if (socket.readableEncoding !== null) {
    throw new TypeError(`${call}: the socket has an encoding set (${socket.readableEncoding}); recv works on bytes`);
  }
}

/**
 * Receives up to `n` bytes: as soon as any are there (buffered bytes first).
 * Resolves with an empty Buffer at orderly EOF, and on every call after it; rejects with
 * Node's `ECONNRESET` error after a reset, `SocketTimeoutError` (nothing consumed) in timeout
 * mode, `WouldBlockError` at once in non-blocking mode, `SocketClosedError` once closed.
 *
 * @example
 * ```ts
 * socket.setSocketTimeout(2000);
 * const reply = await socket.recv(4096);
 * if (reply.length === 0) console.log('peer closed');
 * ```
 */
export function recv(this: net.Socket, n: number, options?: CallOptions): Promise<Buffer> {
  try {
    const size = checkSize(n);
    const { signal } = checkOptions(options, 'recv');
    checkByteStream(this, 'recv');
    return run(this as AwaitTarget, (resolve, reject) => new RecvJob(this, size, resolve, reject, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Receives into `buffer` (up to its length) and resolves with the count; `0` at orderly EOF.
 * Same modes and errors as {@link recv}.
 *
 * @example
 * ```ts
 * const header = Buffer.alloc(8);
 * const count = await socket.recvInto(header);
 * ```
 */
export async function recvInto(this: net.Socket, buffer: Uint8Array, options?: CallOptions): Promise<number> {
  if (!(buffer instanceof Uint8Array)) {
    throw new TypeError(`recvInto(buffer): buffer must be a Buffer or Uint8Array, got ${buffer === null ? 'null' : typeof buffer}`);
  }
  if (buffer.length === 0) return 0;
  const bytes = await recv.call(this, buffer.length, options);
  buffer.set(bytes);
  return bytes.length;
}

// ---------------------------------------------------------------------------------------------
// Sending.
// ---------------------------------------------------------------------------------------------

function checkWritable(socket: net.Socket, syscall: string): Error | undefined {
  if (socket.destroyed) return closedError(socket, syscall);
  if (socket.writableEnded) return new SocketClosedError(syscall, 'socket was ended for writing');
  if (isUnconnected(socket)) return new SocketClosedError(syscall, 'socket is not connected');
  return undefined;
}

class SendJob extends Job<number> {
  constructor(
    private readonly socket: net.Socket,
    private readonly data: Buffer,
    resolve: (n: number) => void,
    reject: (e: Error) => void,
    signal: AbortSignal | undefined,
  ) {
    super('send', 'send', resolve, reject, signal);
  }

  attempt(): boolean {
    const closed = checkWritable(this.socket, 'send');
    if (closed) return this.reject(closed);
    const room = this.socket.writableHighWaterMark - this.socket.writableLength;
    if (room <= 0) return false;
    const count = Math.min(room, this.data.length);
    this.socket.write(count === this.data.length ? this.data : this.data.subarray(0, count));
    return this.resolve(count);
  }
}

/**
 * Python's `send`: accepts at most what fits in the socket's free write buffer (waiting for
 * room in blocking and timeout mode) and resolves with the count accepted. Send the rest with
 * another call, or use {@link sendAll}.
 *
 * @example
 * ```ts
 * let offset = 0;
 * while (offset < data.length) offset += await socket.send(data.subarray(offset));
 * ```
 */
export function send(this: net.Socket, data: Buffer | Uint8Array | string, options?: CallOptions): Promise<number> {
  try {
    const buffer = toBuffer(data, 'send');
    const { signal } = checkOptions(options, 'send');
    if (buffer.length === 0) return Promise.resolve(0);
    return run(this as AwaitTarget, (resolve, reject) => new SendJob(this, buffer, resolve, reject, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A stream handle's counters; a TLS handle's `_parent` is the TCP handle under it. */
interface CountingHandle {
  bytesWritten?: number;
  writeQueueSize?: number;
  _parent?: CountingHandle;
}

/** Where a write starts, in the units the kernel position is later measured in. */
interface WriteMark {
  /** Stream position (bytes the application wrote before this write). */
  plain: number;
  /** For TLS: ciphertext dispatched to the TCP handle before this write. */
  cipher: number | undefined;
}

function markWrite(socket: InternalSocket): WriteMark {
  const tcp = (socket._handle as CountingHandle | null)?._parent;
  return { plain: socket.bytesWritten, cipher: tcp?.bytesWritten };
}

/** Where the kernel is in a handle's stream: libuv writes in order, so every dispatched byte not still queued. */
function kernelPosition(handle: CountingHandle): number {
  return (handle.bytesWritten ?? 0) - (handle.writeQueueSize ?? 0);
}

/**
 * Bytes of a `total`-byte write that began at `mark` that have reached the kernel. Plain TCP:
 * exact. TLS: the TLS handle only counts whole writes, so the kernel position is read on the TCP
 * handle under it, in ciphertext, and scaled back to plaintext by this write's own ratio (an
 * estimate within one TLS record, 16 KiB).
 */
function bytesInKernel(socket: InternalSocket, mark: WriteMark, total: number): number {
  const handle = socket._handle as CountingHandle | null;
  if (handle == null) return 0;
  const tcp = handle._parent;
  let sent: number;
  if (tcp !== undefined && mark.cipher !== undefined) {
    const cipherOfThisWrite = (tcp.bytesWritten ?? 0) - mark.cipher;
    const cipherInKernel = kernelPosition(tcp) - mark.cipher;
    sent = cipherOfThisWrite > 0 ? Math.floor((cipherInKernel * total) / cipherOfThisWrite) : 0;
  } else {
    sent = kernelPosition(handle) - mark.plain;
  }
  return Math.max(0, Math.min(total, sent));
}

class SendAllJob extends Job<void> {
  private started = false;
  private done = false;
  private failure: Error | null | undefined = undefined;
  private start: WriteMark = { plain: 0, cipher: undefined };

  constructor(
    private readonly socket: InternalSocket,
    private readonly data: Buffer,
    resolve: () => void,
    reject: (e: Error) => void,
    signal: AbortSignal | undefined,
  ) {
    super('send', 'send', resolve, reject, signal);
  }

  attempt(nonBlocking: boolean): boolean {
    if (this.done) return this.failure ? this.reject(this.failure) : this.resolve();
    if (this.started) return false;
    const closed = checkWritable(this.socket, 'send');
    if (closed) return this.reject(closed);
    if (nonBlocking && this.socket.writableLength + this.data.length > this.socket.writableHighWaterMark) {
      return false; // would have to wait: the caller rejects with WouldBlockError, nothing written
    }
    this.started = true;
    this.start = markWrite(this.socket);
    this.socket.write(this.data, (error) => {
      this.done = true;
      // Node completes a write with no error when its socket was destroyed meanwhile (a reset):
      // that is a failure, with the bytes that made it out.
      this.failure = error ?? (this.socket.destroyed ? this.destroyedError() : null);
      (this.socket as AwaitTarget)[AWAIT]?.pump('send');
    });
    return nonBlocking ? this.resolve() : false;
  }

  /**
   * A write cannot be taken back from the queue: left open, the socket would go on sending the
   * rest after the caller was told it failed. So it is destroyed, and `bytesSent` is exactly
   * what reached the kernel, which is what the peer can still read.
   */
  private destroyedError(): Error {
    const error = (this.socket as { errored?: Error | null }).errored ?? new SocketClosedError('send');
    (error as { bytesSent?: number }).bytesSent = bytesInKernel(this.socket, this.start, this.data.length);
    return error;
  }

  /** Once the write is handed over, its own callback says when it is done: no 'drain' needed. */
  override waitsForEvent(): boolean {
    return !this.started;
  }

  override expire(owner: AwaitTarget, timeout: number): void {
    const error = new SocketTimeoutError({
      phase: 'send',
      timeout,
      address: this.socket.remoteAddress,
      port: this.socket.remotePort,
    });
    this.stop(error);
  }

  override abort(): void {
    if (!this.started) return super.abort();
    this.stop(new AbortError('send', this.signal?.reason));
  }

  private stop(error: SocketTimeoutError | AbortError): void {
    (error as { bytesSent?: number }).bytesSent = this.started ? bytesInKernel(this.socket, this.start, this.data.length) : 0;
    this.reject(error);
    if (this.started) this.socket.destroy();
  }
}

/**
 * Sends everything and resolves once it has been handed to the kernel, or rejects. A timeout
 * (or abort) midway rejects with `bytesSent`: the bytes that reached the kernel, not those
 * still queued; the socket is then destroyed, since the rest of a half-sent message cannot be
 * recalled. In non-blocking mode it writes only if everything fits the free write buffer, else
 * rejects with WouldBlockError having written nothing.
 *
 * @example
 * ```ts
 * try {
 *   await socket.sendAll(payload);
 * } catch (err) {
 *   if (err instanceof SocketTimeoutError) console.log(`${err.bytesSent} of ${payload.length} bytes went out`);
 * }
 * ```
 */
export function sendAll(this: net.Socket, data: Buffer | Uint8Array | string, options?: CallOptions): Promise<void> {
  try {
    const buffer = toBuffer(data, 'sendAll');
    const { signal } = checkOptions(options, 'sendAll');
    if (buffer.length === 0) return Promise.resolve();
    return run(this as AwaitTarget, (resolve, reject) => new SendAllJob(this as InternalSocket, buffer, resolve, reject, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Connecting.
// ---------------------------------------------------------------------------------------------

function errorCode(error: Error | undefined): string {
  const withCode = error as { code?: unknown; errors?: Array<{ code?: unknown }> } | undefined;
  if (typeof withCode?.code === 'string') return withCode.code;
  const first = withCode?.errors?.find((e) => typeof e.code === 'string');
  return typeof first?.code === 'string' ? first.code : 'ECONNABORTED';
}

function isConnected(socket: net.Socket): boolean {
  return !socket.connecting && !socket.destroyed && socket.remoteAddress !== undefined;
}

/** Starts a connect attempt and records how it ends. */
/**
 * Watches a connect attempt and records how it ends; with `args`, starts it first. A connect
 * that throws at once (a bad port) leaves the socket as it was, so a later call can try again.
 */
function startConnect(socket: net.Socket, state: AwaitState, args?: unknown[]): void {
  state.connectState = 'pending';
  const settle = (outcome: 'connected' | 'failed') => {
    socket.removeListener('connect', onConnect);
    socket.removeListener('close', onClose);
    state.connectState = outcome;
    if (outcome === 'failed') {
      state.connectCode = errorCode(state.error);
      state.error = undefined; // reported through connectEx, not again by the next call
    }
    for (const wake of state.connectWaiters.splice(0)) wake();
  };
  const onConnect = () => settle('connected');
  const onClose = () => settle('failed');
  socket.once('connect', onConnect);
  socket.once('close', onClose);
  if (args === undefined) return;
  try {
    (socket.connect as (...a: unknown[]) => net.Socket)(...args);
  } catch (error) {
    socket.removeListener('connect', onConnect);
    socket.removeListener('close', onClose);
    state.connectState = 'idle';
    // Node sets `connecting` before it validates the port (net.js connect → lookupAndConnect),
    // so a throw there would leave the socket looking busy for ever.
    (socket as { connecting: boolean }).connecting = false;
    throw error;
  }
}

function answer(socket: net.Socket, state: AwaitState): ConnectExResult {
  if (state.connectState === 'failed') return state.connectCode!;
  return isConnected(socket) ? 0 : errorCode(state.error);
}

/**
 * Python's `connect_ex`: connects and resolves with `0` or the failure's code instead of
 * rejecting. Blocking or timeout mode waits for the outcome (`'ECONNREFUSED'`, `'ETIMEDOUT'`,
 * `'ENOTFOUND'`, …). Non-blocking mode never waits; call it again to poll: `'EINPROGRESS'`
 * first, `'EALREADY'` while pending, `'EISCONN'` once connected, and the failure's code once it
 * failed (never `0` or `'EISCONN'` for a refused attempt), on every call after.
 *
 * @example
 * ```ts
 * socket.setBlocking(false);
 * let code = await socket.connectEx(6379, '127.0.0.1'); // 'EINPROGRESS'
 * while (code === 'EINPROGRESS' || code === 'EALREADY') {
 *   await sleep(10);
 *   code = await socket.connectEx(6379, '127.0.0.1');
 * }
 * ```
 */
export async function connectEx(this: net.Socket, ...args: unknown[]): Promise<ConnectExResult> {
  if (args.length === 0) throw new TypeError('connectEx: give a port and host, or an options object');
  const last = args[args.length - 1];
  const hasOptions = args.length > 1 && typeof last === 'object' && last !== null && !Array.isArray(last);
  const { signal } = hasOptions ? checkOptions(args.pop(), 'connectEx') : ({} as CallOptions);
  if (signal?.aborted) throw new AbortError('connectEx', signal.reason);
  const state = stateOf(this as AwaitTarget);
  const nonBlocking = isNonBlocking(effectiveTimeouts(this as InternalSocket));
  if (state.connectState === 'failed') return state.connectCode!;
  if (isConnected(this)) return 'EISCONN';
  if (state.connectState === 'pending' || this.connecting) {
    // A connect Node or a driver started (net.connect) is watched like our own.
    if (state.connectState !== 'pending') startConnect(this, state);
    if (nonBlocking) return 'EALREADY';
  } else {
    if (this.destroyed) throw new SocketClosedError('connect');
    startConnect(this, state, args);
    if (nonBlocking) return 'EINPROGRESS';
  }
  await waitForConnect(this, state, signal);
  return answer(this, state);
}

function waitForConnect(socket: net.Socket, state: AwaitState, signal: AbortSignal | undefined): Promise<void> {
  if (state.connectState !== 'pending') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      state.connectWaiters = state.connectWaiters.filter((w) => w !== wake);
      socket.destroy();
      reject(new AbortError('connectEx', signal!.reason));
    };
    const wake = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    state.connectWaiters.push(wake);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Python's `create_connection`: a new socket in the given mode, connected. Rejects with the
 * connect's own error (`ECONNREFUSED`, `ENOTFOUND`, `SocketTimeoutError` from the connect
 * deadline, …).
 *
 * @example
 * ```ts
 * const socket = await createConnection(6379, '127.0.0.1', { timeout: 2000 });
 * await socket.sendAll('PING\r\n');
 * ```
 */
export function createConnection(port: number, host = 'localhost', options: CreateConnectionOptions = {}): Promise<net.Socket> {
  try {
    const { signal } = checkOptions(options, 'createConnection');
    const socket = new net.Socket();
    const setting = options.timeout;
    if (setting !== undefined) {
      const timeouts = normalizeTimeout(setting, 'createConnection: options.timeout', { allowNonBlocking: true });
      // A non-blocking socket's connect still waits (bounded by the process default), as
      // Python's create_connection connects before it hands the socket over.
      if (!isNonBlocking(timeouts)) (socket as InternalSocket)[SETTING] = Object.freeze(timeouts);
    }
    return connectThenApply(socket, port, host, setting, signal);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function connectThenApply(
  socket: net.Socket,
  port: number,
  host: string,
  setting: TimeoutSetting | undefined,
  signal: AbortSignal | undefined,
): Promise<net.Socket> {
  const code = await connectEx.call(socket, port, host, { signal });
  if (code !== 0) {
    const error = (socket as AwaitTarget)[AWAIT]?.connectCode === code ? lastConnectError(socket) : undefined;
    throw error ?? Object.assign(new Error(`connect ${code} ${host}:${port}`), { code, syscall: 'connect', address: host, port });
  }
  if (setting !== undefined) socket.setSocketTimeout(setting);
  return socket;
}

/** The error a failed connect destroyed the socket with (Node keeps it as `socket.errored`). */
function lastConnectError(socket: net.Socket): Error | undefined {
  return (socket as { errored?: Error | null }).errored ?? undefined;
}

// ---------------------------------------------------------------------------------------------
// Servers: accept, and sockets that inherit the server's mode.
// ---------------------------------------------------------------------------------------------

/**
 * How many connections wait for `accept()` before the server warns. Node offers no way to stop
 * accept(2) on a listening handle (libuv's uv_read_stop is a no-op for listeners and Node's
 * onconnection always accepts), so beyond it connections are still kept, never dropped, but
 * held without reading, and a warning says the application accepts too slowly.
 */
export const ACCEPT_QUEUE_LIMIT = 512;

class AcceptJob extends Job<net.Socket> {
  constructor(
    private readonly server: net.Server,
    resolve: (s: net.Socket) => void,
    reject: (e: Error) => void,
    signal: AbortSignal | undefined,
  ) {
    super('accept', 'accept', resolve, reject, signal);
  }

  attempt(): boolean {
    // Like accept(2), a connection the peer already closed or reset is still handed out: its
    // first recv() tells the caller what happened.
    const socket = stateOf(this.server as AwaitTarget).arrivals.shift();
    if (socket !== undefined) {
      resumeHeld(socket);
      return this.resolve(socket);
    }
    if (!this.server.listening && !isStartingToListen(this.server)) {
      return this.reject(new SocketClosedError('accept', 'server is not listening'));
    }
    return false;
  }
}

/**
 * `listen(port, 'localhost')` resolves the host first, so `listening` is false for a moment
 * although the server is on its way: Node has not created the handle yet, and will (or emit
 * 'error'). The patch's listen/close wrappers wake accept() when either settles.
 */
function isStartingToListen(server: net.Server): boolean {
  return (server as unknown as { [LISTEN_PENDING]?: boolean })[LISTEN_PENDING] === true;
}

const LISTEN_PENDING = Symbol.for('timeoutsocket.listenPending.v1');

/** Called by the patch around `server.listen()` and `server.close()`: wakes pending accept() calls. */
export function onServerListenState(server: net.Server, pending: boolean): void {
  const marked = server as unknown as { [LISTEN_PENDING]?: boolean };
  if (pending) {
    // No listener of ours: an 'error' listener would swallow EADDRINUSE for a server that has
    // none. The patch's emit wrapper reports 'listening' and 'error' through onServerListenEvent.
    if (!server.listening) marked[LISTEN_PENDING] = true;
    return;
  }
  marked[LISTEN_PENDING] = false;
  (server as AwaitTarget)[AWAIT]?.pump('accept');
}

/** A server emitted 'listening' or 'error': a listen that was on its way has settled. */
export function onServerListenEvent(server: net.Server): void {
  const marked = server as unknown as { [LISTEN_PENDING]?: boolean };
  if (marked[LISTEN_PENDING] !== true) return;
  marked[LISTEN_PENDING] = false;
  const state = (server as AwaitTarget)[AWAIT];
  if (state !== undefined) queueMicrotask(() => state.pump('accept'));
}

function resumeHeld(socket: net.Socket): void {
  const handle = (socket as InternalSocket)._handle as { reading?: boolean; readStart?: () => number } | null;
  if (handle && handle.reading === false && typeof handle.readStart === 'function' && !socket.destroyed) socket.read(0);
}

/**
 * Accepts the next connection. Connections that arrive while the server has no `'connection'`
 * listener are kept for it, so none that came before the call is lost. Timeout mode rejects
 * with `SocketTimeoutError` (`syscall 'accept'`), non-blocking mode with `WouldBlockError`.
 * Accepted sockets start in the server's mode.
 *
 * @example
 * ```ts
 * const server = net.createServer().listen(0);
 * const client = await server.accept();
 * const request = await client.recv(1024);
 * ```
 */
export function accept(this: net.Server, options?: CallOptions): Promise<net.Socket> {
  try {
    const { signal } = checkOptions(options, 'accept');
    const state = stateOf(this as AwaitTarget);
    if (!state.accepting) {
      state.accepting = true;
      for (const socket of state.arrivals) stateOf(socket as AwaitTarget);
    }
    return run(this as AwaitTarget, (resolve, reject) => new AcceptJob(this, resolve, reject, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Called by the patch for each `'connection'` a server emits: the socket inherits the server's
 * setting, and with nobody listening it waits for `accept()`. Returns true when it was kept.
 */
export function onServerConnection(server: net.Server, socket: net.Socket): boolean {
  const setting = (server as InternalSocket & net.Server)[SETTING];
  if (setting !== undefined) (socket as InternalSocket)[SETTING] = setting;
  if (server.listenerCount('connection') > 0) return false;
  const state = stateOf(server as AwaitTarget);
  state.arrivals.push(socket);
  if (state.accepting) {
    stateOf(socket as AwaitTarget); // its errors wait for the call that takes it
  } else {
    // A server nobody has called accept() on yet: the socket behaves exactly as in plain Node
    // (no error listener of ours), and is forgotten once closed so the queue holds no garbage.
    socket.once('close', () => {
      const at = state.arrivals.indexOf(socket);
      if (!state.accepting && at !== -1) state.arrivals.splice(at, 1);
    });
  }
  if (state.arrivals.length > ACCEPT_QUEUE_LIMIT) holdArrival(server, socket, state);
  state.pump('accept');
  return true;
}

function holdArrival(server: net.Server, socket: net.Socket, state: AwaitState): void {
  const handle = (socket as InternalSocket)._handle as { reading?: boolean; readStop?: () => number } | null;
  if (handle && typeof handle.readStop === 'function') {
    handle.reading = false;
    handle.readStop();
  }
  if (!state.overflowWarned) {
    state.overflowWarned = true;
    const where = JSON.stringify(server.address());
    process.emitWarning(
      `more than ${ACCEPT_QUEUE_LIMIT} connections wait for accept() on server ${where}; they are kept, unread`,
      { code: 'TIMEOUTSOCKET_ACCEPT_QUEUE' },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Modes.
// ---------------------------------------------------------------------------------------------

/**
 * Python's `setblocking`: `true` is blocking (`setSocketTimeout(null)`), `false` non-blocking
 * (`setSocketTimeout(0)`).
 */
export function setBlocking<T extends net.Socket | net.Server>(this: T, flag: boolean): T {
  if (typeof flag !== 'boolean') throw new TypeError(`setBlocking(flag): flag must be a boolean, got ${String(flag)}`);
  (this as unknown as InternalSocket)[SETTING] = Object.freeze(normalizeTimeout(flag ? null : 0, 'timeout', { allowNonBlocking: true }));
  return this;
}

/** `false` only in non-blocking mode (timeout mode blocks, for at most the timeout). */
export function getBlocking(this: net.Socket | net.Server): boolean {
  return !isNonBlocking(effectiveTimeouts(this as unknown as InternalSocket));
}
