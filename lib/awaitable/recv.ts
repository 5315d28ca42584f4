/**
 * Receiving: `recv` and `recvInto`. Waiting never adds a 'data' listener nor switches the stream
 * to flowing mode: bytes are taken with `read(n)` only when a call completes, so a call that
 * times out consumes nothing.
 */
import * as net from 'node:net';
import { SocketClosedError } from '../errors';
import { eofReceived } from '../node-internals';
import { quote } from '../quote';
import { checkOptions, checkSize, type CallOptions } from './checks';
import { closedError, isUnconnected, Job, run, socketStateOf, stateOf, type SocketAwaitState } from './queue';

const EMPTY = Buffer.alloc(0);

/**
 * Takes up to `n` buffered bytes, the empty buffer at orderly EOF, or null when nothing is there
 * yet. Reading exactly what is returned leaves the rest buffered for the next call or stream reader.
 */
function takeBytes(socket: net.Socket, n: number): Buffer | null {
  const length = socket.readableLength;
  if (length > 0) return socket.read(Math.min(n, length)) as Buffer;
  if (socket.readableEnded) return EMPTY;
  if (eofReceived(socket)) {
    socket.read(0); // lets the stream emit 'end', so the socket winds down as it would for any reader
    return EMPTY;
  }
  return null;
}

class RecvJob extends Job<Buffer> {
  constructor(
    private readonly socket: net.Socket,
    private n: number,
    signal: AbortSignal | undefined,
  ) {
    super('recv', 'recv', signal);
  }

  /** This job, settled and off the queue, as a new call for up to `n` bytes with no signal. */
  reuseFor(n: number): this {
    this.restart();
    this.n = n;
    return this;
  }

  /** The chunk the socket just read, if the call asked for no fewer bytes: the call settles with that very Buffer. */
  override takeChunk(chunk: Buffer): boolean {
    return chunk.length <= this.n && this.resolve(chunk);
  }

  attempt(): boolean {
    const bytes = takeBytes(this.socket, this.n);
    if (bytes !== null) return this.resolve(bytes);
    if (this.socket.destroyed) return this.reject(closedError(this.socket, 'recv'));
    if (isUnconnected(this.socket)) return this.reject(new SocketClosedError('recv', 'socket is not connected'));
    return false;
  }
}

/**
 * Bytes already buffered: taken now, without a job or a timer. Kept out of recv: inlined there,
 * the stream's read() would take up V8's inlining budget of the waiting case too.
 */
function takeAtOnce(socket: net.Socket, size: number): Promise<Buffer> {
  return Promise.resolve(socket.read(Math.min(size, socket.readableLength)) as Buffer);
}

/**
 * Nothing buffered, nothing queued: the call waits, first in line, in the socket's spare job
 * (made on the first such call, then restarted for each: nothing holds it once it settled and
 * left the queue, which it has, the queue being empty). Kept out of recv, which V8 inlines into
 * the application's own function with its inlining budget spent: a `new RecvJob` there went
 * through V8's generic construct stub and the not-inlined Job constructor on every call.
 * Counted (the awaitable ping-pong of `--instructions --only=awaitable`, 1000/11000 after 3000):
 * 20,084 instructions per round trip before; 20,014 with {@link SocketAwaitState.startRecv};
 * 19,745 with the spare job as well (the construct stub, the Job constructor and the allocation,
 * about 270).
 */
function waitAtOnce(socket: net.Socket, state: SocketAwaitState, size: number): Promise<Buffer> {
  const spare = state.spareRecv as RecvJob | undefined;
  const job = spare === undefined ? (state.spareRecv = new RecvJob(socket, size, undefined)) : spare.reuseFor(size);
  state.startRecv(job);
  return job.promise();
}

function checkByteStream(socket: net.Socket, call: string): void {
  if (socket.readableEncoding !== null) {
    throw new TypeError(`${call}: the socket has an encoding set (${quote(socket.readableEncoding)}); recv works on bytes`);
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
    const signal = options === undefined ? undefined : checkOptions(options, 'recv').signal;
    checkByteStream(this, 'recv');
    if (signal === undefined) {
      // The common case, first in line with no signal: taken now if bytes are buffered, else
      // the call waits in the queue, its promise made at once (nothing it does first can settle it).
      const state = socketStateOf(this) ?? stateOf(this);
      if (!state.hasQueuedRecv()) {
        if (this.readableLength > 0) return takeAtOnce(this, size);
        return waitAtOnce(this, state, size);
      }
    }
    return run(this, new RecvJob(this, size, signal));
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
    throw new TypeError(`recvInto(buffer): buffer must be a Buffer or Uint8Array, got ${quote(buffer)}`);
  }
  if (buffer.length === 0) return 0;
  const bytes = await recv.call(this, buffer.length, options);
  buffer.set(bytes);
  return bytes.length;
}
