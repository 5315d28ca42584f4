import {
  MAX_TIMEOUT_MS,
  keepAliveProbesFromEnv,
  normalizeTimeout,
  parseDuration,
  parseKeepAlive,
  timeoutsFromEnv,
} from '../lib/config';
import { takesKeepAliveProbes } from '../lib/runtime';
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

  it.each(['0.4ms', '1.5ms', '.5', '1.0005s', '0.0001s'])('rejects %j: a fraction of a millisecond, saying so', (text) => {
    expect(() => parseDuration(text, 'TIMEOUTSOCKET_TIMEOUT')).toThrow(RangeError);
    expect(() => parseDuration(text, 'TIMEOUTSOCKET_TIMEOUT')).toThrow(
      `TIMEOUTSOCKET_TIMEOUT=${quote(text)} is not a valid timeout: it must be a whole number of milliseconds, got `,
    );
  });

  it('reads durations whose unit makes them whole ms: 1.5s, 0.001s, 1.25m', () => {
    expect([parseDuration('1.5s', 'X'), parseDuration('0.001s', 'X'), parseDuration('1.25m', 'X'), parseDuration('1.1s', 'X'), parseDuration('2147483647', 'X')]).toEqual([1500, 1, 75_000, 1100, MAX_TIMEOUT_MS]);
  });

  it('past the timer limit, says what the limit is', () => {
    expect(() => parseDuration('2147483648', 'TIMEOUTSOCKET_TIMEOUT')).toThrow(
      new RangeError(`TIMEOUTSOCKET_TIMEOUT='2147483648' is not a valid timeout: the longest is ${MAX_TIMEOUT_MS} ms (Node's timer limit, about 24.8 days)`),
    );
    expect(() => parseDuration('600h', 'X')).toThrow(`the longest is ${MAX_TIMEOUT_MS} ms`);
  });
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

describe('TIMEOUTSOCKET_KEEPALIVE with a probe interval and count', () => {
  const NAME = 'TIMEOUTSOCKET_KEEPALIVE';

  it('reads a delay alone, or a delay, an interval and a count', () => {
    expect(parseKeepAlive('30s', NAME)).toEqual({ delay: 30_000, probes: null });
    expect(parseKeepAlive('30s,5s,4', NAME)).toEqual({ delay: 30_000, probes: { interval: 5000, count: 4 } });
    expect(parseKeepAlive(' 1m , 1500ms , 10 ', NAME)).toEqual({ delay: 60_000, probes: { interval: 1500, count: 10 } });
  });

  it('gives the delay alone to the process default: the interval and count are not deadlines', () => {
    expect(timeoutsFromEnv({ [NAME]: '30s,5s,4' })).toEqual({ connect: null, read: null, write: null, keepAlive: 30_000 });
  });

  it.each([
    ['30s,5s', `${NAME}="30s,5s" has 2 parts: give a delay alone (30s) or a delay, a probe interval and a probe count (30s,5s,4)`],
    ['30s,5s,4,1', `${NAME}="30s,5s,4,1" has 4 parts: give a delay alone (30s) or a delay, a probe interval and a probe count (30s,5s,4)`],
    ['soon,5s,4', `${NAME}="soon,5s,4": the delay "soon" is not a duration > 0 such as 400ms, 5s or 1m`],
    ['30s,0,4', `${NAME}="30s,0,4": the probe interval "0" is not a duration > 0 such as 400ms, 5s or 1m`],
    ['30s,500ms,4', `${NAME}="30s,500ms,4": the probe interval "500ms" must be from 1s to 32767s (Node takes whole seconds)`],
    ['30s,10h,4', `${NAME}="30s,10h,4": the probe interval "10h" must be from 1s to 32767s (Node takes whole seconds)`],
    ['30s,5s,0', `${NAME}="30s,5s,0": the probe count "0" must be a whole number from 1 to 127`],
    ['30s,5s,2.5', `${NAME}="30s,5s,2.5": the probe count "2.5" must be a whole number from 1 to 127`],
    ['30s,5s,128', `${NAME}="30s,5s,128": the probe count "128" must be a whole number from 1 to 127`],
    ['30s,5s,', `${NAME}="30s,5s,": the probe count "" must be a whole number from 1 to 127`],
  ])('rejects %j with a RangeError naming the bad part', (value, message) => {
    expect(() => parseKeepAlive(value, NAME)).toThrow(new RangeError(message));
    expect(() => timeoutsFromEnv({ [NAME]: value })).toThrow(new RangeError(message));
  });

  it('refuses the interval and count on a line whose setKeepAlive() takes the delay alone, naming the line', () => {
    expect(keepAliveProbesFromEnv({ [NAME]: '30s,5s,4' }, { version: '24.22.3', takesProbes: true })).toEqual({ interval: 5000, count: 4 });
    expect(keepAliveProbesFromEnv({ [NAME]: '30s' }, { version: '22.23.5', takesProbes: false })).toBeNull();
    expect(keepAliveProbesFromEnv({}, { version: '22.23.5', takesProbes: false })).toBeNull();
    expect(() => keepAliveProbesFromEnv({ [NAME]: '30s,5s,4' }, { version: '22.23.5', takesProbes: false })).toThrow(
      new RangeError(
        `${NAME}="30s,5s,4": a probe interval and count need a Node line whose socket.setKeepAlive() takes them (24 and later); ` +
          `this is Node 22.23.5, which takes the delay alone (e.g. ${NAME}=30s)`,
      ),
    );
  });

  it(`knows whether this Node (${process.versions.node}) takes them: 24 and later do`, () => {
    expect(takesKeepAliveProbes()).toBe(Number(process.versions.node.split('.')[0]) >= 24);
  });
});

describe('bad values are quoted, whatever they are', () => {
  it('a BigInt is named with its n, never a "cannot serialize" crash', () => {
    expect(() => normalizeTimeout([-46n, 8n] as never)).toThrow(
      new TypeError('timeout must be null, a number of milliseconds or an object { connect?, read?, write?, keepAlive? }, got [ -46n, 8n ]'),
    );
    expect(() => normalizeTimeout(0n as never)).toThrow(/, got 0n$/);
    expect(() => normalizeTimeout({ read: 5n } as never)).toThrow(new TypeError('timeout.read must be a number of milliseconds or null, got 5n'));
  });

  it('a string in quotes, with escapes', () => {
    expect(() => normalizeTimeout('\t83\n' as never)).toThrow(/, got '\\t83\\n'$/);
  });

  it('every unknown key is named', () => {
    expect(() => normalizeTimeout({ reed: 500, idle: 1 })).toThrow(new TypeError("timeout has unknown keys 'reed', 'idle': expected connect, read, write or keepAlive"));
  });
});
