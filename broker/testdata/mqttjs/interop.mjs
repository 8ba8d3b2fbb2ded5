// MQTT.js against the playground's broker, for broker/interop_test.go:
//
//	node interop.mjs URL CAFILE PREFIX
//
// connects over TLS trusting CAFILE (MQTT 5, a will on PREFIX/will),
// subscribes to PREFIX/echo, publishes to it at QoS 1 with a User Property
// (the PUBACK must settle the promise), waits for the message, then cuts the
// connection without a DISCONNECT so that the broker sends the will. Each
// step prints one JSON line; a failure prints {"step":…,"error":…} and
// exits 1.
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';

const [url, caFile, prefix] = process.argv.slice(2);
const say = (o) => console.log(JSON.stringify(o));
const within = (ms, what, p) =>
  Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))]);

let step = 'connect';
try {
  const client = await within(5000, step, mqtt.connectAsync(url, {
    ca: readFileSync(caFile),
    protocolVersion: 5,
    clientId: `${prefix.replaceAll('/', '-')}-mqttjs`,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    will: { topic: `${prefix}/will`, payload: Buffer.from('mqttjs gone'), qos: 1 },
  }));
  say({ step, ok: true, tls: client.stream.getProtocol?.() ?? '' });

  step = 'subscribe';
  const granted = await within(5000, step, client.subscribeAsync(`${prefix}/echo`, { qos: 1 }));
  say({ step, ok: true, qos: granted[0].qos });

  step = 'receive';
  const received = new Promise((resolve) => {
    client.on('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), user: packet.properties?.userProperties ?? {} }));
  });

  step = 'puback';
  const ack = await within(5000, step, client.publishAsync(`${prefix}/echo`, 'hello from MQTT.js', {
    qos: 1,
    properties: { userProperties: { 'trace-id': '42' } },
  }));
  say({ step, ok: true, reasonCode: ack?.reasonCode ?? 0 });

  step = 'receive';
  say({ step, ok: true, ...(await within(5000, step, received)) });

  step = 'cut';
  // No DISCONNECT: the socket just goes, as when a device loses power.
  client.stream.destroy();
  say({ step, ok: true });
  process.exit(0);
} catch (err) {
  say({ step, error: String(err?.message ?? err) });
  process.exit(1);
}
