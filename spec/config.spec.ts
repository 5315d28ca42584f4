import {
  MAX_TIMEOUT_MS,
  applyEnvironment,
  getDefaultSocketTimeout,
  normalizeTimeout,
  parseDuration,
  setDefaultSocketTimeout,
  timeoutsFromEnv,
} from '../lib/config';
import { quote } from '../lib/quote';

describe('parseDuration', () => {
  it.each([
    ['400', 400],
    ['400ms', 400],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    [' 250ms ', 250],
    ['.5s', 500],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text, 'X')).toBe(ms);
  });

  it.each(['0', '0ms', '-1', 'abc', '5 s', '5sec', '1e3', '2S', '1.5.2s', 's', '', 'Infinity', 'NaN', '3d', '2147483648'])(
    'rejects %j with a RangeError naming the variable and the value',
    (text) => {
      expect(() => parseDuration(text, 'TIMEOUTSOCKET_TIMEOUT')).toThrow(RangeError);
      expect(() => parseDuration(text, 'TIMEOUTSOCKET_TIMEOUT')).toThrow(`TIMEOUTSOCKET_TIMEOUT=${quote(text)} `);
    },
  );
});

describe('parseDuration given something other than a string', () => {
  it('throws a TypeError naming the value', () => {
    expect(() => parseDuration(5000 as never, 'TIMEOUTSOCKET_TIMEOUT')).toThrow(
      new TypeError('TIMEOUTSOCKET_TIMEOUT must be a duration string such as 400ms or 2s, got 5000 (a number)'),
    );
  });
});

describe('the TIMEOUTSOCKET_* environment', () => {
  it('is undefined when nothing is set, or everything is empty', () => {
    expect(timeoutsFromEnv({})).toBeUndefined();
    expect(timeoutsFromEnv({ TIMEOUTSOCKET_TIMEOUT: '', TIMEOUTSOCKET_READ_TIMEOUT: '  ' })).toBeUndefined();
  });

  it('applies TIMEOUTSOCKET_TIMEOUT to every phase', () => {
    expect(timeoutsFromEnv({ TIMEOUTSOCKET_TIMEOUT: '5s' })).toEqual({ connect: 5000, read: 5000, write: 5000, keepAlive: null });
  });

  it('lets a per-phase variable override the general one', () => {
    expect(
      timeoutsFromEnv({ TIMEOUTSOCKET_TIMEOUT: '5s', TIMEOUTSOCKET_CONNECT_TIMEOUT: '300', TIMEOUTSOCKET_WRITE_TIMEOUT: '1m' }),
    ).toEqual({ connect: 300, read: 5000, write: 60_000, keepAlive: null });
  });

  it('reads TIMEOUTSOCKET_KEEPALIVE on its own: TIMEOUTSOCKET_TIMEOUT does not set it', () => {
    expect(timeoutsFromEnv({ TIMEOUTSOCKET_KEEPALIVE: '30s' })).toEqual({ connect: null, read: null, write: null, keepAlive: 30_000 });
    expect(timeoutsFromEnv({ TIMEOUTSOCKET_TIMEOUT: '5s' })?.keepAlive).toBeNull();
    expect(timeoutsFromEnv({ TIMEOUTSOCKET_TIMEOUT: '5s', TIMEOUTSOCKET_KEEPALIVE: '1m' })).toEqual({
      connect: 5000,
      read: 5000,
      write: 5000,
      keepAlive: 60_000,
    });
  });

  it('leaves phases with no variable off when only per-phase variables are set', () => {
    expect(timeoutsFromEnv({ TIMEOUTSOCKET_READ_TIMEOUT: '2s' })).toEqual({ connect: null, read: 2000, write: null, keepAlive: null });
  });

  it.each([
    'TIMEOUTSOCKET_TIMEOUT',
    'TIMEOUTSOCKET_CONNECT_TIMEOUT',
    'TIMEOUTSOCKET_READ_TIMEOUT',
    'TIMEOUTSOCKET_WRITE_TIMEOUT',
    'TIMEOUTSOCKET_KEEPALIVE',
  ])(
    'rejects a bad %s naming it',
    (name) => {
      expect(() => timeoutsFromEnv({ [name]: 'soon' })).toThrow(new RangeError(
        `${name}='soon' is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m`,
      ));
    },
  );
});

