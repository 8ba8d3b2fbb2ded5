import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  const opts = {clientId: `${me}-psk`, tls: {serverName: "localhost"}};
  // A full handshake first (it stores its ticket), then one that resumes.
  await (await pg.connect({...opts, tls: {...opts.tls, resume: false}})).close();
  conn = await pg.connect(opts);
  const hello = pg.find(conn, {side: "client", type: "ClientHello"});
  log(`pre_shared_key identity, readable by anyone on the path: ${pg.value(hello, "identity")}`);
  log(`psk_key_exchange_modes: ${pg.value(hello, "ke_mode")}`);
  log(`with an external PSK this identity would be a name such as "sensor-0042", and no certificate would be sent, exactly as here`);
}
