// The certificate chain of a Certificate message, from the facts the trace
// decoder gives as data (event.certs, trace/tlswire/certinfo.go): no text
// of the fields is read back.
import type { CertInfo, Field, TraceEvent } from "./playground.d";
import { timeMs } from "./align";

export interface Cert extends CertInfo {
  /** The cert_data field: where the certificate's bytes are. */
  fieldRef: Field;
  /** 1-based among the event's fields of that name, for deep links. */
  nth: number;
}

/** The certificates of a Certificate event, in the order they were sent (leaf first). */
export function certificates(e: TraceEvent): Cert[] {
  return (e.certs ?? [])
    .filter((c) => e.fields[c.field] !== undefined)
    .map((c, i) => ({ ...c, fieldRef: e.fields[c.field], nth: i + 1 }));
}

/** The short name of a certificate's subject or issuer: its common name, or the whole name without one. */
export function shortName(cn: string | undefined, dn: string): string {
  return cn || dn || "(no name)";
}

export type Validity = "valid" | "expired" | "not yet valid" | "unknown";

/** Whether the certificate was valid at time t (ms since the epoch). */
export function validity(c: CertInfo, t: number): Validity {
  if (c.error) return "unknown";
  const nb = timeMs(c.notBefore);
  const na = timeMs(c.notAfter);
  if (isNaN(nb) || isNaN(na)) return "unknown";
  if (t < nb) return "not yet valid";
  if (t > na) return "expired";
  return "valid";
}
