import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as path from 'node:path';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { setProtocol, type InternalSocket } from '../../lib/engine';
import { CHANNELS, getStats, type TimeoutMessage } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { PROTOCOLS } from '../../lib/protocols/index';
import { newCounters } from '../../lib/runtime';
import { runNode } from '../helpers';
import { cleanUp, connectTo, fate, resp, serve, T } from './support';

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(cleanUp);

describe('observability names the protocol', () => {
  it('the timeout message carries the protocol, and getStats() counts by protocol', async () => {
    setDefaultSocketTimeout(T);
    const fired: TimeoutMessage[] = [];
    const onTimeout = (message: unknown) => fired.push(message as TimeoutMessage);
    diagnosticsChannel.subscribe(CHANNELS.timeout, onTimeout);
    try {
      const before = getStats().protocols;
      const server = await serve(() => {});
      const socket = await connectTo(server.port);
      socket.write(resp('GET', 'k'));
      await fate(socket);
      expect(fired).toHaveLength(1);
      expect(fired[0]).toMatchObject({ phase: 'read', protocol: 'redis' });
      const after = getStats().protocols;
      expect(after.redis).toEqual({ sockets: before.redis.sockets + 1, timeouts: before.redis.timeouts + 1 });
      expect(Object.keys(after).sort()).toEqual(['http', 'redis', 'request-reply', 'server-first', 'stream']);
    } finally {
      diagnosticsChannel.unsubscribe(CHANNELS.timeout, onTimeout);
    }
  });

  it('keeps one counter per protocol in the shared record', () => {
    const fresh = newCounters();
    expect(fresh.protocolSockets).toHaveLength(PROTOCOLS.length);
    expect(fresh.protocolTimeouts).toHaveLength(PROTOCOLS.length);
    PROTOCOLS.forEach((protocol, index) => expect(protocol.id).toBe(index));
  });

  it('rejects a protocol that is not one, naming it', () => {
    const socket = new (require('node:net').Socket)() as InternalSocket;
    expect(() => setProtocol(socket, 'smtp' as never)).toThrow(RangeError);
    expect(() => setProtocol(socket, 'smtp' as never)).toThrow("got 'smtp'");
    expect(() => setProtocol(socket, 42 as never)).toThrow(new TypeError('protocol must be a string, got 42 (a number)'));
    socket.destroy();
  });

  it('every debug line names the protocol, and a line says what chose it', async () => {
    const dist = path.join(__dirname, '..', '..', 'dist', 'lib', 'index.js');
    const script = `
      const net = require('node:net');
      require(${JSON.stringify(dist)});
      const server = net.createServer(() => {}).listen(0, '127.0.0.1', () => {
        const socket = net.connect(server.address().port, '127.0.0.1', () => socket.write('*1\\r\\n$4\\r\\nPING\\r\\n'));
        socket.on('error', () => { server.close(); });
        socket.on('close', () => server.close());
      });`;
    const { stderr } = await runNode(['-e', script], { NODE_DEBUG: 'timeoutsocket', TIMEOUTSOCKET_TIMEOUT: String(T) }, process.cwd());
    const lines = stderr.split('\n').filter((line) => line.startsWith('TIMEOUTSOCKET'));
    expect(lines.some((line) => /protocol redis \(bytes\)/.test(line))).toBe(true);
    expect(lines.some((line) => /fired read .*protocol redis, no rule\)/.test(line))).toBe(true);
    for (const line of lines.filter((l) => /armed|cleared|fired/.test(l))) expect(line).toMatch(/protocol [a-z-]+, (no rule|rule \d+ .*)\)$/);
  });
});
