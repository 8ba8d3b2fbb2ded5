import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, hex, conn }: Scope) {
  if (!crypto.subtle) throw new Error("WebCrypto needs a secure context: open this page over https:// or via localhost");
  const enc = new TextEncoder();
  const key = await crypto.subtle.generateKey({name: "AES-GCM", length: 256}, false, ["encrypt", "decrypt"]);
  const topic = `lesson/${me}/valve`;
  state.secret = "valve 7: open at 06:00";
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({name: "AES-GCM", iv, additionalData: enc.encode(topic)}, key, enc.encode(state.secret)));
  const payload = btoa(String.fromCharCode(...iv, ...sealed)); // text, so it survives as a string payload
  log(`plaintext ${state.secret.length} bytes → nonce 12 + ciphertext ${sealed.length - 16} + tag 16 = ${iv.length + sealed.length} bytes, ${payload.length} in base64`);
  conn = await pg.connect({listener: "mqtt", clientId: `${me}-e2e`});
  await conn.subscribe(topic, 1);
  await conn.publish(topic, payload, {qos: 1});
  const got = Uint8Array.from(atob((await conn.nextMessage(3000)).payload), (c) => c.charCodeAt(0));
  const open = (aad = "") => crypto.subtle.decrypt({name: "AES-GCM", iv: got.slice(0, 12), additionalData: enc.encode(aad)}, key, got.slice(12));
  state.decrypted = new TextDecoder().decode(await open(topic));
  log(`the subscriber decrypts: "${state.decrypted}"`);
  state.movedFails = await open(`lesson/${me}/other`).then(() => false, () => true);
  log(`the same message moved to another topic fails to decrypt: ${state.movedFails}`);
  const tap = await pg.brokerSaw(conn, "PUBLISH", "recv");
  state.tapSawSecret = tap.some((e) => e.bytes.includes(hex(state.secret)));
  state.tapSawCiphertext = tap.some((e) => e.type === "PUBLISH" && e.bytes.includes(hex(payload)));
  log(`the broker's tap: ciphertext seen ${state.tapSawCiphertext}, plaintext seen ${state.tapSawSecret}`);
}
