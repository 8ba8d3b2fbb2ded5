import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const tls = {serverName: "localhost"};
  state.t12first = await pg.connect({listener: "tls12-only", clientId: `${me}-tls12-a`, tls: {...tls, resume: false}});
  conn = await pg.connect({listener: "tls12-only", clientId: `${me}-tls12-b`, tls});
  for (const [name, c] of Object.entries({first: state.t12first, second: conn})) {
    const hs = pg.findAll(c, {side: "client"}).filter((e) => e.layer === "tls" && e.type !== "ApplicationData");
    log(`${name}: ${c.tlsInfo().version}, resumed ${c.tlsInfo().resumed}, ${hs.reduce((n, e) => n + e.length, 0)} handshake bytes`);
    log(`   ${hs.map((e) => (e.dir === "send" ? "→ " : "← ") + e.type).join(", ")}`);
  }
  log(`session ID sent by the client: ${pg.value(pg.find(conn, {side: "client", type: "ClientHello"}), "legacy_session_id")}`);
  log(`echoed by the server:          ${pg.value(pg.find(conn, {side: "client", type: "ServerHello"}), "legacy_session_id_echo")}`);
}
