import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // Exercise: make the connection to missing-intermediate verify, without
  // trusting anything new. That broker forgets to send its intermediate CA;
  // mqtts sends it, as the second certificate of its chain.
  const mqtts = await pg.connect({listener: "mqtts", clientId: `${me}-chain-source`, tls: {serverName: "localhost", resume: false}});
  const chain = pg.chainPEM(mqtts); // [broker certificate, intermediate CA]
  await mqtts.close();
  log(`mqtts sent ${chain.length} certificates; the second is the intermediate`);
  // tls.intermediatesPEM gives the client CA certificates to build the path
  // with, without trusting them (the root stays the only anchor).
  const r = await pg.attempt({listener: "missing-intermediate", clientId: `${me}-whole-chain`,
    tls: {serverName: "localhost", resume: false}});
  conn = r.conn;
  state.fixed = r.ok;
  log(r.ok ? "connected, with every check passed" : `refused: ${r.error}`);
}
