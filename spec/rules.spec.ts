import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { closeAll, refusedPort, startSilentServer, type Closable, type TrackedServer } from '../fixtures/servers';
import { setDefaultSocketTimeout } from '../lib/runtime';
import { protocolOfSocket, type InternalSocket, type SocketState } from '../lib/engine';
import { STATE } from '../lib/runtime';
import { CHANNELS, getStats, type TimeoutMessage } from '../lib/observe';
import { install, uninstall } from '../lib/patch';
import { parseAddress } from '../lib/rules/address';
import { explainDestination } from '../lib/rules/explain';
import {
  applyRulesEnvironment,
  checkRules,
  findRule,
  getSocketTimeoutRules,
  ruleFor,
  setSocketTimeoutRules,
  type SocketTimeoutRuleInput,
} from '../lib/rules/index';
import { fateOf, once, runNode } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const REGISTER = path.join(ROOT, 'dist', 'lib', 'register.js');
const T = 300;
/** The bound: a deadline lands within T ± 20%. */
const within20 = (elapsed: number, timeout: number) => {
  expect(elapsed).toBeGreaterThanOrEqual(timeout * 0.8);
  expect(elapsed).toBeLessThanOrEqual(timeout * 1.2);
};

const fixtures: Closable[] = [];
const sockets: net.Socket[] = [];
const subscriptions: Array<[string, (message: unknown) => void]> = [];

function track<S extends net.Socket>(socket: S): S {
  sockets.push(socket);
  return socket;
}

async function silentServer(): Promise<TrackedServer> {
  const server = await startSilentServer();
  fixtures.push(server);
  return server;
}

/** Connects, writes one request on 'connect', and says when it wrote. */
function request(port: number, host = '127.0.0.1', configure?: (socket: net.Socket) => void): { socket: net.Socket; wrote: () => number } {
  let wroteAt = 0;
  const socket = track(new net.Socket());
  configure?.(socket);
  socket.connect(port, host, () => {
    wroteAt = performance.now();
    socket.write('request\r\n');
  });
  return { socket, wrote: () => wroteAt };
}

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(async () => {
  setSocketTimeoutRules(null);
  setDefaultSocketTimeout(null);
  for (const [name, listener] of subscriptions.splice(0)) diagnosticsChannel.unsubscribe(name, listener);
  for (const socket of sockets.splice(0)) socket.destroy();
  await closeAll(fixtures.splice(0));
});

// ---------------------------------------------------------------------------------------------

