/**
 * The bad-input property: every public entry point, fed random values (hostile ones included),
 * either accepts the value as documented, or rejects it with a TypeError or RangeError that
 * quotes it. Nothing else is ever thrown, and making the message never crashes. Seeded, so a
 * run is repeatable; a failure prints the seed's case. Rules given as text are the exception to
 * "quotes it": their messages quote the rule that is wrong, `rule 2 "db read=1x"`, and then its
 * bad part.
 *
 * One rule for the value's own code: a getter or Proxy trap that throws is the caller's code
 * throwing, and its error passes through unchanged (as it would from any function that reads
 * the property), so {@link HOSTILE} and the engine's "proxy that has been revoked" TypeError
 * count as the value's, not the library's.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { types } from 'node:util';
import { refusedPort } from '../fixtures/servers';
import { createConnection } from '../lib/awaitable';
import { classify, describe as describeCode, type ClassifyContext, type ErrorCode } from '../lib/classify';
import { ENV, MAX_TIMEOUT_MS, parseDuration, type TimeoutSetting } from '../lib/config';
import { checkDeadlineMode, getDeadlineMode, MODE_ENV, setDeadlineMode, type DeadlineMode } from '../lib/mode';
import { PROTOCOL_SETTINGS } from '../lib/protocols/names';
import { checkRules, RULES_ENV, setSocketTimeoutRules, type SocketTimeoutRules } from '../lib/rules/index';
import { setDefaultSocketTimeout } from '../lib/runtime';
import { normalizeError } from '../lib/normalize';
import { quote } from '../lib/quote';
import { listeningServer, pair, track, useAwaitableApi } from './awaitable/support';
import { runNode } from './helpers';
import { HOSTILE, random, randomEnvText, randomRuleObjects, randomRulesText, randomValue } from './hostile-values';

useAwaitableApi();

const SEED = 17;
/** Values per entry point and argument position. */
const CASES = 150;
const ROOT = path.resolve(__dirname, '..');

/** Whether the value is valid as documented: true, false, or undefined when the test cannot tell (Node decides, or a Proxy). */
type Oracle = (value: unknown) => boolean | undefined;

const unknownOracle: Oracle = () => undefined;

function plainKeys(value: unknown): string[] | false | undefined {
  if (typeof value !== 'object' || value === null) return false;
  if (types.isProxy(value)) return undefined;
  if (Array.isArray(value) || types.isBoxedPrimitive(value)) return false;
  return Object.keys(value);
}

function hasAccessor(value: object, keys: string[]): boolean {
  return keys.some((key) => 'get' in (Object.getOwnPropertyDescriptor(value, key) ?? {}));
}

function validMs(value: unknown, allowZero = false): boolean {
  return typeof value === 'number' && ((allowZero && value === 0) || (Number.isFinite(value) && value > 0 && value <= MAX_TIMEOUT_MS));
}

/** `null`, milliseconds, or `{ connect?, read?, write?, keepAlive? }` naming at least one. */
function settingOracle(allowZero: boolean): Oracle {
  return (value) => {
    if (value === null || typeof value === 'number') return value === null || validMs(value, allowZero);
    const keys = plainKeys(value);
    if (keys === false || keys === undefined) return keys;
    if (keys.some((key) => !['connect', 'read', 'write', 'keepAlive'].includes(key))) return false;
    if (hasAccessor(value as object, keys)) return undefined;
    const values = keys.map((key) => (value as Record<string, unknown>)[key]);
    if (values.every((v) => v === undefined)) return false;
    return values.every((v) => v === undefined || v === null || validMs(v));
  };
}

/** `undefined`, or an object with only the `allowed` keys, each valid. */
function optionsOracle(allowed: readonly string[]): Oracle {
  return (value) => {
    if (value === undefined) return true;
    const keys = plainKeys(value);
    if (keys === false || keys === undefined) return keys;
    if (keys.some((key) => !allowed.includes(key))) return false;
    if (hasAccessor(value as object, keys)) return undefined;
    const { signal, timeout } = Object.fromEntries(keys.map((key) => [key, (value as Record<string, unknown>)[key]])) as { signal?: unknown; timeout?: unknown };
    if (signal !== undefined && !(signal instanceof AbortSignal)) return false;
    if (timeout !== undefined) return settingOracle(true)(timeout);
    return true;
  };
}

