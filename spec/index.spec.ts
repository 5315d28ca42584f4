import { VERSION } from '../lib/index';
describe('package', () => {
  it('has a version', () => expect(VERSION).toMatch(/^\d+\.\d+\.\d+$/));
});
