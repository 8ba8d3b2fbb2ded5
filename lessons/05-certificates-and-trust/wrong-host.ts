import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const opts = {listener: "wrong-host", clientId: `${me}-wrong`, tls: {serverName: "localhost", resume: false}};
  const r = await pg.attempt(opts);
  conn = r.conn; // the refused connection's trace
  state.wrong = {error: r.ok ? "(it connected)" : r.error};
  log(`connect() failed: ${state.wrong.error}`);
  // A verifying client stops at the first failed check; pg.failingChecks
  // connects once more with verification off, only to read them all.
  state.wrong.failed = await pg.failingChecks(opts);
  log(`checks that fail: ${state.wrong.failed.join(", ")}`);
}
