/**
 * Every module the patch runs through keeps plain data exports.
 *
 * TypeScript compiles a re-export (`export { x } from './y'`, `export { x }` of an import) to an
 * accessor on `exports`. V8 keeps an exports object with an accessor in dictionary mode, and
 * then every `(0, module_1.fn)(...)` call into it from another module is a generic property
 * lookup instead of a constant: on the write path that cost about 1,200 instructions per
 * round trip (about 7%). Only the package's entry points re-export, for their users.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const LIB = path.join(__dirname, '..', 'lib');

/** Entry points a user imports from, not the patch: re-exporting is what they are for. */
const ENTRY_POINTS = new Set(['index.ts', 'errno.ts', 'register.ts', 'cli.ts', 'awaitable/index.ts', 'report/index.ts']);

function libModules(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix + entry.name;
    if (entry.isDirectory()) return libModules(path.join(dir, entry.name), `${relative}/`);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative] : [];
  });
}

describe('module exports', () => {
  const modules = libModules(LIB).filter((file) => !ENTRY_POINTS.has(file));

  it('finds the modules (a guard against an empty list)', () => {
    expect(modules).toEqual(expect.arrayContaining(['engine.ts', 'patch.ts', 'runtime.ts', 'protocols/index.ts', 'rules/index.ts']));
  });

  it.each(modules)('%s exports data properties only, no accessors', (file) => {
    const exported = require(path.join(LIB, file)) as object;
    const accessors = Object.entries(Object.getOwnPropertyDescriptors(exported))
      .filter(([, descriptor]) => descriptor.get !== undefined || descriptor.set !== undefined)
      .map(([name]) => name);
    expect(accessors).toEqual([]);
  });

  it('an entry point that re-exports does have accessors (the check can fail)', () => {
    const exported = require(path.join(LIB, 'awaitable', 'index.ts')) as object;
    const accessors = Object.values(Object.getOwnPropertyDescriptors(exported)).filter((d) => d.get !== undefined);
    expect(accessors.length).toBeGreaterThan(0);
  });
});
