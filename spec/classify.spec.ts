import { CATEGORIES, CATEGORY_SET } from '../lib/errno/categories';
import { classify, describe as describeError, type ClassifyContext, type ErrorCode } from '../lib/classify';
import { DARWIN_ERRNO } from '../lib/errno/darwin';
import { LIBUV } from '../lib/errno/libuv';
import { LINUX_ERRNO } from '../lib/errno/linux';
import { NODE_CODES } from '../lib/errno/node';
import { WINSOCK } from '../lib/errno/winsock';

type Case = readonly [label: string, code: ErrorCode, context: ClassifyContext, expected: string];

const win32 = { platform: 'win32' } as const;
const linux = { platform: 'linux' } as const;
const darwin = { platform: 'darwin' } as const;
const reconnect = { op: 'connect', retry: true } as const;

describe('categories', () => {
  it('are published as a readonly array and a Set', () => {
    expect(CATEGORIES).toContain('refused');
    expect(CATEGORY_SET.has('host-not-found')).toBe(true);
    expect(CATEGORY_SET.has('connected ')).toBe(false);
  });

  it.each([
    ...LINUX_ERRNO.map((row) => [row.number, linux] as const),
    ...DARWIN_ERRNO.map((row) => [row.number, darwin] as const),
    ...LIBUV.flatMap((row) => [[row.linux, linux], [row.darwin, darwin], [row.win32, win32]] as const),
    ...WINSOCK.map((row) => [row.number, win32] as const),
  ])('every table row is classified into the set: %i on %j', (code, context) => {
    expect(CATEGORY_SET.has(classify(code, context))).toBe(true);
  });
});

describe("the 2001 report's connect outcomes", () => {
  const cases: Case[] = [
    // Connection refused.
    ['refused, Winsock', 10061, win32, 'refused'],
    ['refused, Linux errno', 111, linux, 'refused'],
    ['refused, macOS errno', 61, darwin, 'refused'],
    ['refused, libuv on Linux', -111, linux, 'refused'],
    ['refused, libuv on macOS', -61, darwin, 'refused'],
    ['refused, libuv on Windows', -4078, win32, 'refused'],
    ['refused, Node code', 'ECONNREFUSED', {}, 'refused'],
    // Re-connect after a refusal: WSAEINVAL, which timeoutsocket.py 1.15 took as "connected".
    ['re-connect after refusal, Winsock', 10022, { ...reconnect, ...win32 }, 'refused'],
    ['re-connect after refusal, Linux errno', 22, { ...reconnect, ...linux }, 'refused'],
    ['re-connect after refusal, macOS errno', 22, { ...reconnect, ...darwin }, 'refused'],
    ['re-connect after refusal, libuv on Windows', -4071, { ...reconnect, ...win32 }, 'refused'],
    ['re-connect after refusal, Node code', 'EINVAL', reconnect, 'refused'],
    ['re-connect after refusal, WSA name', 'WSAEINVAL', reconnect, 'refused'],
    // Already connected.
    ['already connected, Winsock', 10056, win32, 'connected'],
    ['already connected, Linux errno', 106, linux, 'connected'],
    ['already connected, macOS errno', 56, darwin, 'connected'],
    ['already connected, Node code', 'EISCONN', {}, 'connected'],
    // Non-existent address.
    ['unreachable, Winsock', 10065, win32, 'unreachable'],
    ['unreachable, Linux errno', 113, linux, 'unreachable'],
    ['unreachable, macOS errno', 65, darwin, 'unreachable'],
    ['unreachable, Node code', 'EHOSTUNREACH', {}, 'unreachable'],
    // Host name not resolved: no code at all in 2001.
    ['host not found, the bare string', 'host not found', {}, 'host-not-found'],
    ['host not found, an Error message', new Error('host not found'), {}, 'host-not-found'],
    ['host not found, Winsock', 11001, win32, 'host-not-found'],
    ['host not found, Node code', 'ENOTFOUND', {}, 'host-not-found'],
    ['host not found, getaddrinfo code', 'EAI_NONAME', {}, 'host-not-found'],
    // A non-blocking connect that has started.
    ['connect started, Winsock', 10035, { op: 'connect', ...win32 }, 'in-progress'],
    ['connect started, Linux EINPROGRESS', 115, linux, 'in-progress'],
    ['connect started, macOS EINPROGRESS', 36, darwin, 'in-progress'],
    ['connect started, Linux EAGAIN', 11, { op: 'connect', ...linux }, 'in-progress'],
    ['connect started, macOS EWOULDBLOCK', 35, { op: 'connect', ...darwin }, 'in-progress'],
    ['connect started, Node code', 'EINPROGRESS', {}, 'in-progress'],
    ['connect still running, Winsock', 10037, win32, 'already'],
    ['connect still running, Linux', 114, linux, 'already'],
    ['connect still running, Node code', 'EALREADY', {}, 'already'],
    // What recv/send/getpeername said afterwards.
    ['no data yet, Winsock recv', 10035, { op: 'recv', ...win32 }, 'would-block'],
    ['send buffer full, Winsock send', 10035, { op: 'send', ...win32 }, 'would-block'],
    ['no data yet, Linux recv', 11, { op: 'recv', ...linux }, 'would-block'],
    ['no data yet, Node code', 'EAGAIN', { op: 'recv' }, 'would-block'],
    ['getpeername after refusal, Winsock', 10057, win32, 'not-connected'],
    ['send on a broken connection, Winsock', 10054, win32, 'reset'],
    ['connect timed out, Winsock', 10060, win32, 'timeout'],
  ];

  it.each(cases)('%s', (_label, code, context, expected) => {
    expect(classify(code, context)).toBe(expected);
  });
});

