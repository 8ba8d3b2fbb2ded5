import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const r = await pg.attempt({listener: "mtls", clientId: `${me}-nocert`, tls: {serverName: "localhost", resume: false}},
    "the refused connection to mtls, without a client certificate");
  conn = r.conn;
  state.noCert = r.ok ? "(it connected)" : r.error;
  log(`connect() failed: ${state.noCert}`);
}
