import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-topics`});
  const base = `lessons/${me}`;
  await conn.subscribe(`${base}/+/temp`, 1);
  await conn.publish(`${base}/kitchen/temp`, "21.5", {qos: 1});
  await conn.publish(`${base}/kitchen/humidity`, "40", {qos: 1});
  // Collect what arrives until nothing more comes for 1.5 s.
  state.topics = [];
  for (;;) {
    const m = await conn.nextMessage(1500).catch(() => null);
    if (!m) break;
    state.topics.push(m.topic);
  }
  log(`received ${state.topics.length}: ${state.topics.join(", ")}`);
}
