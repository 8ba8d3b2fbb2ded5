import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-sizes`, tls: {serverName: "localhost"}});
  await conn.publish(`lessons/${me}/door`, "on", {qos: 1});
  const small = pg.findAll(conn, {side: "client", dir: "send", type: "ApplicationData"}).pop()?.length ?? 0;
  await conn.publish(`lessons/${me}/door`, "x".repeat(200), {qos: 1});
  const large = pg.findAll(conn, {side: "client", dir: "send", type: "ApplicationData"}).pop()?.length ?? 0;
  state.delta = large - small;
  log(`records of ${small} and ${large} bytes: ${state.delta} bytes apart`);
  log(`cipher suite: ${conn.tlsInfo()?.cipherSuite}`);
}
