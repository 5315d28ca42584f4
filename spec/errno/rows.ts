/** Shared checks for spec/errno: what every row of every table must satisfy. */
import { CATEGORY_SET } from '../../lib/errno/categories';

/** Symbolic names: E…, WSA…, UV's EOF/UNKNOWN, Node's ERR_… and DOMException names. */
export const NAME = /^(?:E[A-Z0-9_]+|WSA[A-Z0-9_]+|UNKNOWN|ERR_[A-Z0-9_]+|ABORT_ERR|[A-Z][a-z]+Error)$/;

/** Asserts that a row's category is one of the published categories. */
export function expectCategory(category: string): void {
  expect(CATEGORY_SET.has(category)).toBe(true);
}

/** Returns the values that occur more than once. */
export function duplicates<T>(values: readonly T[]): T[] {
  const seen = new Set<T>();
  return values.filter((value) => (seen.has(value) ? true : (seen.add(value), false)));
}

/** Asserts what every row of a POSIX errno table (Linux, macOS) must be: a positive number, E-names, a category, a message. */
export function expectErrnoRow(row: { number: number; names: readonly string[]; category: string; message: string }): void {
  expect(Number.isInteger(row.number) && row.number > 0 && row.number < 10000).toBe(true);
  expect(row.names.length).toBeGreaterThan(0);
  for (const name of row.names) expect(name).toMatch(NAME);
  expectCategory(row.category);
  expect(row.message).not.toBe('');
}