describe('normalizeTimeout', () => {
  it.each([
    [null, { connect: null, read: null, write: null, keepAlive: null }],
    [300, { connect: 300, read: 300, write: 300, keepAlive: null }],
    [{ connect: 50 }, { connect: 50, read: null, write: null, keepAlive: null }],
    [{ read: 10, write: null }, { connect: null, read: 10, write: null, keepAlive: null }],
    [{ connect: 1, read: 2, write: 3 }, { connect: 1, read: 2, write: 3, keepAlive: null }],
    [{ connect: null }, { connect: null, read: null, write: null, keepAlive: null }],
    [{ keepAlive: 30_000 }, { connect: null, read: null, write: null, keepAlive: 30_000 }],
    [{ read: 100, keepAlive: 5000 }, { connect: null, read: 100, write: null, keepAlive: 5000 }],
  ])('takes %j as %j', (setting, expected) => {
    expect(normalizeTimeout(setting)).toEqual(expected);
  });

  it.each([
    ['a string', '300'],
    ['a boolean', true],
    ['an array', [300]],
    ['undefined', undefined],
    ['a function', () => 300],
    ['an unknown key', { connect: 1, idle: 2 }],
    ['an object naming no phase', {}],
    ['an object whose phases are all undefined', { read: undefined }],
    ['a phase given as a string', { read: '300' }],
    ['keepAlive given as a string', { keepAlive: '30s' }],
    ['keepAlive given as a boolean', { keepAlive: true }],
  ])('rejects %s with a TypeError', (_, setting) => {
    expect(() => normalizeTimeout(setting)).toThrow(TypeError);
  });

  it.each([NaN, Infinity, -Infinity, 0, -5, MAX_TIMEOUT_MS + 1])('rejects %d with a RangeError', (ms) => {
    expect(() => normalizeTimeout(ms)).toThrow(RangeError);
    expect(() => normalizeTimeout({ write: ms })).toThrow(RangeError);
    expect(() => normalizeTimeout({ keepAlive: ms })).toThrow(RangeError);
  });

  it('names the bad value and the phase in the message', () => {
    expect(() => normalizeTimeout({ read: -5 })).toThrow('timeout.read must be a finite number of milliseconds > 0, got -5');
    expect(() => normalizeTimeout('5s')).toThrow("got '5s'");
    expect(() => normalizeTimeout({ idle: 5 })).toThrow("unknown key 'idle'");
    expect(() => normalizeTimeout({ keepAlive: 0 })).toThrow('timeout.keepAlive must be a finite number of milliseconds > 0, got 0');
  });
});

describe('the process default', () => {
  afterEach(() => setDefaultSocketTimeout(null));

  it('is off until set', () => {
    expect(getDefaultSocketTimeout()).toEqual({ connect: null, read: null, write: null, keepAlive: null });
  });

  it('round-trips a number and an object', () => {
    setDefaultSocketTimeout(250);
    expect(getDefaultSocketTimeout()).toEqual({ connect: 250, read: 250, write: 250, keepAlive: null });
    setDefaultSocketTimeout({ read: 100 });
    expect(getDefaultSocketTimeout()).toEqual({ connect: null, read: 100, write: null, keepAlive: null });
  });

  it('keeps the old value when the new one is rejected', () => {
    setDefaultSocketTimeout(250);
    expect(() => setDefaultSocketTimeout(-1)).toThrow(RangeError);
    expect(getDefaultSocketTimeout()).toEqual({ connect: 250, read: 250, write: 250, keepAlive: null });
  });

  it('hands out copies the caller cannot use to change it', () => {
    setDefaultSocketTimeout(250);
    const copy = getDefaultSocketTimeout();
    copy.read = 1;
    expect(getDefaultSocketTimeout().read).toBe(250);
  });
});

describe('applyEnvironment', () => {
  it('validates before it changes anything', () => {
    // The runtime applies the environment once per process; a bad value must throw even so.
    expect(() => applyEnvironment({ TIMEOUTSOCKET_TIMEOUT: 'x' })).toThrow(RangeError);
  });
});

describe('bad values are quoted, whatever they are', () => {
  it('a BigInt is named with its n, never a "cannot serialize" crash', () => {
    expect(() => setDefaultSocketTimeout([-46n, 8n] as never)).toThrow(
      new TypeError('timeout must be null, a number of milliseconds or an object { connect?, read?, write?, keepAlive? }, got [ -46n, 8n ]'),
    );
    expect(() => setDefaultSocketTimeout(0n as never)).toThrow(/, got 0n$/);
    expect(() => setDefaultSocketTimeout({ read: 5n } as never)).toThrow(new TypeError('timeout.read must be a number of milliseconds or null, got 5n'));
  });

  it('a string in quotes, with escapes', () => {
    expect(() => setDefaultSocketTimeout('\t83\n' as never)).toThrow(/, got '\\t83\\n'$/);
  });

  it('every unknown key is named', () => {
    expect(() => normalizeTimeout({ reed: 500, idle: 1 })).toThrow(new TypeError("timeout has unknown keys 'reed', 'idle': expected connect, read, write or keepAlive"));
  });
});
