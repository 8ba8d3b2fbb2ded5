import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, site, conn }: Scope) {
  // Exercise: this client connects to the real broker (mqtts) and, without
  // knowing it, to the man in the middle (rogue-relay). Make it safe: it
  // must still reach mqtts, and must refuse the relay before sending its
  // password. site.ca.pem holds the playground's CA certificate.
  const tls = {serverName: "localhost", insecureSkipVerify: true};
  const login = {username: "alice", password: `s3cret-${me}`};
  const real = await pg.attempt({listener: "mqtts", clientId: `${me}-safe-real`, ...login, tls});
  const relay = await pg.attempt({listener: "rogue-relay", clientId: `${me}-safe-relay`, ...login, tls});
  state.safe = {real: real.ok, relay: relay.ok, error: relay.error, verified: real.ok && real.conn.checks().every((c) => c.ok)};
  log(`mqtts:       ${real.ok ? "connected" : real.error}`);
  log(`rogue-relay: ${relay.ok ? "connected — and the relay read the password" : relay.error}`);
  await real.conn.close();
  conn = relay.conn;
}
