'use strict';
// Small servers for the driver suite, each in its own process so the test can SIGSTOP it.
// Listens on 127.0.0.1, port 0, and prints "listening <port>". Usage: node node-server.js KIND
//   http     Node's http server: GET answers "ok"; POST reads the whole body, answers its length.
//   line     a line protocol: "PING" -> "PONG", "ECHO <text>" -> "<text>", "SET <value>" -> "OK <length>".
//   backlog  a listener with backlog 1 that never accepts (the test SIGSTOPs it and fills its
//            accept queue, so further SYNs are dropped).
const http = require('node:http');
const net = require('node:net');

const kind = process.argv[2];
const announce = (server) => () => process.stdout.write(`listening ${server.address().port}\n`);

if (kind === 'http') {
  const server = http.createServer((req, res) => {
    let length = 0;
    req.on('data', (chunk) => { length += chunk.length; });
    req.on('end', () => res.end(req.method === 'POST' ? String(length) : 'ok'));
  });
  server.listen(0, '127.0.0.1', announce(server));
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
  server.listen(0, '127.0.0.1', announce(server));
} else if (kind === 'backlog') {
  const server = net.createServer(() => {});
  server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, announce(server));
} else {
  process.stderr.write(`unknown server kind ${kind}\n`);
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
