import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  state.identity = await pg.createIdentity(`${me}-sensor-0042`);
  log(`the page made a key and got a certificate: ${state.identity.subject}, serial ${state.identity.serial}, valid until ${state.identity.notAfter}`);
  conn = await pg.connect({listener: "mtls", clientId: `${me}-sensor-0042`, tls: {identity: state.identity.id}});
  state.device = conn;
  await pg.revokeIdentity(state.identity.id);
  const crl = new Uint8Array(await (await fetch("/pki/crl")).arrayBuffer());
  const crlHex = Array.from(crl, (b) => b.toString(16).padStart(2, "0")).join("");
  state.onCRL = crlHex.includes(state.identity.serial.toLowerCase());
  log(`revoked; the CRL (${crl.length} bytes, DER) lists the serial: ${state.onCRL}`);
  await conn.publish(`lesson/${me}/after-revoke`, "the open connection still works", {qos: 1});
  state.stillUp = conn.trace().some((e) => e.side === "client" && e.type === "PUBACK");
  log(`the open connection still publishes: ${state.stillUp}`);
  const again = await pg.attempt({listener: "mtls", clientId: `${me}-sensor-0042-again`, tls: {identity: state.identity.id, resume: false}});
  state.refused = again.ok ? "connected" : again.error;
  log(`a new handshake with the revoked certificate: ${state.refused}`);
}
