import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // Name an enhanced authentication method in CONNECT (MQTT 5.0 §4.12).
  const r = await pg.attempt({listener: "mqtt", clientId: `${me}-scram`, authMethod: "SCRAM-SHA-256"});
  conn = r.conn;
  state.auth = r.ok ? "accepted" : r.error;
  log(`CONNECT with Authentication Method SCRAM-SHA-256: ${state.auth}`);
}
