import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({listener: "tls12-only", clientId: `${me}-keys12`, tls: {serverName: "localhost", resume: false}});
  state.lines12 = conn.keylog().trim().split("\n");
  for (const line of state.lines12) {
    const [label, random, secret] = line.split(" ");
    log(`${label} client random ${random.slice(0, 12)}…  secret ${secret.slice(0, 12)}… (${secret.length / 2} bytes)`);
  }
}
