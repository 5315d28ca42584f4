import { CATEGORIES, CATEGORY_MEANINGS, CATEGORY_SET } from '../../lib/errno/categories';

describe('categories', () => {
  it('are lower-case hyphenated words, each once', () => {
    for (const category of CATEGORIES) expect(category).toMatch(/^[a-z]+(?:-[a-z]+)*$/);
    expect(CATEGORY_SET.size).toBe(CATEGORIES.length);
  });

  it('each have a one-line meaning, and nothing else does', () => {
    expect(Object.keys(CATEGORY_MEANINGS).sort()).toEqual([...CATEGORIES].sort());
    for (const meaning of Object.values(CATEGORY_MEANINGS)) expect(meaning).toMatch(/^[a-z][^\n]+[^.]$/);
  });
});
