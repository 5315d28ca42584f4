'use strict';
// A hand-written line-protocol client on a bare net.Socket, as legacy code writes one:
// a queue of pending replies, no timeout anywhere.
const net = require('node:net');
const h = require('./harness');

const { scenario, port, idleMs, bigBytes } = h.options;

function open() {
  const socket = net.connect(port, h.host);
  const waiting = [];
  let pending = '';
  socket.setEncoding('utf8');
  socket.on('data', (text) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop();
    for (const line of lines) waiting.shift().resolve(line);
  });
  socket.on('error', (err) => h.fail(err, 'error event'));
  socket.on('close', () => {
    for (const w of waiting.splice(0)) w.reject(new Error('connection closed'));
  });
  return {
    send(command) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        socket.write(`${command}\n`);
      });
    },
  };
}

async function main() {
  if (scenario === 'request') {
    return h.ok(await h.measure(() => open().send('PING')));
  }
  const conn = open();
  await conn.send('PING');
  if (scenario === 'warm-request') {
    await h.warm();
    return h.ok(await h.measure(() => conn.send('ECHO hello')));
  }
  if (scenario === 'warm-write') {
    const big = 'x'.repeat(bigBytes);
    await h.warm();
    return h.ok(await h.measure(() => conn.send(`SET ${big}`)));
  }
  if (scenario === 'idle') {
    h.measure(() => undefined);
    await h.sleep(idleMs);
    return h.ok(await conn.send('ECHO still here'));
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
