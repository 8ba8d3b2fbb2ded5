// The replay page (/replay?src=URL): a saved session, decoded again by the
// Go wasm client in this page and shown read-only, deep links included.
import type { Playground, Recording, TraceEvent } from "./playground.d";
import { TraceView } from "./traceview";
import { parseHash, writeHash } from "./links";
import { sessionParts } from "./session";

function $(id: string): HTMLElement | null {
  return document.querySelector(`[data-testid="${id}"]`);
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

  /** Decodes what was loaded and shows it. */
  const show = async (text: string, from: string) => {
    let parts;
    try {
      parts = sessionParts(JSON.parse(text));
    } catch (e) {
      fail(`${from} is not a saved session: ${e instanceof SyntaxError ? "it is not JSON" : (e as Error).message}.`);
      return;
    }
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
    setStatus(`${counts.join(" and ")} from ${from}${firstChunk ? `, recorded ${new Date(firstChunk).toLocaleString()}` : ""}.`);
  };

  $("replay-file")?.addEventListener("change", async (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) await show(await f.text(), f.name);
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
