/**
 * The benchmark's server side: one unpatched Node process that serves every workload, so the
 * client process is the only thing that changes between the plain and the patched run.
 *
 * `node dist/bench/server.js` listens on four loopback ports and prints them as one JSON line
 * (`{"pid":P,"echo":N,"discard":N,"churn":N,"hold":N,"http":N}`), then serves until SIGTERM or its
 * stdin ends (the orchestrator went away).
 *
 * - echo: writes every byte back (ping-pong, the awaitable API, load for timeout accuracy).
 * - discard: reads and drops everything; at the client's FIN it answers `ok` and ends (bulk).
 * - churn: answers the first data with the same bytes and ends, so the server closes first
 *   and TIME_WAIT stays on its side rather than using up the client's ephemeral ports.
 * - hold: accepts, reads, never writes (idle sockets for memory, silent peer for timeouts).
 * - http: an `http.Server` (keep-alive) answering every request with a 2-byte `ok` body and its
 *   length (the http keep-alive and fetch workloads).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { LOOPBACK, listenOnLoopback } from '../fixtures/tracked-server';

/** Listen backlog: the memory workload connects hundreds at a time. */
const BACKLOG = 4096;

const BEHAVIOURS = {
  echo(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.pipe(socket);
  },
  discard(socket: net.Socket): void {
    socket.on('data', ignore);
    socket.once('end', () => socket.end('ok'));
  },
  churn(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.once('data', (chunk: Buffer) => socket.end(chunk));
    socket.resume();
  },
  hold(socket: net.Socket): void {
    socket.resume();
  },
} as const;

type Kind = keyof typeof BEHAVIOURS;

/** The ports the server listens on, by kind; what the orchestrator hands to clients. */
export type ServerPorts = Record<Kind | 'http', number> & { pid: number };

const OK = Buffer.from('ok');

/** The http port's one answer. */
function answer(request: http.IncomingMessage, response: http.ServerResponse): void {
  request.resume();
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': OK.length });
  response.end(OK);
}

function ignore(): void {}

async function main(): Promise<void> {
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const ports: Partial<ServerPorts> = { pid: process.pid };
  for (const kind of Object.keys(BEHAVIOURS) as Kind[]) {
    const server = net.createServer((socket) => {
      sockets.add(socket);
      // Clients are destroyed mid-stream at the end of each timed run: resets are normal here.
      socket.on('error', ignore);
      socket.once('close', () => sockets.delete(socket));
      BEHAVIOURS[kind](socket);
    });
    ports[kind] = await listenOnLoopback(server, BACKLOG);
    servers.push(server);
  }
  const web = http.createServer({ keepAliveTimeout: 60_000 }, answer);
  web.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', ignore);
    socket.once('close', () => sockets.delete(socket));
  });
  ports.http = await listenOnLoopback(web, BACKLOG);
  servers.push(web);
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  const stop = () => {
    for (const server of servers) server.close();
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop).resume();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench server: ${String(err)}\n`);
    process.exit(1);
  });
}

export { LOOPBACK };
