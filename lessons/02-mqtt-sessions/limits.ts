import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-limits`});
  const connack = pg.find(conn, "CONNACK");
  state.maxPacket = pg.value(connack, "Maximum Packet Size");
  log(`CONNACK: Maximum Packet Size ${state.maxPacket}; Receive Maximum ${pg.value(connack, "Receive Maximum")}`);
  // 1.2 MB of payload: more than the broker takes in one packet.
  const big = "x".repeat(1200 * 1000);
  state.big = await conn.publish(`lessons/${me}/big`, big, {qos: 1}).then(() => "accepted", (e) => String(e));
  log(`publishing 1.2 MB: ${state.big}`);
}
