import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  // The connection of step 1, or a new one with a full handshake.
  conn ??= await pg.connect({listener: "mqtts", clientId: `${me}-tls`, tls: {serverName: "localhost", resume: false}});
  const hello = pg.find(conn, {side: "client", type: "ClientHello"});
  log(`ClientHello: ${hello?.length} bytes`);
  log(`cipher_suites: ${pg.value(hello, "cipher_suites")}`);
  log(`key_share: ${pg.value(hello, "key_share")}`);
}
