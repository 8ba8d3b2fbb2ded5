import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  // Offer the application protocol "mqtt" (RFC 7301), as a client of a
  // cloud broker on port 443 does.
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-alpn`, tls: {serverName: "localhost", alpn: ["mqtt"]}});
  const hello = pg.find(conn, {side: "client", type: "ClientHello"});
  const ee = pg.find(conn, {side: "client", type: "EncryptedExtensions"});
  log(`offered:  ${pg.value(hello, "application_layer_protocol_negotiation")}`);
  log(`answered: ${pg.value(ee, "application_layer_protocol_negotiation")}`);
  log(`tlsInfo().alpn = ${JSON.stringify(conn.tlsInfo()?.alpn)}`);
}
