import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectTarget, install, isInstalled, uninstall } from '../lib/patch';

const ROOT = path.resolve(__dirname, '..');
const PATCHED = ['connect', '_writeGeneric', '_destroy'] as const;
const ADDED = ['setSocketTimeout', 'getSocketTimeout'] as const;

function originals(): Record<string, unknown> {
  const proto = net.Socket.prototype as unknown as Record<string, unknown>;
  return Object.fromEntries(PATCHED.map((key) => [key, proto[key]]));
}

describe('install and uninstall', () => {
  let before: Record<string, unknown>;
  beforeAll(() => {
    uninstall(); // another spec file in this worker may have installed it
    before = originals();
  });
  afterAll(() => uninstall());

  it('patches once, however often it is called', () => {
    expect(install()).toBe(true);
    const patched = originals();
    expect(install()).toBe(false);
    expect(originals()).toEqual(patched);
    expect(isInstalled()).toBe(true);
    for (const key of PATCHED) expect(patched[key]).not.toBe(before[key]);
    for (const key of ADDED) expect(typeof (net.Socket.prototype as unknown as Record<string, unknown>)[key]).toBe('function');
  });

  it('restores the exact original functions and removes what it added', () => {
    install();
    expect(uninstall()).toBe(true);
    expect(uninstall()).toBe(false);
    expect(isInstalled()).toBe(false);
    const after = originals();
    for (const key of PATCHED) expect(after[key]).toBe(before[key]);
    for (const key of ADDED) expect(Object.prototype.hasOwnProperty.call(net.Socket.prototype, key)).toBe(false);
  });

  it('can be installed again after an uninstall', () => {
    expect(install()).toBe(true);
    expect(isInstalled()).toBe(true);
    uninstall();
  });
});

describe('connectTarget reads every form of connect()', () => {
  it.each([
    [[{ port: 80, host: 'example.test' }], { ipc: false, host: 'example.test', port: 80 }],
    [[[{ port: 6379 }, () => {}]], { ipc: false, host: 'localhost', port: 6379 }],
    [[443, '127.0.0.1', () => {}], { ipc: false, host: '127.0.0.1', port: 443 }],
    [['8080'], { ipc: false, host: 'localhost', port: 8080 }],
    [[' 8080'], { ipc: false, host: 'localhost', port: 8080 }],
    [[{ port: Symbol('p') }], { ipc: false, host: 'localhost', port: undefined }],
    [['/tmp/app.sock'], { ipc: true, host: undefined, port: undefined }],
    [[{ path: '/tmp/app.sock' }], { ipc: true, host: undefined, port: undefined }],
  ])('%j', (args, expected) => {
    expect(connectTarget(args as unknown[])).toEqual(expected);
  });
});

describe('two copies of the package in one process', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-copies-'));
    for (const copy of ['a', 'b']) {
      const target = path.join(dir, copy, 'node_modules', 'timeoutsocket');
      fs.mkdirSync(target, { recursive: true });
      fs.cpSync(path.join(ROOT, 'dist', 'lib'), path.join(target, 'dist', 'lib'), { recursive: true });
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(target, 'package.json'));
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('patches once, shares the default, and either copy uninstalls to the originals', () => {
    const script = `
      const net = require('net');
      const before = net.Socket.prototype._writeGeneric;
      const a = require(${JSON.stringify(path.join(dir, 'a', 'node_modules', 'timeoutsocket'))});
      const patched = net.Socket.prototype._writeGeneric;
      const b = require(${JSON.stringify(path.join(dir, 'b', 'node_modules', 'timeoutsocket'))});
      const out = {
        distinctCopies: a.install !== b.install,
        patchedOnce: net.Socket.prototype._writeGeneric === patched && patched !== before,
        bSeesInstalled: b.isInstalled(),
        bInstallIsNoop: b.install() === false,
      };
      a.setDefaultSocketTimeout(1234);
      out.sharedDefault = b.getDefaultSocketTimeout().read === 1234;
      const err = new a.SocketTimeoutError({ phase: 'read', timeout: 5 });
      out.instanceofAcrossCopies = err instanceof b.SocketTimeoutError && err instanceof b.Timeout;
      out.plainErrorIsNot = !(new Error('x') instanceof b.SocketTimeoutError);
      out.bUninstalls = b.uninstall() === true && !a.isInstalled();
      out.restored = net.Socket.prototype._writeGeneric === before;
      console.log(JSON.stringify(out));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 }));
    expect(out).toEqual({
      distinctCopies: true,
      patchedOnce: true,
      bSeesInstalled: true,
      bInstallIsNoop: true,
      sharedDefault: true,
      instanceofAcrossCopies: true,
      plainErrorIsNot: true,
      bUninstalls: true,
      restored: true,
    });
  });
});
