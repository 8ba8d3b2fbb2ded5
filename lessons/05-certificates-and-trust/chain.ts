import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // resume: false makes a full handshake: a resumed one sends no certificate.
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-chain`, tls: {serverName: "localhost", resume: false}});
  const msg = pg.find(conn, {side: "client", type: "Certificate"});
  const issuers = pg.values(msg, "issuer");
  const chain = pg.values(msg, "subject").map((subject, i) => ({subject, issuer: issuers[i]}));
  chain.forEach((c, i) => log(`${i + 1}. ${c.subject}\n   issued by ${c.issuer}`));
  log(`basicConstraints: ${pg.values(msg, "basicConstraints").join(" | ") || "(none)"}`);
  state.chain = chain;
}
