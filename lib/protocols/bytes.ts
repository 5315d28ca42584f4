/**
 * The first bytes of one write, read from the arguments Node passes to
 * `Socket.prototype._writeGeneric(writev, data, encoding, cb)` (their shapes on each line are in
 * lib/node-internals.ts, `WRAPPED_SOCKET_METHODS`). Used once per connection (to recognise a
 * protocol) or once per reply window (redis), never per chunk.
 *
 * `data` is a Buffer or a string in `encoding` for a single write. For a vectored write
 * (`writev` true, a corked stream's buffered chunks) it is the stream's array of
 * `{ chunk, encoding }` entries, or the bare Buffers when every chunk is one: by the time the
 * patch looks (after the original call), either shape can be there.
 */

/** At most `max` bytes from the start of what one `_writeGeneric` call writes; empty if it carries none. */
export function headOfWrite(writev: unknown, data: unknown, encoding: unknown, max: number): Buffer {
  if (writev !== true) return chunkHead(data, encoding, max);
  if (!Array.isArray(data)) return EMPTY;
  const first = entryHead(data[0], max);
  if (data.length === 1 || first.length >= max) return first;
  // A corked write: the command may be split over several chunks (a header, then arguments).
  const parts: Buffer[] = [first];
  let length = first.length;
  for (let i = 1; i < data.length && length < max; i++) {
    const part = entryHead(data[i], max - length);
    parts.push(part);
    length += part.length;
  }
  return Buffer.concat(parts, length);
}

const EMPTY = Buffer.alloc(0);

/**
 * The first byte one `_writeGeneric` call writes, or -1: enough to rule most protocols out
 * without copying anything. A string's first character stands for its first byte when it is
 * ASCII, which every signature looked for starts with.
 */
export function firstByteOfWrite(writev: unknown, data: unknown): number {
  let chunk: unknown = data;
  if (writev === true) {
    if (!Array.isArray(data) || data.length === 0) return -1;
    const entry: unknown = data[0];
    chunk = entry instanceof Uint8Array ? entry : (entry as { chunk?: unknown } | null)?.chunk;
  }
  if (chunk instanceof Uint8Array) return chunk.length > 0 ? chunk[0]! : -1;
  if (typeof chunk === 'string' && chunk.length > 0) {
    const code = chunk.charCodeAt(0);
    return code < 0x80 ? code : -1;
  }
  return -1;
}

function entryHead(entry: unknown, max: number): Buffer {
  if (entry instanceof Uint8Array) return chunkHead(entry, undefined, max);
  if (typeof entry !== 'object' || entry === null) return EMPTY;
  const { chunk, encoding } = entry as { chunk?: unknown; encoding?: unknown };
  return chunkHead(chunk, encoding, max);
}

function chunkHead(chunk: unknown, encoding: unknown, max: number): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk.length > max ? chunk.subarray(0, max) : chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(max, chunk.length));
  if (typeof chunk !== 'string') return EMPTY;
  // A string's bytes are at most 4 per character (utf8) and at least 1: max characters is enough.
  const text = chunk.length > max ? chunk.slice(0, max) : chunk;
  const bytes = Buffer.from(text, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
  return bytes.length > max ? bytes.subarray(0, max) : bytes;
}
