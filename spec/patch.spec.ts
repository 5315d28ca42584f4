import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectTarget, install, isInstalled, uninstall } from '../lib/patch';
import { runtime, setDefaultSocketTimeout } from '../lib/runtime';

const ROOT = path.resolve(__dirname, '..');

/**
 * What install wraps (an original stays underneath) and what it adds, on each prototype; the
 * per-write ones from the first deadline put in force on (spec/runtime.spec.ts, "the hot path").
 */
const SOCKET_WRAPPED = ['connect', '_writeGeneric', '_destroy', '_unrefTimer', 'setKeepAlive'] as const;
const SOCKET_HOT_PATH = ['_writeGeneric', '_unrefTimer'] as const;
const SOCKET_ADDED = ['setSocketTimeout', 'getSocketTimeout', 'setBlocking', 'getBlocking', 'recv', 'recvInto', 'send', 'sendAll', 'connectEx'] as const;
const SERVER_WRAPPED = ['emit', 'listen', 'close'] as const;
const SERVER_ADDED = ['setSocketTimeout', 'getSocketTimeout', 'setBlocking', 'getBlocking', 'accept'] as const;

const PROTOTYPES = { socket: net.Socket.prototype, server: net.Server.prototype } as const;

/** Every own property of both prototypes, as descriptors: what uninstall must give back exactly. */
function ownProperties(): Record<string, Map<string | symbol, PropertyDescriptor>> {
  return Object.fromEntries(
    Object.entries(PROTOTYPES).map(([name, proto]) => [
      name,
      new Map(Reflect.ownKeys(proto).map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)!])),
    ]),
  );
}

/** The value each listed key resolves to (own or inherited), per prototype. */
function resolved(proto: object, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, (proto as Record<string, unknown>)[key]]));
}

