import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const topic = `lessons/${me}/inbox`;
  const id = `${me}-sleeper`;
  // A new session (cleanStart), which the broker is to keep 300 s after
  // the connection ends: subscribe, then leave.
  const first = await pg.connect({listener: "mqtt", clientId: id, cleanStart: true, sessionExpiry: 300});
  await first.subscribe(topic, 1);
  await first.close();
  // Someone publishes while the sleeper is away.
  const sender = await pg.connect({listener: "mqtt", clientId: `${me}-sender`});
  await sender.publish(topic, "sent while you were away", {qos: 1});
  await sender.close();
  // The sleeper comes back to its session, this time asking for a day.
  conn = await pg.connect({listener: "mqtt", clientId: id, cleanStart: false, sessionExpiry: 86400});
  state.queued = await conn.nextMessage(3000);
  const connack = pg.find(conn, "CONNACK");
  log(`back again: "${state.queued.payload}"`);
  log(`CONNACK: Session Present ${pg.value(connack, "Session Present")}; Session Expiry Interval ${pg.value(connack, "Session Expiry Interval") || "(not sent)"}`);
}