/** Whether `message` quotes `value`, or a part of it (an unknown key, the value of a key). */
function mentions(message: string, value: unknown, depth = 0): boolean {
  if (message.includes(quote(value))) return true;
  if (depth > 2 || typeof value !== 'object' || value === null) return false;
  let descriptors: [string, PropertyDescriptor][];
  try {
    descriptors = Object.entries(Object.getOwnPropertyDescriptors(value)); // a Proxy's trap may throw
  } catch {
    return false;
  }
  for (const [key, descriptor] of descriptors) {
    if (message.includes(quote(key))) return true;
    if ('value' in descriptor && mentions(message, descriptor.value, depth + 1)) return true;
    if ('get' in descriptor && message.includes('Symbol(from a getter)')) return true;
  }
  return false;
}

function isError(value: unknown): value is Error {
  return types.isNativeError(value) || value instanceof Error;
}

/** Node's own argument checks (`ERR_SOCKET_BAD_PORT`, `ERR_INVALID_ARG_TYPE`): they name the value their way. */
function isNodeCheck(error: Error): boolean {
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && code.startsWith('ERR_') && error.message.includes('Received');
}

/** What is wrong with how a call treated `value`, or undefined when all is well. */
function problemWith(value: unknown, oracle: boolean | undefined, outcome: { accepted: true } | { accepted: false; error: unknown }): string | undefined {
  if (outcome.accepted) return oracle === false ? `accepted ${quote(value)}, which is not valid` : undefined;
  const { error } = outcome;
  if (error === HOSTILE) return undefined;
  // Errors made inside Node (its argument checks, its socket errors, V8's on a revoked Proxy)
  // come from the main realm, not Jest's: tell them by their kind, not by instanceof.
  const name = isError(error) ? error.name : undefined;
  if (name === 'TypeError' && (error as Error).message.includes('proxy that has been revoked')) return undefined;
  if (name === 'TypeError' || name === 'RangeError') {
    const { message } = error as Error;
    if (oracle === true) return `rejected the valid ${quote(value)}: ${message}`;
    if (isNodeCheck(error as Error) || mentions(message, value)) return undefined;
    return `${name} does not quote ${quote(value)}: ${message}`;
  }
  if (isError(error) && typeof (error as { code?: unknown }).code === 'string') {
    // An outcome of the operation itself (EAGAIN, ECONNREFUSED, EBADF, ENOENT…): fine for a
    // value that may be valid, a silent acceptance for one that is not.
    return oracle === false ? `accepted ${quote(value)}, which is not valid, and failed later: ${error.message}` : undefined;
  }
  return `threw something other than a TypeError or RangeError: ${quote(error)}`;
}

async function outcomeOf(call: () => unknown): Promise<{ accepted: true } | { accepted: false; error: unknown }> {
  try {
    const result = call();
    const settled = await result;
    if (settled instanceof net.Socket) track(settled);
    return { accepted: true };
  } catch (error) {
    return { accepted: false, error };
  }
}

/** Feeds {@link CASES} seeded values to `call`; returns the first few problems. */
async function property(seed: number, oracle: Oracle, call: (value: unknown) => unknown, skip?: (value: unknown) => boolean): Promise<string[]> {
  const rand = random(seed);
  const problems: string[] = [];
  for (let i = 0; i < CASES && problems.length < 5; i++) {
    const value = randomValue(rand);
    if (skip?.(value)) continue;
    let valid: boolean | undefined;
    try {
      valid = oracle(value);
    } catch {
      valid = undefined; // the value's own code threw while the test looked at it
    }
    const problem = problemWith(value, valid, await outcomeOf(() => call(value)));
    if (problem !== undefined) problems.push(`case ${i} of seed ${seed}: ${problem}`);
  }
  return problems;
}

/** Whether `value` is valid as `setSocketTimeoutRules()` documents it, as far as its shape tells; `undefined` when only parsing can. */
const rulesOracle: Oracle = (value) => {
  if (value === null) return true;
  if (typeof value === 'string') return undefined;
  if (!Array.isArray(value)) return false;
  if (types.isProxy(value)) return undefined;
  let verdict: boolean | undefined = true;
  for (const item of value) {
    const verdictOfItem = ruleObjectOracle(item);
    if (verdictOfItem === false) return false;
    if (verdictOfItem === undefined) verdict = undefined;
  }
  return verdict;
};