describe('parsing TIMEOUTSOCKET_RULES text', () => {
  it.each<[string, object[]]>([
    [
      'db.internal:5432 read=60s; *:6379 protocol=redis; 10.0.0.0/8:9000 read=off protocol=stream; *.example.com connect=1s',
      [
        { destination: 'db.internal:5432', read: 60_000, text: 'db.internal:5432 read=60s', index: 1 },
        { destination: '*:6379', protocol: 'redis', index: 2 },
        { destination: '10.0.0.0/8:9000', read: null, protocol: 'stream', index: 3 },
        { destination: '*.example.com', connect: 1000, index: 4 },
      ],
    ],
    ['* connect=400 read=1.5s write=2m', [{ destination: '*', connect: 400, read: 1500, write: 120_000 }]],
    ['[::1]:6379 read=1h', [{ destination: '[::1]:6379', read: 3_600_000 }]],
    ['[fd00::/8]:5432 write=off', [{ destination: '[fd00::/8]:5432', write: null }]],
    ['fd00::/8 read=1s', [{ destination: 'fd00::/8', read: 1000 }]],
    ['::1 read=1s', [{ destination: '::1', read: 1000 }]],
    ['127.0.0.1 protocol=auto', [{ destination: '127.0.0.1', protocol: 'auto' }]],
    ['*:5432 mode=enforce', [{ destination: '*:5432', mode: 'enforce' }]],
    ['db read=2s mode=report', [{ destination: 'db', read: 2000, mode: 'report', text: 'db read=2s mode=report' }]],
    ['0.0.0.0/0 read=1s', [{ destination: '0.0.0.0/0', read: 1000 }]],
    ['DB.Internal. read=1s', [{ destination: 'DB.Internal.', read: 1000 }]],
    ['_srv._tcp.example.com:80 read=1s', [{ destination: '_srv._tcp.example.com:80' }]],
    ['  a read=1s ;; b read=2s ;  ', [{ destination: 'a', index: 1 }, { destination: 'b', index: 2 }]],
    ['a\tread=1s   write=2s', [{ destination: 'a', read: 1000, write: 2000 }]],
    ['', []],
    [' ; ', []],
  ])('%j is read', (text, expected) => {
    setSocketTimeoutRules(text);
    const rules = getSocketTimeoutRules();
    expect(rules).toHaveLength(expected.length);
    rules.forEach((rule, i) => expect(rule).toMatchObject(expected[i]));
  });

  // Each bad row: the error class, and the part of the message that names what is wrong.
  it.each<[string, typeof TypeError | typeof RangeError, string]>([
    ['db:99999 read=1s', RangeError, 'the port must be 1 to 65535, got \'99999\''],
    ['db:0 read=1s', RangeError, 'the port must be 1 to 65535, got \'0\''],
    ['db:http read=1s', TypeError, 'the port must be a number, got \'http\''],
    ['db: read=1s', TypeError, 'the port must be a number, got \'\''],
    [':80 read=1s', TypeError, 'the host is empty'],
    ['10.0.0.1/8 read=1s', RangeError, '\'10.0.0.1/8\' has host bits set: the block is 10.0.0.0/8'],
    ['fd00::1/8 read=1s', RangeError, '\'fd00::1/8\' has host bits set: the block is fd00::/8'],
    ['10.0.0.0/33 read=1s', RangeError, 'the prefix length in \'10.0.0.0/33\' must be 0 to 32, got \'33\''],
    ['[fd00::/129]:1 read=1s', RangeError, 'the prefix length in \'fd00::/129\' must be 0 to 128, got \'129\''],
    ['10.0.0.0/x read=1s', RangeError, 'must be 0 to 32, got \'x\''],
    ['db/8 read=1s', TypeError, '\'db\' before the / is not an IPv4 or IPv6 address'],
    ['300.1.1.1 read=1s', TypeError, '\'300.1.1.1\' is not a host name, an IP address or a CIDR block'],
    ['bad..name read=1s', TypeError, '\'bad..name\' is not a host name'],
    ['a*b.com read=1s', TypeError, '\'a*b.com\': a wildcard is written *.suffix (or * alone)'],
    ['*.*.com read=1s', TypeError, 'is not a host name'],
    ['[::1 read=1s', TypeError, '\'[::1\' has no closing ]'],
    ['[::1]6379 read=1s', TypeError, 'after ] comes :port or nothing, got \'6379\''],
    ['[db.internal]:80 read=1s', TypeError, '\'db.internal\' in brackets is not an IPv6 address or block'],
    ['[10.0.0.1]:80 read=1s', TypeError, '\'10.0.0.1\' in brackets is not an IPv6 address or block'],
    ['db read=1x', RangeError, 'read=\'1x\' is not a valid timeout'],
    ['db mode=off', RangeError, 'mode=\'off\' is not one of enforce or report'],
    ['db mode=', RangeError, 'mode=\'\' is not one of enforce or report'],
    ['db connect=0', RangeError, 'connect=\'0\' is not a valid timeout'],
    ['db write=-1s', RangeError, 'write=\'-1s\' is not a valid timeout'],
    ['db read=', RangeError, 'read=\'\' is not a valid timeout'],
    ['db read=25d', RangeError, 'read=\'25d\' is not a valid timeout'],
    ['db protocol=grpc', RangeError, 'protocol=\'grpc\' is not one of auto, request-reply, server-first, stream, redis or http'],
    ['db reed=1s', TypeError, 'unknown setting \'reed\': expected connect, read, write, protocol or mode'],
    ['db keepAlive=1s', TypeError, 'unknown setting \'keepAlive\''],
    ['db read=1s read=2s', TypeError, 'read is set twice'],
    ['db 60s', TypeError, '\'60s\' is not a setting: write name=value'],
    ['a read=1s b read=2s', TypeError, '\'b\' is not a setting: write name=value with name connect, read, write, protocol or mode (a ";" missing before the next rule?)'],
    ['db.internal:5432', TypeError, 'the destination \'db.internal:5432\' has no setting'],
  ])('%j: %p naming the bad part', (text, errorClass, what) => {
    let error: unknown;
    try {
      setSocketTimeoutRules(`ok:1 read=1s; ${text}`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(errorClass);
    expect(error).not.toBeInstanceOf(errorClass === TypeError ? RangeError : TypeError);
    expect((error as Error).message).toContain(`rules: rule 2 ${JSON.stringify(text)}: `);
    expect((error as Error).message).toContain(what);
    expect((error as Error).message).not.toContain('\n');
  });

  it('leaves the rules in force as they were when one is bad', () => {
    setSocketTimeoutRules('a read=1s');
    expect(() => setSocketTimeoutRules('b read=2s; c read=x')).toThrow(RangeError);
    expect(getSocketTimeoutRules().map((rule) => rule.text)).toEqual(['a read=1s']);
  });

  it('gives a frozen copy: changing it changes nothing', () => {
    setSocketTimeoutRules('a read=1s');
    const rules = getSocketTimeoutRules();
    expect(Object.isFrozen(rules)).toBe(true);
    expect(Object.isFrozen(rules[0])).toBe(true);
    expect(() => (rules as unknown as SocketTimeoutRuleInput[]).push({ destination: 'b', read: 1 })).toThrow(TypeError);
    expect(getSocketTimeoutRules()).toHaveLength(1);
  });

  it('checkRules validates without putting anything in force', () => {
    expect(checkRules('a read=1s', '--rules')).toMatchObject([{ destination: 'a', read: 1000 }]);
    expect(getSocketTimeoutRules()).toEqual([]);
    expect(() => checkRules('a read=x', '--rules')).toThrow(/^--rules: rule 1 "a read=x": /);
  });
});

describe('setSocketTimeoutRules with rule objects', () => {
  it('takes durations in ms and null for off, and writes the rule text for logs', () => {
    setSocketTimeoutRules([
      { destination: 'db.internal:5432', read: 60_000 },
      { destination: '*:6379', protocol: 'redis', connect: 1500 },
      { destination: '10.0.0.0/8:9000', read: null, protocol: 'stream', text: 'the queue' },
    ]);
    expect(getSocketTimeoutRules()).toEqual([
      { destination: 'db.internal:5432', read: 60_000, text: 'db.internal:5432 read=1m', index: 1 },
      { destination: '*:6379', connect: 1500, protocol: 'redis', text: '*:6379 connect=1500ms protocol=redis', index: 2 },
      { destination: '10.0.0.0/8:9000', read: null, protocol: 'stream', text: 'the queue', index: 3 },
    ]);
  });

  it('round-trips what getSocketTimeoutRules() returns', () => {
    setSocketTimeoutRules('db:5432 read=60s; * write=off');
    const before = getSocketTimeoutRules();
    setSocketTimeoutRules(before);
    expect(getSocketTimeoutRules()).toEqual(before);
  });

  it.each([[null], [''], [[]]])('%j clears the rules', (none) => {
    setSocketTimeoutRules('a read=1s');
    setSocketTimeoutRules(none as never);
    expect(getSocketTimeoutRules()).toEqual([]);
  });

  it.each<[unknown, typeof TypeError | typeof RangeError, string]>([
    [42, TypeError, 'rules must be a string of rules, an array of rule objects or null, got 42 (a number)'],
    [{ destination: '*' }, TypeError, 'rules must be a string of rules, an array of rule objects or null, got { destination: \'*\' }'],
    [['* read=1s'], TypeError, 'rules[0]: must be an object { destination, connect?, read?, write?, protocol?, mode? }, got \'* read=1s\''],
    [[{ read: 1000 }], TypeError, 'rules[0]: needs a destination such as "db.internal:5432", got { read: 1000 }'],
    [[{ destination: 5432, read: 1000 }], TypeError, 'rules[0]: destination must be a string'],
    [[{ destination: '*', reed: 1000 }], TypeError, 'rules[0]: unknown key \'reed\''],
    [[{ destination: '*', read: '1s' }], TypeError, 'rules[0]: read must be a number of milliseconds or null, got \'1s\''],
    [[{ destination: '*', read: 0 }], RangeError, 'rules[0]: read must be a finite number of milliseconds > 0, got 0 (a number)'],
    [[{ destination: '*', write: Infinity }], RangeError, 'rules[0]: write must be a finite number of milliseconds > 0, got Infinity (a number)'],
    [[{ destination: '*', connect: 2 ** 31 }], RangeError, 'rules[0]: connect must be at most 2147483647 ms'],
    [[{ destination: '*', protocol: 'grpc' }], RangeError, 'rules[0]: protocol=\'grpc\' is not one of'],
    [[{ destination: '*', protocol: 1 }], TypeError, 'rules[0]: protocol must be a string'],
    [[{ destination: '*', mode: 'Report' }], RangeError, 'rules[0]: mode=\'Report\' is not one of enforce or report'],
    [[{ destination: '*', mode: true }], TypeError, 'rules[0]: mode must be a string, one of enforce or report; got true (a boolean)'],
    [[{ destination: 'db:99999', read: 1 }], RangeError, 'rules[0]: destination \'db:99999\': the port must be 1 to 65535, got \'99999\''],
    [[{ destination: '*', read: 1 }, { destination: 'db' }], TypeError, 'rules[1]: the destination \'db\' has no setting'],
    [[{ destination: '*', read: 1, text: 7 }], TypeError, 'rules[0]: text must be a string, got 7 (a number)'],
    // Values whose message could not be made with String() or JSON.stringify:
    [[{ destination: '*', protocol: { toString: () => ({}) } }], TypeError, 'rules[0]: protocol must be a string, one of auto, request-reply, server-first, stream, redis or http; got { toString: [Function: toString] }'],
    [[{ destination: '*', protocol: 5n }], TypeError, 'rules[0]: protocol must be a string, one of auto, request-reply, server-first, stream, redis or http; got 5n'],
    [[{ destination: 0n, read: 1 }], TypeError, 'rules[0]: destination must be a string such as "db.internal:5432", got 0n'],
    [[{ destination: '*', read: 1, text: { toString: () => ({}) } }], TypeError, 'rules[0]: text must be a string, got { toString: [Function: toString] }'],
    [0n, TypeError, 'rules must be a string of rules, an array of rule objects or null, got 0n'],
  ])('%j: %p naming the bad part', (input, errorClass, message) => {
    let error: unknown;
    try {
      setSocketTimeoutRules(input as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toContain(message);
  });
});

// ---------------------------------------------------------------------------------------------

describe('matching a destination', () => {
  /** Which rule (its index, from 1) a connection gets; 0 for none. */
  const chosen = (rules: string, host: string, port: number, address?: string) => findRule(host, port, address, rules).rule?.index ?? 0;

  it.each<[string, string, number, string | undefined, number]>([
    // names: case-insensitive, one trailing dot ignored on either side
    ['db.internal:5432 read=1s', 'db.internal', 5432, undefined, 1],
    ['db.internal:5432 read=1s', 'DB.Internal', 5432, undefined, 1],
    ['db.internal:5432 read=1s', 'db.internal.', 5432, undefined, 1],
    ['db.internal.:5432 read=1s', 'db.internal', 5432, undefined, 1],
    ['db.internal:5432 read=1s', 'db.internal', 5433, undefined, 0],
    ['db.internal:5432 read=1s', 'other.internal', 5432, undefined, 0],
    ['db.internal read=1s', 'db.internal', 1, undefined, 1],
    ['localhost read=1s', 'localhost', 80, '127.0.0.1', 1],
    // a name rule never matches by address, nor an address by name
    ['localhost read=1s', '127.0.0.1', 80, undefined, 0],
    // wildcards: any depth below the suffix, not the suffix itself
    ['*.example.com read=1s', 'api.example.com', 443, undefined, 1],
    ['*.example.com read=1s', 'a.b.EXAMPLE.com.', 443, undefined, 1],
    ['*.example.com read=1s', 'example.com', 443, undefined, 0],
    ['*.example.com read=1s', 'badexample.com', 443, undefined, 0],
    ['*.example.com:443 read=1s', 'api.example.com', 80, undefined, 0],
    // * and *:port
    ['* read=1s', 'anything', 1, undefined, 1],
    ['*:6379 read=1s', '10.1.2.3', 6379, undefined, 1],
    ['*:6379 read=1s', '10.1.2.3', 6380, undefined, 0],
    // literals: the host given, or the address connected to
    ['127.0.0.1 read=1s', '127.0.0.1', 80, undefined, 1],
    ['127.0.0.1 read=1s', 'localhost', 80, '127.0.0.1', 1],
    ['127.0.0.1 read=1s', '127.0.0.2', 80, undefined, 0],
    ['::1 read=1s', '::1', 80, undefined, 1],
    ['[::1]:80 read=1s', '0:0:0:0:0:0:0:1', 80, undefined, 1],
    ['[::1]:80 read=1s', 'localhost', 80, '::1', 1],
    // CIDR v4 and v6
    ['10.0.0.0/8:9000 read=1s', '10.200.3.4', 9000, undefined, 1],
    ['10.0.0.0/8:9000 read=1s', '11.0.0.1', 9000, undefined, 0],
    ['10.0.0.0/8 read=1s', 'queue.internal', 9000, '10.9.9.9', 1],
    ['10.0.0.0/8 read=1s', 'queue.internal', 9000, '192.168.1.1', 0],
    ['0.0.0.0/0 read=1s', '203.0.113.7', 1, undefined, 1],
    ['0.0.0.0/0 read=1s', '::1', 1, undefined, 0],
    ['[fd00::/8]:5432 read=1s', 'fd12:3456::1', 5432, undefined, 1],
    ['[fd00::/8]:5432 read=1s', 'fe80::1', 5432, undefined, 0],
    ['[fd00::/8]:5432 read=1s', 'db.internal', 5432, 'fdff::9', 1],
    ['fe80::/10 read=1s', 'fe80::1%eth0', 1, undefined, 1],
    ['::/0 read=1s', '2001:db8::1', 1, undefined, 1],
    ['::/0 read=1s', '192.0.2.1', 1, undefined, 0],
    // IPv4-mapped IPv6 (a dual-stack socket's view) matches IPv4 rules, and IPv6 ones as itself
    ['10.0.0.0/8 read=1s', '::ffff:10.1.2.3', 1, undefined, 1],
    ['127.0.0.1 read=1s', 'localhost', 1, '::ffff:127.0.0.1', 1],
    ['::ffff:0:0/96 read=1s', '::ffff:10.1.2.3', 1, undefined, 1],
    ['::ffff:0:0/96 read=1s', '10.1.2.3', 1, undefined, 0],
    // the first match wins
    ['db.internal:5432 read=1s; *:5432 read=2s; * read=3s', 'db.internal', 5432, undefined, 1],
    ['db.internal:5432 read=1s; *:5432 read=2s; * read=3s', 'other', 5432, undefined, 2],
    ['db.internal:5432 read=1s; *:5432 read=2s; * read=3s', 'other', 80, undefined, 3],
    ['* read=3s; db.internal:5432 read=1s', 'db.internal', 5432, undefined, 1],
    ['10.0.0.0/8 read=1s; db.internal read=2s', 'db.internal', 1, '10.0.0.5', 1],
    ['10.0.0.0/8 read=1s; db.internal read=2s', 'db.internal', 1, '192.168.0.5', 2],
  ])('%j: %s port %d (address %s) gets rule %d', (rules, host, port, address, index) => {
    expect(chosen(rules, host, port, address)).toBe(index);
  });

  it('says when the address a name resolves to may still decide, and what applies until then', () => {
    const rules = '10.0.0.0/8 read=1s; db.internal read=2s; * read=3s';
    expect(findRule('db.internal', 1, undefined, rules)).toMatchObject({ rule: { index: 2 }, dependsOnAddress: true });
    expect(findRule('db.internal', 1, '10.0.0.1', rules)).toMatchObject({ rule: { index: 1 }, dependsOnAddress: false });
    expect(findRule('10.0.0.1', 1, undefined, rules)).toMatchObject({ rule: { index: 1 }, dependsOnAddress: false });
    expect(findRule('db.internal', 1, undefined, 'db.internal read=2s; 10.0.0.0/8 read=1s')).toMatchObject({ dependsOnAddress: false });
  });

  it('reads IPv6 literals in every form, IPv4-mapped ones as IPv4 too', () => {
    expect(parseAddress('::1')).toEqual({ v4: undefined, v6: 1n });
    expect(parseAddress('1::')).toEqual({ v4: undefined, v6: 1n << 112n });
    expect(parseAddress('2001:db8:0:0:0:0:0:1')).toEqual(parseAddress('2001:db8::1'));
    expect(parseAddress('::ffff:1.2.3.4')).toEqual({ v4: 0x01020304, v6: 0xffff01020304n });
    expect(parseAddress('::ffff:102:304')).toEqual({ v4: 0x01020304, v6: 0xffff01020304n });
    expect(parseAddress('64:ff9b::1.2.3.4')?.v4).toBeUndefined();
    expect(parseAddress('db.internal')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

describe('precedence on real sockets: own setting, then the first matching rule, then the default', () => {
  it("a rule's read deadline ends a request to a silent server within T ± 20%, not the default's", async () => {
    const silent = await silentServer();
    setDefaultSocketTimeout({ read: 5 * T });
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=${T}ms`);
    const { socket, wrote } = request(silent.port);
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ code: 'ETIMEDOUT', phase: 'read', timeout: T });
    within20(fate.errorAt - wrote(), T);
    expect(socket.getSocketTimeout()).toEqual({ connect: null, read: T, write: null, keepAlive: null });
  });

  it("a socket's own setSocketTimeout() wins over the rule", async () => {
    const silent = await silentServer();
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=${5 * T}ms`);
    const { socket, wrote } = request(silent.port, '127.0.0.1', (s) => s.setSocketTimeout({ read: T }));
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - wrote(), T);
  });

  it('a phase the rule does not name keeps the process default', async () => {
    const silent = await silentServer();
    setDefaultSocketTimeout({ read: T, connect: 2000 });
    setSocketTimeoutRules(`127.0.0.1:${silent.port} write=5s`);
    const { socket, wrote } = request(silent.port);
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - wrote(), T);
    expect(socket.getSocketTimeout()).toEqual({ connect: 2000, read: T, write: 5000, keepAlive: null });
  });

  it('the first matching rule wins over later ones', async () => {
    const silent = await silentServer();
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=${T}ms; 127.0.0.0/8 read=${5 * T}ms; * read=${5 * T}ms`);
    const { socket, wrote } = request(silent.port);
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - wrote(), T);
    expect(ruleFor(socket)).toMatchObject({ index: 1 });
  });

  it('read=off in a rule leaves a request with no reply deadline, while the default arms the others', async () => {
    const silent = await silentServer();
    const control = await silentServer();
    setDefaultSocketTimeout({ connect: 2000, read: T });
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=off`);
    const { armed: armedBefore, timeouts: timeoutsBefore } = getStats();
    const { socket } = request(silent.port);
    const errors: Error[] = [];
    socket.on('error', (error) => errors.push(error));
    await once(socket, 'connect');
    await new Promise((resolve) => setImmediate(resolve)); // the request is written in the connect listener
    // The socket is under the engine: its connect deadline was armed (the default's)...
    expect(getStats().armed).toBe(armedBefore + 1);
    const state = (socket as InternalSocket)[STATE] as SocketState;
    expect(state).toBeDefined();
    // ...but its request opened no reply window.
    expect(state.replyAt).toBe(0);
    // A control request, on a socket with no rule and a reply deadline twice as long, fires: by
    // then a T deadline on the first socket would have fired too.
    const { socket: other, wrote } = request(control.port, '127.0.0.1', (s) => s.setSocketTimeout({ read: 2 * T }));
    const fate = await fateOf(other, 3000);
    expect(fate.error).toMatchObject({ phase: 'read', timeout: 2 * T });
    within20(fate.errorAt - wrote(), 2 * T);
    expect(socket.destroyed).toBe(false);
    expect(errors).toEqual([]);
    expect(getStats().timeouts.read).toBe(timeoutsBefore.read + 1);
  });

  it('protocol=stream in a rule: a request on a port the table calls request-reply opens no reply window', async () => {
    const silent = await silentServer();
    const control = await silentServer();
    setDefaultSocketTimeout({ connect: 2000, read: T });
    setSocketTimeoutRules(`127.0.0.1:${silent.port} protocol=stream`);
    const streamsBefore = getStats().protocols.stream.sockets;
    const { socket } = request(silent.port);
    const errors: Error[] = [];
    socket.on('error', (error) => errors.push(error));
    await once(socket, 'connect');
    await new Promise((resolve) => setImmediate(resolve)); // the request is written in the connect listener
    // The rule chose the protocol (counted), and the request opened no reply window...
    expect(getStats().protocols.stream.sockets).toBe(streamsBefore + 1);
    expect(((socket as InternalSocket)[STATE] as SocketState).replyAt).toBe(0);
    // ...while a socket with no rule, silent for the same T, is cut: the deadline was there to fire.
    const { socket: other } = request(control.port);
    expect((await fateOf(other, 3000)).error).toMatchObject({ phase: 'read', timeout: T });
    expect(socket.destroyed).toBe(false);
    expect(errors).toEqual([]);
  });

  it('a CIDR rule matches the address a name resolved to, before the application sees connect', async () => {
    const silent = await silentServer();
    setDefaultSocketTimeout({ read: 5 * T });
    setSocketTimeoutRules(`127.0.0.0/8:${silent.port} read=${T}ms; localhost read=${3 * T}ms`);
    let ruleAtConnect: unknown;
    let wroteAt = 0;
    const socket = track(net.connect({ port: silent.port, host: 'localhost', family: 4 }, () => {
      ruleAtConnect = ruleFor(socket);
      wroteAt = performance.now();
      socket.write('request');
    }));
    // Until connected, the first rule that matches the name outright applies.
    expect(ruleFor(socket)).toMatchObject({ index: 2 });
    const fate = await fateOf(socket, 3000);
    expect(ruleAtConnect).toMatchObject({ index: 1 });
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - wroteAt, T);
  });

  it("the rule used while connecting forces no protocol: a CIDR rule decided at connect gets its read deadline", async () => {
    const silent = await silentServer();
    setSocketTimeoutRules(`127.0.0.0/8:${silent.port} read=${T}ms; localhost protocol=stream connect=5s`);
    const streamsBefore = getStats().protocols.stream.sockets;
    let wroteAt = 0;
    let protocol: unknown;
    const socket = track(net.connect({ port: silent.port, host: 'localhost', family: 4 }, () => {
      wroteAt = performance.now();
      socket.write('request');
      protocol = protocolOfSocket(socket as InternalSocket);
    }));
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - wroteAt, T);
    expect(protocol).toBe('request-reply');
    expect(getStats().protocols.stream.sockets).toBe(streamsBefore);
  });

  it("a CIDR rule decided at connect applies its protocol=: stream opens no reply window", async () => {
    const silent = await silentServer();
    setDefaultSocketTimeout({ read: T });
    setSocketTimeoutRules(`127.0.0.0/8:${silent.port} protocol=stream; localhost connect=5s`);
    const streamsBefore = getStats().protocols.stream.sockets;
    const socket = track(net.connect({ port: silent.port, host: 'localhost', family: 4 }, () => socket.write('request')));
    await once(socket, 'connect');
    await new Promise((resolve) => setImmediate(resolve)); // the request is written in the connect listener
    expect(getStats().protocols.stream.sockets).toBe(streamsBefore + 1);
    expect(((socket as InternalSocket)[STATE] as SocketState).replyAt).toBe(0);
    // The same request without the rule is cut after T: the default's deadline was there to fire.
    setSocketTimeoutRules(null);
    const { socket: other } = request(silent.port);
    expect((await fateOf(other, 3000)).error).toMatchObject({ phase: 'read', timeout: T });
    expect(socket.destroyed).toBe(false);
  });

  it("a CIDR rule decided at connect with protocol=server-first: its greeting deadline runs from connect, with no write", async () => {
    const silent = await silentServer();
    setSocketTimeoutRules(`127.0.0.0/8:${silent.port} read=${T}ms protocol=server-first; localhost connect=5s`);
    const socket = track(net.connect({ port: silent.port, host: 'localhost', family: 4 }));
    await once(socket, 'connect');
    const connectedAt = performance.now();
    expect(protocolOfSocket(socket as InternalSocket)).toBe('server-first');
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - connectedAt, T);
  });

  it('a socket connected again does not keep the last attempt\'s waiting choice', async () => {
    const silent = await silentServer();
    const refused = await refusedPort();
    setSocketTimeoutRules(`10.0.0.0/8 read=5s; *:${refused} read=5s; * read=${T}ms`);
    const socket = track(new net.Socket());
    socket.on('error', () => {});
    socket.connect(refused, 'localhost'); // waits: the 10/8 rule may match what localhost resolves to
    await once(socket, 'close');
    let wroteAt = 0;
    socket.connect(silent.port, '127.0.0.1', () => {
      wroteAt = performance.now();
      socket.write('request');
    });
    const fate = await fateOf(socket, 3000);
    expect(ruleFor(socket)).toMatchObject({ index: 3 });
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - wroteAt, T);
  });

  it('ruleFor() is final as soon as the connection is up, before any connect listener ran', async () => {
    const silent = await silentServer();
    setSocketTimeoutRules(`127.0.0.0/8:${silent.port} protocol=stream; localhost protocol=redis`);
    const socket = track(net.connect({ port: silent.port, host: 'localhost', family: 4 })) as net.Socket & { _unrefTimer(): void };
    let seen: unknown;
    // What the engine's code in afterConnect sees: Node runs _unrefTimer() before emitting 'connect'.
    const original = socket._unrefTimer;
    socket._unrefTimer = function (this: typeof socket) {
      if (seen === undefined && !this.connecting) seen = ruleFor(this);
      return original.call(this);
    };
    await once(socket, 'connect');
    expect(seen).toMatchObject({ index: 1, protocol: 'stream' });
  });

  it('an IPv4-mapped IPv6 host matches an IPv4 rule', async () => {
    const silent = await silentServer();
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=${T}ms`);
    const { socket, wrote } = request(silent.port, '::ffff:127.0.0.1');
    const fate = await fateOf(socket, 3000);
    expect(fate.error).toMatchObject({ phase: 'read', timeout: T });
    within20(fate.errorAt - wrote(), T);
  });

  it('a rule set after a socket connected does not change it; the next connection gets it', async () => {
    const silent = await silentServer();
    setDefaultSocketTimeout({ read: T });
    const first = request(silent.port);
    await once(first.socket, 'connect');
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=${2 * T}ms`);
    const second = request(silent.port);
    const [a, b] = await Promise.all([fateOf(first.socket, 3000), fateOf(second.socket, 3000)]);
    expect(a.error).toMatchObject({ timeout: T });
    expect(b.error).toMatchObject({ timeout: 2 * T });
  });

  it('a socket with no rules in force gets no rule and nothing on it', async () => {
    const silent = await silentServer();
    const { socket } = request(silent.port);
    await once(socket, 'connect');
    expect(ruleFor(socket)).toBeUndefined();
    expect(Object.getOwnPropertySymbols(socket).map(String)).not.toContain('Symbol(timeoutsocket.rule.v1)');
    expect(socket.listenerCount('connect')).toBe(0);
  });
});

