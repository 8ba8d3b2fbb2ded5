import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-qos`});
  await conn.publish(`lessons/${me}/qos0`, "sent with QoS 0", {qos: 0});
  await conn.publish(`lessons/${me}/qos1`, "sent with QoS 1", {qos: 1});
  await conn.publish(`lessons/${me}/qos2`, "sent with QoS 2", {qos: 2});
  log("published three messages, with QoS 0, 1 and 2");
}
