import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-envelope`, username: "alice", password: "s3cret-8883", tls: {serverName: "localhost"}});
  await conn.publish(`lessons/${me}/diary`, "door code is 4711", {qos: 1});
  const connect = pg.find(conn, {side: "client", type: "CONNECT"});
  const record = pg.find(conn, {side: "client", dir: "send", type: "ApplicationData"});
  log(`CONNECT: ${connect?.length} bytes; the record carrying it: ${record?.length} bytes`);
}
