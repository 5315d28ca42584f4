/**
 * The job queues: every awaitable call is a job in a per-socket FIFO per direction (two recvs
 * never interleave bytes). A job first tries to finish at once; if it cannot, non-blocking mode
 * rejects it with WouldBlockError, and the other modes wait for the stream event that can change
 * the answer ('readable', 'drain', 'close', a new connection), bounded by the mode's timeout.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { now } from '../clock';
import { isNonBlocking, isOn, type PhaseTimeouts } from '../config';
import { DeadlineTimer, earliestDue, hasExpired, NOTHING_DUE, type DeadlineOwner } from '../deadline-timer';
import { effectiveTimeouts, standDown, type InternalSocket } from '../engine';
import { AbortError, SocketClosedError, SocketTimeoutError, WouldBlockError } from '../errors';
import { hasNoHandle, interceptPush, isNodePush, pushWouldOnlyBuffer, readablePush, readsThroughNodePush } from '../node-internals';
import { isPlainBuffer } from './checks';
import { AWAIT } from './hooks';

/** The queue a call waits in. */
export type Direction = 'recv' | 'send' | 'accept';

/**
 * Which phase's value bounds each kind of call (for a number setting they are all the same):
 * sends the write value, receives and accepts the read value. A comparison, not a table lookup:
 * a property read with a key that varies is a megamorphic load on every call.
 */
function timeoutOf(timeouts: PhaseTimeouts, direction: Direction): number | null {
  return direction === 'send' ? timeouts.write : timeouts.read;
}

/**
 * One call. `attempt` finishes it if it can and says whether it did. A call that finishes at
 * once (bytes already buffered, a write the kernel took whole) never gets a promise executor:
 * {@link Job.promise} hands back an already settled promise.
 */
export abstract class Job<T> {
  /** When the call's deadline runs out (ms of `performance.now()`), {@link NOTHING_DUE} while it has none. */
  due = NOTHING_DUE;
  settled = false;
  private abortListener: (() => void) | undefined = undefined;
  /** The promise's resolving functions, once the call had to wait. */
  private resolvers: Resolvers<T> | undefined = undefined;
  /** What a call that settled before its promise was made settled with. */
  private earlyValue: T | undefined = undefined;
  private earlyError: Error | undefined = undefined;

  constructor(
    readonly direction: Direction,
    readonly syscall: string,
    readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * Makes a job that has settled and left its queue a new call with no signal (see
   * `waitAtOnce` in recv.ts): nothing may hold it any more, its old promise having settled.
   */
  protected restart(): void {
    this.due = NOTHING_DUE;
    this.settled = false;
    this.resolvers = undefined;
    this.earlyValue = undefined;
    this.earlyError = undefined;
  }

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

  /** The socket is being destroyed while this job is first in line (its handle is still open). */
  noteDestroy(): void {}

  /**
   * A chunk the socket has just read, offered to the waiting call first in line before it would
   * enter the stream's buffer (see {@link SocketAwaitState.handOver}): true if the call took it
   * whole and settled. Only a receive takes one.
   */
  takeChunk(_chunk: Buffer): boolean {
    return false;
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
      if (this.abortListener !== undefined) this.unwatchAbort();
      const resolvers = this.resolvers;
      if (resolvers !== undefined) {
        this.resolvers = undefined; // the settled promise holds the value: a spare job, kept as long as the socket, must not
        resolvers.resolve(value);
      } else this.earlyValue = value;
    }
    return true;
  }

  reject(error: Error): true {
    if (!this.settled) {
      this.settled = true;
      if (this.abortListener !== undefined) this.unwatchAbort();
      const resolvers = this.resolvers;
      if (resolvers !== undefined) {
        this.resolvers = undefined;
        resolvers.reject(error);
      } else this.earlyError = error;
    }
    return true;
  }

