import { lookupName } from '../../lib/errno/index';
import { PHRASES } from '../../lib/errno/phrases';
import { duplicates } from './rows';

describe('message phrases', () => {
  it.each(PHRASES.map((row) => [row.phrase, row.code] as const))('"%s" stands for %s, a code the tables know', (phrase, code) => {
    expect(phrase).toBe(phrase.toLowerCase().replace(/[\s.!]+$/, ''));
    for (const platform of ['linux', 'darwin', 'win32'] as const) expect(lookupName(code, platform)).toBeDefined();
  });

  it('lists each phrase once', () => {
    expect(duplicates(PHRASES.map((row) => row.phrase))).toEqual([]);
  });
});
