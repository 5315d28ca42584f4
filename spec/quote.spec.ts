import { quote } from '../lib/quote';

describe('quote: how an error message names a bad value', () => {
  it.each([
    [0n, '0n'],
    [-46n, '-46n'],
    [0, '0 (a number)'],
    [-0, '-0 (a number)'],
    [NaN, 'NaN (a number)'],
    [true, 'true (a boolean)'],
    ['\t83\n', "'\\t83\\n'"],
    ['5', "'5'"],
    [null, 'null'],
    [undefined, 'undefined'],
    [Symbol('x'), 'Symbol(x)'],
    [[-46n, 8n], '[ -46n, 8n ]'],
    [{ read: 5n }, '{ read: 5n }'],
    [[1, Symbol()], '[ 1, Symbol() ]'],
    [new Number(5), '[Number: 5]'],
    [new String('x'), "[String: 'x']"],
  ])('%p reads %s', (value, shown) => {
    expect(quote(value)).toBe(shown);
  });

  it('never runs the value\'s own code: toString, valueOf, getters, custom inspect, Proxy traps', () => {
    const calls: string[] = [];
    const hostile = {
      toString() {
        calls.push('toString');
        return {};
      },
      valueOf() {
        calls.push('valueOf');
        throw new Error('valueOf');
      },
      get trap() {
        calls.push('getter');
        throw new Error('getter');
      },
      [Symbol.for('nodejs.util.inspect.custom')]() {
        calls.push('inspect');
        throw new Error('inspect');
      },
    };
    expect(quote(hostile)).toContain('[Getter]');
    const proxy = new Proxy({}, { get: () => { calls.push('trap'); throw new Error('trap'); }, ownKeys: () => { calls.push('ownKeys'); throw new Error('ownKeys'); } });
    expect(typeof quote(proxy)).toBe('string');
    expect(calls).toEqual([]);
  });

  it('falls back to a plain word for what util.inspect cannot render', () => {
    const hostileProto = Object.create(new Proxy({}, { getPrototypeOf: () => { throw new Error('x'); }, getOwnPropertyDescriptor: () => { throw new Error('x'); } }));
    expect(quote(hostileProto)).toBe('an object');
    const tag = Object.defineProperty({}, Symbol.toStringTag, { get: () => { throw new Error('x'); } });
    // Node 20 and 22's inspect throw on it (the fallback answers); 24 and later render it.
    expect(['an object', '{}']).toContain(quote(tag));
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(typeof quote(proxy)).toBe('string');
  });

  it('stays one short line: an error\'s first line, long strings and arrays cut', () => {
    expect(quote(new Error('boom'))).toBe('Error: boom');
    expect(quote('x'.repeat(500)).length).toBeLessThanOrEqual(120);
    expect(quote(Array.from({ length: 1000 }, (_, i) => i))).toContain('more items');
    expect(quote({ a: { b: { c: { d: { e: 1 } } } } })).not.toContain('\n');
  });
});
