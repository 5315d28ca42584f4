/**
 * The package version, from the one place it is written: package.json.
 *
 * It is read through the package's own name: Node resolves a package's name from inside the
 * package through its `exports`, which lists `./package.json`. So the same line works from
 * dist/lib, from lib/ under ts-jest, from a second copy in another node_modules tree (each
 * finds its own package.json), and in a bundle (bundlers resolve the name and inline the JSON).
 * A plain `require`, not an `import`: TypeScript would copy an imported package.json into dist/,
 * where it would become the nearest package.json of dist/lib.
 */

/** The version of this copy of timeoutsocket, e.g. `'0.1.0'`. */
export const VERSION: string = (require('timeoutsocket/package.json') as { version: string }).version;
