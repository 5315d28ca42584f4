'use strict';
// ws as an application uses it: a client that only sends (telemetry, chat without echoes), and
// one that just stays connected while the server pings it. No timeout set here.
const WebSocket = require('ws');
const h = require('./harness');

const { scenario, port, timeoutMs: T, tag } = h.options;

function open(path) {
  const ws = new WebSocket(`ws://${h.host}:${port}${path}?tag=${tag}`);
  h.watch(ws, ['error', 'close', 'unexpected-response'], 'ws');
  return new Promise((resolve) => ws.once('open', () => resolve(ws)));
}

async function main() {
  if (scenario === 'ws-send') {
    // A message every 1.5 T, for 4 T; the server never answers.
    const ws = await open('/send');
    h.measure(() => undefined);
    let sent = 0;
    for (let at = 0; at < 4 * T; at += 1.5 * T) {
      ws.send(`message ${++sent}`);
      await h.sleep(Math.min(1.5 * T, 4 * T - at));
    }
    return h.ok({ sent });
  }
  if (scenario === 'ws-ping') {
    // Connected for 4 T; the server pings every 1.5 T and the library answers each with a pong.
    const ws = await open('/ping');
    let pings = 0;
    ws.on('ping', () => { pings += 1; });
    h.measure(() => undefined);
    await h.sleep(4 * T);
    return h.ok({ sent: pings, atLeast: 2 });
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
