import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const topic = `lesson/${me}/meter`;
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-forgot-tls`, username: "meter-app", password: "same-password-as-on-8883"});
  await conn.subscribe(topic, 1);
  const sensor = await pg.connect({clientId: `${me}-careful-sensor`});
  await sensor.publish(topic, "meter 4711: 12.9 kWh", {qos: 1});
  state.leaked = await conn.nextMessage(3000);
  await sensor.close();
  log(`published over ${sensor.tlsInfo()?.version}, received on 1883 in clear: "${state.leaked.payload}"`);
}
