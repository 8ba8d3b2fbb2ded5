import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // Solved: the intermediate mqtts sends fills the gap.
  const mqtts = await pg.connect({listener: "mqtts", clientId: `${me}-chain-source`, tls: {serverName: "localhost", resume: false}});
  const chain = pg.chainPEM(mqtts); // [broker certificate, intermediate CA]
  await mqtts.close();
  log(`mqtts sent ${chain.length} certificates; the second is the intermediate`);
  // tls.intermediatesPEM gives the client CA certificates to build the path
  // with, without trusting them (the root stays the only anchor).
  const r = await pg.attempt({listener: "missing-intermediate", clientId: `${me}-whole-chain`,
    tls: {serverName: "localhost", resume: false, intermediatesPEM: chain[1]}});
  conn = r.conn;
  state.fixed = r.ok;
  log(r.ok ? "connected, with every check passed" : `refused: ${r.error}`);
}
