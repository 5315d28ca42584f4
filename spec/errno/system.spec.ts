import * as os from 'node:os';
import * as util from 'node:util';
import { libuvErrno, systemErrno } from '../../lib/errno/system';

describe("the running Node's error numbers", () => {
  it('maps names to the negative numbers Node uses', () => {
    expect(util.getSystemErrorName(libuvErrno('ECONNREFUSED'))).toBe('ECONNREFUSED');
    if (process.platform !== 'win32') expect(libuvErrno('ECONNREFUSED')).toBe(-os.constants.errno.ECONNREFUSED);
  });

  it('answers every name of the map with its own number', () => {
    for (const [errno, [name]] of util.getSystemErrorMap()) expect(systemErrno(name)).toBe(errno);
  });

  it('has no number for a name libuv does not know: undefined, or a RangeError naming it', () => {
    expect(systemErrno('ENOPE')).toBeUndefined();
    expect(() => libuvErrno('ENOPE')).toThrow(new RangeError(`no libuv errno for "ENOPE" on ${process.platform}`));
  });
});
