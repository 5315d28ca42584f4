import * as path from 'node:path';
import * as errno from '../lib/errno';
import * as main from '../lib/index';
import { uninstall } from '../lib/patch';
import { runNode } from './helpers';

const ROOT = path.resolve(__dirname, '..');

/**
 * Loads an entry by its package name (Node resolves a package's own name through its `exports`
 * from inside it) in a fresh process, and reports what the load did to the process: whether
 * `node:net` was loaded, which of our files were, whether the patch or the shared runtime record
 * is there. A bad TIMEOUTSOCKET_TIMEOUT is set: an entry that applies the environment throws.
 */
const PROBE = (load: string) => `
  ${load}
  const netLoaded = process.moduleLoadList.includes('NativeModule net');
  const dist = ${JSON.stringify(path.join(ROOT, 'dist', 'lib'))};
  const ours = Object.keys(require.cache).filter((file) => file.startsWith(dist))
    .map((file) => require('path').relative(dist, file).split(require('path').sep).join('/')).sort();
  const net = require('node:net');
  console.log(JSON.stringify({
    netLoaded,
    ours,
    patched: typeof net.Socket.prototype.setSocketTimeout === 'function',
    runtime: Object.getOwnPropertySymbols(net.Socket).map(String),
    refused: classify('ECONNREFUSED'),
  }));
`;

async function probe(load: string, args: string[] = []): Promise<Record<string, unknown>> {
  const result = await runNode([...args, '-e', PROBE(load)], { TIMEOUTSOCKET_TIMEOUT: 'soon' }, ROOT);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

describe('the timeoutsocket/errno entry', () => {
  afterAll(() => uninstall()); // importing lib/index above installed the patch in this worker

  it('loads no node:net, patches nothing and reads no environment (require)', async () => {
    expect(await probe(`const { classify } = require('timeoutsocket/errno');`)).toEqual({
      netLoaded: false,
      ours: [
        'classify.js',
        'errno.js',
        'errno/categories.js',
        'errno/darwin.js',
        'errno/index.js',
        'errno/libuv.js',
        'errno/linux.js',
        'errno/node.js',
        'errno/phrases.js',
        'errno/system.js',
        'errno/winsock.js',
        'normalize.js',
        'quote.js',
      ],
      patched: false,
      runtime: [],
      refused: 'refused',
    });
  });

  it('loads no node:net and patches nothing (import)', async () => {
    const load = `const { classify } = await import('timeoutsocket/errno');`;
    // -e with an await: wrap the probe in an async function of its own.
    const result = await runNode(
      ['-e', `(async () => { ${PROBE(load)} })().catch((err) => { console.error(err); process.exit(1); });`],
      { TIMEOUTSOCKET_TIMEOUT: 'soon' },
      ROOT,
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ netLoaded: false, patched: false, runtime: [], refused: 'refused' });
  });

  it('is the witness: the main entry, loaded the same way, does load net and install the patch', async () => {
    const result = await runNode(['-e', PROBE(`const { classify } = require('timeoutsocket');`)], { TIMEOUTSOCKET_TIMEOUT: '5s' }, ROOT);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({
      netLoaded: true,
      ours: expect.arrayContaining(['patch.js', 'runtime.js', 'errno.js']),
      patched: true,
      runtime: expect.arrayContaining(['Symbol(timeoutsocket.runtime.v1)']),
    });
  });

  it('exports what the main entry exports for errors, the same objects', () => {
    for (const [name, value] of Object.entries(errno)) expect((main as Record<string, unknown>)[name]).toBe(value);
    expect(Object.keys(errno).sort()).toEqual([
      'CATEGORIES',
      'CATEGORY_MEANINGS',
      'CATEGORY_SET',
      'DARWIN_ERRNO',
      'LIBUV',
      'LINUX_ERRNO',
      'NODE_CODES',
      'OPERATIONS',
      'PHRASES',
      'PLATFORMS',
      'WINSOCK',
      'classify',
      'describe',
      'normalizeError',
    ]);
  });
});
