/**
 * The running Node's own error numbers: `util.getSystemErrorMap()`, indexed once by code name.
 *
 * The tables in this folder give every platform's numbers; this answers for the process that
 * is running, exactly as Node fills `err.errno` (`ETIMEDOUT` is -110 on Linux, -60 on macOS,
 * -4039 on Windows). Names in the map are unique, so the index loses nothing.
 */
// A named import, not `import * as util`: the namespace copy TypeScript emits for that
// (`__importStar`) reads every property of util, and on Node 24 reading `util.diff` loads Node's
// diff and colour code, which opens process.stderr: a net.Socket when stderr is a pipe, so the
// side-effect-free entry would load node:net.
import { getSystemErrorMap } from 'node:util';

let byName: ReadonlyMap<string, number> | undefined;

/** Node's libuv number for a code name on this platform, or `undefined` when libuv has none. */
export function systemErrno(name: string): number | undefined {
  if (byName === undefined) {
    const index = new Map<string, number>();
    for (const [errno, [errName]] of getSystemErrorMap()) index.set(errName, errno);
    byName = index;
  }
  return byName.get(name);
}

/**
 * The negative libuv number Node reports for an error name on this platform.
 * @throws RangeError when libuv has no such name here.
 */
export function libuvErrno(name: string): number {
  const errno = systemErrno(name);
  if (errno === undefined) throw new RangeError(`no libuv errno for ${JSON.stringify(name)} on ${process.platform}`);
  return errno;
}
