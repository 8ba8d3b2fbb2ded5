import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state }: Scope) {
  state.id = await pg.createIdentity(`learner-${me}`);
  log(`subject:  ${state.id.subject}`);
  log(`issuer:   ${state.id.issuer}`);
  log(`serial:   ${state.id.serial}`);
  log(`valid to: ${state.id.notAfter}`);
  log(`the chain the CA sent back: ${state.id.chainPEM.match(/BEGIN CERTIFICATE/g).length} certificates, ${state.id.chainPEM.length} characters of PEM`);
}
