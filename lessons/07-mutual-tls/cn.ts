import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  if (!state.id || state.revoked) state.id = await pg.createIdentity(`learner-${me}`);
  state.revoked = false;
  const tls = {serverName: "localhost", identity: state.id.id};
  const ok = await pg.connect({listener: "mtls", clientId: `${me}-mtls-cn`, tls});
  // The broker finds the connection by the client random of its handshake.
  state.peerCN = (await pg.brokerEntry(ok))?.peerCN;
  log(`the broker's record of that connection: certificate CN = ${state.peerCN}, TLS resumed: ${ok.tlsInfo()?.resumed}`);
  await ok.close();
  const admin = await pg.attempt({listener: "mtls", clientId: `${me}-mtls-admin`, username: "admin", tls}, "the connection that claimed to be admin");
  state.asAdmin = admin.ok ? "(it connected)" : admin.error;
  state.adminResumed = pg.value(pg.find(admin.conn, {side: "client", type: "ServerHello"}), "pre_shared_key") !== "";
  conn = admin.conn;
  log(`as admin: ${state.asAdmin}; TLS resumed: ${state.adminResumed}`);
}
