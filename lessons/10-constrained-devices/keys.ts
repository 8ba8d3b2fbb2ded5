import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const opts = {clientId: `${me}-keys`, tls: {serverName: "localhost", resume: false}};
  const keys = (state.keys = {
    ecdsa: await pg.measure({...opts, listener: "mqtts"}),
    ed25519: await pg.measure({...opts, listener: "key-ed25519"}),
    rsa: await pg.measure({...opts, listener: "key-rsa2048"}, true),
  });
  conn = state.keys.rsa.conn;
  const w = [12, 12, 18, 16];
  log(pg.row(["", "Certificate", "CertificateVerify", "received in all"], w));
  for (const [k, r] of Object.entries(keys)) log(pg.row([k, r.certs, r.verify, r.received], w));
}
