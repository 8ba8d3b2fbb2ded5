// The certificate chain of a Certificate message, read from the fields the
// trace decoder writes (trace/tlswire/certificate.go): one "cert_data" field per
// certificate, with the parts of the certificate one level deeper.
import type { Field, TraceEvent } from "./playground.d";
import { timeMs } from "./align";

export interface Cert {
  /** The cert_data field: where the certificate's bytes are. */
  field: Field;
  /** 1-based among the event's fields of that name, for deep links. */
  nth: number;
  subject: string;
  issuer: string;
  notBefore?: string;
  notAfter?: string;
  names?: string;
  key?: string;
  signature?: string;
  fingerprint?: string;
  serial?: string;
  ca?: string;
}

/** The certificates of a Certificate event, in the order they were sent (leaf first). */
export function certificates(e: TraceEvent): Cert[] {
  const out: Cert[] = [];
  const fs = e.fields;
  let nth = 0;
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i];
    if (f.name !== "cert_data") continue;
    nth++;
    const depth = f.depth ?? 0;
    const c: Cert = { field: f, nth, subject: "", issuer: "" };
    for (let j = i + 1; j < fs.length && (fs[j].depth ?? 0) > depth; j++) {
      const g = fs[j];
      switch (g.name) {
        case "subject":
          c.subject = g.value;
          break;
        case "issuer":
          c.issuer = g.value;
          break;
        case "notBefore":
          c.notBefore = g.value;
          break;
        case "notAfter":
          c.notAfter = g.value;
          break;
        case "subjectAltName":
          c.names = g.value;
          break;
        case "subjectPublicKeyInfo":
          c.key = g.value;
          break;
        case "signatureAlgorithm":
          c.signature = g.value;
          break;
        case "SHA-256 fingerprint":
          c.fingerprint = g.value;
          break;
        case "serialNumber":
          c.serial = g.value;
          break;
        case "basicConstraints":
          c.ca = g.value;
          break;
      }
    }
    if (!c.subject) {
      // No parsed parts: fall back on "X issued by Y".
      const m = /^(.*) issued by (.*)$/.exec(f.value);
      if (m) [c.subject, c.issuer] = [m[1], m[2]];
      else c.subject = f.value;
    }
    out.push(c);
  }
  return out;
}

/** The common name of a distinguished name, or the whole name without one. */
export function commonName(dn: string): string {
  const m = /(?:^|,)\s*CN=((?:\\.|[^,])*)/.exec(dn);
  return m ? m[1].replace(/\\(.)/g, "$1") : dn;
}

export type Validity = "valid" | "expired" | "not yet valid" | "unknown";

/** Whether the certificate was valid at time t (ms since the epoch). */
export function validity(c: Cert, t: number): Validity {
  const nb = c.notBefore ? timeMs(c.notBefore) : NaN;
  const na = c.notAfter ? timeMs(c.notAfter) : NaN;
  if (isNaN(nb) || isNaN(na)) return "unknown";
  if (t < nb) return "not yet valid";
  if (t > na) return "expired";
  return "valid";
}
