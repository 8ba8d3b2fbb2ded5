import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  conn ??= await pg.connect({listener: "mqtts", clientId: `${me}-tls`, tls: {serverName: "localhost", resume: false}});
  const info = conn.tlsInfo();
  log(`the broker chose ${info?.version} with ${info?.cipherSuite} and ${info?.group}`);
  const hello = pg.find(conn, {side: "client", type: "ServerHello"});
  log(`its key_share: ${pg.value(hello, "key_share")}`);
}