  /**
   * The call's promise, asked for once, after the job was queued: settled already when the job
   * finished at once, else one whose resolving functions the job keeps (taken by a module-level
   * executor, so no closure is made per call).
   */
  promise(): Promise<T> {
    if (this.settled) return this.earlyError !== undefined ? Promise.reject(this.earlyError) : Promise.resolve(this.earlyValue as T);
    Job.capturing = this as Job<unknown>;
    const promise = new Promise<T>(Job.captureResolvers as (resolve: (value: T) => void, reject: (error: Error) => void) => void);
    Job.capturing = undefined;
    return promise;
  }

  /** The job whose promise is being made: the executor runs synchronously inside `new Promise`. */
  private static capturing: Job<unknown> | undefined = undefined;

  private static captureResolvers(this: void, resolve: (value: unknown) => void, reject: (error: Error) => void): void {
    const job = Job.capturing!;
    job.resolvers = { resolve, reject };
  }

  private unwatchAbort(): void {
    this.signal!.removeEventListener('abort', this.abortListener!);
  }
}

/**
 * A waiting call's resolving functions, in one object made with them. The job that keeps them
 * lives long (a socket's spare job, recv.ts `waitAtOnce`): V8 records every store of a new
 * object into an old one (a write barrier's slow path), and storing the pair costs one such
 * record instead of two. Counted (the awaitable ping-pong, 1000/11000 after 3000): 19,682 and
 * 19,737 instructions per round trip with two fields, 19,619 and 19,616 with this.
 */
interface Resolvers<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
}

/** A socket or a server driven through this API. */
export type AwaitTarget = (InternalSocket | net.Server) & { [AWAIT]?: AwaitState };

/**
 * What every socket or server driven through calls has: a job queue per direction it serves,
 * and the one deadline timer over all of them (lib/deadline-timer.ts, the engine's too: the
 * same rounding, the same second look). {@link SocketAwaitState} and {@link ServerAwaitState}
 * add what only one of them needs.
 */
export abstract class AwaitState extends DeadlineTimer {
  /** One FIFO per direction the target serves (`undefined` for the others), in fields, not a keyed record. */
  protected readonly recvQueue: Job<unknown>[] | undefined;
  protected readonly sendQueue: Job<unknown>[] | undefined;
  protected readonly acceptQueue: Job<unknown>[] | undefined;

  constructor(
    readonly target: AwaitTarget,
    private readonly directions: readonly Direction[],
  ) {
    super();
    this.recvQueue = directions.includes('recv') ? [] : undefined;
    this.sendQueue = directions.includes('send') ? [] : undefined;
    this.acceptQueue = directions.includes('accept') ? [] : undefined;
  }

  /** Whether calls of `direction` are queued (one runs or waits): a new one must queue behind them. */
  hasQueued(direction: Direction): boolean {
    const queue = this.queueOf(direction);
    return queue !== undefined && queue.length > 0;
  }

  /** The queue of `direction`, `undefined` if the target does not serve it. */
  protected queueOf(direction: Direction): Job<unknown>[] | undefined {
    return direction === 'recv' ? this.recvQueue : direction === 'send' ? this.sendQueue : this.acceptQueue;
  }

  /** Queues a job, runs it at once if it is first in line. */
  enqueue<T>(job: Job<T>): void {
    const queue = this.queueOf(job.direction)!;
    queue.push(job as Job<unknown>);
    if (job.signal !== undefined) job.watchAbort(() => this.cancel(job as Job<unknown>));
    if (queue.length === 1) this.pump(job.direction);
  }