const DEADLINE_KEYS = ['connect', 'read', 'write'];

/** One rule object: a destination string, known keys only, at least one valid setting. */
function ruleObjectOracle(item: unknown): boolean | undefined {
  const keys = plainKeys(item);
  if (keys === false || keys === undefined) return keys;
  if (hasAccessor(item as object, keys)) return undefined;
  const fields = item as Record<string, unknown>;
  if (keys.some((key) => ![...DEADLINE_KEYS, 'protocol', 'mode', 'destination', 'text', 'index'].includes(key))) return false;
  if (typeof fields.destination !== 'string') return false;
  if (fields.text !== undefined && typeof fields.text !== 'string') return false;
  const settings = keys.filter((key) => !['destination', 'text', 'index'].includes(key) && fields[key] !== undefined);
  if (settings.length === 0) return false;
  for (const key of settings) {
    const v = fields[key];
    if (DEADLINE_KEYS.includes(key) && !(v === null || validMs(v))) return false;
    if (key === 'protocol' && !(PROTOCOL_SETTINGS as readonly unknown[]).includes(v)) return false;
    if (key === 'mode' && v !== 'enforce' && v !== 'report') return false;
  }
  return undefined; // the destination string is for the parser to judge
}

/** A string would be looked up in DNS: host positions get every other kind of value. */
const isString = (value: unknown): boolean => typeof value === 'string';

/** A non-blocking connected pair: valid calls settle at once (EAGAIN, or done). */
async function nonBlockingPair(): Promise<net.Socket> {
  const { client } = await pair();
  client.setBlocking(false);
  return client;
}


