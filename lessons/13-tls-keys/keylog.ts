import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-keys`, tls: {serverName: "localhost", resume: false}});
  // One line per secret: LABEL CLIENT_RANDOM SECRET, all hex (the NSS key log format).
  state.keys = {};
  for (const line of conn.keylog().trim().split("\n")) {
    const [label, random, secret] = line.split(" ");
    state.keys[label] = secret;
    log(`${label.padEnd(32)} client random ${random.slice(0, 12)}…  secret ${secret.slice(0, 12)}… (${secret.length / 2} bytes)`);
  }
  log(`this connection's client random:                  ${conn.tlsInfo()?.clientRandom.slice(0, 12)}…`);
}
