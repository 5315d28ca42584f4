import { constants } from 'node:os';
import { LINUX_ERRNO } from '../../lib/errno/linux';
import { duplicates, expectErrnoRow } from './rows';

describe('Linux errno table', () => {
  it.each(LINUX_ERRNO.map((row) => [row.number, row.names.join('/'), row] as const))(
    '%i (%s) has a positive number, E-names and a published category',
    (_number, _names, row) => expectErrnoRow(row),
  );

  it('has one row per number and each name once', () => {
    expect(duplicates(LINUX_ERRNO.map((row) => row.number))).toEqual([]);
    expect(duplicates(LINUX_ERRNO.flatMap((row) => row.names))).toEqual([]);
  });

  it('covers the whole of errno.h, 1 to 133 without a gap but 41 and 58', () => {
    const numbers = new Set(LINUX_ERRNO.map((row) => row.number));
    const missing = Array.from({ length: 133 }, (_, i) => i + 1).filter((n) => !numbers.has(n));
    expect(missing).toEqual([41, 58]); // EWOULDBLOCK and EDEADLOCK are aliases, not numbers
  });

  it('keeps aliases in one row: EAGAIN/EWOULDBLOCK, EOPNOTSUPP/ENOTSUP, EDEADLK/EDEADLOCK', () => {
    const namesOf = (n: number) => LINUX_ERRNO.find((row) => row.number === n)?.names;
    expect(namesOf(11)).toEqual(['EAGAIN', 'EWOULDBLOCK']);
    expect(namesOf(95)).toEqual(['EOPNOTSUPP', 'ENOTSUP']);
    expect(namesOf(35)).toEqual(['EDEADLK', 'EDEADLOCK']);
  });

  (process.platform === 'linux' ? it : it.skip)('agrees exactly with os.constants.errno of this Linux', () => {
    const table = new Map(LINUX_ERRNO.flatMap((row) => row.names.map((name) => [name, row.number] as const)));
    const disagreements = Object.entries(constants.errno).filter(([name, number]) => table.get(name) !== number);
    expect(disagreements).toEqual([]);
  });
});
