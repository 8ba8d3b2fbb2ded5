import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  // resume: false asks for a full handshake, whatever this page did before.
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-tls`, tls: {serverName: "localhost", resume: false}});
  const info = conn.tlsInfo();
  log(`${info?.version}, ${info?.cipherSuite}, key exchange ${info?.group}`);
}
