import * as os from 'node:os';
import * as util from 'node:util';
import { ETIMEDOUT_ERRNO, SocketTimeoutError, Timeout, libuvErrno } from '../lib/errors';

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

  it('is exported as Timeout too, the name Python used', () => {
    expect(Timeout).toBe(SocketTimeoutError);
  });

  it('does not claim errors that are not ours', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'ETIMEDOUT' });
    expect(lookalike).not.toBeInstanceOf(SocketTimeoutError);
  });
});

describe('libuvErrno', () => {
  it('maps names to the negative numbers Node uses', () => {
    expect(util.getSystemErrorName(libuvErrno('ECONNREFUSED'))).toBe('ECONNREFUSED');
  });
  it('rejects a name libuv does not know', () => {
    expect(() => libuvErrno('ENOPE')).toThrow(RangeError);
  });
});
