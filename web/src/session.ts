// Saving and loading sessions: the raw recordings of both ends of one
// connection, as "Export session JSON" writes them and /replay reads them.
import type { Recording, TraceEvent } from "./playground.d";
import { h } from "./dom";
import { backend } from "./backend";

/** What "Export session JSON" saves: each end's recording, or null when that end is not known. */
export interface Session {
  client: Recording | null;
  broker: Recording | null;
}

/** Offers bytes or text as a file download. */
export function download(name: string, data: string | Uint8Array, type: string): void {
  const part: BlobPart = typeof data === "string" ? data : new Uint8Array(data);
  const url = URL.createObjectURL(new Blob([part], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** The broker's recording of a connection (GET /trace/{key}/recording), or null when the broker has none. */
export function brokerRecording(key: string): Promise<Recording | null> {
  return backend().recording(key);
}

/** What the broker recorded about the connection it names key (GET
 * /trace/{key}): why it ended, in plain words, as its log says; "" when it
 * has no such connection or no error. */
export async function brokerSaid(key: string): Promise<string> {
  if (!key) return "";
  return backend().conn(key).then(
    (t) => t.connection.error ?? "",
    () => "",
  );
}

export function downloadSession(s: Session, name: string): void {
  download(`${name}.json`, JSON.stringify(s, null, 1), "application/json");
}

/** A file name part for now: 2026-11-25-205353. */
export function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function isRecording(v: unknown): v is Recording {
  return typeof v === "object" && v !== null && Array.isArray((v as Recording).chunks);
}

function isEvents(v: unknown): v is TraceEvent[] {
  return Array.isArray(v) && v.every((e) => typeof e === "object" && e !== null && "seq" in e && "side" in e && "fields" in e);
}

/** One end of a loaded session: a recording to decode, or events decoded already. */
export type Part = { side: "client" | "broker"; recording?: Recording; events?: TraceEvent[] };

/**
 * Reads what /replay was given: a session export ({client, broker}), a single
 * recording ({side, chunks, …}), or an export whose ends are already decoded
 * events ({client: [...], broker: [...]}, with clientRecording/brokerRecording).
 */
export function sessionParts(v: unknown): Part[] {
  if (isRecording(v)) return [{ side: v.side === "broker" ? "broker" : "client", recording: v }];
  if (typeof v !== "object" || v === null) throw new Error("the file holds no session: expected {client, broker} or a recording");
  const o = v as Record<string, unknown>;
  const parts: Part[] = [];
  for (const side of ["client", "broker"] as const) {
    const x = o[side];
    const rec = o[`${side}Recording`];
    if (isRecording(x)) parts.push({ side, recording: { ...x, side } });
    else if (isRecording(rec)) parts.push({ side, recording: { ...rec, side } });
    else if (isEvents(x)) parts.push({ side, events: x });
    else if (x !== undefined && x !== null) throw new Error(`the "${side}" part is neither a recording nor a list of events`);
  }
  if (!parts.length) throw new Error("the file holds no session: expected {client, broker} with at least one recording, or a single recording");
  return parts;
}
