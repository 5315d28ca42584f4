'use strict';
// A hand-written log shipper on a bare net.Socket: a line every 1.5 T to a collector that never
// answers, as syslog/Graphite/fluentd senders do. No timeout set here.
const net = require('node:net');
const h = require('./harness');

const { scenario, port, timeoutMs: T, tag } = h.options;

async function main() {
  if (scenario === 'ship') {
    const socket = net.connect(port, h.host);
    h.watch(socket, ['error', 'close', 'end'], 'socket');
    await new Promise((resolve) => socket.once('connect', resolve));
    h.measure(() => undefined);
    let sent = 0;
    for (let at = 0; at < 4 * T; at += 1.5 * T) {
      socket.write(`${tag} level=info n=${++sent}\n`);
      await h.sleep(Math.min(1.5 * T, 4 * T - at));
    }
    return h.ok({ sent });
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
