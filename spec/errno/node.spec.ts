import { NODE_CODES } from '../../lib/errno/node';
import { duplicates, expectCategory, NAME } from './rows';

describe("Node's own codes", () => {
  it.each(NODE_CODES.map((row) => [row.code, row] as const))('%s has a code, a kind and a published category', (_code, row) => {
    expect(row.code).toMatch(NAME);
    expect(row.kind === 'name').toBe(/Error$/.test(row.code));
    expectCategory(row.category);
    expect(row.message).not.toBe('');
  });

  it('lists each code once', () => {
    expect(duplicates(NODE_CODES.map((row) => row.code))).toEqual([]);
  });
});
