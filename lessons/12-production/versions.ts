import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const strict = await pg.attempt({listener: "tls12-only", clientId: `${me}-strict`, tls: {minVersion: "1.3"}});
  state.strict = strict.ok ? "connected" : strict.error;
  state.strictTrace = strict.conn.trace();
  log(`minVersion 1.3 against tls12-only: ${state.strict}`);
  conn = await pg.connect({listener: "tls12-only", clientId: `${me}-floor`});
  const hello = pg.find(conn, {side: "client", type: "ClientHello"});
  const offered = pg.values(hello, "cipher_suite").map((v) => v.split(" ")[0]);
  state.cbcOffered = offered.filter((s) => s.includes("_CBC_"));
  log(`the default client offers ${offered.length} suites, CBC ones among them: ${state.cbcOffered.join(", ")}`);
  log(`the broker chose: ${conn.tlsInfo()?.version}, ${conn.tlsInfo()?.cipherSuite}, ${conn.tlsInfo()?.group}`);
}
