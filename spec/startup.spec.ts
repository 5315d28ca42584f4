/**
 * What the register preload loads at start-up, and what it leaves for first use (issue 16,
 * "Start-up"): lib/awaitable/ but its hooks, the report collector, the rules parser, the error
 * classes, `node:perf_hooks`, the CLI and the main entry stay unloaded until they are needed,
 * and then load and work. The preload is the bundle scripts/bundle-register.js writes, and the
 * bundled modules are the modules of their files: a file loaded later gets the same instances.
 *
 * Every case runs in a fresh process: `-r timeoutsocket/register` from an application directory
 * where the package resolves by name. No timing is asserted.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runNode } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const MARK = '// timeoutsocket: the register bundle';

/**
 * What the preload loads with no `TIMEOUTSOCKET_*` variable set (relative to dist/lib): its
 * stubs and the shared records, nothing that reads the environment (lib/preload-env.ts).
 */
const AT_STARTUP: readonly string[] = ['lazy-install.js', 'node-internals-methods.js', 'preload-env.js', 'register.js', 'rules/store.js', 'runtime-record.js'];

/** Files (relative to dist/lib) that must not load with the preload alone. */
const NOT_AT_STARTUP: readonly RegExp[] = [
  /^awaitable\/(?!hooks\.js$)/,
  /^report\//,
  /^rules\/(?!store\.js$)/,
  /^errno\//,
  /^(errors|classify|normalize|cli|index|errno|version)\.js$/,
  // What reads the environment: the environment bundle, loaded when a variable is set.
  /^(environment|environment-bundle|runtime|config|node-internals|mode|quote)\.js$/,
];

