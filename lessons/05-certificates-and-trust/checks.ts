import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-checks`, tls: {serverName: "localhost", resume: false}});
  state.checks = conn.checks();
  for (const c of conn.checks()) log(`${c.ok ? "✔" : "✘"} ${c.step}: ${c.detail}`);
}
