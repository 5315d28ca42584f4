/**
 * The per-process collector: reported deadlines become records when their answer comes late or
 * never, and still waiting ones when the process ends.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAll, startSilentServer, startSlowAnswerServer, type Closable } from '../../fixtures/servers';
import { setDeadlineMode } from '../../lib/mode';
import { CHANNELS, type LateMessage, type NeverMessage, type TimeoutMessage } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { startCollecting, type Collector } from '../../lib/report/collect';
import { parseRecords } from '../../lib/report/records';
import { setSocketTimeoutRules } from '../../lib/rules/index';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { once } from '../helpers';
import { ChannelLog } from './support';

const T = 100;
const fixtures: Closable[] = [];
const sockets: net.Socket[] = [];
let dir: string;
let file: string;
let collector: Collector | undefined;
let timeouts: ChannelLog<TimeoutMessage>;
let lates: ChannelLog<LateMessage>;
let nevers: ChannelLog<NeverMessage>;

beforeEach(() => {
  install();
  setDeadlineMode('report');
  setDefaultSocketTimeout({ read: T });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-collect-'));
  file = path.join(dir, 'report.jsonl');
  collector = startCollecting(file);
  timeouts = new ChannelLog(CHANNELS.timeout);
  lates = new ChannelLog(CHANNELS.late);
  nevers = new ChannelLog(CHANNELS.never);
});
afterEach(async () => {
  collector?.stop();
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const log of [timeouts, lates, nevers]) log.close();
  setDefaultSocketTimeout(null);
  setSocketTimeoutRules(null);
  setDeadlineMode('enforce');
  await closeAll(fixtures.splice(0));
  uninstall();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function request(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write('request\n');
  return socket;
}

const records = () => parseRecords(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

describe('the collector', () => {
  it('runs once per process', () => {
    expect(collector).toBeDefined();
    expect(startCollecting(path.join(dir, 'other.jsonl'))).toBeUndefined();
  });

  it('writes nothing until it flushes, then a late and a never record, each once', async () => {
    const [slow, silent] = await Promise.all([startSlowAnswerServer({ delayMs: 2 * T }), startSilentServer()]);
    fixtures.push(slow, silent);
    setSocketTimeoutRules(`127.0.0.1:${silent.port} read=${T}ms`);
    await request(slow.port);
    const hung = await request(silent.port);
    await lates.next();
    hung.destroy();
    await nevers.next();
    expect(records().deadlines).toHaveLength(0);
    collector!.flush();
    collector!.flush(); // nothing twice
    const { deadlines, processes } = records();
    expect(processes).toHaveLength(0);
    expect(deadlines).toEqual([
      expect.objectContaining({ kind: 'late', phase: 'read', timeout: T, port: slow.port, host: '127.0.0.1', pid: process.pid, rule: null }),
      expect.objectContaining({
        kind: 'never',
        phase: 'read',
        port: silent.port,
        ended: 'close',
        error: null,
        wroteAfter: 0,
        rule: { index: 1, text: `127.0.0.1:${silent.port} read=${T}ms` },
      }),
    ]);
    expect(deadlines[0].elapsed).toBeGreaterThanOrEqual(2 * T - 1);
  });

  it('at the end, records what still waits as never answered (ended: exit), then the process', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    const socket = await request(silent.port);
    await timeouts.next();
    socket.write('more'); // written after the deadline ran out
    collector!.flush('exit');
    const { deadlines, processes } = records();
    expect(deadlines).toEqual([expect.objectContaining({ kind: 'never', ended: 'exit', wroteAfter: 4, port: silent.port })]);
    expect(processes).toEqual([expect.objectContaining({ kind: 'process', pid: process.pid, ended: 'exit', rules: null })]);
    expect(socket.destroyed).toBe(false);
  });

  it('ignores enforced timeouts: they are not the report\'s', async () => {
    const silent = await startSilentServer();
    fixtures.push(silent);
    setDeadlineMode('enforce');
    const socket = await request(silent.port);
    await once(socket, 'close');
    expect(timeouts.messages).toEqual([expect.objectContaining({ enforced: true })]);
    collector!.flush('exit');
    expect(records().deadlines).toHaveLength(0);
  });
});
