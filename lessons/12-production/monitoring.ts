import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, sleep, conn }: Scope) {
  const before = (await pg.health()).listeners.find((l) => l.name === "expired");
  // A device whose broker certificate ran out: the client refuses it.
  const r = await pg.attempt({listener: "expired", clientId: `${me}-monitored`, tls: {serverName: "localhost", resume: false}});
  conn = r.conn;
  // The broker counts the failure when its side of the handshake ends.
  let health = await pg.health();
  for (let i = 0; i < 30 && (health.listeners.find((l) => l.name === "expired")?.handshakeFailures ?? 0) <= (before?.handshakeFailures ?? 0); i++) {
    await sleep(100);
    health = await pg.health();
  }
  const after = health.listeners.find((l) => l.name === "expired");
  const mqtts = health.listeners.find((l) => l.name === "mqtts");
  // Whole days until a listener's certificate expires (negative: expired).
  const days = (l = after) => Math.floor((Date.parse(l?.certNotAfter ?? "") - Date.now()) / 86400000);
  state.mon = {
    failuresBefore: before?.handshakeFailures ?? 0,
    failuresAfter: after?.handshakeFailures ?? 0,
    lastFailure: after?.lastFailure ?? "",
    expiredDays: days(after),
    mqttsDays: days(mqtts),
    clientError: r.error,
  };
  log(`the client: ${r.ok ? "connected" : r.error.split(":")[0]}`);
  log(`expired: failed handshakes ${state.mon.failuresBefore} → ${state.mon.failuresAfter}; last: ${state.mon.lastFailure}`);
  log(`expired: certificate expires in ${state.mon.expiredDays} days`);
  log(`mqtts:   certificate expires in ${state.mon.mqttsDays} days, ${mqtts?.handshakes ?? 0} handshakes, ${mqtts?.handshakeFailures ?? 0} failed`);
  for (const l of [mqtts, after]) {
    if (!l) continue;
    const d = days(l);
    log(`alert rule "certificate expires within 21 days" on ${l.name}: ${d < 21 ? "FIRES" : "quiet"}`);
  }
}