  /** Runs the jobs of one direction until one has to wait (or rejects it in non-blocking mode). */
  pump(direction: Direction): void {
    const queue = this.queueOf(direction);
    if (queue === undefined) return;
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
      const timeout = timeoutOf(timeouts, direction);
      if (job.due === NOTHING_DUE && isOn(timeout)) {
        // Whole ms, rounded up, like the engine's stamps; the timer fires at most 1 ms before
        // the due time (lib/deadline-timer.ts, DUE_SLACK_MS). The clock is read here, once the
        // call has to wait, never for a call that settles at once. The reading cannot be put
        // off or shared: the deadline runs from the moment the call began to wait, and any
        // reading taken before it (one per loop turn, the previous call's) is older by however
        // long the application has run since, which makes the deadline fire early by that
        // much, past DUE_SLACK_MS; one taken after it (at the timer's look) makes it fire late
        // by up to a whole timeout. Taking it out altogether saved about 245 instructions per
        // round trip (an ablation): the cost of a correct deadline.
        job.due = Math.ceil(now()) + timeout;
        this.schedule(job.due, AWAIT_TIMER, this.target);
      }
      this.listen(direction, job.waitsForEvent());
      return;
    }
    this.listen(direction, false);
  }

  /** Adds the one listener a waiting direction needs, and removes it when nothing waits. */
  protected abstract listen(direction: Direction, on: boolean): void;

  private cancel(job: Job<unknown>): void {
    if (job.settled) return;
    job.abort();
    this.pump(job.direction);
  }

  /**
   * The timer's look at the calls (see {@link DeadlineOwner.check}): the first call in line of
   * each direction that has a deadline. One that {@link hasExpired} (it was due at the look
   * before, and pending I/O has run since) is rejected and the next call in line starts; any
   * other is only noted. Returns the earliest due time still armed, or {@link NOTHING_DUE},
   * which lets the timer go. So a call armed by the callback that delivered the previous answer
   * (and the loop blocked again) gets a second look of its own, never its predecessor's.
   */
  checkJobs(lookedAt: number): number {
    let next = NOTHING_DUE;
    for (const direction of this.directions) {
      const queue = this.queueOf(direction)!;
      const job = queue[0];
      if (job === undefined || job.due === NOTHING_DUE) continue;
      if (!hasExpired(job.due, lookedAt)) {
        next = earliestDue(next, job.due);
        continue;
      }
      const timeout = timeoutOf(effectiveTimeouts(this.target as InternalSocket), direction);
      job.expire(this.target, isOn(timeout) ? timeout : 0);
      this.pump(direction);
      // The call pump() started next, if it waits: its deadline is the timer's from now on.
      const head = queue[0];
      if (head !== undefined) next = earliestDue(next, head.due);
    }
    return next;
  }
}

/** The awaitable side of the timer: called back with the socket or server, its state found on it. */
const AWAIT_TIMER: DeadlineOwner<AwaitTarget, AwaitState> = {
  timerOf: (target) => target[AWAIT],
  check: (_target, state, _at, lookedAt) => state.checkJobs(lookedAt),
};

const SOCKET_DIRECTIONS: readonly Direction[] = ['recv', 'send'];
const SERVER_DIRECTIONS: readonly Direction[] = ['accept'];

/** A sendAll write whose callback is still to come. */
export interface WriteInFlight {
  readonly settled: boolean;
  /** The write's callback, for a call still waiting on it. */
  written(error: Error | null | undefined): void;
}

/** A socket's: its recv and send queues, what it ended with, and connectEx's one attempt. */
export class SocketAwaitState extends AwaitState {
  /** The error the socket was destroyed with, until a call has reported it. */
  error: Error | undefined = undefined;
  /** connectEx bookkeeping: one attempt per socket, every caller waits for it (lib/awaitable/connect.ts). */
  connectState: 'idle' | 'pending' | 'connected' | 'failed' = 'idle';
  connectCode: string | undefined = undefined;
  connectWaiters: Array<() => void> = [];
  /** Whether the 'readable' and the 'drain' listener are on (fields, not a record: one load each). */
  private listeningRecv = false;
  /**
   * The job of this socket's last recv that waited with no signal and nothing in line before it,
   * kept to be that of the next such call (recv.ts `waitAtOnce`): the one case that makes a job
   * on every message of a request-reply exchange.
   */
  spareRecv: Job<Buffer> | undefined = undefined;
  private listeningSend = false;
  private watchingDataListeners = false;

