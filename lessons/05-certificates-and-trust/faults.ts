import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  state.faults = {};
  for (const name of ["expired", "not-yet-valid", "unknown-ca", "missing-intermediate", "self-signed"]) {
    const opts = {listener: name, clientId: `${me}-${name}`, tls: {serverName: "localhost", resume: false}};
    const r = await pg.attempt(opts);
    const failed = await pg.failingChecks(opts);
    state.faults[name] = {error: r.ok ? "(it connected)" : r.error, failed, conn: r.conn};
    log(`${name.padEnd(21)} ✘ ${failed.join(" + ").padEnd(38)} "${state.faults[name].error.split(":")[0]}"`);
  }
  conn = state.faults["missing-intermediate"].conn;
}
