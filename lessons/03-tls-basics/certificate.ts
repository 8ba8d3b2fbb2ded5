import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  conn ??= await pg.connect({listener: "mqtts", clientId: `${me}-tls`, tls: {serverName: "localhost", resume: false}});
  // The checks the client ran on the broker's certificate, in order.
  for (const c of conn.checks()) log(`${c.ok ? "✔" : "✘"} ${c.step}: ${c.detail}`);
}