describe('context decides only where the report says it must', () => {
  it('reads 10022 as invalid anywhere but a re-connect', () => {
    expect(classify(10022)).toBe('invalid');
    expect(classify(10022, { op: 'connect' })).toBe('invalid');
    expect(classify(10022, { op: 'connect', retry: false })).toBe('invalid');
    expect(classify(10022, { op: 'send', retry: true })).toBe('invalid');
    expect(classify(10022, { op: 'connect', retry: true })).toBe('refused');
  });

  it('reads EAGAIN/EWOULDBLOCK as in-progress on connect and would-block elsewhere', () => {
    for (const op of ['recv', 'send', 'accept'] as const) expect(classify(10035, { op })).toBe('would-block');
    expect(classify(10035)).toBe('would-block');
    expect(classify('EWOULDBLOCK', { op: 'connect' })).toBe('in-progress');
  });

  it('leaves codes without a rule alone whatever the context', () => {
    expect(classify(10056, { op: 'connect', retry: true })).toBe('connected');
    expect(classify(10061, { op: 'recv' })).toBe('refused');
  });
});

describe('Node code strings', () => {
  it.each([
    ['EISCONN', 'connected'],
    ['EINPROGRESS', 'in-progress'],
    ['EALREADY', 'already'],
    ['EAGAIN', 'would-block'],
    ['EBADF', 'closed'],
    ['ERR_SOCKET_CLOSED', 'closed'],
    ['ERR_STREAM_DESTROYED', 'closed'],
    ['EOF', 'closed'],
    ['EPIPE', 'reset'],
    ['ECONNRESET', 'reset'],
    ['ECONNABORTED', 'aborted'],
    ['ABORT_ERR', 'cancelled'],
    ['ECANCELED', 'cancelled'],
    ['ENOTFOUND', 'host-not-found'],
    ['EAI_NONAME', 'host-not-found'],
    ['EAI_AGAIN', 'host-not-found'],
    ['ENODATA', 'host-not-found'],
    ['ETIMEDOUT', 'timeout'],
    ['ETIMEOUT', 'timeout'],
    ['ERR_SOCKET_CONNECTION_TIMEOUT', 'timeout'],
    ['EADDRINUSE', 'address-in-use'],
    ['EADDRNOTAVAIL', 'address-not-available'],
    ['EACCES', 'access-denied'],
    ['EMFILE', 'too-many-files'],
    ['ENOBUFS', 'no-buffer-space'],
    ['EINTR', 'interrupted'],
    ['ENETDOWN', 'network-down'],
    ['ENETUNREACH', 'unreachable'],
    ['ENOTCONN', 'not-connected'],
    ['EAFNOSUPPORT', 'unsupported'],
    ['ERR_SOCKET_BAD_PORT', 'invalid'],
    ['ENOENT', 'other'],
  ])('%s is %s', (code, expected) => {
    expect(classify(code)).toBe(expected);
  });

  it.each(NODE_CODES.map((row) => [row.code, row.category] as const))('%s from the Node table is %s', (code, expected) => {
    expect(classify(code)).toBe(expected);
  });

  it('answers unknown for a well-formed code no table lists', () => {
    expect(classify('EFOO')).toBe('unknown');
    expect(classify('ERR_SOMETHING_NEW')).toBe('unknown');
    expect(classify(99999)).toBe('unknown');
    expect(classify(-99999)).toBe('unknown');
    expect(classify(500, linux)).toBe('unknown');
    expect(classify(111, win32)).toBe('unknown');
  });

  it('reads a string of digits as that number', () => {
    expect(classify('10061')).toBe('refused');
    expect(classify('-111', linux)).toBe('refused');
  });
});

