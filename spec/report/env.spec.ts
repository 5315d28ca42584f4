/**
 * TIMEOUTSOCKET_MODE at start-up, through the register entry: a bad value stops the process
 * like a bad duration; `report` leaves a hung request open and reports it.
 */
import * as path from 'node:path';
import { closeAll, startSilentServer, type Closable } from '../../fixtures/servers';
import { runNode } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const REGISTER = path.join(ROOT, 'dist', 'lib', 'register.js');
const fixtures: Closable[] = [];

afterEach(async () => {
  await closeAll(fixtures.splice(0));
});

describe('TIMEOUTSOCKET_MODE', () => {
  it.each(['Report', 'off', 'report,enforce'])('=%s stops the process before the application runs, quoting the value', async (value) => {
    const result = await runNode(['-r', REGISTER, '-e', 'console.log("app ran")'], { TIMEOUTSOCKET_MODE: value }, ROOT);
    expect(result.code).toBe(9);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `timeoutsocket: TIMEOUTSOCKET_MODE='${value}' is not a mode: use enforce (the default) or report`,
    ]);
  });

  it.each([
    ['report', false],
    ['enforce', true],
    ['', true],
  ])('=%j: the request to a silent server is destroyed: %s', async (mode, destroyed) => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const script = `
      const net = require('net');
      const { getStats, getDeadlineMode } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'index.js'))});
      const diagnostics = require('diagnostics_channel');
      const socket = net.connect(${silent.port}, '127.0.0.1', () => socket.write('hello'));
      const done = (what) => { console.log(JSON.stringify({ what, mode: getDeadlineMode(), destroyed: socket.destroyed, stats: getStats() })); process.exit(0); };
      socket.on('error', () => done('error'));
      diagnostics.subscribe('timeoutsocket:timeout', (message) => setImmediate(() => done(message.enforced ? 'enforced' : 'reported')));
    `;
    const result = await runNode(['-r', REGISTER, '-e', script], { TIMEOUTSOCKET_MODE: mode, TIMEOUTSOCKET_READ_TIMEOUT: '100ms' }, ROOT);
    expect(result.stderr).toBe('');
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({ mode: mode === '' ? 'enforce' : mode, destroyed });
    expect(outcome.stats.reported).toBe(destroyed ? 0 : 1);
    expect(outcome.stats.timeouts.read).toBe(destroyed ? 1 : 0);
  });
});
