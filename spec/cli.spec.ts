import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAll, refusedPort, startBlackhole, startSilentServer, type Closable } from '../fixtures/servers';
import { libuvErrno } from '../lib/errno/system';
import { usageError } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli.js');
const NODE = process.execPath;
const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
const PARSE_DURATION_HINT = 'is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m';

/** What the CLI printed and how it ended. */
interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI process still running: its handle, its result, and a bounded wait for output. */
interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  result: Promise<CliResult>;
  /** Resolves once stdout contains `text`; rejects after `limitMs`. */
  printed(text: string, limitMs?: number): Promise<void>;
}

/** Starts `node <cli> ...args` with only PATH and `env`; kills it (by PID) if it outlives `limitMs`. */
function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, limitMs = 10_000, cli = CLI): RunningCli {
  const child = spawn(NODE, [cli, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    for (const check of waiters) check();
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const result = new Promise<CliResult>((resolve, reject) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const printed = (text: string, waitMs = 5000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!stdout.includes(text)) return;
        clearTimeout(limit);
        waiters.delete(check);
        resolve();
      };
      const limit = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${JSON.stringify(text)} on stdout within ${waitMs} ms (stdout: ${JSON.stringify(stdout)})`));
      }, waitMs);
      waiters.add(check);
      check();
    });
  return { child, result, printed };
}

const cli = (args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult> => startCli(args, env).result;

/** The usage error the CLI prints: what is wrong, then where help is. */
const fixtures: Closable[] = [];

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does) before jest`);
});
afterEach(async () => {
  await closeAll(fixtures.splice(0));
});

