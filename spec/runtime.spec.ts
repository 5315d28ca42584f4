import { applyEnvironment, getDefaultSocketTimeout, setDefaultSocketTimeout } from '../lib/runtime';

describe('the process default', () => {
  afterEach(() => setDefaultSocketTimeout(null));

  it('is off until set', () => {
    expect(getDefaultSocketTimeout()).toEqual({ connect: null, read: null, write: null, keepAlive: null });
  });

  it('round-trips a number and an object', () => {
    setDefaultSocketTimeout(250);
    expect(getDefaultSocketTimeout()).toEqual({ connect: 250, read: 250, write: 250, keepAlive: null });
    setDefaultSocketTimeout({ read: 100 });
    expect(getDefaultSocketTimeout()).toEqual({ connect: null, read: 100, write: null, keepAlive: null });
  });

  it('keeps the old value when the new one is rejected', () => {
    setDefaultSocketTimeout(250);
    expect(() => setDefaultSocketTimeout(-1)).toThrow(RangeError);
    expect(getDefaultSocketTimeout()).toEqual({ connect: 250, read: 250, write: 250, keepAlive: null });
  });

  it('hands out copies the caller cannot use to change it', () => {
    setDefaultSocketTimeout(250);
    const copy = getDefaultSocketTimeout();
    copy.read = 1;
    expect(getDefaultSocketTimeout().read).toBe(250);
  });
});

describe('applyEnvironment', () => {
  it('validates before it changes anything', () => {
    // The runtime applies the environment once per process; a bad value must throw even so.
    expect(() => applyEnvironment({ TIMEOUTSOCKET_TIMEOUT: 'x' })).toThrow(RangeError);
  });
});
