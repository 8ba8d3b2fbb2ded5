import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({clientId: `${me}-ticket`, tls: {serverName: "localhost", resume: false}});
  const nst = pg.find(conn, {side: "client", type: "NewSessionTicket"});
  state.ticketBytes = pg.fieldHex(nst, "ticket").length / 2;
  log(`NewSessionTicket: ${nst?.length} bytes on the wire, arriving after the handshake`);
  for (const name of ["ticket_lifetime", "ticket_age_add", "ticket length", "extensions"]) log(`  ${name.padEnd(16)} ${pg.value(nst, name)}`);
}
