import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({clientId: `${me}-no-0rtt`, tls: {serverName: "localhost", resume: false}});
  const nst = pg.find(conn, {side: "client", type: "NewSessionTicket"});
  log(`NewSessionTicket extensions: ${pg.value(nst, "extensions")}`);
  state.earlyData = conn.trace().some((e) => e.fields.some((f) => f.name === "extension" && f.value.startsWith("early_data")));
  log(`early_data anywhere in this handshake: ${state.earlyData}`);
}
