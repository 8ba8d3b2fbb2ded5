// The replay page (/replay?src=URL): a saved session, decoded again by the
// Go wasm client in this page and shown read-only, deep links included.
import type { Playground, Recording, TraceEvent } from "./playground.d";
import { TraceView } from "./traceview";
import { parseHash, writeHash } from "./links";
import { sessionParts, type Part } from "./session";
import { embedded } from "./embed";

function $(id: string): HTMLElement | null {
  return document.querySelector(`[data-testid="${id}"]`);
}

/** Says where the session comes from, and embedded (?embed=1) shows it
 * alone: what the server's page does for ?src= (server/pages/replay.templ)
 * when the page is the same file for every query (the static build). */
function showSrc(src: string): void {
  const panel = $("replay");
  if (!panel) return;
  const p = document.createElement("p");
  p.className = "src";
  const code = document.createElement("code");
  code.dataset.testid = "replay-src";
  code.textContent = src;
  p.append("From ", code);
  panel.querySelector("h2")?.after(p);
  if (!embedded()) return;
  for (const el of panel.querySelectorAll<HTMLElement>('form, label[for="replay-file"], #replay-file, p.hint')) el.hidden = true;
}

/**
 * Resolves the src parameter: an http(s) URL or a path relative to this
 * page. Anything else (javascript:, data:, file: …) is refused.
 */
export function checkSrc(src: string, base: string = location.href): URL {
  const s = src.trim();
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
  if (scheme && !/^https?$/i.test(scheme[1])) throw new Error(`src must be an http(s) URL or a path on this server, not a ${scheme[1]}: URL`);
  const u = new URL(s, base);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`src must be an http(s) URL or a path on this server, not ${u.protocol}`);
  return u;
}

export function mountReplay(pg: Playground): void {
  const status = $("replay-status");
  const errorEl = $("replay-error");
  // A saved session: today's network says nothing about its round trips.
  const view = new TraceView($("trace")!, { lanes: { client: "client", broker: "broker" }, onSelect: (t) => writeHash(t), networkMs: () => undefined });
  view.toolbar.hidden = true;
  const setStatus = (text: string, kind: "ok" | "bad" | "busy" = "ok") => {
    if (!status) return;
    status.textContent = text;
    status.className = `status ${kind}`;
  };
  const fail = (text: string) => {
    if (errorEl) {
      errorEl.textContent = text;
      errorEl.hidden = false;
    }
    setStatus("Nothing to show.", "bad");
  };
  const followHash = () => view.show(parseHash());
  window.addEventListener("hashchange", followHash);

  /** Decodes the parts of a session and shows them; note is said beside. */
  const showParts = async (parts: Part[], from: string, note = "") => {
    if (errorEl) errorEl.hidden = true;
    setStatus("Decoding with the Go wasm client…", "busy");
    const events: TraceEvent[] = [];
    const counts: string[] = [];
    try {
      for (const p of parts) {
        const evs = p.events ?? (await pg.decode(p.recording as Recording)).map((e) => ({ ...e, side: p.side }));
        events.push(...evs);
        counts.push(`${evs.length} ${p.side} events`);
      }
    } catch (e) {
      fail(`Could not decode ${from}: ${(e as Error).message ?? e}`);
      return;
    }
    view.update(events);
    followHash();
    const firstChunk = parts.map((p) => p.recording?.chunks[0]?.time).find(Boolean);
    setStatus(`${counts.join(" and ")} from ${from}${firstChunk ? `, recorded ${new Date(firstChunk).toLocaleString()}` : ""}.${note ? ` ${note}` : ""}`);
    return events;
  };

  /** Decodes a saved session's JSON and shows it. */
  const show = async (text: string, from: string) => {
    let parts;
    try {
      parts = sessionParts(JSON.parse(text));
    } catch (e) {
      fail(`${from} is not a saved session: ${e instanceof SyntaxError ? "it is not JSON" : (e as Error).message}.`);
      return;
    }
    await showParts(parts, from);
  };

  /** Opens files a person chose or dropped: a session, or a capture and its key log. */
  const openFiles = async (files: File[]) => {
    let picked: LocalFiles;
    try {
      picked = await sortFiles(files);
    } catch (e) {
      fail((e as Error).message);
      return;
    }
    if (picked.session) {
      await show(picked.session.text, picked.session.name);
      return;
    }
    const cap = picked.capture!;
    setStatus(`Reading ${cap.name} in this page…`, "busy");
    let rec: Recording;
    try {
      rec = await pg.readCapture(cap.bytes, picked.keylogs.map((k) => k.text).join("\n"));
    } catch (e) {
      fail(`Could not read ${cap.name}: ${(e as Error).message ?? e}`);
      return;
    }
    if (!rec.chunks.length) {
      fail(`${cap.name} holds no TCP connection: capture the MQTT connection itself, for example tcpdump -i any -w mqtt.pcap port 8883.`);
      return;
    }
    const with_ = picked.keylogs.length ? `, secrets from ${picked.keylogs.map((k) => k.name).join(" and ")}` : rec.keylog ? ", secrets embedded" : "";
    const events = await showParts([{ side: "client", recording: rec }], cap.name + with_, "Read in this browser; nothing was uploaded.");
    if (!events) return;
    const sealed = events.filter((e) => e.encrypted && e.error?.startsWith("not decrypted"));
    if (sealed.length && errorEl) {
      errorEl.textContent = rec.keylog
        ? `${sealed.length} encrypted records could not be decrypted (${sealed[0].error}): is the key log from the same session as the capture?`
        : `${sealed.length} records stay encrypted: ${cap.name} holds no TLS secrets (no Decryption Secrets Block) and no key log was given. ` +
          `Drop the key log (SSLKEYLOGFILE) written during the capture together with ${cap.name}.`;
      errorEl.hidden = false;
    }
  };

  $("replay-file")?.addEventListener("change", async (ev) => {
    const files = [...((ev.target as HTMLInputElement).files ?? [])];
    if (files.length) await openFiles(files);
  });
  const zone = $("replay");
  zone?.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("drop");
  });
  zone?.addEventListener("dragleave", () => zone.classList.remove("drop"));
  zone?.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("drop");
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) await openFiles(files);
  });

  if (errorEl && errorEl.textContent?.trim()) {
    // The server already refused src.
    errorEl.hidden = false;
    setStatus("Nothing to show.", "bad");
    return;
  }
  const src = new URLSearchParams(location.search).get("src");
  if (!src) {
    setStatus("Give a session to replay: ?src=URL of an exported session JSON (or a recording), or open a file below.");
    return;
  }
  if (!$("replay-src")) showSrc(src);
  let url: URL;
  try {
    url = checkSrc(src);
  } catch (e) {
    fail((e as Error).message);
    return;
  }
  setStatus(`Loading ${src}…`, "busy");
  (async () => {
    let r: Response;
    try {
      r = await fetch(url, { credentials: url.origin === location.origin ? "same-origin" : "omit" });
    } catch {
      fail(
        url.origin === location.origin
          ? `Could not load ${src}: the server did not answer.`
          : `Could not load ${src}: the server did not answer, or it does not let this page read it (no CORS header). Download the file and open it below instead.`,
      );
      return;
    }
    if (!r.ok) {
      fail(`Could not load ${src}: the server answered ${r.status}${r.statusText ? ` ${r.statusText}` : ""}.`);
      return;
    }
    await show(await r.text(), src);
  })();
}