describe('errors as input', () => {
  const systemError = (code: string, errno: number, message: string) => Object.assign(new Error(message), { code, errno, syscall: 'connect' });

  it('reads the code first', () => {
    expect(classify(systemError('ECONNREFUSED', -111, 'connect ECONNREFUSED 127.0.0.1:1'))).toBe('refused');
    expect(classify(Object.assign(new Error('x'), { code: 'ETIMEDOUT', errno: -111 }))).toBe('timeout');
  });

  it('reads errno when the code is missing or unknown', () => {
    expect(classify(Object.assign(new Error('x'), { errno: -104 }), linux)).toBe('reset');
    expect(classify(Object.assign(new Error('x'), { errno: 10054 }))).toBe('reset');
    expect(classify(Object.assign(new Error('x'), { code: 'EWHATEVER', errno: -4078 }), win32)).toBe('refused');
  });

  it('reads the message when there is neither', () => {
    expect(classify(new Error('host not found'))).toBe('host-not-found');
    expect(classify(new Error('Host not found.'))).toBe('host-not-found');
    expect(classify(new Error('connect ECONNREFUSED 127.0.0.1:80'))).toBe('refused');
    expect(classify(new Error('getaddrinfo EAI_AGAIN example.com'))).toBe('host-not-found');
    expect(classify(new Error('[Errno 111] Connection refused'), linux)).toBe('refused');
    expect(classify(new Error('[WinError 10061] No connection could be made'))).toBe('refused');
    expect(classify(new Error("(10065, 'No route to host')"))).toBe('unreachable');
    expect(classify(new Error('Connection reset by peer'))).toBe('reset');
    expect(classify(new Error('timed out'))).toBe('timeout');
    expect(classify(new Error('socket hang up'))).toBe('reset');
  });

  it('reads DOMException names (AbortSignal reasons), not their numeric legacy codes', () => {
    expect(classify(new DOMException('This operation was aborted', 'AbortError'))).toBe('cancelled');
    expect(classify(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('timeout');
    expect(classify(AbortSignal.abort().reason as Error)).toBe('cancelled');
  });

  it('follows cause when the error itself names nothing', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: systemError('ECONNRESET', -104, 'read ECONNRESET') });
    expect(classify(fetchFailed)).toBe('reset');
  });

  it('accepts plain objects shaped like errors', () => {
    expect(classify({ code: 'EHOSTUNREACH' })).toBe('unreachable');
    expect(classify({ errno: 10060 })).toBe('timeout');
    expect(classify({ message: 'host not found' })).toBe('host-not-found');
  });

  it('answers unknown for an Error that names nothing', () => {
    expect(classify(new Error('boom'))).toBe('unknown');
    expect(classify(new Error())).toBe('unknown');
  });
});