describe('timeoutsocket errno', () => {
  it('says a re-connect answered with 10022 was refused, and why', async () => {
    const result = await cli(['errno', '10022', '--op', 'connect', '--retry']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('10022 -> refused');
    expect(lines).toContain('  code      WSAEINVAL');
    expect(lines.at(-1)).toMatch(/^ {2}why {7}10022 on a re-connect means the earlier attempt was refused \(Winsock reports WSAEINVAL/);
  });

  it('prints one stable JSON object with --json', async () => {
    const result = await cli(['errno', '10022', '--op', 'connect', '--retry', '--platform', 'win32', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report).sort()).toEqual(['category', 'code', 'input', 'message', 'names', 'number', 'op', 'platform', 'retry', 'source']);
    expect(report).toMatchObject({
      input: '10022',
      op: 'connect',
      retry: true,
      category: 'refused',
      code: 'WSAEINVAL',
      names: ['WSAEINVAL'],
      number: 10022,
      platform: 'win32',
      source: 'winsock',
    });
  });

  it.each([
    [['-111', '--platform', 'linux'], { input: '-111', category: 'refused', code: 'ECONNREFUSED', number: -111, source: 'libuv', op: null, retry: false }],
    [['host', 'not', 'found'], { input: 'host not found', category: 'host-not-found', code: 'ENOTFOUND' }],
    [['10035', '--op', 'recv'], { category: 'would-block' }],
    [['10035', '--op', 'connect'], { category: 'in-progress' }],
    [['EWHATEVER'], { category: 'unknown', code: 'EWHATEVER', source: 'none', number: null }],
  ])('errno %j --json', async (args, expected) => {
    const result = await cli(['errno', ...args, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject(expected);
  });

  it.each([
    [[], 'errno: missing <code>: a name (ECONNREFUSED), a number (10061, -111) or a message'],
    [['0'], "errno: code 0 means success, not an error, got '0'"],
    [['ECONNREFUSED', '--op', 'dial'], '--op must be one of connect, accept, recv, send, lookup, close, got "dial"'],
    [['111', '--platform', 'beos'], '--platform must be one of linux, darwin, win32, got "beos"'],
  ])('errno %j: a usage error, exit 2', async (args, message) => {
    const result = await cli(['errno', ...args]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: usageError(message) });
  });

  it.each([
    [['ECONNREFUSED', '--bogus'], /^timeoutsocket: Unknown option '--bogus'/],
    [['ECONNREFUSED', '--op'], /^timeoutsocket: Option '--op <value>' argument missing/],
  ])('errno %j: util.parseArgs says what is wrong, exit 2', async (args, message) => {
    const result = await cli(['errno', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/\nRun 'timeoutsocket --help' for usage\.\n$/);
  });
});

describe('timeoutsocket probe', () => {
  it('connects to a listening server: exit 0', async () => {
    const server = await startSilentServer();
    fixtures.push(server);
    const result = await cli(['probe', `127.0.0.1:${server.port}`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:${server.port}: connected in \\d+(\\.\\d)? ms\\n$`));
  });

  it('reports a connect as one JSON object with --json', async () => {
    const server = await startSilentServer();
    fixtures.push(server);
    const result = await cli(['probe', `127.0.0.1:${server.port}`, '--timeout', '1s', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report).sort()).toEqual(
      ['address', 'category', 'code', 'elapsedMs', 'errno', 'host', 'message', 'ok', 'port', 'syscall', 'target', 'timeoutMs'],
    );
    expect(report).toMatchObject({
      target: `127.0.0.1:${server.port}`,
      host: '127.0.0.1',
      port: server.port,
      timeoutMs: 1000,
      ok: true,
      category: 'connected',
      address: '127.0.0.1',
      code: null,
      errno: null,
      syscall: null,
      message: null,
    });
    expect(report.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('accepts an IPv6 address in brackets', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    fixtures.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const { port } = server.address() as net.AddressInfo;
    const result = await cli(['probe', `[::1]:${port}`, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ target: `[::1]:${port}`, host: '::1', ok: true, address: '::1' });
  });

  it('a refused port: exit 1, category refused', async () => {
    const port = await refusedPort();
    const human = await cli(['probe', `127.0.0.1:${port}`]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}: refused after [\\d.]+ ms \\(ECONNREFUSED: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)\\n$`));
    const json = await cli(['probe', `127.0.0.1:${port}`, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      category: 'refused',
      code: 'ECONNREFUSED',
      errno: libuvErrno('ECONNREFUSED'),
      syscall: 'connect',
      address: '127.0.0.1',
      port,
    });
  });

  it('the blackhole with --timeout 200ms: exit 1, category timeout, at the deadline', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    const result = await cli(['probe', `${hole.host}:${hole.port}`, '--timeout', '200ms', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: false, category: 'timeout', code: 'ETIMEDOUT', syscall: 'connect', timeoutMs: 200 });
    expect(report.elapsedMs).toBeGreaterThanOrEqual(195);
    expect(report.elapsedMs).toBeLessThan(2000);
  });

  it('a .invalid host name: exit 1, category host-not-found', async () => {
    const result = await cli(['probe', 'no-such-host.invalid:80', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      category: 'host-not-found',
      code: 'ENOTFOUND',
      errno: -3008,
      syscall: 'getaddrinfo',
      host: 'no-such-host.invalid',
    });
  });

  it.each([
    [[], 'probe: missing <host:port>'],
    [['127.0.0.1'], 'probe: expected <host:port> such as 127.0.0.1:8080 or [::1]:8080, got "127.0.0.1"'],
    [['::1:80'], 'probe: expected <host:port> such as 127.0.0.1:8080 or [::1]:8080, got "::1:80" (put an IPv6 address in brackets: [::1]:8080)'],
    [['127.0.0.1:0'], 'probe: the port must be 1 to 65535, got 0'],
    [['127.0.0.1:70000'], 'probe: the port must be 1 to 65535, got 70000'],
    [['[localhost]:80'], 'probe: "localhost" in brackets is not an IPv6 address'],
    [['127.0.0.1:80', '127.0.0.1:81'], 'probe: expected one <host:port>, got 2'],
    [['127.0.0.1:80', '--timeout', '5x'], `--timeout='5x' ${PARSE_DURATION_HINT}`],
    [['127.0.0.1:80', '--timeout', '0'], `--timeout='0' ${PARSE_DURATION_HINT}`],
  ])('probe %j: a usage error, exit 2', async (args, message) => {
    const result = await cli(['probe', ...args]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: usageError(message) });
  });
});

describe('timeoutsocket run', () => {
  /** A child that connects to argv[1] and prints its error code and how long it took. */
  const CONNECT = `
    const net = require('net');
    const started = Date.now();
    const socket = net.connect(Number(process.argv[1]), '127.0.0.1');
    socket.on('connect', () => { console.log(JSON.stringify({ connected: true })); socket.destroy(); });
    socket.on('error', (err) => console.log(JSON.stringify({ code: err.code, syscall: err.syscall, elapsed: Date.now() - started })));
  `;

  it('preloads the shim: a connect into the blackhole fails with ETIMEDOUT at --connect-timeout', async () => {
    const hole = await startBlackhole();
    fixtures.push(hole);
    const result = await cli(['run', '--connect-timeout', '200ms', '--', NODE, '-e', CONNECT, String(hole.port)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect' });
    expect(report.elapsed).toBeGreaterThanOrEqual(190);
    expect(report.elapsed).toBeLessThan(2000);
  });

  it('sets TIMEOUTSOCKET_* from the options, a phase overriding --timeout', async () => {
    const script = `console.log(JSON.stringify(new (require('net').Socket)().getSocketTimeout()))`;
    const result = await cli(['run', '--timeout', '1.5s', '--read-timeout=300', '--', NODE, '-e', script]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ connect: 1500, read: 300, write: 1500, keepAlive: null });
  });

  it('sets TIMEOUTSOCKET_KEEPALIVE from --keepalive, validated like the timeouts', async () => {
    const script = `console.log(JSON.stringify(new (require('net').Socket)().getSocketTimeout()))`;
    const result = await cli(['run', '--keepalive', '30s', '--', NODE, '-e', script]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ connect: null, read: null, write: null, keepAlive: 30000 });
    const bad = await cli(['run', '--keepalive', 'soon', '--', NODE, '-e', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--keepalive');
  });

  it('passes a delay, probe interval and count from --keepalive, validated first', async () => {
    const script = 'console.log(process.env.TIMEOUTSOCKET_KEEPALIVE)';
    // The child judges whether its Node line takes the interval and count; the env is what it reads.
    const result = await cli(['run', '--keepalive', '30s,5s,4', '--', NODE, '-e', script], { TIMEOUTSOCKET_KEEPALIVE: '' });
    if (Number(process.versions.node.split('.')[0]) >= 24) {
      expect(result).toMatchObject({ code: 0, stdout: '30000,5000,4\n' });
    } else {
      expect(result.code).toBe(9);
      expect(result.stderr).toContain(`Node ${process.versions.node}`);
    }
    const bad = await cli(['run', '--keepalive', '30s,5s,0', '--', NODE, '-e', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--keepalive="30s,5s,0": the probe count "0"');
  });

  it('keeps NODE_OPTIONS and appends the preload', async () => {
    const script = 'console.log(process.env.NODE_OPTIONS)';
    const result = await cli(['run', '--', NODE, '-e', script], { NODE_OPTIONS: '--no-warnings' });
    expect(result.stdout).toBe(`--no-warnings --require=${path.join(ROOT, 'dist', 'lib', 'register.js')}\n`);
  });

  it('takes the command without -- too', async () => {
    const result = await cli(['run', '--timeout', '1s', NODE, '-e', 'console.log(process.env.TIMEOUTSOCKET_TIMEOUT)']);
    expect(result).toMatchObject({ code: 0, stdout: '1000\n' });
  });

  it('quotes the preload path when it contains a space', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'timeout socket '));
    try {
      fs.cpSync(path.join(ROOT, 'dist', 'lib'), path.join(home, 'dist', 'lib'), { recursive: true });
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(home, 'package.json'));
      const script = `console.log(process.env.NODE_OPTIONS); console.log(typeof require('net').Socket.prototype.setSocketTimeout)`;
      const result = await startCli(['run', '--', NODE, '-e', script], {}, 10_000, path.join(home, 'dist', 'lib', 'cli.js')).result;
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(`--require="${path.join(home, 'dist', 'lib', 'register.js')}"\nfunction\n`);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it.each([
    ['its exit code', 'process.exit(7)', 7],
    ['128+15 when SIGTERM killed it', 'process.kill(process.pid, "SIGTERM")', 143],
    ['128+9 when SIGKILL killed it', 'process.kill(process.pid, "SIGKILL")', 137],
  ])('passes on %s', async (_label, script, status) => {
    const result = await cli(['run', '--', NODE, '-e', script]);
    expect(result.code).toBe(status);
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('passes %s on to the command and exits with its status', async (signal) => {
    const script = `
      process.on('${signal}', () => { console.log('got ${signal}'); process.exit(42); });
      console.log('ready');
      setTimeout(() => {}, 5000);
    `;
    const running = startCli(['run', '--', NODE, '-e', script]);
    await running.printed('ready');
    running.child.kill(signal);
    const result = await running.result;
    expect(result.stdout).toBe(`ready\ngot ${signal}\n`);
    expect(result.code).toBe(42);
  });

  it('exits 127 when the command is not found', async () => {
    const result = await cli(['run', '--', 'timeoutsocket-no-such-command']);
    expect(result.code).toBe(127);
    expect(result.stderr).toMatch(/^timeoutsocket: cannot run "timeoutsocket-no-such-command": /);
  });

  it.each([
    [[], 'run: missing the command to run: timeoutsocket run [timeouts] -- <command> [args...]'],
    [['--timeout', '2s'], 'run: missing the command to run: timeoutsocket run [timeouts] -- <command> [args...]'],
    [['--connect-timeout=-1s', '--', 'node'], `--connect-timeout='-1s' ${PARSE_DURATION_HINT}`],
    [['--write-timeout', 'soon', '--', 'node'], `--write-timeout='soon' ${PARSE_DURATION_HINT}`],
  ])('run %j: a usage error, exit 2', async (args, message) => {
    const result = await cli(['run', ...args]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: usageError(message) });
  });

  it.each([
    [['--bogus', '--', NODE, '-e', ''], /^timeoutsocket: Unknown option '--bogus'/],
    [['--connect-timeout', '-1s', '--', NODE, '-e', ''], /^timeoutsocket: Option '--connect-timeout' argument is ambiguous/],
  ])('run %j: util.parseArgs says what is wrong, exit 2', async (args, message) => {
    const result = await cli(['run', ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('help and version', () => {
  it.each([[['--help']], [['-h']], [['help']], [['errno', '--help']], [['probe', '-h']], [['run', '--help']]])('%j prints the usage, exit 0', async (args) => {
    const result = await cli(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: timeoutsocket <command> \[options\]\n/);
    for (const verb of ['errno <code>', 'probe <host:port>', 'run [timeouts] [--] <command>']) expect(result.stdout).toContain(verb);
  });

  it.each([['--version'], ['-v']])('%s prints the version from package.json', async (flag) => {
    const result = await cli([flag]);
    expect(result).toMatchObject({ code: 0, stdout: `${MANIFEST.version}\n` });
  });

  it('no command: exit 2', async () => {
    expect(await cli([])).toMatchObject({ code: 2, stderr: usageError('missing a command: errno, probe, run or report') });
  });

  it('an unknown command: exit 2', async () => {
    expect(await cli(['connect'])).toMatchObject({ code: 2, stderr: usageError('unknown command "connect": expected errno, probe, run or report') });
  });
});
