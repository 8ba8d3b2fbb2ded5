import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // Exercise: make this connection to wrong-host verify. Its certificate is
  // sound and names one host, wrong-host.invalid; the client asks for
  // another. Change what the client asks for, not what it checks.
  const r = await pg.attempt({listener: "wrong-host", clientId: `${me}-right-name`,
    tls: {serverName: "localhost", resume: false}});
  conn = r.conn;
  state.fixed = r.ok;
  log(r.ok ? "connected, with every check passed" : `refused: ${r.error}`);
}