describe('bad input throws, naming the bad value', () => {
  it.each([
    [{}, TypeError, /\{\}/],
    [{ code: 42 }, TypeError, /\{ code: 42 \}/],
    [null, TypeError, /null/],
    [undefined, TypeError, /undefined/],
    [true, TypeError, /true/],
    [NaN, RangeError, /NaN/],
    [Infinity, RangeError, /Infinity/],
    [1.5, RangeError, /1\.5/],
    [0, RangeError, /0 means success/],
    ['', RangeError, /got ''/],
    ['   ', RangeError, /non-empty/],
  ])('classify(%p) throws %p', (code, type, message) => {
    expect(() => classify(code as ErrorCode)).toThrow(type);
    expect(() => classify(code as ErrorCode)).toThrow(message);
  });

  it.each([
    [{ platform: 'sunos' }, RangeError, /'sunos'/],
    [{ platform: 'Linux' }, RangeError, /'Linux'/],
    [{ platform: 32 }, TypeError, /32/],
    [{ op: 'read' }, RangeError, /'read'/],
    [{ retry: 'yes' }, TypeError, /'yes'/],
    [null, TypeError, /null/],
  ])('a context of %p throws %p', (context, type, message) => {
    expect(() => classify(10061, context as unknown as ClassifyContext)).toThrow(type);
    expect(() => classify(10061, context as unknown as ClassifyContext)).toThrow(message);
  });
});

describe('describe()', () => {
  it('lists every symbolic name a number has', () => {
    expect(describeError(10022).names).toEqual(['WSAEINVAL']);
    expect(describeError(10035).names).toEqual(['EWOULDBLOCK', 'WSAEWOULDBLOCK']);
    expect(describeError(11, linux).names).toEqual(['EAGAIN', 'EWOULDBLOCK']);
    expect(describeError(-11, linux).names).toEqual(['EAGAIN', 'EWOULDBLOCK']);
    expect(describeError(35, darwin).names).toEqual(['EAGAIN', 'EWOULDBLOCK']);
  });

  it('returns category, code, names, number, platform, source and message', () => {
    expect(describeError('ECONNREFUSED', darwin)).toEqual({
      category: 'refused',
      code: 'ECONNREFUSED',
      names: ['ECONNREFUSED'],
      number: -61,
      platform: 'darwin',
      source: 'libuv',
      message: expect.stringContaining('connection refused'),
    });
    expect(describeError(10061)).toMatchObject({ code: 'ECONNREFUSED', number: 10061, source: 'winsock' });
    expect(describeError('ENOTFOUND')).toMatchObject({ code: 'ENOTFOUND', number: null, source: 'node' });
  });

  it('says why when the context decided', () => {
    const { category, message } = describeError(10022, { op: 'connect', retry: true });
    expect(category).toBe('refused');
    expect(message).toMatch(/^10022 on a re-connect means the earlier attempt was refused \(Winsock reports WSAEINVAL/);
    expect(describeError(10035, { op: 'connect' }).message).toMatch(/^10035 on connect means the connection has started .*WSAEWOULDBLOCK/);
  });

  it("says how Node reports a Winsock code on Windows", () => {
    expect(describeError(10061).message).toContain('Node reports it on Windows as ECONNREFUSED (-4078)');
  });

  it('says which message named the code', () => {
    expect(describeError(new Error('host not found'))).toMatchObject({ code: 'ENOTFOUND', message: expect.stringContaining('the message "host not found"') });
  });

  it('keeps the unknown code in the answer', () => {
    expect(describeError('EFOO', linux)).toMatchObject({ category: 'unknown', code: 'EFOO', names: [], number: null, source: 'none' });
    expect(describeError(4242, linux)).toMatchObject({ category: 'unknown', code: 'UNKNOWN', number: 4242 });
    expect(describeError(new Error('boom')).code).toBe('UNKNOWN');
  });

  it('defaults the platform to the running one (Linux for other Unixes)', () => {
    const expected = ['linux', 'darwin', 'win32'].includes(process.platform) ? process.platform : 'linux';
    expect(describeError('ECONNREFUSED').platform).toBe(expected);
  });
});