describe('install and uninstall', () => {
  let before: ReturnType<typeof ownProperties>;
  let socketBefore: Record<string, unknown>;
  let serverBefore: Record<string, unknown>;
  beforeAll(() => {
    uninstall(); // another spec file in this worker may have installed it
    runtime().hotPath = undefined; // and put a deadline in force, which keeps the per-write wrappers on
    before = ownProperties();
    socketBefore = resolved(PROTOTYPES.socket, [...SOCKET_WRAPPED, ...SOCKET_ADDED]);
    serverBefore = resolved(PROTOTYPES.server, [...SERVER_WRAPPED, ...SERVER_ADDED]);
  });
  afterAll(() => uninstall());

  it('patches once, however often it is called', () => {
    expect(install()).toBe(true);
    const patched = ownProperties();
    expect(install()).toBe(false);
    expect(ownProperties()).toEqual(patched);
    expect(isInstalled()).toBe(true);
    uninstall();
  });

  it('wraps every listed socket and server method, and adds every listed one', () => {
    install();
    // With no deadline in force anywhere, the per-write methods are Node's own; the first one put in force wraps them.
    for (const key of SOCKET_HOT_PATH) expect([key, (PROTOTYPES.socket as unknown as Record<string, unknown>)[key]]).toEqual([key, socketBefore[key]]);
    setDefaultSocketTimeout(60_000);
    setDefaultSocketTimeout(null);
    const socket = resolved(PROTOTYPES.socket, [...SOCKET_WRAPPED, ...SOCKET_ADDED]);
    const server = resolved(PROTOTYPES.server, [...SERVER_WRAPPED, ...SERVER_ADDED]);
    for (const key of SOCKET_WRAPPED) {
      expect(typeof socketBefore[key]).toBe('function');
      expect([key, socket[key]]).not.toEqual([key, socketBefore[key]]);
    }
    for (const key of SERVER_WRAPPED) {
      expect(typeof serverBefore[key]).toBe('function');
      expect([key, server[key]]).not.toEqual([key, serverBefore[key]]);
    }
    for (const key of SOCKET_ADDED) expect([key, socketBefore[key], typeof socket[key]]).toEqual([key, undefined, 'function']);
    for (const key of SERVER_ADDED) expect([key, serverBefore[key], typeof server[key]]).toEqual([key, undefined, 'function']);
    // Nothing else changed: every own property install touched is one of the lists above.
    const changed = (name: keyof typeof PROTOTYPES): string[] => {
      const now = ownProperties()[name];
      return [...now.keys()].filter((key) => before[name].get(key)?.value !== now.get(key)?.value).map(String).sort();
    };
    expect(changed('socket')).toEqual([...SOCKET_WRAPPED, ...SOCKET_ADDED].sort());
    expect(changed('server')).toEqual([...SERVER_WRAPPED, ...SERVER_ADDED].sort());
    uninstall();
  });

  it('restores every own property of both prototypes exactly, and removes what it added', () => {
    install();
    expect(uninstall()).toBe(true);
    expect(uninstall()).toBe(false);
    expect(isInstalled()).toBe(false);
    const after = ownProperties();
    // Same keys, and for each the same descriptor: the original function by identity, its flags.
    for (const name of Object.keys(PROTOTYPES) as Array<keyof typeof PROTOTYPES>) {
      expect([...after[name].keys()].map(String).sort()).toEqual([...before[name].keys()].map(String).sort());
      for (const [key, descriptor] of before[name]) expect([name, key, after[name].get(key)]).toEqual([name, key, descriptor]);
    }
    expect(resolved(PROTOTYPES.socket, [...SOCKET_WRAPPED, ...SOCKET_ADDED])).toEqual(socketBefore);
    expect(resolved(PROTOTYPES.server, [...SERVER_WRAPPED, ...SERVER_ADDED])).toEqual(serverBefore);
    for (const key of SOCKET_ADDED) expect([key, Object.prototype.hasOwnProperty.call(PROTOTYPES.socket, key)]).toEqual([key, false]);
    for (const key of SERVER_ADDED) expect([key, Object.prototype.hasOwnProperty.call(PROTOTYPES.server, key)]).toEqual([key, false]);
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
      const proto = net.Socket.prototype;
      const before = proto._destroy;
      const beforeWrite = proto._writeGeneric;
      const a = require(${JSON.stringify(path.join(dir, 'a', 'node_modules', 'timeoutsocket'))});
      const patched = proto._destroy;
      const b = require(${JSON.stringify(path.join(dir, 'b', 'node_modules', 'timeoutsocket'))});
      const out = {
        distinctCopies: a.install !== b.install,
        patchedOnce: proto._destroy === patched && patched !== before,
        bSeesInstalled: b.isInstalled(),
        bInstallIsNoop: b.install() === false,
        hotPathOffUntilSet: proto._writeGeneric === beforeWrite,
      };
      // The copy that did not install puts the deadline in force: the installed copy's per-write wrappers go on.
      b.setDefaultSocketTimeout(1234);
      out.hotPathOnFromOtherCopy = proto._writeGeneric !== beforeWrite && proto._writeGeneric.name === '_writeGeneric';
      out.sharedDefault = a.getDefaultSocketTimeout().read === 1234;
      const err = new a.SocketTimeoutError({ phase: 'read', timeout: 5 });
      out.instanceofAcrossCopies = err instanceof b.SocketTimeoutError && err instanceof b.Timeout;
      out.plainErrorIsNot = !(new Error('x') instanceof b.SocketTimeoutError);
      out.bUninstalls = b.uninstall() === true && !a.isInstalled();
      out.restored = proto._destroy === before && proto._writeGeneric === beforeWrite;
      console.log(JSON.stringify(out));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 }));
    expect(out).toEqual({
      distinctCopies: true,
      patchedOnce: true,
      bSeesInstalled: true,
      bInstallIsNoop: true,
      hotPathOffUntilSet: true,
      hotPathOnFromOtherCopy: true,
      sharedDefault: true,
      instanceofAcrossCopies: true,
      plainErrorIsNot: true,
      bUninstalls: true,
      restored: true,
    });
  });
});
