/**
 * Node's built-in proxy support from the environment (`NODE_USE_ENV_PROXY=1` with `HTTP_PROXY`)
 * on every supported line: 22, 24 and 26 route `http` requests and `fetch` through the proxy
 * (fetch through a CONNECT tunnel on 22 and 24, as an absolute-form request on 26); 20 ignores
 * the variables and connects straight to the target.
 *
 * Through a proxy, the socket is the connection to the proxy: the deadlines time that hop, and
 * a timeout names the proxy's address and port, not the target's. Loopback only: the proxy is
 * a server here that reads the request and never answers, the target a closed port.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { once, runNode } from '../helpers';

const ROOT = path.resolve(__dirname, '../..');
const MAJOR = Number(process.versions.node.split('.')[0]);
/** Whether this line reads the proxy from the environment (22 and later). */
const USES_ENV_PROXY = MAJOR >= 22;

/** The child: one request, prints the error's fields. */
const CLIENT = `
  const show = (e) => console.log(JSON.stringify({ name: e.name, code: e.code, phase: e.phase, address: e.address, port: e.port }));
  const url = 'http://127.0.0.1:' + process.argv[2] + '/';
  if (process.argv[1] === 'http') require('http').get(url, () => console.log('answered')).on('error', show);
  else fetch(url).then(() => console.log('answered'), (e) => show(e.cause ?? e));
`;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  servers.splice(servers.indexOf(server), 1);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe(`proxy from the environment on Node ${process.versions.node}`, () => {
  it.each(['http', 'fetch'])(
    USES_ENV_PROXY ? '%s: the reply deadline times the hop to the proxy, and the error names the proxy' : '%s: Node 20 ignores NODE_USE_ENV_PROXY and goes straight to the target',
    async (client) => {
      const requests: string[] = [];
      const proxy = net.createServer((socket) => {
        sockets.push(socket);
        socket.on('data', (chunk) => requests.push(chunk.toString('latin1').split('\r\n')[0]));
      });
      const proxyPort = await listen(proxy);
      const seen = USES_ENV_PROXY ? once(proxy, 'connection', 5000) : undefined;
      const target = await closedPort();
      const result = await runNode(
        ['-r', './dist/lib/register.js', '-e', CLIENT, client, String(target)],
        { NODE_USE_ENV_PROXY: '1', HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, TIMEOUTSOCKET_READ_TIMEOUT: '300ms', TIMEOUTSOCKET_CONNECT_TIMEOUT: '5s' },
        ROOT,
      );
      const printed = JSON.parse(result.stdout.trim());
      if (USES_ENV_PROXY) {
        await seen;
        expect(printed).toEqual({ name: 'SocketTimeoutError', code: 'ETIMEDOUT', phase: 'read', address: '127.0.0.1', port: proxyPort });
        expect(requests.some((line) => line.includes(`127.0.0.1:${target}`))).toBe(true);
      } else {
        expect(printed).toMatchObject({ code: 'ECONNREFUSED', address: '127.0.0.1', port: target });
        expect(requests).toEqual([]);
      }
    },
  );
});
