import * as http from 'node:http';
import type * as net from 'node:net';
import { setDefaultSocketTimeout } from '../../lib/runtime';
import { protocolOfSocket, setProtocol, type InternalSocket } from '../../lib/engine';
import { getStats } from '../../lib/observe';
import { install, uninstall } from '../../lib/patch';
import { protocolOfFirstBytes } from '../../lib/protocols/sniff';
import { PROTOCOL_IDS } from '../../lib/protocols/index';
import { cleanUp, connectTo, firstData, keep, serve, serveOnPort, staysOpen, T, track } from './support';

beforeAll(() => install());
afterAll(() => uninstall());
afterEach(cleanUp);
beforeEach(() => setDefaultSocketTimeout(T));

/** An MQTT 3.1.1 CONNECT packet (client id "c", clean session, keep-alive 60 s). */
const MQTT_CONNECT = Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 1, 0x63]);
/** An MQTT QoS 0 PUBLISH of "x" to topic "t": the broker sends nothing back. */
const MQTT_PUBLISH = Buffer.from([0x30, 4, 0, 1, 0x74, 0x78]);
const CONNACK = Buffer.from([0x20, 2, 0, 0]);

/** Writes `chunk` every 1.5 T until the returned stop is called. */
function every(socket: net.Socket, chunk: Buffer | string): () => void {
  const timer = setInterval(() => socket.write(chunk), 1.5 * T);
  return () => clearInterval(timer);
}

describe('first bytes that make a connection a stream', () => {
  it.each([
    ['an MQTT 3.1.1 CONNECT', MQTT_CONNECT, PROTOCOL_IDS.stream],
    ['an MQTT 3.1 CONNECT (MQIsdp)', Buffer.from([0x10, 12, 0, 6, ...Buffer.from('MQIsdp'), 3, 2, 0, 60]), PROTOCOL_IDS.stream],
    ['the HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), PROTOCOL_IDS.stream],
    ['RESP', Buffer.from('*1\r\n$4\r\nPING\r\n'), PROTOCOL_IDS.redis],
    ['an HTTP/1 request line', Buffer.from('GET / HTTP/1.1\r\n'), undefined],
    ['a byte 0x10 that is no MQTT CONNECT', Buffer.from([0x10, 2, 0, 9, 1, 2]), undefined],
    ['nothing', Buffer.alloc(0), undefined],
  ])('%s', (_what, bytes, expected) => {
    expect(protocolOfFirstBytes(bytes)).toBe(expected);
  });
});

describe('stream: no reply deadline, the others still apply', () => {
  it('an MQTT QoS 0 publisher, a publish every 1.5 T and no answer, stays open for 3 T', async () => {
    const broker = await serve((socket) => socket.once('data', () => socket.write(CONNACK)));
    const socket = await connectTo(broker.port);
    const connack = firstData(socket);
    const armed = getStats().armed;
    socket.write(MQTT_CONNECT);
    expect(protocolOfSocket(socket as InternalSocket)).toBe('stream');
    expect(getStats().armed).toBe(armed); // no reply window, and a reply deadline was in force
    expect(socket.getSocketTimeout().read).toBe(T);
    await connack;
    const stop = every(socket, MQTT_PUBLISH);
    try {
      await staysOpen(socket, 3 * T);
    } finally {
      stop();
    }
  });

  it('a log shipper (a line every 1.5 T to a sink that never answers) stays open for 3 T, by a rule', async () => {
    const sink = await serve((socket) => socket.resume());
    const socket = await connectTo(sink.port, (s) => setProtocol(s as InternalSocket, 'stream'));
    socket.write('<13>1 - host app - - - started\n');
    const stop = every(socket, '<13>1 - host app - - - tick\n');
    try {
      await staysOpen(socket, 3 * T);
    } finally {
      stop();
    }
    expect(getStats().timeouts.read).toBe(0);
  });

  it('a Graphite feed on port 2003 is a stream by the port table', async () => {
    const sink = await serveOnPort(2003, (socket) => socket.resume());
    if (sink === undefined) {
      console.warn('port 2003 is taken on this machine: its port-table row is not exercised here');
      return;
    }
    const socket = await connectTo(2003);
    socket.write('app.requests 1 1700000000\n');
    expect(protocolOfSocket(socket as InternalSocket)).toBe('stream');
    const stop = every(socket, 'app.requests 2 1700000001\n');
    try {
      await staysOpen(socket, 3 * T);
    } finally {
      stop();
    }
  });

  it('a WebSocket-like client after an http upgrade (101) sends frames every 1.5 T, expects nothing, stays open for 3 T', async () => {
    const server = http.createServer((_req, res) => res.end());
    const serverSockets = new Set<net.Socket>();
    server.on('upgrade', (_req, socket: net.Socket) => {
      serverSockets.add(socket);
      socket.on('error', () => {});
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.resume(); // reads the frames, never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    keep({
      close: () =>
        new Promise<void>((done) => {
          for (const socket of serverSockets) socket.destroy();
          server.closeAllConnections();
          server.close(() => done());
        }),
    });
    const port = (server.address() as net.AddressInfo).port;
    const upgraded = await new Promise<net.Socket>((resolve, reject) => {
      const request = http.request({ port, host: '127.0.0.1', headers: { Connection: 'Upgrade', Upgrade: 'websocket' } });
      request.on('upgrade', (_res, socket: net.Socket) => resolve(track(socket)));
      request.on('error', reject);
      request.end();
    });
    upgraded.on('error', () => {});
    const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]); // a masked text frame "hi"
    upgraded.write(frame);
    const stop = every(upgraded, frame);
    try {
      await staysOpen(upgraded, 3 * T);
    } finally {
      stop();
    }
    expect(protocolOfSocket(upgraded as InternalSocket)).toBe('stream');
  });
});
