import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  // Opens a connection through the playground's tunnel to the broker's
  // plain "mqtt" listener (port 1883): CONNECT out, CONNACK back.
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-broker`});
  log(`connected to the "${conn.listener}" listener as ${conn.clientId()}`);
}
