import type { Scope } from "../../web/src/scope";

export default async function ({ pg, log, state, conn }: Scope) {
  if (!state.keys) throw new Error("run step 1 first: this step uses the key log it read");
  // The suite fixes the AEAD, so the key length, and the hash (RFC 8446 Appendix B.4).
  const suite = conn.tlsInfo()?.cipherSuite ?? "";
  const keyLength = suite.includes("AES_128") ? 16 : 32;
  const hash = suite.endsWith("SHA384") ? "SHA-384" : "SHA-256";
  const secret = state.keys.SERVER_HANDSHAKE_TRAFFIC_SECRET;
  // RFC 8446 §7.3: key = HKDF-Expand-Label(secret, "key", "", key length),
  //                iv  = HKDF-Expand-Label(secret, "iv", "", 12).
  state.server = {
    suite,
    key: await pg.hkdfExpandLabel(secret, "key", keyLength, hash),
    iv: await pg.hkdfExpandLabel(secret, "iv", 12, hash),
  };
  log(`${suite}: a ${keyLength}-byte key, a 12-byte IV, ${hash}`);
  log(`server handshake key: ${state.server.key}`);
  log(`server handshake IV:  ${state.server.iv}`);
}
