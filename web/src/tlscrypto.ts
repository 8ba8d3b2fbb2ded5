// The TLS 1.3 key schedule's last step and record decryption, in the page,
// for the lesson that derives a connection's keys by hand (lessons/
// 13-tls-keys): HKDF-Expand-Label (RFC 8446 §7.1) with WebCrypto's HMAC,
// and the AEAD of the cipher suites — AES-GCM through WebCrypto, and
// ChaCha20-Poly1305 (RFC 8439), which WebCrypto lacks, written out here.
// Not for anything but reading a trace: nothing here is constant-time.

export function fromHex(h: string): Uint8Array {
  const b = new Uint8Array(h.length >> 1);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16);
  return b;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** HKDF-Expand-Label(secret, label, "", length) of RFC 8446 §7.1, with
 * hash "SHA-256" or "SHA-384"; hex in, hex out. */
export async function hkdfExpandLabel(secretHex: string, label: string, length: number, hash = "SHA-256"): Promise<string> {
  const full = new TextEncoder().encode("tls13 " + label);
  // struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel
  const info = concat(new Uint8Array([length >> 8, length & 0xff, full.length]), full, new Uint8Array([0]));
  const key = await crypto.subtle.importKey("raw", fromHex(secretHex) as BufferSource, { name: "HMAC", hash }, false, ["sign"]);
  // HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i).
  let t: Uint8Array = new Uint8Array(0);
  let out: Uint8Array = new Uint8Array(0);
  for (let i = 1; out.length < length; i++) {
    t = new Uint8Array(await crypto.subtle.sign("HMAC", key, concat(t, info, new Uint8Array([i])) as BufferSource));
    out = concat(out, t);
  }
  return toHex(out.slice(0, length));
}

// ---- ChaCha20 (RFC 8439 §2.3, §2.4) ----

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

function chachaBlock(key: Uint8Array, counter: number, nonce: Uint8Array): Uint8Array {
  const le = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  const s = new Uint32Array(16);
  s.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) s[4 + i] = le(key, 4 * i);
  s[12] = counter >>> 0;
  for (let i = 0; i < 3; i++) s[13 + i] = le(nonce, 4 * i);
  const w = s.slice();
  const qr = (a: number, b: number, c: number, d: number) => {
    w[a] += w[b]; w[d] = rotl(w[d] ^ w[a], 16);
    w[c] += w[d]; w[b] = rotl(w[b] ^ w[c], 12);
    w[a] += w[b]; w[d] = rotl(w[d] ^ w[a], 8);
    w[c] += w[d]; w[b] = rotl(w[b] ^ w[c], 7);
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const out = new Uint8Array(64);
  for (let i = 0; i < 16; i++) {
    const v = (w[i] + s[i]) >>> 0;
    out[4 * i] = v & 0xff;
    out[4 * i + 1] = (v >>> 8) & 0xff;
    out[4 * i + 2] = (v >>> 16) & 0xff;
    out[4 * i + 3] = v >>> 24;
  }
  return out;
}

function chacha20(key: Uint8Array, counter: number, nonce: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let j = 0; j < data.length; j += 64) {
    const ks = chachaBlock(key, counter + j / 64, nonce);
    for (let i = j; i < Math.min(j + 64, data.length); i++) out[i] = data[i] ^ ks[i - j];
  }
  return out;
}

// ---- Poly1305 (RFC 8439 §2.5), with BigInt ----

function leBig(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

function poly1305(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const p = (1n << 130n) - 5n;
  const r = leBig(key.slice(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leBig(key.slice(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.slice(i, i + 16);
    acc = ((acc + leBig(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  acc = (acc + s) & ((1n << 128n) - 1n);
  const tag = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    tag[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
  return tag;
}

function pad16(b: Uint8Array): Uint8Array {
  return b.length % 16 ? concat(b, new Uint8Array(16 - (b.length % 16))) : b;
}

function le64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function chachaPolyOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 16) throw new Error("aeadOpen: the record is shorter than its 16-byte tag");
  const ct = sealed.slice(0, sealed.length - 16);
  const tag = sealed.slice(sealed.length - 16);
  const polyKey = chachaBlock(key, 0, nonce).slice(0, 32);
  const want = poly1305(polyKey, concat(pad16(aad), pad16(ct), le64(aad.length), le64(ct.length)));
  if (want.some((x, i) => x !== tag[i])) throw new Error("aeadOpen: the authentication tag does not match: wrong key, nonce or header");
  return chacha20(key, 1, nonce, ct);
}

/** Opens (decrypts and checks) one record's ciphertext-and-tag with the
 * AEAD of a TLS 1.3 cipher suite (its IANA name); hex in, hex out. */
export async function aeadOpen(suite: string, keyHex: string, nonceHex: string, aadHex: string, sealedHex: string): Promise<string> {
  const key = fromHex(keyHex);
  const nonce = fromHex(nonceHex);
  const aad = fromHex(aadHex);
  const sealed = fromHex(sealedHex);
  if (suite.includes("CHACHA20_POLY1305")) return toHex(chachaPolyOpen(key, nonce, aad, sealed));
  if (suite.includes("_GCM_")) {
    const k = await crypto.subtle.importKey("raw", key as BufferSource, "AES-GCM", false, ["decrypt"]);
    const plain = await crypto.subtle
      .decrypt({ name: "AES-GCM", iv: nonce as BufferSource, additionalData: aad as BufferSource, tagLength: 128 }, k, sealed as BufferSource)
      .catch(() => {
        throw new Error("aeadOpen: the authentication tag does not match: wrong key, nonce or header");
      });
    return toHex(new Uint8Array(plain));
  }
  throw new Error(`aeadOpen: ${suite} is not a suite this page can open (AES-GCM and ChaCha20-Poly1305 only)`);
}
