import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, sleep, conn }: Scope) {
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-keepalive`, keepAlive: 4});
  log("connected with keepAlive 4; waiting 3.5 s without sending anything…");
  await sleep(3500);
}