  /** Bound once, so adding and removing them allocates nothing per call. */
  readonly onRecvEvent = (): void => this.wakeRecv();
  readonly onSendEvent = (): void => this.pump('send');
  /**
   * sendAll's writes whose callbacks are still to come, oldest first (a stream calls its write
   * callbacks once each, in write order), so that every write can be given the one callback
   * {@link onWritten}: no closure per write. A write that completed at once is made without a
   * callback and is not listed; a call that settled while its write is still listed (all its
   * bytes in the kernel at once on a call's own first attempt, a non-blocking call, or one that
   * was rejected or timed out) is only taken off.
   */
  readonly writesInFlight: WriteInFlight[] = [];
  readonly onWritten = (error?: Error | null): void => {
    const write = this.writesInFlight.shift();
    if (write !== undefined && !write.settled) write.written(error);
  };
  readonly onCloseEvent = (): void => {
    this.pump('recv');
    this.pump('send');
  };
  readonly onError = (error: Error): void => {
    if (error !== this.reportedError) this.error ??= error;
  };
  /** The socket's error once a call has rejected with it ('error' may be emitted before or after). */
  private reportedError: Error | undefined = undefined;

  constructor(readonly socket: InternalSocket) {
    super(socket as AwaitTarget, SOCKET_DIRECTIONS);
  }

  /**
   * 'readable' (which Node also emits at EOF) for receives, 'drain' for sends; a socket's 'close'
   * wakes both through the listener {@link stateOf} adds once.
   */
  protected listen(direction: Direction, on: boolean): void {
    if (direction === 'recv') {
      if (on && !this.listeningRecv) this.keepReadable();
    } else if (this.listeningSend !== on) {
      this.listenForDrain(on);
    }
  }

  /**
   * Whether recvs are queued, and starting one with no signal ({@link startRecv}): recv()'s
   * common case, by the field. V8 inlines recv() and what it calls into the application's own
   * function, which runs out of its inlining budget there: the look-up by direction
   * ({@link queueOf}) was left as two calls per recv, and checkSize() as a third. Counted (the awaitable ping-pong of
   * `--instructions --only=awaitable`): 20,037 and 20,015 instructions per round trip before,
   * 19,792 and 19,800 with these.
   */
  hasQueuedRecv(): boolean {
    return this.recvQueue!.length > 0;
  }

  /**
   * Queues a recv with no signal behind nothing (recv()'s common case that has to wait) and
   * starts it: what pump('recv') does for the first call in line, without the look-ups by
   * direction, the loop and the listen() that a server's state also answers.
   */
  startRecv<T>(job: Job<T>): void {
    const queue = this.recvQueue!;
    queue.push(job as Job<unknown>);
    if (job.attempt(false)) {
      queue.shift();
      return;
    }
    const timeouts = effectiveTimeouts(this.socket);
    if (isNonBlocking(timeouts)) {
      job.reject(new WouldBlockError(job.syscall));
      queue.shift();
      return;
    }
    const timeout = timeouts.read;
    if (isOn(timeout)) {
      // As in pump(): whole ms, rounded up, read once the call has to wait.
      job.due = Math.ceil(now()) + timeout;
      // schedule() would return at once when the timer already fires no later than `due` (the
      // common case: the previous call's timer is still armed). Tested here so that schedule(),
      // which V8 otherwise inlines whole, leaves this function the inlining budget for the
      // socket's `destroyed` getter (about 120 instructions per round trip, counted).
      if (this.timerDue === 0 || job.due < this.timerDue) this.schedule(job.due, AWAIT_TIMER, this.target);
    }
    if (!this.listeningRecv) this.keepReadable();
  }

  /**
   * 'readable': the common case is the one recv in line taking the bytes that woke it. It is
   * tried first, before pump() reads the socket's timeouts, which only a call that has to wait
   * again needs; anything else (nothing to take yet, more calls in line, a call that settled
   * while it waited) goes through pump(). Receives do not look at the mode (`attempt(false)`):
   * a non-blocking recv never waits, and one that has bytes takes them in every mode. Once the
   * queue is empty pump() would only call listen('recv', false), which leaves the listener on.
   * Counted (the awaitable ping-pong of `--instructions --only=awaitable`): 20,430 instructions
   * per round trip with pump() called here, 20,037 and 20,015 with this: more than the work
   * skipped, so some of it is how V8 compiles pump() once it no longer serves the wake-up.
   */
  private wakeRecv(): void {
    const queue = this.recvQueue!;
    if (queue.length === 1) {
      const job = queue[0];
      if (!job.settled && job.attempt(false)) {
        queue.shift();
        return;
      }
    }
    this.pump('recv');
  }

