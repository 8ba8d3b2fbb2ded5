import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, sleep, conn }: Scope) {
  const tls = {serverName: "localhost"};
  const first = await pg.connect({clientId: `${me}-first`, tls: {...tls, resume: false}});
  await first.close();
  await sleep(1500);
  conn = await pg.connect({clientId: `${me}-second`, tls});
  const nst = pg.find(first, {side: "client", type: "NewSessionTicket"});
  const hello = pg.find(conn, {side: "client", type: "ClientHello"});
  const ticket = pg.fieldHex(nst, "ticket");
  state.sameTicket = ticket !== "" && ticket === pg.fieldHex(hello, "identity");
  // Both are 32-bit numbers; the difference is taken modulo 2^32.
  state.age = (parseInt(pg.fieldHex(hello, "obfuscated_ticket_age"), 16) - parseInt(pg.fieldHex(nst, "ticket_age_add"), 16)) >>> 0;
  log(`ticket from the first connection:    ${ticket.slice(0, 32)}…`);
  log(`identity in the second ClientHello:  ${pg.fieldHex(hello, "identity").slice(0, 32)}… (same bytes: ${state.sameTicket})`);
  log(`obfuscated_ticket_age − ticket_age_add = ${state.age} ms`);
  log(`second connection resumed: ${conn.tlsInfo()?.resumed}`);
}
