import { firstByteOfWrite, headOfWrite } from '../../lib/protocols/bytes';

describe("headOfWrite: the first bytes of one _writeGeneric call", () => {
  it('a Buffer: a view of its start, no copy', () => {
    const data = Buffer.from('*1\r\n$4\r\nPING\r\n');
    const head = headOfWrite(false, data, 'buffer', 4);
    expect(head.toString()).toBe('*1\r\n');
    expect(head.buffer).toBe(data.buffer);
  });

  it('a string in its encoding', () => {
    expect(headOfWrite(false, 'héllo', 'utf8', 3)).toEqual(Buffer.from('héllo', 'utf8').subarray(0, 3));
    expect(headOfWrite(false, '68690a', 'hex', 10).toString()).toBe('hi\n');
    expect(headOfWrite(false, 'abc', 'no-such-encoding', 10).toString()).toBe('abc');
  });

  it('a vectored write: the entries { chunk, encoding } and the bare Buffers Node rewrites them into', () => {
    const entries = [{ chunk: '*2\r\n', encoding: 'latin1' }, { chunk: Buffer.from('$4\r\nPING') }];
    expect(headOfWrite(true, entries, '', 100).toString()).toBe('*2\r\n$4\r\nPING');
    const rewritten = Object.assign([Buffer.from('*2\r\n'), Buffer.from('$4\r\nPING')], { allBuffers: true });
    expect(headOfWrite(true, rewritten, '', 6).toString()).toBe('*2\r\n$4');
  });

  it('nothing readable: empty', () => {
    expect(headOfWrite(false, undefined, undefined, 10)).toHaveLength(0);
    expect(headOfWrite(true, 'not an array', undefined, 10)).toHaveLength(0);
    expect(headOfWrite(true, [null, 42], undefined, 10)).toHaveLength(0);
  });
});

describe('firstByteOfWrite', () => {
  it.each([
    ['a Buffer', false, Buffer.from([0x10, 1]), 0x10],
    ['an empty Buffer', false, Buffer.alloc(0), -1],
    ['an ASCII string', false, '*1', 0x2a],
    ['a string starting beyond ASCII', false, 'é', -1],
    ['a vectored write of entries', true, [{ chunk: 'PRI' }], 0x50],
    ['a vectored write rewritten to Buffers', true, [Buffer.from('G')], 0x47],
    ['an empty vectored write', true, [], -1],
  ])('%s', (_what, writev, data, expected) => {
    expect(firstByteOfWrite(writev, data)).toBe(expected);
  });
});
