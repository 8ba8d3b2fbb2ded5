import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  if (!state.id || state.revoked) state.id = await pg.createIdentity(`learner-${me}`);
  const tls = {serverName: "localhost", identity: state.id.id};
  // One connection while the certificate is good, so a ticket exists.
  await (await pg.connect({listener: "mtls", clientId: `${me}-before`, tls})).close();
  await pg.revokeIdentity(state.id.id);
  state.revoked = true;
  log(`revoked serial ${state.id.serial}`);
  const r = await pg.attempt({listener: "mtls", clientId: `${me}-after`, tls}, "the first connection after the revocation");
  conn = r.conn;
  state.afterRevoke = r.ok ? "(it connected)" : r.error;
  log(`next connect: ${state.afterRevoke}`);
}
