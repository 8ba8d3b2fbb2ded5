import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({clientId: `${me}-plant-controller`, username: "admin"});
  // The broker's record of this connection, found by the handshake's client random.
  state.anon = await pg.brokerEntry(conn);
  log(`mqtts accepted client "${state.anon?.clientId}"; certificate presented by the client: ${state.anon?.peerCN ?? "none"}`);
  const r = await pg.attempt({listener: "mtls", clientId: `${me}-no-cert`, username: "admin"});
  state.mtls = r.ok ? "accepted" : r.error;
  state.mtlsTrace = r.conn.trace();
  if (r.ok) await r.conn.close();
  log(`mtls without a certificate: ${state.mtls}`);
}