/** Files that load with the first socket or server method call, not with the preload (lib/lazy-install.ts). */
const NOT_BEFORE_A_SOCKET: readonly RegExp[] = [/^(patch|engine|keepalive|observe|deadline-timer|clock)\.js$/, /^protocols\//, /^awaitable\//];

/** Prints which of our files and which Node builtins the process has loaded, as a JSON line. */
const LOADED = `
  const loaded = () => ({
    ours: Object.keys(require.cache).filter((f) => f.startsWith(LIB)).map((f) => path.relative(LIB, f).split(path.sep).join('/')).sort(),
    perfHooks: process.moduleLoadList.includes('NativeModule perf_hooks'),
  });
`;

let pkg: string;
let app: string;
let lib: string;

/** Runs `body` in node with the preload (unless `preload` is false); `body` can use LIB, path, loaded(). */
async function probe(body: string, env: NodeJS.ProcessEnv = {}, preload = true): Promise<Record<string, any>> {
  const script = `const path = require('path'); const LIB = ${JSON.stringify(lib)};\n${LOADED}\n${body}`;
  const result = await runNode([...(preload ? ['-r', 'timeoutsocket/register'] : []), '-e', script], env, app);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

beforeAll(() => {
  // The package as installed: package.json and dist/lib, the preload bundled. dist/lib is
  // bundled by `npm run build`; after a plain `tsc` it is not, and the copy is bundled here.
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-startup-')));
  pkg = path.join(dir, 'pkg');
  lib = path.join(pkg, 'dist', 'lib');
  fs.cpSync(path.join(ROOT, 'dist', 'lib'), lib, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  if (!fs.readFileSync(path.join(lib, 'register.js'), 'utf8').startsWith(MARK)) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle-register.js'), lib], { stdio: 'ignore' });
  }
  app = path.join(dir, 'app');
  fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  fs.symlinkSync(pkg, path.join(app, 'node_modules', 'timeoutsocket'), 'dir');
});

afterAll(() => fs.rmSync(path.dirname(pkg), { recursive: true, force: true }));

describe('the preload at start-up', () => {
  it('is one file: the bundle, all ASCII (and so are the environment and first-use bundles)', () => {
    const text = fs.readFileSync(path.join(lib, 'register.js'), 'utf8');
    expect(text.startsWith(MARK)).toBe(true);
    expect(/[^\x00-\x7f]/.test(text)).toBe(false);
    for (const bundle of ['environment-bundle.js', 'patch-bundle.js']) expect(/[^\x00-\x7f]/.test(fs.readFileSync(path.join(lib, bundle), 'utf8'))).toBe(false);
  });

  it('installs the stubs, and loads nothing a socket does not need until one runs', async () => {
    const { ours, perfHooks, patched, installed } = await probe(`
      const net = require('net');
      console.log(JSON.stringify({
        ...loaded(),
        patched: typeof net.Socket.prototype.recv === 'function' && typeof net.Server.prototype.accept === 'function',
        installed: net.Socket[Symbol.for('timeoutsocket.runtime.v1')].patched.length,
      }));
    `);
    expect(patched).toBe(true);
    expect(installed).toBeGreaterThan(0);
    expect(ours).toEqual(AT_STARTUP);
    for (const pattern of [...NOT_AT_STARTUP, ...NOT_BEFORE_A_SOCKET]) expect(ours.filter((file: string) => pattern.test(file))).toEqual([]);
    expect(perfHooks).toBe(false);
  });

  it('loads the patch at once, as install() does, when the install message has a listener or NODE_DEBUG is set', async () => {
    const listener = path.join(app, 'listen-install.js');
    fs.writeFileSync(listener, `require('diagnostics_channel').subscribe('timeoutsocket:install', (m) => { globalThis.installMessage = m; });`);
    const heard = await runNode(['-r', listener, '-r', 'timeoutsocket/register', '-e', `
      const LIB = ${JSON.stringify(lib)};
      console.log(JSON.stringify({ message: globalThis.installMessage, engine: require.cache[require('path').join(LIB, 'engine.js')] !== undefined }));
    `], {}, app);
    expect(heard).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(heard.stdout)).toEqual({ message: { defaults: { connect: null, read: null, write: null, keepAlive: null } }, engine: true });
    const debug = await runNode(['-r', 'timeoutsocket/register', '-e', `console.log(require.cache[require('path').join(${JSON.stringify(lib)}, 'engine.js')] !== undefined)`], { NODE_DEBUG: 'timeoutsocket' }, app);
    expect(debug.stdout.trim()).toBe('true');
    expect(debug.stderr).toMatch(/installed, defaults/);
  });

  it('reads the environment, from the environment bundle, when a TIMEOUTSOCKET_* variable is set, even empty', async () => {
    for (const env of [{ TIMEOUTSOCKET_READ_TIMEOUT: '5s' }, { TIMEOUTSOCKET_MODE: '' }]) {
      const { ours, read } = await probe(`console.log(JSON.stringify({ ...loaded(), read: require('net').Socket[Symbol.for('timeoutsocket.runtime.v1')].defaults.read }));`, env);
      expect(ours).toEqual(expect.arrayContaining([...AT_STARTUP, 'environment-bundle.js', 'environment.js', 'runtime.js', 'config.js', 'rules/index.js', 'mode.js']));
      for (const pattern of NOT_BEFORE_A_SOCKET) expect(ours.filter((file: string) => pattern.test(file))).toEqual([]);
      expect(read).toBe(env.TIMEOUTSOCKET_READ_TIMEOUT === undefined ? null : 5000);
    }
  });

  it('stops the process on a bad TIMEOUTSOCKET_RULES or TIMEOUTSOCKET_MODE, as before (the parser loads for it)', async () => {
    for (const [name, value] of [['TIMEOUTSOCKET_RULES', 'db.internal:5432 read=soon'], ['TIMEOUTSOCKET_MODE', 'sometimes']]) {
      const result = await runNode(['-r', 'timeoutsocket/register', '-e', 'console.log("app ran")'], { [name]: value }, app);
      expect(result.code).toBe(9);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^timeoutsocket: ${name}`));
    }
  });
});

describe('what loads on first use, and works', () => {
  let server: net.Server;
  let port: number;
  const accepted = new Set<net.Socket>();
  beforeAll(async () => {
    // Greets every connection with 'hello', then answers nothing.
    server = net.createServer((socket) => {
      accepted.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => accepted.delete(socket));
      socket.write('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('the awaitable API, on the first call', async () => {
    const out = await probe(`
      const socket = require('net').connect(${port}, '127.0.0.1');
      const before = loaded().ours;
      socket.recv(5).then((data) => {
        console.log(JSON.stringify({ before, after: loaded().ours, data: data.toString() }));
        socket.destroy();
      });
    `);
    expect(out.before).not.toContain('awaitable/index.js');
    expect(out.after).toEqual(expect.arrayContaining(['awaitable/index.js', 'awaitable/queue.js', 'awaitable/recv.js']));
    expect(out.data).toBe('hello');
  });

  it('the http client watch, subscribed with the patch: the first request\'s body that stops halfway ends with ETIMEDOUT (Node http, fetch)', async () => {
    // Sends the head and half of a 20-byte body, then stalls: only the watch arms a deadline
    // for that body (the reply's first bytes settled the reply deadline).
    const stalling = net.createServer((socket) => {
      accepted.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => accepted.delete(socket));
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n0123456789'));
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(stalling.address() as net.AddressInfo).port}/`;
      const out = await probe(
        `
        const result = {};
        const done = () => { if (result.http !== undefined && result.fetch !== undefined) console.log(JSON.stringify(result)); };
        // The socket's own error: the response and the request report it in either order.
        require('http').get(${JSON.stringify(url)}, { agent: false }, (res) => {
          res.resume();
          res.on('end', () => { result.http = 'ended'; done(); });
        }).on('socket', (socket) => socket.on('error', (error) => { result.http = error.code; done(); })).on('error', () => {});
        fetch(${JSON.stringify(url)}).then((response) => response.text()).then(
          () => { result.fetch = 'ended'; done(); },
          (error) => { result.fetch = (error.cause && error.cause.code) || error.message; done(); },
        );
      `,
        { TIMEOUTSOCKET_READ_TIMEOUT: '200ms' },
      );
      expect(out).toEqual({ http: 'ETIMEDOUT', fetch: 'ETIMEDOUT' });
    } finally {
      await new Promise((resolve) => stalling.close(resolve));
    }
  });

  it('node:perf_hooks and the error classes, at the first deadline armed (the same classes as the main entry)', async () => {
    const out = await probe(
      `
      const net = require('net');
      const socket = net.connect(${port}, '127.0.0.1');
      const atStart = loaded();
      let armed;
      socket.once('data', () => { socket.write('ping'); armed = loaded(); });
      socket.on('error', (error) => {
        const fired = loaded();
        const main = require('timeoutsocket');
        console.log(JSON.stringify({
          atStart, armed, fired, code: error.code,
          sameClass: error.constructor === main.SocketTimeoutError, isInstance: error instanceof main.SocketTimeoutError,
        }));
      });
    `,
      { TIMEOUTSOCKET_READ_TIMEOUT: '100ms' },
    );
    expect(out.atStart.perfHooks).toBe(false);
    expect(out.armed.perfHooks).toBe(true);
    // The error classes load with the first socket that has deadlines (here its connect), not
    // when one fires: a timer may fire after a module sandbox such as Jest's was torn down, when
    // nothing may load. (The preload alone does not load them: see the start-up case above.)
    expect(out.atStart.ours).toContain('errors.js');
    expect(out).toMatchObject({ code: 'ETIMEDOUT', sameClass: true, isInstance: true });
  });

  it('the rules parser, when TIMEOUTSOCKET_RULES is set; the rule applies', async () => {
    const out = await probe(
      `
      const socket = require('net').connect(${port}, '127.0.0.1');
      console.log(JSON.stringify({ ...loaded(), read: socket.getSocketTimeout().read }));
      socket.destroy();
    `,
      { TIMEOUTSOCKET_RULES: `127.0.0.1:${port} read=1234ms` },
    );
    expect(out.ours).toEqual(expect.arrayContaining(['rules/parse.js', 'rules/destination.js']));
    expect(out.read).toBe(1234);
  });

  it('the report collector, when TIMEOUTSOCKET_REPORT_FILE is set', async () => {
    const file = path.join(app, 'report.jsonl');
    const out = await probe(`console.log(JSON.stringify(loaded()));`, { TIMEOUTSOCKET_REPORT_FILE: file });
    expect(out.ours).toContain('report/collect.js');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/"pid"/); // the process record, written at exit
  });
});

