/**
 * lib/preload-env.ts: the register preload's check for any `TIMEOUTSOCKET_*` variable, and what
 * it marks when there is none (the same as applying an empty environment).
 */
import * as path from 'node:path';
import { ENV } from '../lib/config';
import { MODE_ENV } from '../lib/mode';
import { anyPreloadVariable, PRELOAD_VARIABLES } from '../lib/preload-env';
import { REPORT_FILE_ENV } from '../lib/report/environment';
import { RULES_ENV } from '../lib/rules/index';
import { runNode } from './helpers';

const LIB = path.resolve(__dirname, '..', 'dist', 'lib');

describe('PRELOAD_VARIABLES', () => {
  it('is every variable the modules that read the environment read', () => {
    expect([...PRELOAD_VARIABLES].sort()).toEqual([...Object.values(ENV), RULES_ENV, MODE_ENV, REPORT_FILE_ENV].sort());
  });
});

describe('anyPreloadVariable', () => {
  it('is false with none set, true with any one set, even empty', () => {
    expect(anyPreloadVariable({ PATH: '/bin', TIMEOUTSOCKET: '1', NODE_DEBUG: 'timeoutsocket' })).toBe(false);
    for (const name of PRELOAD_VARIABLES) {
      expect(anyPreloadVariable({ [name]: '1s' })).toBe(true);
      expect(anyPreloadVariable({ [name]: '' })).toBe(true);
    }
  });
});

describe('markEnvironmentRead', () => {
  // The shared records live on net.Socket, so each side runs in a fresh process (the built files).
  const RECORDS = `
    const net = require('net');
    const r = net.Socket[Symbol.for('timeoutsocket.runtime.v1')];
    const rules = net.Socket[Symbol.for('timeoutsocket.rules.v1')];
    console.log(JSON.stringify({ envApplied: r.envApplied, keepAliveProbes: r.keepAliveProbes, defaults: r.defaults, modeEnvApplied: r.modeEnvApplied, mode: r.mode, rules: rules }));
  `;
  const run = async (code: string): Promise<unknown> => {
    const result = await runNode(['-e', `const LIB = ${JSON.stringify(LIB)}; const path = require('path');\n${code}\n${RECORDS}`], {}, LIB);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(result.stdout);
  };

  it('leaves the shared records as applying an empty environment does', async () => {
    const marked = await run(`require(path.join(LIB, 'preload-env.js')).markEnvironmentRead();`);
    const applied = await run(`
      require(path.join(LIB, 'runtime.js')).applyEnvironment({});
      require(path.join(LIB, 'rules', 'index.js')).applyRulesEnvironment({});
      require(path.join(LIB, 'mode.js')).applyModeEnvironment({});
    `);
    expect(marked).toEqual(applied);
    expect(marked).toMatchObject({ envApplied: true, modeEnvApplied: true, rules: { envApplied: true } });
  });

  it('a copy loaded later then leaves the environment alone, as after applying it', async () => {
    const out = await run(`
      require(path.join(LIB, 'preload-env.js')).markEnvironmentRead();
      require(path.join(LIB, 'runtime.js')).applyEnvironment({ TIMEOUTSOCKET_TIMEOUT: '5s' });
      require(path.join(LIB, 'rules', 'index.js')).applyRulesEnvironment({ TIMEOUTSOCKET_RULES: '*:1 read=1s' });
      require(path.join(LIB, 'mode.js')).applyModeEnvironment({ TIMEOUTSOCKET_MODE: 'report' });
    `);
    expect(out).toMatchObject({ defaults: { connect: null, read: null, write: null, keepAlive: null } });
    expect((out as { mode?: string }).mode).toBeUndefined();
    expect((out as { rules: { set?: unknown } }).rules.set).toBeUndefined();
  });
});
