import * as os from 'node:os';
import * as util from 'node:util';
import { AbortError, ETIMEDOUT_ERRNO, SocketClosedError, SocketTimeoutError, timerTimeoutError, WouldBlockError } from '../lib/errors';

describe('SocketTimeoutError', () => {
  it('has the shape of a Node system error', () => {
    const error = new SocketTimeoutError({ phase: 'connect', timeout: 300, address: '127.0.0.1', port: 6379 });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(SocketTimeoutError);
    expect(error).toMatchObject({
      name: 'SocketTimeoutError',
      code: 'ETIMEDOUT',
      errno: ETIMEDOUT_ERRNO,
      syscall: 'connect',
      phase: 'connect',
      timeout: 300,
      address: '127.0.0.1',
      port: 6379,
      message: 'connect ETIMEDOUT 127.0.0.1:6379 (no connection after 300 ms)',
    });
  });

  it('carries the errno Node reports for ETIMEDOUT on this platform', () => {
    expect(ETIMEDOUT_ERRNO).toBeLessThan(0);
    expect(util.getSystemErrorName(ETIMEDOUT_ERRNO)).toBe('ETIMEDOUT');
    if (process.platform !== 'win32') expect(ETIMEDOUT_ERRNO).toBe(-os.constants.errno.ETIMEDOUT);
  });

  it.each([
    ['read', 'read ETIMEDOUT 10.1.2.3:80 (no reply after 50 ms)'],
    ['write', 'write ETIMEDOUT 10.1.2.3:80 (no bytes flushed for 50 ms)'],
  ] as const)('words the %s phase', (phase, message) => {
    expect(new SocketTimeoutError({ phase, timeout: 50, address: '10.1.2.3', port: 80 }).message).toBe(message);
  });

  it('leaves out an unknown address', () => {
    const error = new SocketTimeoutError({ phase: 'read', timeout: 5 });
    expect(error.message).toBe('read ETIMEDOUT (no reply after 5 ms)');
    expect('address' in error).toBe(false);
  });

  it('does not claim errors that are not ours', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'ETIMEDOUT' });
    expect(lookalike).not.toBeInstanceOf(SocketTimeoutError);
  });
});

describe('timerTimeoutError, the error of a deadline that ran out on its timer', () => {
  const details = { phase: 'read' as const, timeout: 5000, address: '10.0.0.1', port: 443 };

  it('is a SocketTimeoutError like any other, with no stack frames', () => {
    const error = timerTimeoutError(details);
    expect(error).toBeInstanceOf(SocketTimeoutError);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', errno: ETIMEDOUT_ERRNO, syscall: 'read', phase: 'read', timeout: 5000, address: '10.0.0.1', port: 443 });
    expect(error.message).toBe(new SocketTimeoutError(details).message);
    expect(error.stack).toBe(`SocketTimeoutError: ${error.message}`);
  });

  it('leaves Error.stackTraceLimit as it found it', () => {
    const before = Error.stackTraceLimit;
    timerTimeoutError(details);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('x').stack).toContain('\n    at ');
  });

  it('is made as ever where Error.stackTraceLimit is read-only (frozen intrinsics)', () => {
    const own = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')!;
    Object.defineProperty(Error, 'stackTraceLimit', { ...own, writable: false });
    try {
      const error = timerTimeoutError(details);
      expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read' });
      expect(error.stack).toContain('\n    at ');
    } finally {
      Object.defineProperty(Error, 'stackTraceLimit', own);
    }
  });
});

describe('instanceof, by the brand every copy of the package shares', () => {
  const made = {
    SocketTimeoutError: new SocketTimeoutError({ phase: 'read', timeout: 5 }),
    WouldBlockError: new WouldBlockError('recv'),
    SocketClosedError: new SocketClosedError('send'),
    AbortError: new AbortError('recv', 'stop'),
  };
  const classes = { SocketTimeoutError, WouldBlockError, SocketClosedError, AbortError };

  it.each(Object.keys(made) as Array<keyof typeof made>)('%s is named, an Error, and an instance of its class only', (name) => {
    const error = made[name];
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(Error);
    for (const [other, cls] of Object.entries(classes)) expect(error instanceof cls).toBe(other === name);
  });

  it.each(Object.keys(classes) as Array<keyof typeof classes>)('%s claims an error another copy branded, by its name alone', (name) => {
    // What another copy's constructor leaves: a plain Error with the shared registry symbol.
    const fromOtherCopy = Object.defineProperty(new Error('x'), Symbol.for('timeoutsocket.error'), { value: [name] });
    expect(fromOtherCopy instanceof classes[name]).toBe(true);
    expect(Object.getOwnPropertySymbols(made[name])).toEqual([Symbol.for('timeoutsocket.error')]);
  });

  it('keeps the abort reason as cause', () => {
    expect(made.AbortError.cause).toBe('stop');
  });
});