describe('observability', () => {
  it('the timeout message carries the rule that applied and the protocol it names', async () => {
    const messages: TimeoutMessage[] = [];
    const listener = (message: unknown) => messages.push(message as TimeoutMessage);
    diagnosticsChannel.subscribe(CHANNELS.timeout, listener);
    subscriptions.push([CHANNELS.timeout, listener]);
    const silent = await silentServer();
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=${T}ms protocol=request-reply`);
    const { socket } = request(silent.port);
    await fateOf(socket, 3000);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      phase: 'read',
      rule: { index: 1, text: `127.0.0.1:${silent.port} read=${T}ms protocol=request-reply`, protocol: 'request-reply' },
      protocol: 'request-reply',
    });
  });

  it('with no rule, the message says so', async () => {
    const messages: TimeoutMessage[] = [];
    const listener = (message: unknown) => messages.push(message as TimeoutMessage);
    diagnosticsChannel.subscribe(CHANNELS.timeout, listener);
    subscriptions.push([CHANNELS.timeout, listener]);
    const silent = await silentServer();
    setDefaultSocketTimeout({ read: T });
    setSocketTimeoutRules('*:1 protocol=stream');
    await fateOf(request(silent.port).socket, 3000);
    expect(messages[0]).toMatchObject({ rule: undefined, protocol: 'request-reply' });
  });

  it('every debug line names the rule', async () => {
    const script = `
      const net = require('net');
      const { setSocketTimeoutRules } = require('./dist/lib/index.js');
      const silent = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
        const port = silent.address().port;
        setSocketTimeoutRules('127.0.0.1:' + port + ' read=100ms');
        let local;
        const socket = net.connect(port, '127.0.0.1', () => { local = socket.localPort; socket.write('ping'); });
        socket.on('error', () => {});
        socket.on('close', () => { console.log(JSON.stringify({ port, local })); silent.close(); });
      });
    `;
    const { stdout, stderr } = await runNode(['-e', script], { NODE_DEBUG: 'timeoutsocket' }, ROOT);
    const { port, local } = JSON.parse(stdout);
    const lines = stderr.trim().split('\n').map((line) => line.replace(/^TIMEOUTSOCKET \d+: /, ''));
    const about = `127.0.0.1:${port} (local port ${local}, protocol request-reply, rule 1 "127.0.0.1:${port} read=100ms")`;
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^protocol request-reply \(default\) /),
      `armed read 100 ms ${about}`,
      expect.stringMatching(/^fired read after \d+ ms \(timeout 100 ms\) /),
    ]);
    expect(lines[3].endsWith(about)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('TIMEOUTSOCKET_RULES at start-up', () => {
  it('applyRulesEnvironment throws a one-line error quoting the rule, naming the variable', () => {
    expect(() => applyRulesEnvironment({ TIMEOUTSOCKET_RULES: 'db:5432 read=60s; cache:99999 read=1s' })).toThrow(
      new RangeError('TIMEOUTSOCKET_RULES: rule 2 "cache:99999 read=1s": the port must be 1 to 65535, got \'99999\''),
    );
  });

  it('a bad rule stops a preloaded process before the application runs, with one line', async () => {
    const result = await runNode(['-r', REGISTER, '-e', 'console.log("app ran")'], { TIMEOUTSOCKET_RULES: '*:6379 protocol=redis; db read=soon' }, ROOT);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'timeoutsocket: TIMEOUTSOCKET_RULES: rule 2 "db read=soon": read=\'soon\' is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m, or off\n',
    );
  });

  it('importing the main entry with a bad rule throws the same message', async () => {
    const script = `
      try { require('./dist/lib/index.js'); console.log('no error'); }
      catch (err) { console.log(err.constructor.name + ': ' + err.message); }
    `;
    const result = await runNode(['-e', script], { TIMEOUTSOCKET_RULES: '[::1 read=1s' }, ROOT);
    expect(result.stdout.trim()).toBe('TypeError: TIMEOUTSOCKET_RULES: rule 1 "[::1 read=1s": \'[::1\' has no closing ]');
  });

  it('good rules are in force in a preloaded process: the rule read deadline fires', async () => {
    const silent = await silentServer();
    const script = `
      const net = require('net');
      const started = Date.now();
      const socket = net.connect(${silent.port}, '127.0.0.1', () => socket.write('hello'));
      socket.on('error', (err) => console.log(JSON.stringify({ code: err.code, phase: err.phase, timeout: err.timeout, rules: require('./dist/lib/index.js').getSocketTimeoutRules().length })));
    `;
    const env = { TIMEOUTSOCKET_TIMEOUT: '5s', TIMEOUTSOCKET_RULES: `127.0.0.1:${silent.port} read=150ms` };
    const result = await runNode(['-r', REGISTER, '-e', script], env, ROOT);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ code: 'ETIMEDOUT', phase: 'read', timeout: 150, rules: 1 });
  });
});

describe('explainDestination', () => {
  const defaults = { connect: 2000, read: 5000, write: null, keepAlive: 30_000 };

  it('names the rule, its protocol, and where each deadline comes from', () => {
    expect(explainDestination('db.internal', 5432, { rules: 'db.internal:5432 read=60s protocol=stream', defaults })).toEqual({
      rule: { destination: 'db.internal:5432', read: 60_000, protocol: 'stream', text: 'db.internal:5432 read=60s protocol=stream', index: 1 },
      dependsOnAddress: false,
      protocol: 'stream',
      portProtocol: null,
      timeouts: { connect: 2000, read: 60_000, write: null, keepAlive: 30_000 },
      sources: { connect: 'default', read: 'rule', write: 'default' },
      mode: 'enforce',
      modeSource: 'default',
      connectWhileConnecting: null,
    });
  });

  it('with an address that decided a CIDR rule, names the connect deadline that applies while connecting by name', () => {
    const rules = '10.0.0.0/8 connect=1s; db connect=5s; * read=1s';
    expect(explainDestination('db', 1, { rules, defaults, address: '10.1.2.3' }).connectWhileConnecting).toEqual({
      timeout: 5000,
      source: 'rule',
      rule: expect.objectContaining({ index: 2 }),
    });
    // The same connect deadline either way, or no name to resolve: nothing to add.
    expect(explainDestination('db', 1, { rules: '10.0.0.0/8 read=1s; db read=5s', defaults, address: '10.1.2.3' }).connectWhileConnecting).toBeNull();
    expect(explainDestination('10.1.2.3', 1, { rules, defaults, address: '10.1.2.3' }).connectWhileConnecting).toBeNull();
  });

  it('names the mode: the rule\'s mode=, else the process mode given', () => {
    expect(explainDestination('db', 1, { rules: 'db mode=report', defaults })).toMatchObject({ mode: 'report', modeSource: 'rule' });
    expect(explainDestination('db', 1, { rules: 'db read=1s', defaults, mode: 'report' })).toMatchObject({ mode: 'report', modeSource: 'default' });
  });

  it('with no rule or protocol=auto, the protocol is chosen per connection; a port table can be supplied', () => {
    const table = (port: number) => (port === 6379 ? ('redis' as const) : undefined);
    expect(explainDestination('cache', 6379, { rules: '* protocol=auto', defaults, protocolForPort: table })).toMatchObject({
      rule: { index: 1 },
      protocol: null,
      portProtocol: 'redis',
    });
    expect(explainDestination('cache', 80, { defaults, protocolForPort: table })).toMatchObject({ rule: null, protocol: null, portProtocol: null });
  });
});