/** A file read in the page. */
interface LocalFile {
  name: string;
  bytes: Uint8Array;
  text: string;
}

/** What a set of chosen files holds: a session, or a capture and key logs. */
export interface LocalFiles {
  session?: LocalFile;
  capture?: LocalFile;
  keylogs: LocalFile[];
}

/** A line of the NSS key log format, as SSLKEYLOGFILE writes it. */
const KEYLOG_LINE = /^(CLIENT_RANDOM|CLIENT_EARLY_TRAFFIC_SECRET|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EARLY_EXPORTER_SECRET|EXPORTER_SECRET) [0-9a-fA-F]+ [0-9a-fA-F]+\s*$/m;

/** What a file is, from its first bytes: never from its name alone. */
export function fileKind(bytes: Uint8Array, text: string): "pcapng" | "pcap" | "session" | "keylog" | "unknown" {
  const u32 = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4) : undefined;
  if (u32 && u32.getUint32(0) === 0x0a0d0d0a) return "pcapng";
  for (const le of [true, false]) if (u32 && [0xa1b2c3d4, 0xa1b23c4d].includes(u32.getUint32(0, le))) return "pcap";
  if (/^\s*[[{]/.test(text)) return "session";
  if (KEYLOG_LINE.test(text)) return "keylog";
  return "unknown";
}

/** Reads and sorts chosen files; throws an Error that says what is wrong or missing. */
export async function sortFiles(files: File[]): Promise<LocalFiles> {
  const out: LocalFiles = { keylogs: [] };
  const captures: LocalFile[] = [];
  const sessions: LocalFile[] = [];
  for (const f of files) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    const text = new TextDecoder().decode(bytes.subarray(0, 1 << 20));
    const file = { name: f.name, bytes, text: "" };
    switch (fileKind(bytes, text)) {
      case "pcapng":
      case "pcap":
        captures.push(file);
        break;
      case "session":
        sessions.push({ ...file, text: new TextDecoder().decode(bytes) });
        break;
      case "keylog":
        out.keylogs.push({ ...file, text: new TextDecoder().decode(bytes) });
        break;
      default:
        throw new Error(
          `${f.name} is neither a capture (.pcap or .pcapng, from tcpdump or Wireshark), a TLS key log (SSLKEYLOGFILE: lines like CLIENT_RANDOM … or CLIENT_TRAFFIC_SECRET_0 …) nor a saved session (.json).`,
        );
    }
  }
  if (sessions.length + captures.length > 1) throw new Error("Open one session or one capture at a time (with its key log).");
  if (sessions.length) {
    if (out.keylogs.length) throw new Error(`A saved session carries its own secrets: open ${sessions[0].name} alone.`);
    out.session = sessions[0];
    return out;
  }
  if (!captures.length) {
    throw new Error(`${out.keylogs.map((k) => k.name).join(", ")}: a TLS key log alone shows nothing; choose it together with the capture (.pcap or .pcapng) it decrypts.`);
  }
  out.capture = captures[0];
  return out;
}