  private listenForDrain(on: boolean): void {
    this.listeningSend = on;
    (this.socket as EventEmitter)[on ? 'on' : 'removeListener']('drain', this.onSendEvent);
  }

  /**
   * Once a receive had to wait, the 'readable' listener stays: adding and removing it around
   * every call costs two stream state changes and a tick per message. It keeps the stream in
   * paused mode, never flowing; the moment the application adds a 'data' listener (a pipe, a
   * stream reader) it is taken off again, and Node resumes the flow for that reader.
   */
  private keepReadable(): void {
    this.listeningRecv = true;
    const emitter = this.socket as EventEmitter;
    emitter.on('readable', this.onRecvEvent);
    if (!this.pushIntercepted && readsThroughNodePush(this.socket)) {
      this.pushIntercepted = true;
      interceptPush(this.socket, pushToWaitingRecv);
    }
    if (emitter.listenerCount('readable') !== 1 || emitter.listenerCount('data') !== 0) this.otherReaders = true;
    if (!this.watchingDataListeners) {
      this.watchingDataListeners = true;
      emitter.on('newListener', this.onNewListener);
    }
  }

  /**
   * Whether {@link pushToWaitingRecv} was put on the socket (once a receive first had to wait,
   * if the socket read through Node's own push and _read then). It stays on for the socket's
   * life, uninstall() included: every chunk it does not take goes on to `Readable.prototype.push`.
   */
  private pushIntercepted = false;
  /**
   * Whether a 'readable' or 'data' listener other than ours was ever added to the socket (seen by
   * {@link onNewListener}, or there when ours first went on): from then on no chunk is handed
   * over, and every one goes through the stream to whoever reads it. A flag, not a count of the
   * listeners per chunk: three listener look-ups cost about 300 instructions per round trip.
   */
  private otherReaders = false;

  /**
   * A chunk the socket has just read (its `push`, {@link pushToWaitingRecv}): handed straight to
   * the one receive waiting for it, when the stream would only have buffered it for our
   * 'readable' listener to read whole ({@link pushWouldOnlyBuffer}, and no other reader): the
   * same Buffer, the same stream state after, without the tick, the 'readable' event and the
   * read() between, and without the 'readable' and 'data' events (which no listener but ours
   * would have had). Any other case (more calls in line, a chunk larger than the call asked for
   * or not below the high-water mark, another reader, bytes already buffered, EOF) goes through
   * the stream as before. Counted (the awaitable ping-pong,
   * armed, 4000 round trips after 9000 in 4 segments): 17,784 instructions per round trip in a
   * segment with no scavenge before, 14,420 with this; and a scavenge in 1 segment of 4, not 3.
   */
  handOver(chunk: unknown, encoding: unknown): boolean {
    const queue = this.recvQueue!;
    if (queue.length !== 1 || encoding !== undefined) return false;
    const job = queue[0];
    if (job.settled || !isPlainBuffer(chunk) || chunk.length === 0) return false;
    if (!this.listeningRecv || this.otherReaders || !pushWouldOnlyBuffer(this.socket, chunk.length)) return false;
    // A job of another copy of this package (the state's symbol is shared) may not know the method.
    if (typeof job.takeChunk !== 'function' || !job.takeChunk(chunk)) return false;
    queue.shift();
    return true;
  }

  /** A call rejected with the socket's own error: the next call is not told again. */
  reported(error: Error): void {
    this.reportedError = error;
    if (this.error === error) this.error = undefined;
  }

  /** The socket is being destroyed (called by the patch, before its handle closes). */
  noteDestroy(): void {
    this.sendQueue![0]?.noteDestroy();
  }