describe('the stubs, on first use', () => {
  it('put the real wrappers in their place on the first call, and one taken off the prototype before keeps working', async () => {
    const out = await probe(`
      const net = require('net');
      const proto = net.Socket.prototype;
      const stubs = { connect: proto.connect, destroy: proto._destroy, listen: net.Server.prototype.listen };
      const before = loaded().ours;
      const server = net.createServer((s) => s.end('hi')).listen(0, '127.0.0.1', () => {
        const socket = new net.Socket();
        const afterListen = loaded().ours;
        stubs.connect.call(socket, server.address().port, '127.0.0.1');
        socket.setEncoding('utf8').on('data', (data) => {
          const main = require('timeoutsocket');
          console.log(JSON.stringify({
            before, afterListen, data,
            replaced: proto.connect !== stubs.connect && proto._destroy !== stubs.destroy && net.Server.prototype.listen !== stubs.listen,
            names: [proto.connect.name, stubs.connect.name, stubs.destroy.name],
            installed: main.isInstalled(),
            // From the one first-use bundle, and the very modules the main entry gets.
            firstUseBundle: require.cache[path.join(LIB, 'patch-bundle.js')] !== undefined,
            samePatch: main.install === require.cache[path.join(LIB, 'patch.js')].exports.install,
          }));
          socket.destroy();
          server.close();
        });
      });
    `);
    expect(out.before).not.toContain('patch.js');
    expect(out.afterListen).toEqual(expect.arrayContaining(['patch.js', 'engine.js']));
    expect(out).toMatchObject({ data: 'hi', replaced: true, names: ['connect', 'connect', '_destroy'], installed: true, firstUseBundle: true, samePatch: true });
  });

  it('leave the per-write methods to Node until a deadline is in force, then stub them, and wrap them once loaded', async () => {
    const out = await probe(`
      const net = require('net');
      const proto = net.Socket.prototype;
      const own = { write: proto._writeGeneric, unref: proto._unrefTimer };
      const nodeOwn = () => proto._writeGeneric === own.write && proto._unrefTimer === own.unref;
      const atStart = nodeOwn();
      // The runtime module from its file (the main entry would load the patch): setting the default loads none of the patch.
      require(path.join(LIB, 'runtime.js')).setDefaultSocketTimeout(60000);
      const stub = proto._writeGeneric;
      const stubbed = !nodeOwn() && stub.name === '_writeGeneric' && require.cache[path.join(LIB, 'patch.js')] === undefined;
      const server = net.createServer((s) => s.end('hi')).listen(0, '127.0.0.1', () => {
        const socket = net.connect(server.address().port, '127.0.0.1');
        socket.setEncoding('utf8').on('data', (data) => {
          console.log(JSON.stringify({ atStart, stubbed, data, real: proto._writeGeneric !== stub && proto._writeGeneric.name === '_writeGeneric' }));
          socket.destroy();
          server.close();
        });
        socket.write('x');
      });
    `);
    expect(out).toEqual({ atStart: true, stubbed: true, data: 'hi', real: true });
  });

  it('put the real per-write wrappers on at once when a deadline comes into force after the patch loaded', async () => {
    const out = await probe(`
      const net = require('net');
      const proto = net.Socket.prototype;
      const own = proto._writeGeneric;
      const server = net.createServer((s) => s.end('hi')).listen(0, '127.0.0.1', () => {
        const socket = net.connect(server.address().port, '127.0.0.1'); // the first use: the patch loads
        const loadedFirst = require.cache[path.join(LIB, 'patch.js')] !== undefined && proto._writeGeneric === own;
        require.cache[path.join(LIB, 'runtime.js')].exports.setDefaultSocketTimeout(60000);
        const real = proto._writeGeneric.toString().includes('armAfterWrite') && proto._unrefTimer.toString().includes('noteActivity');
        console.log(JSON.stringify({ loadedFirst, real }));
        socket.destroy();
        server.close();
      });
    `);
    expect(out).toEqual({ loadedFirst: true, real: true });
  });

  it('stub the per-write methods at start when the environment puts a deadline in force', async () => {
    const out = await probe(
      `
      const proto = require('net').Socket.prototype;
      console.log(JSON.stringify({ names: [proto._writeGeneric.name, proto._unrefTimer.name], patchLoaded: require.cache[path.join(LIB, 'patch.js')] !== undefined }));
    `,
      { TIMEOUTSOCKET_TIMEOUT: '60s' },
    );
    expect(out).toEqual({ names: ['_writeGeneric', '_unrefTimer'], patchLoaded: false });
  });

  it('uninstall() before any socket puts back exactly what Node had', async () => {
    const out = await probe(
      `
      const net = require('net');
      const names = (proto) => Object.getOwnPropertyNames(proto).sort();
      const before = { socket: names(net.Socket.prototype), server: names(net.Server.prototype), connect: net.Socket.prototype.connect };
      require(path.join(LIB, 'register.js'));
      const main = require('timeoutsocket');
      const uninstalled = main.uninstall();
      console.log(JSON.stringify({
        uninstalled,
        same: JSON.stringify(names(net.Socket.prototype)) === JSON.stringify(before.socket) && JSON.stringify(names(net.Server.prototype)) === JSON.stringify(before.server),
        connect: net.Socket.prototype.connect === before.connect,
      }));
    `,
      {},
      false,
    );
    expect(out).toEqual({ uninstalled: true, same: true, connect: true });
  });

  it("a patched method called while the patch loads (a load hook writing to a piped stdout) runs as Node's own", async () => {
    const script = `
      const M = require('module');
      const load = M._load;
      M._load = function (request, parent) {
        // An APM-style hook that logs as modules load: stdout is a pipe, a net.Socket.
        if (parent && String(parent.filename).startsWith(${JSON.stringify(lib)})) process.stdout.write('.');
        return load.apply(this, arguments);
      };
      const net = require('net');
      const server = net.createServer((s) => s.end('hi')).listen(0, '127.0.0.1', () => {
        const socket = net.connect(server.address().port, '127.0.0.1');
        socket.setSocketTimeout({ read: 60000 });
        socket.setEncoding('utf8').on('data', (data) => {
          process.stdout.write('\\n' + JSON.stringify({ data, armed: socket.getSocketTimeout().read }) + '\\n');
          server.close();
        });
      });
    `;
    const result = await runNode(['-r', 'timeoutsocket/register', '-e', script], {}, app);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\.+$/); // the hook did write while the patch loaded
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ data: 'hi', armed: 60000 });
  });

  it('a patch that cannot load after start-up leaves Node\'s own methods, with a warning, not a broken net', async () => {
    // A copy of the package whose first-use bundle went missing after the process started.
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-broken-'));
    try {
      const brokenPkg = path.join(broken, 'pkg');
      fs.cpSync(pkg, brokenPkg, { recursive: true });
      fs.rmSync(path.join(brokenPkg, 'dist', 'lib', 'patch-bundle.js'));
      fs.rmSync(path.join(brokenPkg, 'dist', 'lib', 'patch.js'));
      const script = `
        const net = require('net');
        const server = net.createServer((s) => s.end('hi')).listen(0, '127.0.0.1', () => {
          const socket = net.connect(server.address().port, '127.0.0.1');
          let unavailable = '';
          try { socket.setSocketTimeout(1000); } catch (error) { unavailable = error.message; }
          socket.setEncoding('utf8').on('data', (data) => {
            console.log(JSON.stringify({ data, unavailable }));
            server.close();
          });
        });
      `;
      const result = await runNode(['-r', path.join(brokenPkg, 'dist', 'lib', 'register.js'), '-e', script], {}, app);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('TIMEOUTSOCKET_LOAD_FAILED');
      expect(result.stderr.match(/TIMEOUTSOCKET_LOAD_FAILED/g)).toHaveLength(1);
      const out = JSON.parse(result.stdout);
      expect(out.data).toBe('hi');
      expect(out.unavailable).toMatch(/setSocketTimeout\(\) is unavailable: the patch could not load/);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it('subscribe the http client channels when the patch loads, and uninstall() before that leaves none', async () => {
    const { HTTP_CHANNELS } = require(path.join(lib, 'protocols', 'http.js'));
    const names = JSON.stringify(Object.values(HTTP_CHANNELS));
    const out = await probe(`
      const dc = require('diagnostics_channel');
      const subscribed = () => ${names}.filter((name) => dc.hasSubscribers(name));
      const atStart = subscribed();
      const net = require('net');
      const server = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
        console.log(JSON.stringify({ atStart, afterListen: subscribed(), patch: require.cache[path.join(LIB, 'patch.js')] !== undefined }));
        server.close();
      });
    `);
    expect(out).toEqual({ atStart: [], afterListen: Object.values(HTTP_CHANNELS), patch: true });
    const uninstalled = await probe(`
      const dc = require('diagnostics_channel');
      const net = require('net');
      const listen = net.Server.prototype.listen; // the stub, kept past uninstall
      require('timeoutsocket').uninstall();
      const server = net.createServer();
      listen.call(server, 0, '127.0.0.1', () => {
        console.log(JSON.stringify({ subscribed: ${names}.filter((name) => dc.hasSubscribers(name)), installed: require('timeoutsocket').isInstalled() }));
        server.close();
      });
    `);
    expect(uninstalled).toEqual({ subscribed: [], installed: false });
  });
});

describe('the bundle and the files: one module each', () => {
  it('a file loaded after the preload gets the modules the preload runs', async () => {
    const out = await probe(`
      const recordFile = path.join(LIB, 'runtime-record.js');
      const preloaded = require.cache[recordFile] && require.cache[recordFile].exports;
      const main = require('timeoutsocket');
      console.log(JSON.stringify({
        cached: preloaded !== undefined,
        // runtime.js, loaded from its file by the main entry, re-exports the preload's record module.
        sameRecord: require.cache[path.join(LIB, 'runtime.js')].exports.runtime === preloaded.runtime,
        installs: main.install(),
      }));
    `);
    expect(out).toEqual({ cached: true, sameRecord: true, installs: false });
  });

  it('the preload after the main entry runs none of the modules again', async () => {
    const out = await probe(
      `
      const main = require('timeoutsocket');
      const ours = () => Object.keys(require.cache).filter((f) => f.startsWith(LIB));
      const before = new Map(ours().map((f) => [f, require.cache[f].exports]));
      const writeGeneric = require('net').Socket.prototype._writeGeneric;
      require('timeoutsocket/register');
      const rerun = ours().filter((f) => before.has(f) && require.cache[f].exports !== before.get(f));
      console.log(JSON.stringify({ rerun, samePatch: require('net').Socket.prototype._writeGeneric === writeGeneric, installed: main.isInstalled() }));
    `,
      {},
      false,
    );
    expect(out).toEqual({ rerun: [], samePatch: true, installed: true });
  });

  it('a loader other than Node\'s (a module registry of its own, as Jest\'s) gets the files, not the bundle', async () => {
    // The bundle relies on Node's Module and require.cache; here it is run as a registry that
    // is not Node's would run it: a plain module object and a require whose cache is its own.
    const out = await probe(
      `
      const Module = require('module');
      const fs = require('fs');
      const file = path.join(LIB, 'register.js');
      const real = Module.createRequire(file);
      const foreignRequire = (id) => real(id);
      foreignRequire.cache = {};
      const foreignModule = { exports: {} };
      new Function('exports', 'require', 'module', '__filename', '__dirname', fs.readFileSync(file, 'utf8'))(foreignModule.exports, foreignRequire, foreignModule, file, LIB);
      const net = require('net');
      console.log(JSON.stringify({
        installed: typeof net.Socket.prototype.setSocketTimeout,
        files: Object.keys(require.cache).some((f) => f === path.join(LIB, 'register-files.js')),
      }));
    `,
      {},
      false,
    );
    expect(out).toEqual({ installed: 'function', files: true });
  });
});
