import { DARWIN_ERRNO } from '../../lib/errno/darwin';
import { lookupName, lookupNumber, lookupPhrase } from '../../lib/errno/index';
import { LIBUV } from '../../lib/errno/libuv';
import { LINUX_ERRNO } from '../../lib/errno/linux';
import { NODE_CODES } from '../../lib/errno/node';
import { WINSOCK } from '../../lib/errno/winsock';

/** Every (table, name, category) the tables state, WSA names also under their Berkeley twin. */
const STATEMENTS = [
  ...LINUX_ERRNO.flatMap((row) => row.names.map((name) => ['linux', name, row.category] as const)),
  ...DARWIN_ERRNO.flatMap((row) => row.names.map((name) => ['darwin', name, row.category] as const)),
  ...LIBUV.map((row) => ['libuv', row.name, row.category] as const),
  ...WINSOCK.flatMap((row) => row.names.map((name) => ['winsock', name.replace(/^WSAE/, 'E'), row.category] as const)),
  ...NODE_CODES.map((row) => ['node', row.code, row.category] as const),
];

/** Names whose string form means something else in Node than the errno of the same name. */
const NODE_OVERRIDES = new Set(['ENODATA']); // dns.NODATA, not the STREAMS/xattr errno

describe('the tables together', () => {
  it('never give one name two categories (a conflicting duplicate)', () => {
    const seen = new Map<string, string>();
    const conflicts: string[] = [];
    for (const [table, name, category] of STATEMENTS) {
      if (table === 'node' && NODE_OVERRIDES.has(name)) continue;
      const earlier = seen.get(name);
      if (earlier !== undefined && earlier !== category) conflicts.push(`${name}: ${earlier} vs ${category} (${table})`);
      seen.set(name, category);
    }
    expect(conflicts).toEqual([]);
  });

  it('give each Node override a different answer on purpose', () => {
    for (const name of NODE_OVERRIDES) {
      expect(lookupName(name, 'linux')?.source).toBe('node');
      expect(LINUX_ERRNO.find((row) => row.names.includes(name))?.category).not.toBe(NODE_CODES.find((row) => row.code === name)?.category);
    }
  });
});

describe('lookupNumber', () => {
  it('reads 10000 and up as Winsock on every platform', () => {
    expect(lookupNumber(10061, 'linux')).toMatchObject({ source: 'winsock', code: 'ECONNREFUSED' });
    expect(lookupNumber(10061, 'darwin')).toMatchObject({ source: 'winsock', code: 'ECONNREFUSED' });
  });

  it('reads other positive numbers as the platform errno, and as Winsock on Windows', () => {
    expect(lookupNumber(111, 'linux')).toMatchObject({ source: 'errno', code: 'ECONNREFUSED' });
    expect(lookupNumber(61, 'darwin')).toMatchObject({ source: 'errno', code: 'ECONNREFUSED' });
    expect(lookupNumber(61, 'linux')).toMatchObject({ source: 'errno', code: 'ENODATA' });
    expect(lookupNumber(995, 'win32')).toMatchObject({ source: 'winsock', code: 'WSA_OPERATION_ABORTED' });
    expect(lookupNumber(111, 'win32')).toBeUndefined();
  });

  it('reads negative numbers as libuv, with the errno aliases of the number', () => {
    expect(lookupNumber(-11, 'linux')).toMatchObject({ source: 'libuv', code: 'EAGAIN', names: ['EAGAIN', 'EWOULDBLOCK'] });
    expect(lookupNumber(-4088, 'win32')).toMatchObject({ source: 'libuv', code: 'EAGAIN', names: ['EAGAIN'] });
    expect(lookupNumber(-3008, 'darwin')).toMatchObject({ source: 'libuv', code: 'EAI_NONAME' });
  });
});

describe('lookupName', () => {
  it("prefers Node's codes, then libuv, then the platform errno, then Winsock", () => {
    expect(lookupName('ENOTFOUND', 'linux')?.source).toBe('node');
    expect(lookupName('EAGAIN', 'linux')).toMatchObject({ source: 'libuv', number: -11 });
    expect(lookupName('EWOULDBLOCK', 'linux')).toMatchObject({ source: 'errno', number: 11 });
    expect(lookupName('EWOULDBLOCK', 'win32')).toMatchObject({ source: 'winsock', number: 10035 });
    expect(lookupName('WSAEINVAL', 'linux')).toMatchObject({ source: 'winsock', number: 10022 });
  });
});

describe('lookupPhrase', () => {
  it('knows the report\'s bare message and the sources\' own texts, in any case', () => {
    expect(lookupPhrase('host not found', 'win32')).toBe('ENOTFOUND');
    expect(lookupPhrase('Connection refused.', 'linux')).toBe('ECONNREFUSED');
    expect(lookupPhrase('No route to host', 'darwin')).toBe('EHOSTUNREACH');
    expect(lookupPhrase('something else', 'linux')).toBeUndefined();
  });
});