  readonly onNewListener = (event: string | symbol, listener: unknown): void => {
    if ((event === 'readable' && listener !== this.onRecvEvent) || event === 'data') this.otherReaders = true;
    if (event !== 'data' || !this.listeningRecv) return;
    this.listeningRecv = false;
    (this.socket as EventEmitter).removeListener('readable', this.onRecvEvent);
  };
}

/**
 * The `push` of a socket whose receives have waited (see {@link SocketAwaitState.handOver}); one
 * function for every socket, its state found on the socket. Returns what the stream's own push
 * would: true for a chunk handed over (nothing is buffered, the chunk below the high-water mark).
 * Every other chunk goes to `Readable.prototype.push` as it is now, looked up per chunk: once
 * anything patched it, every chunk goes to that patch and none is handed over. The state is
 * checked to be this copy's (another copy of the package shares the symbol).
 */
function pushToWaitingRecv(this: net.Socket, chunk: unknown, encoding?: BufferEncoding): boolean {
  const push = readablePush();
  if (isNodePush(push)) {
    const state = (this as AwaitTarget)[AWAIT];
    if (state instanceof SocketAwaitState && state.handOver(chunk, encoding)) return true;
  }
  return push.call(this, chunk, encoding);
}

/** A server's: its accept queue and the connections that wait for accept(). */
export class ServerAwaitState extends AwaitState {
  /** accept(): connections that arrived with nobody listening for them. */
  readonly arrivals: net.Socket[] = [];
  /** A server whose accept() was called: its waiting connections belong to the API. */
  accepting = false;
  /** Whether the accept-queue warning was given (once per server). */
  overflowWarned = false;

  constructor(readonly server: net.Server) {
    super(server as AwaitTarget, SERVER_DIRECTIONS);
  }

  /** Accepts need no listener: the patch wakes them (a new connection, listen, close). */
  protected listen(): void {}
}

/** The API state of a socket, created on its first awaitable call. */
export function stateOf(target: net.Socket): SocketAwaitState;
/** The API state of a server, created on its first accept(). */
export function stateOf(target: net.Server): ServerAwaitState;
export function stateOf(target: net.Socket | net.Server): AwaitState;
export function stateOf(target: net.Socket | net.Server): AwaitState {
  const marked = target as AwaitTarget;
  let state = marked[AWAIT];
  if (state === undefined) {
    if (target instanceof net.Socket) {
      const socketState = new SocketAwaitState(target as InternalSocket);
      state = socketState;
      marked[AWAIT] = state;
      // From now on this socket is driven through calls: the destroying reply/write deadlines
      // stand down, and an error is delivered to the next call instead of crashing the process
      // (the one listener the API adds for good).
      standDown(target as InternalSocket);
      target.on('error', socketState.onError);
      target.on('close', socketState.onCloseEvent);
    } else {
      state = new ServerAwaitState(target);
      marked[AWAIT] = state;
    }
  }
  return state;
}

/** The API state of a socket, if it has one. */
export function socketStateOf(socket: net.Socket): SocketAwaitState | undefined {
  return (socket as AwaitTarget)[AWAIT] as SocketAwaitState | undefined;
}

/** The API state of a server, if it has one. */
export function serverStateOf(server: net.Server): ServerAwaitState | undefined {
  return (server as AwaitTarget)[AWAIT] as ServerAwaitState | undefined;
}

/** Runs `job` on `target`: a promise that settles with it (already settled if it finished at once). */
export function run<T>(target: net.Socket | net.Server, job: Job<T>): Promise<T> {
  if (job.signal?.aborted) job.abort();
  else stateOf(target).enqueue(job);
  return job.promise();
}

/** Why a call on a destroyed socket fails: its own error once, then "closed". */
export function closedError(socket: net.Socket, syscall: string): Error {
  const state = socketStateOf(socket);
  const error = state?.error;
  if (state !== undefined && error !== undefined) {
    state.error = undefined;
    return error;
  }
  return new SocketClosedError(syscall);
}

/** A socket that is neither connected nor connecting (never was, or its handle is gone). */
export function isUnconnected(socket: net.Socket): boolean {
  return hasNoHandle(socket as InternalSocket);
}