describe('every entry point, given random values, accepts them as documented or rejects them quoting them', () => {
  // Each case has its own seed, so adding one does not change the values the others get.
  it('setDefaultSocketTimeout', async () => {
    expect(await property(SEED + 1, settingOracle(false), (v) => setDefaultSocketTimeout(v as TimeoutSetting))).toEqual([]);
  });

  it('setSocketTimeout on a socket and on a server', async () => {
    const socket = track(new net.Socket());
    const server = net.createServer();
    expect(await property(SEED + 2, settingOracle(true), (v) => socket.setSocketTimeout(v as TimeoutSetting))).toEqual([]);
    expect(await property(SEED + 3, settingOracle(true), (v) => server.setSocketTimeout(v as TimeoutSetting))).toEqual([]);
  });

  it('setSocketTimeoutRules: any value, rule texts, and arrays of hostile rule objects', async () => {
    try {
      const call = (v: unknown): void => setSocketTimeoutRules(v as SocketTimeoutRules);
      // A string names its bad part through the rule it quotes (`rule 2 "db read=1x"`), checked below.
      expect(await property(SEED + 26, rulesOracle, call, isString)).toEqual([]);
      const objects = random(SEED + 27);
      const problems: string[] = [];
      for (let i = 0; i < CASES && problems.length < 5; i++) {
        const value = randomRuleObjects(objects);
        let valid: boolean | undefined;
        try {
          valid = rulesOracle(value);
        } catch {
          valid = undefined;
        }
        const problem = problemWith(value, valid, await outcomeOf(() => call(value)));
        if (problem !== undefined) problems.push(`object case ${i} of seed ${SEED + 27}: ${problem}`);
      }
      expect(problems).toEqual([]);
      const texts = random(SEED + 28);
      for (let i = 0; i < CASES && problems.length < 5; i++) {
        const text = randomRulesText(texts);
        const outcome = await outcomeOf(() => call(text));
        if (outcome.accepted) continue;
        const { error } = outcome;
        const { name, message } = error as Error;
        const quotesRule = /^rules: rule \d+ "/.test(message) && text.split(';').some((piece) => message.includes(JSON.stringify(piece.trim())));
        if (!((name === 'TypeError' || name === 'RangeError') && quotesRule && !message.includes('\n'))) {
          problems.push(`text case ${i} of seed ${SEED + 28}: ${quote(text)} gave ${quote(error)}`);
        }
      }
      expect(problems).toEqual([]);
    } finally {
      setSocketTimeoutRules(null);
    }
  });

  it('setDeadlineMode', async () => {
    const before = getDeadlineMode();
    try {
      const mode: Oracle = (v) => v === 'enforce' || v === 'report';
      expect(await property(SEED + 29, mode, (v) => setDeadlineMode(v as DeadlineMode))).toEqual([]);
    } finally {
      setDeadlineMode(before);
    }
  });

  it('recv: the byte count and the options', async () => {
    const socket = await nonBlockingPair();
    const count: Oracle = (v) => typeof v === 'number' && Number.isInteger(v) && v > 0;
    expect(await property(SEED + 4, count, (v) => socket.recv(v as number))).toEqual([]);
    expect(await property(SEED + 5, optionsOracle(['signal']), (v) => socket.recv(5, v as never))).toEqual([]);
  });

  it('recvInto: the buffer and the options', async () => {
    const socket = await nonBlockingPair();
    expect(await property(SEED + 6, (v) => v instanceof Uint8Array, (v) => socket.recvInto(v as Uint8Array))).toEqual([]);
    expect(await property(SEED + 7, optionsOracle(['signal']), (v) => socket.recvInto(Buffer.alloc(4), v as never))).toEqual([]);
  });

  it('send and sendAll: the data and the options', async () => {
    const socket = await nonBlockingPair();
    const data: Oracle = (v) => typeof v === 'string' || v instanceof Uint8Array;
    expect(await property(SEED + 8, data, (v) => socket.send(v as string))).toEqual([]);
    expect(await property(SEED + 9, optionsOracle(['signal']), (v) => socket.send('x', v as never))).toEqual([]);
    expect(await property(SEED + 10, data, (v) => socket.sendAll(v as string))).toEqual([]);
    expect(await property(SEED + 11, optionsOracle(['signal']), (v) => socket.sendAll('x', v as never))).toEqual([]);
  });

  it('connectEx: the destination, the host and the options', async () => {
    const port = await refusedPort();
    const fresh = (): net.Socket => track(new net.Socket()).setBlocking(false);
    const destination: Oracle = (v) => (typeof v === 'number' || typeof v === 'string' || plainKeys(v) !== false ? undefined : false);
    expect(await property(SEED + 12, destination, (v) => fresh().connectEx(v as number))).toEqual([]);
    const host: Oracle = (v) => (v === undefined ? true : typeof v === 'object' && v !== null ? undefined : false);
    expect(await property(SEED + 13, host, (v) => fresh().connectEx(port, v as string), isString)).toEqual([]);
    expect(await property(SEED + 14, optionsOracle(['signal']), (v) => fresh().connectEx(port, '127.0.0.1', v as never))).toEqual([]);
  });

  it('accept: the options', async () => {
    const server = await listeningServer();
    server.setBlocking(false);
    expect(await property(SEED + 15, optionsOracle(['signal']), (v) => server.accept(v as never))).toEqual([]);
  });

  it('createConnection: the port, the host and the options', async () => {
    const port = await refusedPort();
    const portOracle: Oracle = (v) => (typeof v === 'number' || typeof v === 'string' ? undefined : false);
    expect(await property(SEED + 16, portOracle, (v) => createConnection(v as number, '127.0.0.1', { timeout: 1000 }))).toEqual([]);
    const host: Oracle = (v) => (v === undefined ? true : false);
    expect(await property(SEED + 17, host, (v) => createConnection(port, v as string), isString)).toEqual([]);
    expect(await property(SEED + 18, optionsOracle(['signal', 'timeout']), (v) => createConnection(port, '127.0.0.1', v as never))).toEqual([]);
  });

  it('classify and describe: the code and the context', async () => {
    expect(await property(SEED + 19, unknownOracle, (v) => classify(v as ErrorCode))).toEqual([]);
    expect(await property(SEED + 20, unknownOracle, (v) => classify('ECONNREFUSED', v as ClassifyContext))).toEqual([]);
    expect(await property(SEED + 21, unknownOracle, (v) => describeCode(v as ErrorCode))).toEqual([]);
    expect(await property(SEED + 22, unknownOracle, (v) => describeCode(111, v as ClassifyContext))).toEqual([]);
  });

  it('normalizeError: the error and the context', async () => {
    expect(await property(SEED + 23, unknownOracle, (v) => normalizeError(v))).toEqual([]);
    expect(await property(SEED + 24, unknownOracle, (v) => normalizeError(new Error('connect ECONNREFUSED 127.0.0.1:1'), v as never))).toEqual([]);
  });

  it('parseDuration: the text', async () => {
    const text: Oracle = (v) => (typeof v === 'string' ? undefined : false);
    expect(await property(SEED + 25, text, (v) => parseDuration(v as string, 'TIMEOUTSOCKET_TIMEOUT'))).toEqual([]);
  });
});

