import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  if (!state.id || state.revoked) state.id = await pg.createIdentity(`learner-${me}`);
  state.revoked = false;
  conn = await pg.connect({listener: "mtls", clientId: `${me}-mtls`, tls: {serverName: "localhost", identity: state.id.id, resume: false}});
  const mine = pg.find(conn, {side: "client", dir: "send", type: "Certificate"});
  log(`sent: ${mine?.summary} (${mine?.encrypted ? "encrypted" : "in clear"} on the wire)`);
  await conn.publish(`lessons/${me}/mtls`, "hello from a certified client", {qos: 1});
}
