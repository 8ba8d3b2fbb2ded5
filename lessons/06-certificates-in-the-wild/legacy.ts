import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  state.legacy = {};
  for (const name of ["weak-key", "sha1-signature"]) {
    const opts = {listener: name, clientId: `${me}-${name}`, tls: {serverName: "localhost", resume: false}};
    const r = await pg.attempt(opts);
    const look = await pg.connect({...opts, tls: {...opts.tls, insecureSkipVerify: true}});
    const cert = pg.find(look, {side: "client", type: "Certificate"});
    state.legacy[name] = {ok: r.ok, error: r.error, checks: look.checks()};
    log(`${name}: ${r.ok ? "Go connected" : `Go refused: ${r.error}`}`);
    log(`   key ${pg.value(cert, "subjectPublicKeyInfo")}; signed with ${pg.value(cert, "signatureAlgorithm")}`);
    for (const c of look.checks().filter((c) => !c.ok && c.step !== "verification skipped")) log(`   ✘ ${c.step}: ${c.detail}`);
    await look.close();
    if (r.ok) conn = r.conn;
  }
}