describe('every TIMEOUTSOCKET_* variable, through the register entry', () => {
  /** Whether the environment takes `text` (an empty variable counts as unset). */
  function accepted(text: string): boolean {
    if (text.trim() === '') return true;
    try {
      parseDuration(text, 'X');
      return true;
    } catch {
      return false;
    }
  }

  it('a preloaded process runs with a good value and stops with one line quoting a bad one', async () => {
    const rand = random(SEED + 100);
    const cases = Object.values(ENV).flatMap((name) => [randomEnvText(rand), randomEnvText(rand), randomEnvText(rand)].map((text) => ({ name, text })));
    const results = await Promise.all(
      cases.map(({ name, text }) => runNode(['-r', path.join(ROOT, 'dist', 'lib', 'register.js'), '-e', 'process.stdout.write("ran")'], { [name]: text }, ROOT)),
    );
    const problems = cases.flatMap(({ name, text }, i) => {
      const { code, stdout, stderr } = results[i];
      const what = `${name}=${quote(text)}`;
      if (accepted(text)) return code === 0 && stdout === 'ran' && stderr === '' ? [] : [`${what} should run: exit ${code}, ${quote(stderr)}`];
      const lines = stderr.trim().split('\n');
      const ok = code !== 0 && stdout === '' && lines.length === 1 && lines[0].startsWith('timeoutsocket: ') && lines[0].includes(what);
      return ok ? [] : [`${what} should stop the process with one line quoting it: exit ${code}, ${quote(stderr)}`];
    });
    expect(problems).toEqual([]);
    expect(cases.some(({ text }) => accepted(text)) && cases.some(({ text }) => !accepted(text))).toBe(true); // both kinds were tried
  });

  it('TIMEOUTSOCKET_RULES and TIMEOUTSOCKET_MODE: a good value runs, a bad one stops the process with one line quoting it', async () => {
    const rand = random(SEED + 101);
    const takes: Record<string, (text: string) => boolean> = {
      [RULES_ENV]: (text) => {
        try {
          checkRules(text);
          return true;
        } catch {
          return false;
        }
      },
      [MODE_ENV]: (text) => {
        if (text.trim() === '') return true;
        try {
          checkDeadlineMode(text.trim(), MODE_ENV);
          return true;
        } catch {
          return false;
        }
      },
    };
    const cases = [
      ...Array.from({ length: 8 }, () => ({ name: RULES_ENV, text: randomRulesText(rand).replace(/\u0000/g, '') })),
      ...Array.from({ length: 6 }, () => ({ name: MODE_ENV, text: rand() < 0.4 ? ['enforce', 'report', ' report ', 'Report', 'off', ''][Math.floor(rand() * 6)] : randomEnvText(rand) })),
    ];
    const results = await Promise.all(
      cases.map(({ name, text }) => runNode(['-r', path.join(ROOT, 'dist', 'lib', 'register.js'), '-e', 'process.stdout.write("ran")'], { [name]: text }, ROOT)),
    );
    const problems = cases.flatMap(({ name, text }, i) => {
      const { code, stdout, stderr } = results[i];
      const what = `${name}=${quote(text)}`;
      if (takes[name](text)) return code === 0 && stdout === 'ran' && stderr === '' ? [] : [`${what} should run: exit ${code}, ${quote(stderr)}`];
      const lines = stderr.trim().split('\n');
      // The mode quotes the variable's value; rules quote the rule that is wrong.
      const quoted = name === MODE_ENV ? lines[0].includes(what) : lines[0].startsWith(`timeoutsocket: ${RULES_ENV}: rule `) && text.split(';').some((piece) => lines[0].includes(JSON.stringify(piece.trim())));
      const ok = code !== 0 && stdout === '' && lines.length === 1 && lines[0].startsWith('timeoutsocket: ') && quoted;
      return ok ? [] : [`${what} should stop the process with one line quoting it: exit ${code}, ${quote(stderr)}`];
    });
    expect(problems).toEqual([]);
    for (const name of [RULES_ENV, MODE_ENV]) {
      const texts = cases.filter((c) => c.name === name).map((c) => c.text);
      expect(texts.some(takes[name]) && !texts.every(takes[name])).toBe(true); // both kinds were tried
    }
  });
});
