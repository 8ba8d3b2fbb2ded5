import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, hex, state, conn }: Scope) {
  state.password = "s3cret-8883";
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-hidden`, username: "alice", password: state.password, tls: {serverName: "localhost"}});
  await conn.publish(`lessons/${me}/diary`, "door code is 4711", {qos: 1});
  const broker = await pg.brokerSaw(conn, "PUBLISH", "recv");
  // The record whose decrypted content holds the password: what was it on the wire?
  state.record = broker.find((e) => e.dir === "recv" && e.type === "ApplicationData" && (e.plain ?? "").includes(hex(state.password)));
  log(`the record on the wire:  ${state.record.bytes.slice(0, 64)}…`);
  log(`its decrypted content:   ${state.record.plain.slice(0, 64)}…`);
  log(`password in the wire bytes? ${state.record.bytes.includes(hex(state.password))}`);
}
