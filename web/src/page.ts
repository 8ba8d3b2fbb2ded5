// The playground page: connection controls, messages, certificate checks and
// the trace view, all driving window.playground like any embedder would.
import type { Check, Connection, ConnectError, ConnectOptions, Playground, TraceEvent } from "./playground.d";
import { UPDATE_EVENT, type UpdateDetail } from "./playground";
import { TraceView } from "./traceview";
import { parseHash, writeHash } from "./links";
import { brokerRecording, download, downloadSession, stamp } from "./session";
import { clear, h } from "./dom";

function $(id: string): HTMLElement | null {
  return document.querySelector(`[data-testid="${id}"]`);
}

function value(id: string): string {
  return ($(id) as HTMLInputElement | HTMLSelectElement | null)?.value ?? "";
}

/** A connection as the page may see it once the pcapng export lands in the API. */
type WithPcapng = Connection & { pcapng?: () => Uint8Array };

function hasPcapng(c: Connection | undefined): c is WithPcapng & { pcapng: () => Uint8Array } {
  return typeof (c as WithPcapng | undefined)?.pcapng === "function";
}

export function mountPage(pg: Playground): void {
  const traceRoot = $("trace");
  if (!traceRoot || !$("status")) return; // embedded use: no page UI
  const view = new TraceView(traceRoot, { onSelect: (t) => writeHash(t) });
  const status = $("status")!;
  const messages = $("messages")!;
  const checks = $("checks")!;
  let current: Connection | undefined;
  let shown: Connection | undefined;

  const setStatus = (text: string, kind: "ok" | "bad" | "busy" = "ok") => {
    status.textContent = text;
    status.className = `status ${kind}`;
  };
  const pcapButton = h("button", { type: "button", "data-testid": "download-pcapng", hidden: true, title: "the connection as a capture file for Wireshark, with its TLS keys" }, "Download .pcapng");
  const exportButton = h("button", { type: "button", "data-testid": "export-session", hidden: true, title: "both ends' raw recordings, for /replay" }, "Export session JSON");
  view.toolbar.append(pcapButton, exportButton);
  const show = (c: Connection | undefined, events?: TraceEvent[]) => {
    shown = c;
    view.update(events ?? c?.trace() ?? []);
    renderChecks(checks, c?.checks() ?? []);
    pcapButton.hidden = !hasPcapng(c);
    exportButton.hidden = !c;
  };
  // Deep links: #event=client-5&field=random selects as soon as the event exists.
  const followHash = () => view.show(parseHash());
  followHash();
  window.addEventListener("hashchange", followHash);
  window.addEventListener(UPDATE_EVENT, (e) => show((e as CustomEvent<UpdateDetail>).detail.conn));
  setInterval(() => shown && view.update(shown.trace()), 1500);

  pg.ready.then(
    () => setStatus("Go wasm client loaded: press Connect, or Run the demo."),
    (e: Error) => setStatus(e.message, "bad"),
  );
  pg.listeners().then((ls) => {
    const sel = $("listener") as HTMLSelectElement | null;
    if (!sel) return;
    clear(sel);
    for (const l of ls.filter((l) => l.tunnel)) {
      sel.append(h("option", { value: l.name, selected: l.name === "mqtts" }, `${l.name}${l.addr ? ` (${l.addr})` : ""}${l.lesson ? " – lesson" : ""}${l.upstream ? " – your broker" : ""}`));
    }
  });

  const opts = (): ConnectOptions => ({
    listener: value("listener") || "mqtts",
    clientId: value("client-id") || undefined,
    username: value("username") || undefined,
    password: value("password") || undefined,
    mqttVersion: value("mqtt-version") === "4" ? 4 : 5,
  });

  const logMessage = (topic: string, payload: string) => {
    messages.prepend(h("li", { "data-testid": "message" }, h("code", {}, topic), " ", payload));
  };

  const receive = async (c: Connection) => {
    while (current === c) {
      try {
        const m = await c.nextMessage(60000);
        logMessage(m.topic, m.payload);
      } catch (e) {
        if (current !== c || !/timeout/.test(String(e))) break;
      }
    }
  };

  const connect = async (): Promise<Connection | undefined> => {
    if (current) await disconnect();
    setStatus("Connecting: TLS handshake inside your browser…", "busy");
    const t0 = performance.now();
    try {
      const c = await pg.connect(opts());
      current = c;
      const info = c.tlsInfo();
      const ms = (performance.now() - t0).toFixed(0);
      setStatus(info ? `Connected to ${c.listener} in ${ms} ms: ${info.version}, ${info.cipherSuite}${info.group ? `, ${info.group}` : ""}${info.resumed ? ", resumed" : ""}` : `Connected to ${c.listener} in ${ms} ms without TLS: everything travels in clear.`);
      return c;
    } catch (e) {
      const err = e as ConnectError;
      setStatus(err.message, "bad");
      show(undefined, err.trace);
      return undefined;
    }
  };
  const disconnect = async () => {
    const c = current;
    current = undefined;
    if (c) await c.close().catch(() => {});
    setStatus("Disconnected.");
  };
  const act = async (what: () => Promise<unknown>) => {
    try {
      await what();
    } catch (e) {
      setStatus((e as Error).message, "bad");
    }
  };

  pcapButton.addEventListener("click", () =>
    act(async () => {
      if (!hasPcapng(shown)) throw new Error("this connection cannot be saved as pcapng");
      download(`mqtts-${shown.listener}-${stamp()}.pcapng`, shown.pcapng(), "application/x-pcapng");
    }),
  );
  exportButton.addEventListener("click", () =>
    act(async () => {
      const c = shown;
      if (!c) throw new Error("connect first");
      const broker = await brokerRecording(c.brokerKey());
      downloadSession({ client: c.recording(), broker }, `mqtts-session-${stamp()}`);
      setStatus(broker ? "Saved both ends' recordings: open the file at /replay to see them again." : "Saved the client's recording; the broker no longer has its side of this connection.");
    }),
  );

  $("connect")?.addEventListener("click", () => act(connect));
  $("disconnect")?.addEventListener("click", () => act(disconnect));
  $("subscribe")?.addEventListener("click", () =>
    act(async () => {
      if (!current) throw new Error("connect first");
      const c = current;
      const filter = value("filter") || "x/#";
      const q = await c.subscribe(filter, 1);
      setStatus(`Subscribed to ${filter} (granted QoS ${q}).`);
      receive(c);
    }),
  );
  $("publish")?.addEventListener("click", () =>
    act(async () => {
      if (!current) throw new Error("connect first");
      await current.publish(value("topic") || "x/hello", value("payload"), { qos: 1 });
      setStatus("Published.");
    }),
  );
  $("demo")?.addEventListener("click", () =>
    act(async () => {
      const c = await connect();
      if (!c) return;
      const filter = value("filter") || "x/#";
      await c.subscribe(filter, 1);
      await c.publish(value("topic") || "x/hello", value("payload") || "hello from the browser", { qos: 1 });
      receive(c);
      setStatus(`Demo done: connected over ${c.tlsInfo()?.version ?? "plain TCP"}, subscribed to ${filter}, published. Click the events below.`);
    }),
  );
}

function renderChecks(el: HTMLElement, cs: Check[]): void {
  clear(el);
  for (const c of cs) {
    el.append(h("li", { class: c.ok ? "ok" : "bad", "data-testid": "check", "data-ok": String(c.ok) }, h("b", {}, `${c.ok ? "✔" : "✘"} ${c.step}`), " ", c.detail));
  }
}
