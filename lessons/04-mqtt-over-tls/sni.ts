import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-sni`, tls: {serverName: "localhost"}});
  // Wait until the broker's tap has the ClientHello, as a bystander would.
  const tap = await pg.brokerSaw(conn, "ClientHello", "recv");
  const hello = pg.find(tap, "ClientHello");
  log(`read without any key from the broker's tap: ${pg.value(hello, "server_name")}`);
}
