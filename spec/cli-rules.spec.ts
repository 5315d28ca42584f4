/**
 * The command line's rule options: `run --rules` and `probe --explain [--rules]`.
 * (In a file of their own, next to spec/cli.spec.ts, with the same way of running the CLI.)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAll, refusedPort, startSilentServer, type Closable } from '../fixtures/servers';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli.js');
const NODE = process.execPath;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <cli> ...args` with only PATH and `env`; kills it (by PID) if it outlives 10 s. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

const usageError = (what: string): string => `timeoutsocket: ${what}\nRun 'timeoutsocket --help' for usage.\n`;

const fixtures: Closable[] = [];

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does) before jest`);
});
afterEach(async () => {
  await closeAll(fixtures.splice(0));
});

describe('timeoutsocket run --rules', () => {
  it('sets TIMEOUTSOCKET_RULES for the command, and the rule applies in it', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const script = `
      const net = require('net');
      const socket = net.connect(${silent.port}, '127.0.0.1', () => socket.write('hello'));
      socket.on('error', (err) => console.log(JSON.stringify({ rules: process.env.TIMEOUTSOCKET_RULES, code: err.code, phase: err.phase, timeout: err.timeout })));
    `;
    const rules = `127.0.0.1:${silent.port} read=150ms; *:6379 protocol=redis`;
    const result = await cli(['run', '--timeout', '5s', '--rules', rules, '--', NODE, '-e', script]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ rules, code: 'ETIMEDOUT', phase: 'read', timeout: 150 });
  });

  it('takes --rules=… and the command without --', async () => {
    const result = await cli(['run', '--rules=* read=1s', NODE, '-e', 'console.log(process.env.TIMEOUTSOCKET_RULES)']);
    expect(result).toMatchObject({ code: 0, stdout: '* read=1s\n' });
  });

  it('a bad rule is a usage error before anything starts: exit 2, one line quoting the rule', async () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-rules-')), 'ran');
    const result = await cli(['run', '--rules', 'db:5432 read=60s; cache:99999 read=1s', '--', NODE, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`]);
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: usageError('--rules: rule 2 "cache:99999 read=1s": the port must be 1 to 65535, got 99999'),
    });
    expect(fs.existsSync(marker)).toBe(false);
    fs.rmSync(path.dirname(marker), { recursive: true, force: true });
  });
});

describe('timeoutsocket probe --explain', () => {
  it('prints the probe, then the rule, protocol and deadlines that apply', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const env = { TIMEOUTSOCKET_TIMEOUT: '2s', TIMEOUTSOCKET_RULES: `*:1 read=1s; 127.0.0.1:${silent.port} read=60s protocol=stream` };
    const result = await cli(['probe', `127.0.0.1:${silent.port}`, '--explain'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1:${silent.port}: connected in `));
    expect(lines.slice(1)).toEqual([
      `  rule      2 "127.0.0.1:${silent.port} read=60s protocol=stream"`,
      '  protocol  stream (rule)',
      '  connect   2s (default)',
      '  read      1m (rule)',
      '  write     2s (default)',
      '  keepalive off (default)',
      '  mode      enforce (default)',
      '',
    ]);
  });

  it('--rules replaces TIMEOUTSOCKET_RULES; with no rule matching, the protocol is chosen per connection', async () => {
    const port = await refusedPort();
    const result = await cli(['probe', `127.0.0.1:${port}`, '--explain', '--rules', 'db.internal read=1s'], { TIMEOUTSOCKET_RULES: '* read=9s' });
    expect(result.code).toBe(1); // the probe was refused; the explanation is printed all the same
    expect(result.stdout.split('\n').slice(1)).toEqual([
      '  rule      none matches',
      '  protocol  chosen per connection',
      '  connect   off (default)',
      '  read      off (default)',
      '  write     off (default)',
      '  keepalive off (default)',
      '  mode      enforce (default)',
      '',
    ]);
  });

  it('matches an IP or CIDR rule with the address a name connected to', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const rules = `127.0.0.0/8:${silent.port} connect=1s; localhost read=2s`;
    const result = await cli(['probe', `localhost:${silent.port}`, '--explain', '--json', '--rules', rules]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).explain).toEqual({
      rule: { destination: `127.0.0.0/8:${silent.port}`, connect: 1000, text: `127.0.0.0/8:${silent.port} connect=1s`, index: 1 },
      dependsOnAddress: false,
      protocol: null,
      portProtocol: null,
      timeouts: { connect: 1000, read: null, write: null, keepAlive: null },
      sources: { connect: 'rule', read: 'default', write: 'default' },
      mode: 'enforce',
      modeSource: 'default',
    });
  });

  it('names the mode: the rule\'s mode=, else TIMEOUTSOCKET_MODE', async () => {
    const port = await refusedPort();
    const env = { TIMEOUTSOCKET_MODE: 'report', TIMEOUTSOCKET_RULES: `*:1 mode=enforce; * read=1s` };
    const byRule = await cli(['probe', '127.0.0.1:1', '--explain'], env);
    expect(byRule.stdout).toContain('\n  mode      enforce (rule)\n');
    const byProcess = await cli(['probe', `127.0.0.1:${port}`, '--explain'], env);
    expect(byProcess.stdout).toContain('\n  mode      report (default)\n');
    const bad = await cli(['probe', `127.0.0.1:${port}`, '--explain'], { TIMEOUTSOCKET_MODE: 'dry-run' });
    expect(bad).toMatchObject({ code: 2, stderr: usageError("probe: TIMEOUTSOCKET_MODE='dry-run' is not a mode: use enforce (the default) or report") });
  });

  it('without --explain the JSON report has no explain field', async () => {
    const port = await refusedPort();
    const result = await cli(['probe', `127.0.0.1:${port}`, '--json'], { TIMEOUTSOCKET_RULES: '* read=1s' });
    expect(JSON.parse(result.stdout)).not.toHaveProperty('explain');
  });

  it.each([
    [['--explain', '--rules', '* read=never'], '--rules: rule 1 "* read=never": read=\'never\' is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m, or off'],
    [['--rules', '* read=1s'], 'probe: --rules goes with --explain'],
  ])('probe 127.0.0.1:1 %j: a usage error, exit 2, nothing probed', async (args, message) => {
    const result = await cli(['probe', '127.0.0.1:1', ...args]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: usageError(message) });
  });

  it('a bad TIMEOUTSOCKET_RULES is a usage error naming the variable', async () => {
    const result = await cli(['probe', '127.0.0.1:1', '--explain'], { TIMEOUTSOCKET_RULES: 'db protocol=grpc' });
    expect(result).toMatchObject({
      code: 2,
      stderr: usageError('TIMEOUTSOCKET_RULES: rule 1 "db protocol=grpc": protocol="grpc" is not one of auto, request-reply, server-first, stream, redis or http'),
    });
  });

  it('the help names both options', async () => {
    const result = await cli(['--help']);
    expect(result.stdout).toContain('--explain');
    expect(result.stdout).toContain('--rules RULES');
  });
});
