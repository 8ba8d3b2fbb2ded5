import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({clientId: `${me}-pki`, tls: {resume: false}});
  const cert = pg.find(conn, {side: "client", type: "Certificate"});
  const subjects = pg.values(cert, "subject"), issuers = pg.values(cert, "issuer");
  subjects.forEach((s, i) => log(`sent: ${s}  ←  issued by ${issuers[i]}`));
  log(`the broker certificate may be used for: ${pg.value(cert, "extKeyUsage")}`);
  const root = await (await fetch("/ca.pem")).text();
  state.rootInTrustStore = root.includes("BEGIN CERTIFICATE");
  log(`not sent: the root, which this client loaded from /ca.pem (${root.length} bytes of PEM) before connecting`);
  state.crlBytes = (await (await fetch("/pki/crl")).arrayBuffer()).byteLength;
  log(`the CA's revocation list, GET /pki/crl: ${state.crlBytes} bytes`);
  for (const c of conn.checks()) log(`${c.ok ? "✔" : "✘"} ${c.step}`);
}
