import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({listener: "rogue-relay", clientId: `${me}-behind-gateway`, tls: {insecureSkipVerify: true}});
  await conn.publish(`lesson/${me}/via-gateway`, "hello through the gateway", {qos: 1});
  await pg.brokerSaw(conn, "PUBLISH", "recv"); // the gateway has read it
  // The broker's list: the gateway's connection (found by your client
  // random), and the one the gateway opened to mqtts for you.
  state.edge = await pg.brokerEntry(conn);
  state.upstream = (await pg.connections()).find((c) => c.listener === "mqtts" && c.clientId === `${me}-behind-gateway`);
  log(`device → gateway: ${state.edge.listener} connection ${state.edge.id}, from ${state.edge.remote}, client random ${state.edge.clientRandom.slice(0, 16)}…`);
  log(`gateway → broker: ${state.upstream.listener} connection ${state.upstream.id}, from "${state.upstream.remote}", client random ${state.upstream.clientRandom.slice(0, 16)}…`);
  log(`client certificate seen by the broker: ${state.upstream.peerCN ?? "none"}`);
}
