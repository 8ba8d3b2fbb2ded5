import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-tap`, username: "alice", password: "s3cret-1883"});
  await conn.publish(`lessons/${me}/diary`, "door code is 4711", {qos: 1});
  // Wait until the broker's tap has recorded the PUBLISH it received.
  const seen = await pg.brokerSaw(conn, "PUBLISH", "recv");
  log(`the broker's tap recorded ${seen.length} packets of this connection`);
}
