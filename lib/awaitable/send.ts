/**
 * Sending: `send` (what fits the free write buffer) and `sendAll` (everything, or `bytesSent`
 * on failure: what reached the kernel).
 */
import * as net from 'node:net';
import { isNonBlocking } from '../config';
import { effectiveTimeouts, type InternalSocket } from '../engine';
import { AbortError, SocketClosedError, SocketTimeoutError } from '../errors';
import { callBackWrite, dispatchedBytes, erroredWith, handleOf, kernelPosition, tcpHandleUnder } from '../node-internals';
import { checkOptions, isPlainBuffer, toBuffer, type CallOptions } from './checks';
import { closedError, isUnconnected, Job, run, socketStateOf, stateOf, type AwaitTarget, type SocketAwaitState, type WriteInFlight } from './queue';


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
    signal: AbortSignal | undefined,
  ) {
    super('send', 'send', signal);
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
    return run(this, new SendJob(this, buffer, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Where a write starts on the stream: the bytes the application wrote before it. With nothing
 * buffered or pending in the stream (the common case) that is what the handle has dispatched,
 * read without `socket.bytesWritten`, which copies the write buffer to add it up.
 */
function streamPosition(socket: InternalSocket): number {
  return socket.writableLength === 0 ? dispatchedBytes(socket) : socket.bytesWritten;
}

/**
 * Where a `length`-byte write that `write()` has just taken began on the stream (see
 * {@link bytesInKernel}): the socket's count (the handle's dispatched bytes, plus what the
 * stream still buffers or holds for the connect) less this write. Read after the write, so the
 * common case (libuv wrote it all at once) never reads it. A write that failed at once
 * ({@link failedAtOnce}) put nothing in the kernel: its start is where the handle stands, so
 * that none of it counts as sent.
 */
function writeStartedAt(socket: InternalSocket, length: number): number {
  return failedAtOnce(socket) ? dispatchedBytes(socket) : socket.bytesWritten - length;
}

/**
 * Bytes of a `length`-byte write that reached the kernel as `write()` returned, the write having
 * begun at `plain` (and `cipher`, see {@link bytesInKernel}): none if it failed at once.
 */
function sentAtHandOver(socket: InternalSocket, plain: number, cipher: number | undefined, length: number): number {
  return failedAtOnce(socket) ? 0 : bytesInKernel(socket, plain, cipher, length);
}

/**
 * The write just handed over failed at once (EPIPE, ECONNRESET from libuv's first try): the
 * stream has its error now, though `destroyed` comes a tick later; and Node's handle counted
 * the bytes as written before libuv tried them, so no counter says that none went out.
 */
function failedAtOnce(socket: InternalSocket): boolean {
  return socket.destroyed || erroredWith(socket) !== undefined;
}

/** For TLS: the ciphertext the TCP handle under the socket has dispatched (`undefined` for plain TCP). */
function cipherPosition(socket: InternalSocket): number | undefined {
  return tcpHandleUnder(handleOf(socket))?.bytesWritten;
}

/**
 * libuv wrote the whole `length`-byte write at once (the common case for a message that fits
 * the kernel's buffer): everything is in the kernel, which is all sendAll promises, and the
 * write's callback can only say so (writable.js afterWrite() calls back a write that completed
 * synchronously with null, 20 to 26). The call settles now: no tick, no deadline. An error that
 * comes later reaches the next call.
 */
function wholeInKernel(socket: InternalSocket, sent: number, length: number): boolean {
  return sent === length && erroredWith(socket) === undefined;
}

/** An empty write: see {@link followWrite}. */
const NO_BYTES = Buffer.alloc(0);

/**
 * Asks the stream to call back `job` once `buffer`, just written without a callback, has been
 * written: the write itself gets the socket's one write callback ({@link callBackWrite}, in the
 * stream's buffer or in flight). Not an empty write with the callback behind it: the stream
 * hands everything it holds to one `_writev` once the write in flight completes, so the empty
 * write would join the application's later writes, and the call would wait (or time out) for
 * bytes that are not its own. Only a write that failed at once, already called back, gets the
 * empty write: the stream hands it the error (errorBuffer()), or writes it at once.
 *
 * Why not pass the callback to the write itself: a write with a callback that completes at once
 * (libuv wrote it all, the common case) makes Node schedule a tick to call it back (onwrite():
 * `needTick` when `cb !== nop`), with an object for it, about 970 instructions per call in the
 * awaitable ping-pong; a write without one only counts it done.
 */
function followWrite(socket: net.Socket, state: SocketAwaitState, job: WriteInFlight, buffer: Buffer): void {
  if (!callBackWrite(socket, buffer, state.onWritten)) socket.write(NO_BYTES, state.onWritten);
  state.writesInFlight.push(job);
}

/**
 * Bytes of a `total`-byte write that reached the kernel, the write having begun at stream
 * position `plain` (and, for TLS, with `cipher` bytes of ciphertext dispatched to the TCP
 * handle before it). Plain TCP: exact. TLS: the TLS handle only counts whole writes, so the
 * kernel position is read on the TCP handle under it, in ciphertext, and scaled back to
 * plaintext by this write's own ratio (an estimate within one TLS record, 16 KiB).
 */
function bytesInKernel(socket: InternalSocket, plain: number, cipher: number | undefined, total: number): number {
  const handle = handleOf(socket);
  if (handle == null) return 0;
  const tcp = tcpHandleUnder(handle);
  let sent: number;
  if (tcp !== undefined && cipher !== undefined) {
    const cipherOfThisWrite = (tcp.bytesWritten ?? 0) - cipher;
    const cipherInKernel = kernelPosition(tcp) - cipher;
    sent = cipherOfThisWrite > 0 ? Math.floor((cipherInKernel * total) / cipherOfThisWrite) : 0;
  } else {
    sent = kernelPosition(handle) - plain;
  }
  return Math.max(0, Math.min(total, sent));
}

/** Node's name for a write that libuv cancelled because its handle was closed. */
const CANCELLED = 'ECANCELED';

/**
 * What a write held in the stream's buffer is called back with when the stream is destroyed
 * before it could be handed over (writable.js errorBuffer(), 20 to 26), with no error of the
 * socket's own to hand it: a sendAll write held behind another (its callback set by
 * {@link followWrite}), or followWrite's empty write.
 */
const STREAM_DESTROYED = 'ERR_STREAM_DESTROYED';

/** A write error that only says the write was dropped because the socket went down. */
function isCancellation(error: Error): boolean {
  const { code } = error as { code?: unknown };
  return code === CANCELLED || code === STREAM_DESTROYED;
}

class SendAllJob extends Job<void> {
  private started = false;
  private done = false;
  private failure: Error | null | undefined = undefined;
  /** Where the write began (see {@link bytesInKernel}). */
  private startPlain = 0;
  private startCipher: number | undefined = undefined;
  /** Bytes in the kernel right after the write was handed over (what libuv wrote at once). */
  private sentAtDispatch = 0;
  /** Bytes in the kernel when the socket began to be destroyed, while the write was in flight. */
  private sentAtDestroy: number | undefined = undefined;

  constructor(
    private readonly socket: InternalSocket,
    private readonly data: Buffer,
    signal: AbortSignal | undefined,
  ) {
    super('send', 'send', signal);
  }

  attempt(nonBlocking: boolean): boolean {
    if (this.done) return this.failure ? this.reject(this.failure) : this.resolve();
    if (this.started) return false;
    const closed = checkWritable(this.socket, 'send');
    if (closed) return this.reject(closed);
    if (nonBlocking && this.socket.writableLength + this.data.length > this.socket.writableHighWaterMark) {
      return false; // would have to wait: the caller rejects with WouldBlockError, nothing written
    }
    const socket = this.socket;
    const state = socketStateOf(socket)!;
    const plain = streamPosition(socket);
    const cipher = cipherPosition(socket);
    socket.write(this.data, state.onWritten);
    state.writesInFlight.push(this);
    this.handedOver(plain, cipher, sentAtHandOver(socket, plain, cipher, this.data.length));
    if (wholeInKernel(socket, this.sentAtDispatch, this.data.length)) return this.resolve();
    return nonBlocking ? this.resolve() : false;
  }

  /** The write was handed to the stream at stream position `plain` (see {@link bytesInKernel}); `sent` bytes reached the kernel at once. */
  handedOver(plain: number, cipher: number | undefined, sent: number): void {
    this.started = true;
    this.startPlain = plain;
    this.startCipher = cipher;
    this.sentAtDispatch = sent;
  }

  /** The write's callback while the call waits for it: done, or failed with the cause and `bytesSent`. */
  written(error: Error | null | undefined): void {
    this.done = true;
    if (error == null && !this.socket.destroyed) {
      this.failure = null;
    } else {
      this.failure = this.cause(error);
      (this.failure as { bytesSent?: number }).bytesSent = this.bytesSentOnFailure(error);
    }
    socketStateOf(this.socket)?.pump('send');
  }

  /**
   * Why the write failed. A socket destroyed while the write was in flight (a reset seen by a
   * read, or the application's own destroy) fails with the error it was destroyed with, else
   * SocketClosedError. The write's own error is then not the cause: Node 20 completes such a
   * write with no error at all, and Node 22 and later (nodejs/node#54032: onWriteComplete looks
   * at the status before `stream.destroyed`) with `ECANCELED`, libuv's status for a write
   * cancelled by closing its handle. A write that failed by itself (a reset seen by the write:
   * `ECONNRESET` or `EPIPE`, syscall 'write') fails with that error, which Node then destroys
   * the socket with. Either way the socket's own error is told once: the next call is not told
   * again. Nor is a cancellation the socket's own error: on 22 and later the cancelled write's
   * `ECANCELED` becomes the stream's `errored` (onwrite() keeps the first write error) when the
   * application destroyed the socket without one. The empty write that follows a write
   * ({@link followWrite}) is told `ERR_STREAM_DESTROYED` then: not the cause either.
   */
  private cause(error: Error | null | undefined): Error {
    const errored = this.socket.destroyed ? erroredWith(this.socket) : error;
    if (errored != null && !isCancellation(errored)) {
      socketStateOf(this.socket)?.reported(errored);
      return errored;
    }
    if (error != null && !isCancellation(error)) return error;
    return new SocketClosedError('send');
  }

  /**
   * Bytes that reached the kernel, by where the failure was seen:
   * - the socket was destroyed first: exactly what the kernel held when destruction began
   *   (sampled by {@link noteDestroy} while the handle was still open; once it is closed its
   *   counters are gone);
   * - the write itself failed: libuv has already dropped the unsent rest of the failed write
   *   from its queue count before Node reports the failure, so the count is no longer exact;
   *   `bytesSent` is then what had reached the kernel when the write was handed over, a lower
   *   bound (so that code resending from `bytesSent` never skips a byte).
   */
  private bytesSentOnFailure(error: Error | null | undefined): number {
    if (this.sentAtDestroy !== undefined) return this.sentAtDestroy;
    if (error != null && !this.socket.destroyed) return this.sentAtDispatch;
    return bytesInKernel(this.socket, this.startPlain, this.startCipher, this.data.length);
  }

  /** The socket is being destroyed with this write in flight: take the kernel's count while it is there. */
  override noteDestroy(): void {
    if (this.started && !this.done && this.sentAtDestroy === undefined) {
      this.sentAtDestroy = bytesInKernel(this.socket, this.startPlain, this.startCipher, this.data.length);
    }
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
    (error as { bytesSent?: number }).bytesSent = this.started ? bytesInKernel(this.socket, this.startPlain, this.startCipher, this.data.length) : 0;
    this.reject(error);
    if (this.started) this.socket.destroy();
  }
}

/**
 * Sends everything and resolves once it has been handed to the kernel, or rejects. A timeout
 * (or abort) midway rejects with `bytesSent`: the bytes that reached the kernel, not those
 * still queued; the socket is then destroyed, since the rest of a half-sent message cannot be
 * recalled. A reset midway rejects with the reset's own error (`ECONNRESET`, or `EPIPE` when
 * the write meets it) and `bytesSent`: exact when a read saw the reset, a lower bound when the
 * write did (see the README). In non-blocking mode it writes only if everything fits the free write buffer, else
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
    // The common case's checks written out here, not called: sendAll inlines the stream's
    // write path, which uses up V8's inlining budget, and a small function it calls instead of
    // inlining runs unoptimised for thousands of calls.
    const buffer = isPlainBuffer(data) ? data : toBuffer(data, 'sendAll');
    const signal = options === undefined ? undefined : checkOptions(options, 'sendAll').signal;
    if (buffer.length === 0) return Promise.resolve();
    const socket = this as InternalSocket;
    const state = socketStateOf(socket) ?? stateOf(socket);
    // The common case without a job: nothing queued before it, a blocking or timeout mode
    // socket that can write, and libuv writes the whole message at once.
    if (signal === undefined && !state.hasQueued('send') && !isNonBlocking(effectiveTimeouts(socket))) {
      // Asked once: on a closed socket the answer hands out its stored error (ECONNRESET) once.
      const closed = checkWritable(socket, 'send');
      if (closed !== undefined) return Promise.reject(closed);
      const cipher = cipherPosition(socket);
      // No callback: the common case needs none, the rest asks for one (followWrite).
      socket.write(buffer);
      // Plain TCP, and the stream holds nothing any more, this write included: the write
      // completed at once (onwrite ran inside write(): libuv wrote it all), no handle counter
      // read (each is a C++ accessor).
      if (cipher === undefined && socket.writableLength === 0 && erroredWith(socket) === undefined) return Promise.resolve();
      const plain = writeStartedAt(socket, buffer.length);
      const sent = sentAtHandOver(socket, plain, cipher, buffer.length);
      if (wholeInKernel(socket, sent, buffer.length)) return Promise.resolve();
      // Handed over but not all in the kernel yet: the call waits until the write completes.
      const job = new SendAllJob(socket, buffer, undefined);
      job.handedOver(plain, cipher, sent);
      followWrite(socket, state, job, buffer);
      return run(socket, job);
    }
    return run(socket, new SendAllJob(socket, buffer, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}
