/**
 * A seeded generator of hostile values for the bad-input property test: strings, numbers at the
 * edges, BigInts, Symbols, functions, objects with hostile toString/valueOf/getters, Proxies,
 * arrays, boxed primitives and nested objects. Deterministic: the same seed gives the same values.
 */

/** Thrown by the hostile values' own code (getters, traps, toString); never by the library. */
export const HOSTILE = new Error('the value\'s own code ran and threw');

/** A small seeded PRNG (mulberry32), so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;

const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)];

const STRINGS = ['', ' ', '0', '-1', '5', '5s', '400ms', '1.5s', '\t83\n', 'abc', 'NaN', 'Infinity', '1e3', '__proto__', 'constructor', 'ECONNREFUSED', '111', '\u0000', '💥', 'x'.repeat(300)];
const NUMBERS = [0, -0, 1, -1, 0.5, 1.5, 5, 100, 150, 65535, 65536, 2 ** 31 - 1, 2 ** 31, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity, 10061, -111];
const BIGINTS = [0n, 1n, -46n, 8n, 5n, 2n ** 64n];
/** Keys the entry points know, and near misses. */
const KEYS = ['connect', 'read', 'write', 'keepAlive', 'signal', 'timeout', 'reed', 'idle', 'code', 'errno', 'message', 'op', 'retry', 'platform', 'port', 'cause', 'name'];

function randomString(rand: Rand): string {
  if (rand() < 0.7) return pick(rand, STRINGS);
  const length = Math.floor(rand() * 12);
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(32 + Math.floor(rand() * 95));
  return text;
}

function randomNumber(rand: Rand): number {
  if (rand() < 0.7) return pick(rand, NUMBERS);
  return rand() < 0.5 ? Math.floor(rand() * 70_000) - 1000 : (rand() - 0.5) * 1e6;
}

function hostileObject(rand: Rand): unknown {
  switch (Math.floor(rand() * 9)) {
    case 0:
      return { toString: () => ({}) };
    case 1:
      return { valueOf: () => Symbol('v'), toString: () => Symbol('s') };
    case 2:
      return {
        toString() {
          throw HOSTILE;
        },
        [Symbol.toPrimitive]() {
          throw HOSTILE;
        },
      };
    case 3:
      return Object.defineProperty({}, pick(rand, KEYS), { enumerable: true, get: () => { throw HOSTILE; } });
    case 4:
      return Object.defineProperty({}, pick(rand, KEYS), { enumerable: true, get: () => Symbol('from a getter') });
    case 5:
      return Object.defineProperty({}, Symbol.toStringTag, { get: () => { throw HOSTILE; } });
    case 6:
      return Object.create(null);
    case 7:
      return Object.create(new Proxy({}, { get: () => { throw HOSTILE; }, getPrototypeOf: () => { throw HOSTILE; }, getOwnPropertyDescriptor: () => { throw HOSTILE; } }));
    default:
      return { [Symbol.for('nodejs.util.inspect.custom')]: () => { throw HOSTILE; } };
  }
}

function proxy(rand: Rand, depth: number): unknown {
  const target = rand() < 0.3 ? [] : rand() < 0.5 ? plainObject(rand, depth + 1) : {};
  switch (Math.floor(rand() * 4)) {
    case 0: {
      const trap = (): never => {
        throw HOSTILE;
      };
      return new Proxy(target as object, { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap });
    }
    case 1: {
      const { proxy: revoked, revoke } = Proxy.revocable(target as object, {});
      revoke();
      return revoked;
    }
    case 2:
      return new Proxy(() => {}, {});
    default:
      return new Proxy(target as object, {}); // transparent: behaves as its target
  }
}

function boxed(rand: Rand): unknown {
  return pick(rand, [() => new Number(5), () => new String('x'), () => new Boolean(false), () => Object(1n), () => Object(Symbol('boxed')), () => new Number(NaN)])();
}

function plainObject(rand: Rand, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const count = Math.floor(rand() * 3) + (rand() < 0.2 ? 0 : 1);
  for (let i = 0; i < count; i++) object[pick(rand, KEYS)] = depth > 2 ? randomNumber(rand) : randomValue(rand, depth + 1);
  return object;
}

/** One random value, hostile or plausible. */
export function randomValue(rand: Rand, depth = 0): unknown {
  const kinds = depth > 2 ? 6 : 13;
  switch (Math.floor(rand() * kinds)) {
    case 0:
      return randomString(rand);
    case 1:
    case 2:
      return randomNumber(rand);
    case 3:
      return pick(rand, BIGINTS);
    case 4:
      return pick(rand, [Symbol(), Symbol('x'), Symbol.iterator]);
    case 5:
      return pick(rand, [null, undefined, true, false]);
    case 6:
      return pick(rand, [() => 1, function named() {}, class Klass {}, async () => {}]);
    case 7:
      return hostileObject(rand);
    case 8:
      return proxy(rand, depth);
    case 9:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    case 10:
      return boxed(rand);
    case 11:
      return pick(rand, [Buffer.from('ab'), new Uint8Array(3), new AbortController().signal, new Error('connect ECONNREFUSED 127.0.0.1:1'), new Date(0), /re/]);
    default:
      return plainObject(rand, depth);
  }
}

/** A string as the environment holds it: durations, near misses and junk (never a comma list). */
export function randomEnvText(rand: Rand): string {
  const text = rand() < 0.5 ? pick(rand, ['2s', '400', '400ms', '1.5s', '', ' ', '0', '-1', '5x', 'abc', '\t83\n', '1e3', 'NaN', '3d', '2147483648']) : randomString(rand);
  return text.replace(/[,\u0000]/g, '');
}

const DESTINATIONS = ['*', '*:6379', 'db.internal:5432', '10.0.0.0/8', '[::1]:80', '127.0.0.1', '*.example.com', 'db:99999', '10.0.0.1/8', '[::1', 'a*b', ':80', '', ' db '];
const SETTING_TEXTS = ['read=1s', 'connect=400ms', 'write=off', 'protocol=redis', 'protocol=stream', 'mode=report', 'read=0', 'read=1x', 'reed=1s', 'protocol=grpc', 'mode=off', 'read=', '60s', 'read=2147483648', 'read=0.5ms', 'read=1.5s'];

/** Rules as `TIMEOUTSOCKET_RULES` text: good and bad destinations and settings, one to three rules. */
export function randomRulesText(rand: Rand): string {
  if (rand() < 0.1) return randomString(rand);
  const rules = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => {
    const settings = Array.from({ length: Math.floor(rand() * 3) }, () => pick(rand, SETTING_TEXTS));
    return [pick(rand, DESTINATIONS), ...settings].join(' ');
  });
  return rules.join(rand() < 0.5 ? '; ' : ';');
}

const RULE_KEYS = ['destination', 'connect', 'read', 'write', 'protocol', 'mode', 'text', 'reed'];

/** An array of rule objects for `setSocketTimeoutRules()`: plausible fields and hostile values mixed. */
export function randomRuleObjects(rand: Rand): unknown[] {
  return Array.from({ length: 1 + Math.floor(rand() * 2) }, () => {
    if (rand() < 0.1) return randomValue(rand, 1);
    const rule: Record<string, unknown> = { destination: rand() < 0.7 ? pick(rand, DESTINATIONS) : randomValue(rand, 1) };
    const count = Math.floor(rand() * 3);
    for (let i = 0; i < count; i++) {
      const key = pick(rand, RULE_KEYS);
      rule[key] = rand() < 0.4 ? pick(rand, [1000, null, 'redis', 'report', 'stream', 250]) : randomValue(rand, 1);
    }
    return rule;
  });
}
