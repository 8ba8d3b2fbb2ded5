import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // Connect by address: the client asks for 127.0.0.1, sends no SNI, and
  // looks for that address among the certificate's IP entries.
  const byAddress = {clientId: `${me}-ip`, tls: {serverName: "127.0.0.1", resume: false}};
  const good = await pg.attempt({...byAddress, listener: "mqtts"});
  const bad = await pg.attempt({...byAddress, listener: "ip-mismatch"});
  state.ip = {good: good.ok, error: bad.error};
  log(`mqtts by address:       ${good.ok ? "verified" : good.error}`);
  log(`ip-mismatch by address: ${bad.error}`);
  await good.conn.close();
  conn = bad.conn;
}
