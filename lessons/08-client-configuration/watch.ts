import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, site, recorded, conn }: Scope) {
  const id = `${me}-cli`;
  log("Run this in a terminal on this machine:");
  log(`  mosquitto_pub -h ${pg.sh(site.host)} -p ${site.port.mqtts} --cafile ${pg.sh(site.ca.file)} -i ${id} -t lessons/${me}/cli -m 'hello from my terminal'`);
  log("Waiting up to 30 s for a connection with that client id…");
  // Waits (GET /trace/stream) until a connection of that client id has ended.
  const found = await pg.waitForClient(id, 30000);
  if (found) {
    const {events} = await pg.brokerRecord(found.id);
    conn = recorded(events, `your client's connection ${found.id} ("${id}"), as the broker recorded it`);
    state.watch = {source: "yours", info: found};
    log(`Found it: connection ${found.id} from ${found.remote}, ${found.tlsVersion ?? "no TLS"}.`);
  } else {
    log("Nothing arrived in 30 s. The page now makes a stand-in connection itself, so that");
    log(`there is something to look at: client id ${id}-page. It is the page's, not yours,`);
    log("and the step's first check stays red until your own client connects (Run again).");
    conn = await pg.connect({listener: "mqtts", clientId: `${id}-page`, mqttVersion: 4, tls: {serverName: site.name}});
    await conn.publish(`lessons/${me}/cli`, "hello from the page, standing in");
    await pg.brokerSaw(conn, "PUBLISH", "recv");
    state.watch = {source: "page"};
  }
  const hello = pg.find(conn, {side: "broker", type: "ClientHello"});
  log(`its ClientHello: ${hello?.length} bytes, ${pg.value(hello, "cipher_suites")} offered`);
  log(`  ${pg.value(hello, "server_name") || "no server_name"}; ${pg.value(hello, "key_share")}`);
}
