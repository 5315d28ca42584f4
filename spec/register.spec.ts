import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runNode } from './helpers';
import { quote } from '../lib/quote';

const ROOT = path.resolve(__dirname, '..');

// The child reports the default it sees and what happens to a request a silent server never answers.
const PROBE = `
  const net = require('net');
  const [port] = process.argv.slice(-1);
  const started = Date.now();
  const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('hello'));
  socket.on('error', (err) => {
    console.log(JSON.stringify({
      patched: typeof net.Socket.prototype.setSocketTimeout === 'function',
      timeouts: socket.getSocketTimeout(),
      code: err.code, syscall: err.syscall, elapsed: Date.now() - started,
    }));
  });
`;

describe('the register entry', () => {
  let app: string;
  let silent: net.Server;
  let port: number;

  beforeAll(async () => {
    // An application directory where `timeoutsocket` resolves by name, as after `npm install`.
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-app-'));
    fs.mkdirSync(path.join(app, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'timeoutsocket'), 'dir');
    fs.writeFileSync(path.join(app, 'probe.js'), PROBE);
    silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => silent.close(resolve));
    fs.rmSync(app, { recursive: true, force: true });
  });

  const env = { TIMEOUTSOCKET_READ_TIMEOUT: '150ms' };
  const expected = { patched: true, timeouts: { connect: null, read: 150, write: null }, code: 'ETIMEDOUT', syscall: 'read' };

  it.each([
    ['node -r timeoutsocket/register', ['-r', 'timeoutsocket/register'], {}],
    ['node --import timeoutsocket/register', ['--import', 'timeoutsocket/register'], {}],
    ['NODE_OPTIONS=--require=timeoutsocket/register', [], { NODE_OPTIONS: '--require=timeoutsocket/register' }],
    ['NODE_OPTIONS=--import=timeoutsocket/register', [], { NODE_OPTIONS: '--import=timeoutsocket/register' }],
  ])('%s installs the shim and applies the environment', async (_, flags, extraEnv) => {
    const result = await runNode([...flags, 'probe.js', String(port)], { ...env, ...extraEnv }, app);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject(expected);
    expect(report.elapsed).toBeGreaterThanOrEqual(140);
    expect(report.elapsed).toBeLessThan(2000);
  });

  it('reaches child processes through NODE_OPTIONS', async () => {
    const parent = `
      const { execFileSync } = require('child_process');
      process.stdout.write(execFileSync(process.execPath, ['probe.js', process.argv[1]], { encoding: 'utf8' }));
    `;
    const result = await runNode(['-e', parent, String(port)], { ...env, NODE_OPTIONS: '--require=timeoutsocket/register' }, app);
    expect(JSON.parse(result.stdout)).toMatchObject(expected);
  });

  it.each([
    ['TIMEOUTSOCKET_TIMEOUT', 'forever'],
    ['TIMEOUTSOCKET_WRITE_TIMEOUT', '-2s'],
  ])('stops the process before the application runs when %s=%s', async (name, value) => {
    const result = await runNode(['-r', 'timeoutsocket/register', '-e', 'console.log("app ran")'], { [name]: value }, app);
    expect(result.code).toBe(9); // Node's own status for an invalid argument
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `timeoutsocket: ${name}=${quote(value)} is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m`,
    ]);
  });

  it('makes importing the main entry throw a RangeError naming the variable', async () => {
    const script = `
      try { require('timeoutsocket'); console.log('no error'); }
      catch (err) { console.log(err.constructor.name + ': ' + err.message); }
    `;
    const result = await runNode(['-e', script], { TIMEOUTSOCKET_CONNECT_TIMEOUT: '5x' }, app);
    expect(result.stdout.trim()).toBe(
      "RangeError: TIMEOUTSOCKET_CONNECT_TIMEOUT='5x' is not a valid timeout: use a duration > 0 such as 400, 400ms, 2s, 1.5s or 1m",
    );
  });

  it('leaves a listen error to crash a server with no error handler, as in plain Node', async () => {
    const script = `
      const net = require('net');
      const first = net.createServer().listen(0, '127.0.0.1', () => {
        net.createServer().listen(first.address().port, '127.0.0.1'); // EADDRINUSE, no 'error' handler
        setTimeout(() => { console.log('still running'); process.exit(0); }, 1000);
      });
    `;
    const result = await runNode(['-r', 'timeoutsocket/register', '-e', script], {}, app);
    expect(result.stdout).not.toContain('still running');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('EADDRINUSE');
  });

  it('works as an ES module import with named exports', async () => {
    const script = `import { install, isInstalled, SocketTimeoutError } from 'timeoutsocket';
      console.log(JSON.stringify([typeof install, isInstalled(), typeof SocketTimeoutError]));`;
    const result = await runNode(['--input-type=module', '-e', script], {}, app);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(['function', true, 'function']);
  });
});
