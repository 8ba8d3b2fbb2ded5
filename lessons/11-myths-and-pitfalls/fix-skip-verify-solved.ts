import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, site, conn }: Scope) {
  // Solved: verification on, with the broker's CA as the trust anchor.
  // (The page's client trusts the playground CA by default; naming it with
  // caPEM is what a device does with its CA file.)
  const tls = {serverName: "localhost", caPEM: site.ca.pem};
  const login = {username: "alice", password: `s3cret-${me}`};
  const real = await pg.attempt({listener: "mqtts", clientId: `${me}-safe-real`, ...login, tls});
  const relay = await pg.attempt({listener: "rogue-relay", clientId: `${me}-safe-relay`, ...login, tls});
  state.safe = {real: real.ok, relay: relay.ok, error: relay.error, verified: real.ok && real.conn.checks().every((c) => c.ok)};
  log(`mqtts:       ${real.ok ? "connected" : real.error}`);
  log(`rogue-relay: ${relay.ok ? "connected — and the relay read the password" : relay.error}`);
  await real.conn.close();
  conn = relay.conn;
}
