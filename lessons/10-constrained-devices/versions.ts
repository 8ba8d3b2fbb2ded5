import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // Both without ML-KEM, which TLS 1.2 cannot use.
  const tls = {serverName: "localhost", resume: false, groups: ["X25519"]};
  const versions = (state.versions = {
    "TLS 1.3": await pg.measure({listener: "mqtts", clientId: `${me}-versions`, tls}),
    "TLS 1.2": await pg.measure({listener: "tls12-only", clientId: `${me}-versions`, tls}, true),
  });
  conn = state.versions["TLS 1.2"].conn;
  const w = [24, 6, 9, 7];
  log(pg.row(["", "sent", "received", "rounds"], w));
  for (const [k, r] of Object.entries(versions)) log(pg.row([`${k} (X25519 only)`, r.sent, r.received, r.rounds], w));
}
