import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const opts = {listener: "revoked", clientId: `${me}-revoked`, tls: {serverName: "localhost", resume: false}};
  const r = await pg.attempt(opts);
  conn = r.conn;
  state.revoked = {ok: r.ok, error: r.error};
  log(`the page's client: ${r.ok ? "connected" : r.error}`);
  // Read every check with verification off (for reading only).
  const look = await pg.connect({...opts, tls: {...opts.tls, insecureSkipVerify: true}});
  state.revoked.staple = look.checks().find((c) => c.step === "revocation (stapled OCSP)");
  log(`✘ ${state.revoked.staple?.step}: ${state.revoked.staple?.detail}`);
  await look.close();
}
