import * as fs from 'node:fs';
import * as path from 'node:path';
import { VERSION } from '../lib/version';

const MANIFEST = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string };

describe('VERSION', () => {
  it('is the version in package.json', () => {
    expect(VERSION).toBe(MANIFEST.version);
  });
});
