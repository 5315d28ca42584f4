import { getSystemErrorMap } from 'node:util';
import { DARWIN_ERRNO } from '../../lib/errno/darwin';
import { LIBUV } from '../../lib/errno/libuv';
import { LINUX_ERRNO } from '../../lib/errno/linux';
import type { ErrnoRow, LibuvRow } from '../../lib/errno/row';
import { duplicates, expectCategory, NAME } from './rows';

const PLATFORMS = ['linux', 'darwin', 'win32'] as const;

/** True when libuv release `a` (e.g. '1.46.0') is not newer than `b`. */
function notNewer(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return true;
}

/** On Unix, libuv's number is minus the errno when the platform has one, else libuv's own (<= -3000). */
function expectUnixNumber(row: LibuvRow, number: number, errno: readonly ErrnoRow[]): void {
  const own = errno.find((e) => e.names.includes(row.name));
  if (own !== undefined) expect(number).toBe(-own.number);
  else expect(number).toBeLessThanOrEqual(-3000);
}

describe('libuv table', () => {
  it.each(LIBUV.map((row) => [row.name, row] as const))('%s has a name, three negative numbers and a published category', (_name, row) => {
    expect(row.name).toMatch(NAME);
    for (const platform of PLATFORMS) expect(Number.isInteger(row[platform]) && row[platform] < 0).toBe(true);
    expect(row.win32).toBeLessThanOrEqual(-3000);
    expectUnixNumber(row, row.linux, LINUX_ERRNO);
    expectUnixNumber(row, row.darwin, DARWIN_ERRNO);
    expectCategory(row.category);
    expect(row.message).not.toBe('');
  });

  it('has each name once and, per platform, each number once', () => {
    expect(duplicates(LIBUV.map((row) => row.name))).toEqual([]);
    for (const platform of PLATFORMS) expect(duplicates(LIBUV.map((row) => row[platform]))).toEqual([]);
  });

  it('gives ECONNREFUSED the numbers the issue names: -111 Linux, -61 macOS, -4078 Windows', () => {
    expect(LIBUV.find((row) => row.name === 'ECONNREFUSED')).toMatchObject({ linux: -111, darwin: -61, win32: -4078 });
  });

  it(`agrees exactly with util.getSystemErrorMap() of this Node (${process.platform}, libuv ${process.versions.uv})`, () => {
    const platform = PLATFORMS.find((p) => p === process.platform) ?? 'linux';
    const map = getSystemErrorMap();
    const present = LIBUV.filter((row) => row.since === undefined || notNewer(row.since, process.versions.uv));
    const table = new Map(present.map((row) => [row[platform], [row.name, row.message]] as const));
    expect(new Map(map)).toEqual(table);
  });
});
