import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  state.password = `s3cret-${me}`;
  const login = {username: "alice", password: state.password};
  conn = await pg.connect({listener: "rogue-relay", clientId: `${me}-victim`, ...login, tls: {insecureSkipVerify: true}});
  await conn.publish(`lesson/${me}/door`, "door code is 4711", {qos: 1});
  for (const c of conn.checks().filter((c) => !c.ok)) log(`ignored: ${c.step}: ${c.detail.slice(0, 110)}…`);
  await pg.brokerSaw(conn, "PUBLISH", "recv"); // the relay has read it
  // The broker's list of connections: the relay's own, and the one it made to mqtts on your behalf.
  const list = await pg.connections();
  const relayed = list.find((c) => c.listener === "mqtts" && c.clientId === `${me}-victim` && c.remote.startsWith("relay rogue-relay"));
  const relay = list.find((c) => c.listener === "rogue-relay" && !!relayed?.remote.endsWith(c.remote));
  const recording = await pg.brokerRecord(relay?.id ?? "");
  state.stolen = pg.value(pg.find(recording.events, {dir: "recv", type: "CONNECT"}), "Password");
  log(`the relay (${relay?.id}) read the password: ${state.stolen}`);
  log(`the broker saw client "${relayed?.clientId}" arrive from: ${relayed?.remote}`);
  const careful = await pg.attempt({listener: "rogue-relay", clientId: `${me}-careful`, ...login});
  state.refused = careful.ok ? "connected" : careful.error;
  log(`with verification on: ${state.refused.slice(0, 90)}…`);
}
