'use strict';
// mqtt.js as a sensor uses it: a QoS 0 publisher (nothing is ever acknowledged) and, on its own
// connection, a subscriber that must get every message. No timeout set here.
const mqtt = require('mqtt');
const h = require('./harness');

const { scenario, port, timeoutMs: T, tag } = h.options;

function connect(role) {
  const client = mqtt.connect({ host: h.host, port, clientId: `${tag}-${role}`, protocolVersion: 4 });
  h.watch(client, ['error', 'close', 'offline', 'reconnect', 'disconnect'], `mqtt ${role}`);
  return new Promise((resolve) => client.once('connect', () => resolve(client)));
}

async function main() {
  if (scenario === 'mqtt-publish') {
    const topic = `drivers/${tag}`;
    const subscriber = await connect('sub');
    let received = 0;
    subscriber.on('message', () => { received += 1; });
    await subscriber.subscribeAsync(topic, { qos: 0 });
    const publisher = await connect('pub');
    h.measure(() => undefined);
    let sent = 0;
    for (let at = 0; at < 4 * T; at += 1.5 * T) {
      publisher.publish(topic, `reading ${++sent}`, { qos: 0 });
      await h.sleep(Math.min(1.5 * T, 4 * T - at));
    }
    return h.ok({ sent, received });
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
