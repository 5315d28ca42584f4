/**
 * Sending: `send` (what fits the free write buffer) and `sendAll` (everything, or `bytesSent`
 * on failure: what reached the kernel).
 */
import * as net from 'node:net';
import { type InternalSocket } from '../engine';
import { AbortError, SocketClosedError, SocketTimeoutError } from '../errors';
import { checkOptions, toBuffer, type CallOptions } from './checks';
import { closedError, isUnconnected, Job, run, socketStateOf, type AwaitTarget } from './queue';


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
    return run(this, (resolve, reject) => new SendJob(this, buffer, resolve, reject, signal));
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
      socketStateOf(this.socket)?.pump('send');
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
    return run(this, (resolve, reject) => new SendAllJob(this as InternalSocket, buffer, resolve, reject, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}
