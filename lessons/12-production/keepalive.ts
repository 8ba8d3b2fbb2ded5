import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, sleep, conn }: Scope) {
  conn = await pg.connect({clientId: `${me}-idle`, keepAlive: 3});
  // Say nothing and wait for the first PINGRESP (at most 4 s).
  for (let i = 0; i < 40 && !pg.find(conn, {side: "client", type: "PINGRESP"}); i++) await sleep(100);
  const client = pg.findAll(conn, {side: "client"});
  const ping = client.findIndex((e) => e.type === "PINGREQ");
  if (ping < 0) throw new Error("no PINGREQ yet: run the step again");
  state.pingRecord = pg.find(client.slice(ping), {dir: "send", type: "ApplicationData"})?.length ?? 0;
  state.pongRecord = pg.find(client.slice(ping), {dir: "recv", type: "ApplicationData"})?.length ?? 0;
  log(`PINGREQ in a ${state.pingRecord}-byte record, PINGRESP in a ${state.pongRecord}-byte record`);
  // The alternative: hang up and come back later. This reconnect resumes with
  // the ticket the idle connection received (every connection stores one).
  const again = await pg.connect({clientId: `${me}-comes-back`});
  state.reconnect = again.trace().filter((e) => e.side === "client" && e.layer === "tls" && e.type !== "ApplicationData").reduce((n, e) => n + e.length, 0);
  log(`a reconnect (${again.tlsInfo()?.resumed ? "resumed" : "full"} handshake): ${state.reconnect} bytes of TLS before the CONNECT`);
  await again.close();
  const tcp = 2 * 40; // an IPv4 and a TCP header for each record, not counting ACKs
  for (const k of [30, 60, 300, 1200]) {
    const perHour = Math.round(3600 / k) * (state.pingRecord + state.pongRecord + tcp);
    log(`keepAlive ${String(k).padStart(4)} s: about ${perHour} bytes an hour while idle = ${(perHour / state.reconnect).toFixed(1)} reconnects`);
  }
}
