import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, text, conn }: Scope) {
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-clear`, username: "meter-app", password: "hunter2-clear"});
  await conn.publish(`lesson/${me}/meter`, "meter 4711: 12.7 kWh", {qos: 1});
  // Waits until the broker's tap has recorded the PUBLISH.
  const tap = await pg.brokerSaw(conn, "PUBLISH", "recv");
  for (const e of tap.filter((e) => e.dir === "recv")) log(`${e.type.padEnd(8)} ${text(e.bytes).replace(/[^\x20-\x7e]/g, "·")}`);
  log(`TLS on this connection: ${conn.tlsInfo()?.version ?? "none"}`);
}
