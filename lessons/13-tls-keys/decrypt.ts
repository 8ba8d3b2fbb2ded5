import type { Scope } from "../../web/src/scope";

export default async function ({ pg, log, state, conn }: Scope) {
  if (!state.server) throw new Error("run step 2 first: this step uses the key it derived");
  // The first record the broker encrypted, as it crossed the wire.
  const record = pg.findAll(conn, {side: "client", dir: "recv"}).find((e) => e.encrypted);
  const wire = record?.bytes ?? "";
  const header = wire.slice(0, 10); // 5 bytes: type 23, version 0x0303, length
  const sealed = wire.slice(10);    // the ciphertext, then a 16-byte tag
  // The nonce is the IV XORed with the record's number under this key
  // (RFC 8446 §5.3). This is record 0, so the nonce is the IV itself.
  const nonce = state.server.iv;
  // The header is the additional data: the tag covers it too.
  const inner = await pg.aeadOpen(state.server.suite, state.server.key, nonce, header, sealed);
  // TLSInnerPlaintext (§5.2): the content, one byte of real content type,
  // then zeros of padding.
  const unpadded = inner.replace(/(00)*$/, "");
  state.contentType = parseInt(unpadded.slice(-2), 16);
  state.content = unpadded.slice(0, -2);
  state.traceShows = record?.plain ?? "";
  log(`record on the wire: ${header} ${sealed.slice(0, 24)}… (${wire.length / 2} bytes)`);
  log(`opened: ${state.content} + content type ${state.contentType} (${state.contentType === 22 ? "handshake" : "?"})`);
  log(`first byte ${state.content.slice(0, 2)}: handshake message type ${parseInt(state.content.slice(0, 2), 16)}, ${record?.type}`);
}
