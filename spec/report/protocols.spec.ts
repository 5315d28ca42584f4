/**
 * Report mode under the protocols: the deadlines a protocol gives (an http body bounded by
 * inactivity, a server-first greeting) are reported, not enforced, and their answers late.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { closeAll, type Closable } from '../../fixtures/servers';
import { setDeadlineMode } from '../../lib/mode';
import { CHANNELS, getStats, type LateMessage, type TimeoutMessage } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { setSocketTimeoutRules } from '../../lib/rules/index';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { once } from '../helpers';
import { ChannelLog } from './support';

const T = 150;
const fixtures: Closable[] = [];
let timeouts: ChannelLog<TimeoutMessage>;
let lates: ChannelLog<LateMessage>;

/** A server on loopback, its connections destroyed at close. */
async function serve(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fixtures.push({
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  });
  return (server.address() as net.AddressInfo).port;
}

beforeEach(() => {
  install();
  setDeadlineMode('report');
  setDefaultSocketTimeout(T);
  timeouts = new ChannelLog(CHANNELS.timeout);
  lates = new ChannelLog(CHANNELS.late);
});
afterEach(async () => {
  timeouts.close();
  lates.close();
  setDefaultSocketTimeout(null);
  setSocketTimeoutRules(null);
  setDeadlineMode('enforce');
  await closeAll(fixtures.splice(0));
  uninstall();
});

describe('report mode under the protocols', () => {
  it('http: a body that stalls halfway is reported (protocol http), and late when the rest comes; the response completes', async () => {
    let finish: () => void = () => {};
    const port = await serve(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'content-length': '20' });
        res.write('0123456789');
        finish = () => res.end('abcdefghij');
      }),
    );
    const agent = new http.Agent({ keepAlive: false });
    const body = new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(text));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    expect(await timeouts.next()).toMatchObject({ phase: 'read', enforced: false, protocol: 'http' });
    finish();
    expect(await body).toBe('0123456789abcdefghij');
    const late = await lates.next();
    expect(late).toMatchObject({ phase: 'read', protocol: 'http' });
    expect(late.elapsed).toBeGreaterThanOrEqual(T - 1);
    expect(getStats()).toMatchObject({ reported: 1, late: 1, timeouts: { read: 0 } });
    agent.destroy();
  });

  it('server-first: a greeting that comes late is reported at T, then late', async () => {
    let greet: () => void = () => {};
    const port = await serve(net.createServer((socket) => (greet = () => socket.write('220 ready\r\n'))));
    setSocketTimeoutRules(`127.0.0.1:${port} protocol=server-first`);
    const socket = net.connect(port, '127.0.0.1');
    fixtures.push({ close: async () => void socket.destroy() });
    const greeting = once<Buffer>(socket, 'data');
    expect(await timeouts.next()).toMatchObject({ phase: 'read', enforced: false, protocol: 'server-first' });
    greet();
    expect(String(await greeting)).toBe('220 ready\r\n');
    expect(await lates.next()).toMatchObject({ phase: 'read', protocol: 'server-first', rule: { index: 1 } });
    expect(socket.destroyed).toBe(false);
  });
});
