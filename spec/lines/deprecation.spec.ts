/**
 * Loading the shim prints nothing on any supported line: no deprecation warning (26 deprecates
 * the `_tls_wrap` module, DEP0192, which the shim never loads: it reaches TLS sockets through
 * `net.Socket.prototype`, which `tls.TLSSocket` inherits), even with `--pending-deprecation`.
 */
import * as path from 'node:path';
import { runNode } from '../helpers';

const ROOT = path.resolve(__dirname, '../..');

describe(`loading the shim on Node ${process.versions.node}`, () => {
  it.each([
    ['node -r ./dist/lib/register.js -e 0', ['-r', './dist/lib/register.js', '-e', '0']],
    ["require('./dist/lib/index.js')", ['-e', "require('./dist/lib/index.js')"]],
    ["import('./dist/lib/index.js')", ['-e', "import('./dist/lib/index.js')"]],
  ])('%s prints no warning', async (_name, args) => {
    const result = await runNode(['--pending-deprecation', '--throw-deprecation', ...args], {}, ROOT);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('the check itself sees a deprecation: this line warns when _tls_wrap is loaded from 26 on', async () => {
    const result = await runNode(['-e', "require('_tls_wrap')"], {}, ROOT);
    expect(result.stderr.includes('DEP0192')).toBe(Number(process.versions.node.split('.')[0]) >= 26);
  });
});
