import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const tls = {serverName: "localhost", resume: false};
  const kem = (state.kem = {
    // Go's default: the hybrid X25519MLKEM768 share plus a plain X25519 one.
    hybrid: await pg.measure({listener: "mqtts", clientId: `${me}-kem`, tls}),
    // tls.groups chooses what the client offers.
    classic: await pg.measure({listener: "mqtts", clientId: `${me}-kem`, tls: {...tls, groups: ["X25519"]}}, true),
  });
  conn = state.kem.classic.conn;
  for (const [k, r] of Object.entries(kem)) {
    log(`${k.padEnd(8)} ClientHello ${String(r.hello).padStart(5)}  ServerHello ${String(r.serverHello).padStart(5)}  handshake in all ${r.sent + r.received} bytes`);
  }
  log(`without ML-KEM: ${state.kem.hybrid.hello - state.kem.classic.hello} bytes less in the ClientHello, ${state.kem.hybrid.serverHello - state.kem.classic.serverHello} less in the ServerHello`);
}
