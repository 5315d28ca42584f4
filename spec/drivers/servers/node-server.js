'use strict';
// Small servers for the driver suite, each in its own process so the test can SIGSTOP it.
// Listens on 127.0.0.1, on port 0 unless given one, and prints "listening <port>" (or
// "busy <port>" and exits 3 when that port is taken). Usage: node node-server.js KIND [T_MS] [PORT]
//   http     Node's http server: GET answers "ok"; POST reads the whole body, answers its length.
//   line     a line protocol: "PING" -> "PONG", "ECHO <text>" -> "<text>", "SET <value>" -> "OK <length>".
//   backlog  a listener with backlog 1 that never accepts (the test SIGSTOPs it and fills its
//            accept queue, so further SYNs are dropped).
//   rows     Node's http server for the healthy and hang rows, by path, each with ?tag=<run>:
//            /poll answers after 1.5 T; /sse sends an event every 1.5 T; /upload reads the whole
//            body and answers its length; /drip sends a Content-Length body 1 KiB every T / 2;
//            /halfway declares 2048 bytes, sends 1024 and then nothing.
//   ws       a `ws` WebSocket server: /send?tag= logs each message and never answers;
//            /ping?tag= pings every 1.5 T and logs each pong.
//   sink     a TCP sink that logs each line it gets and never answers (a log collector).
//   h2       a node:http2 (h2c) server: response headers at once, the body after 2 T.
//   silent   accepts connections and never sends a byte (an SMTP server that never greets).
// What a server receives is logged on stdout as "got <tag> <what>", one line each, for the test
// to check that the server saw everything that was sent.
const http = require('node:http');
const http2 = require('node:http2');
const net = require('node:net');

const kind = process.argv[2];
const T = Number(process.argv[3] || 1000);
const fixedPort = Number(process.argv[4] || 0);
const held = new Set();
const announce = (server) => () => process.stdout.write(`listening ${server.address().port}\n`);
const got = (tag, what) => process.stdout.write(`got ${tag} ${what}\n`);
const tagOf = (url) => new URL(url, 'http://x').searchParams.get('tag') || '-';

function listen(server, options = {}) {
  server.once('error', (err) => {
    if (err.code === 'EADDRINUSE') {
      process.stdout.write(`busy ${fixedPort}\n`);
      process.exit(3);
    }
    throw err;
  });
  server.listen({ port: fixedPort, host: '127.0.0.1', ...options }, announce(server));
}

/** Timers a connection owns end with it. */
function every(ms, socket, fn) {
  const timer = setInterval(fn, ms);
  socket.once('close', () => clearInterval(timer));
}

function later(ms, socket, fn) {
  const timer = setTimeout(fn, ms);
  socket.once('close', () => clearTimeout(timer));
}

function rows(req, res) {
  const tag = tagOf(req.url);
  const path = new URL(req.url, 'http://x').pathname;
  let length = 0;
  req.on('data', (chunk) => { length += chunk.length; });
  req.on('end', () => {
    got(tag, `${req.method} ${path} ${length}`);
    if (path === '/poll') {
      later(1.5 * T, res.socket, () => res.end('news'));
    } else if (path === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      let n = 0;
      every(1.5 * T, res.socket, () => {
        n += 1;
        res.write(`data: ${n}\n\n`);
        got(tag, `sent event ${n}`);
      });
    } else if (path === '/upload') {
      res.end(String(length));
    } else if (path === '/drip') {
      const pieces = 8;
      res.writeHead(200, { 'content-length': String(pieces * 1024) });
      let n = 0;
      res.write(Buffer.alloc(1024, 120));
      every(T / 2, res.socket, () => {
        n += 1;
        if (n < pieces) res.write(Buffer.alloc(1024, 120));
        if (n === pieces - 1) res.end();
      });
    } else if (path === '/halfway') {
      res.writeHead(200, { 'content-length': '2048' });
      res.write(Buffer.alloc(1024, 120));
      // ...and the rest never comes: the response stays open, its socket held.
    } else {
      res.end('ok');
    }
  });
}

if (kind === 'http') {
  const server = http.createServer((req, res) => {
    let length = 0;
    req.on('data', (chunk) => { length += chunk.length; });
    req.on('end', () => res.end(req.method === 'POST' ? String(length) : 'ok'));
  });
  listen(server);
} else if (kind === 'rows') {
  const server = http.createServer(rows);
  server.keepAliveTimeout = 60000;
  listen(server);
} else if (kind === 'line') {
  const server = net.createServer((socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (text) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (line === 'PING') socket.write('PONG\n');
        else if (line.startsWith('ECHO ')) socket.write(`${line.slice(5)}\n`);
        else if (line.startsWith('SET ')) socket.write(`OK ${line.length - 4}\n`);
        else socket.write('ERR unknown command\n');
      }
    });
    socket.on('error', () => {});
  });
  listen(server);
} else if (kind === 'sink') {
  const server = net.createServer((socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (text) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const [tag, ...rest] = line.split(' ');
        got(tag, `line ${rest.join(' ')}`);
      }
    });
    socket.on('error', () => {});
  });
  listen(server);
} else if (kind === 'ws') {
  const { WebSocketServer } = require('ws');
  const server = http.createServer((req, res) => res.end('ws only'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    const tag = tagOf(req.url);
    const path = new URL(req.url, 'http://x').pathname;
    ws.on('error', () => {});
    ws.on('message', (data) => got(tag, `message ${data}`));
    if (path === '/ping') {
      ws.on('pong', () => got(tag, 'pong'));
      every(1.5 * T, req.socket, () => ws.ping());
    }
  });
  listen(server);
} else if (kind === 'h2') {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    got(tagOf(headers[':path']), 'request');
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    const timer = setTimeout(() => stream.end('done'), 2 * T);
    stream.once('close', () => clearTimeout(timer));
  });
  listen(server);
} else if (kind === 'silent') {
  const server = net.createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => held.delete(socket));
  });
  listen(server);
} else if (kind === 'backlog') {
  const server = net.createServer(() => {});
  listen(server, { backlog: 1 });
} else {
  process.stderr.write(`unknown server kind ${kind}\n`);
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
