import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const topic = `lessons/${me}/status`;
  // A device says it is online, with RETAIN set, and leaves.
  const device = await pg.connect({listener: "mqtt", clientId: `${me}-device`});
  await device.publish(topic, "online", {qos: 1, retain: true});
  await device.close();
  // A dashboard subscribes only now.
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-dashboard`});
  await conn.subscribe(topic, 1);
  state.retained = await conn.nextMessage(3000);
  log(`got "${state.retained.payload}" on ${state.retained.topic}, retain flag ${state.retained.retain}`);
  // An empty retained message clears the kept one.
  await conn.publish(topic, "", {qos: 1, retain: true});
}
