import { constants } from 'node:os';
import { DARWIN_ERRNO } from '../../lib/errno/darwin';
import { duplicates, expectErrnoRow } from './rows';

describe('macOS errno table', () => {
  it.each(DARWIN_ERRNO.map((row) => [row.number, row.names.join('/'), row] as const))(
    '%i (%s) has a positive number, E-names and a published category',
    (_number, _names, row) => expectErrnoRow(row),
  );

  it('has one row per number from 1 to 106 (ELAST) and each name once', () => {
    expect(DARWIN_ERRNO.map((row) => row.number)).toEqual(Array.from({ length: 106 }, (_, i) => i + 1));
    expect(duplicates(DARWIN_ERRNO.flatMap((row) => row.names))).toEqual([]);
  });

  it('numbers the socket codes the BSD way', () => {
    const numberOf = (name: string) => DARWIN_ERRNO.find((row) => row.names.includes(name))?.number;
    expect([numberOf('EAGAIN'), numberOf('EWOULDBLOCK'), numberOf('EINPROGRESS'), numberOf('EALREADY')]).toEqual([35, 35, 36, 37]);
    expect([numberOf('ECONNREFUSED'), numberOf('EISCONN'), numberOf('EHOSTUNREACH'), numberOf('ETIMEDOUT')]).toEqual([61, 56, 65, 60]);
    expect([numberOf('ENOTSUP'), numberOf('EOPNOTSUPP')]).toEqual([45, 102]);
  });

  (process.platform === 'darwin' ? it : it.skip)('agrees exactly with os.constants.errno of this Mac', () => {
    const table = new Map(DARWIN_ERRNO.flatMap((row) => row.names.map((name) => [name, row.number] as const)));
    const disagreements = Object.entries(constants.errno).filter(([name, number]) => table.get(name) !== number);
    expect(disagreements).toEqual([]);
  });
});
