import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const tls = {serverName: "localhost"};
  const full = await pg.connect({clientId: `${me}-pfs-full`, tls: {...tls, resume: false}});
  await full.close();
  conn = await pg.connect({clientId: `${me}-pfs`, tls});
  const sh = pg.find(conn, {side: "client", type: "ServerHello"});
  for (const v of pg.values(sh, "extension")) log(`ServerHello ${v}`);
  state.brokerView = await pg.brokerEntry(conn);
  log(`the broker's list: connection ${state.brokerView?.id} on ${state.brokerView?.listener}, resumed: ${state.brokerView?.resumed === true}`);
}
