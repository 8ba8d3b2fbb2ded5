import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // pg.measure connects, counts the wire up to CONNACK (pg.cost) and closes;
  // true keeps the connection, to show its trace.
  const tls = {serverName: "localhost", resume: false};
  state.base = {
    plain: await pg.measure({listener: "mqtt", clientId: `${me}-cost`}),
    tls: await pg.measure({listener: "mqtts", clientId: `${me}-cost`, tls}, true),
  };
  conn = state.base.tls.conn;
  const w = [28, 6, 9, 7];
  log(pg.row(["", "sent", "received", "rounds"], w));
  log(pg.row(["plain MQTT (1883)", state.base.plain.sent, state.base.plain.received, state.base.plain.rounds], w));
  log(pg.row(["MQTT over TLS 1.3 (8883)", state.base.tls.sent, state.base.tls.received, state.base.tls.rounds], w));
}
