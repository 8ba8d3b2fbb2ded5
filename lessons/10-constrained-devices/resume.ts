import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const tls = {serverName: "localhost", groups: ["X25519"]};
  // A full handshake (resume: false) still stores the ticket it receives,
  // so the connection after it resumes.
  const full = await pg.measure({listener: "mqtts", clientId: `${me}-resume`, tls: {...tls, resume: false}});
  const resumed = await pg.measure({listener: "mqtts", clientId: `${me}-resume`, tls}, true);
  state.res = {full, resumed};
  conn = state.res.resumed.conn;
  const w = [24, 6, 9, 7];
  log(pg.row(["", "sent", "received", "rounds"], w));
  log(pg.row(["full (X25519 only)", full.sent, full.received, full.rounds], w));
  log(pg.row([`resumed: ${resumed.resumed}`, resumed.sent, resumed.received, resumed.rounds], w));
}
