// The broker view (/trace): the broker's recent connections, live, and the
// events of the one picked, as the broker recorded them. Everything comes
// from the trace API (backend.ts): GET /trace/{id} and the server-sent
// events of /trace/stream, or in the static build the broker in this page.
import type { Playground, Recording, TraceEvent } from "./playground.d";
import type { ConnInfo, ConnTrace } from "./gen/broker";
import { backend } from "./backend";
import { TraceView } from "./traceview";
import { parseHash, writeHash } from "./links";
import { brokerRecording, downloadSession } from "./session";
import { clear, h } from "./dom";

function $(id: string): HTMLElement | null {
  return document.querySelector(`[data-testid="${id}"]`);
}

function clock(t: string | undefined): string {
  if (!t) return "";
  const d = new Date(t);
  return isNaN(d.getTime()) ? "" : d.toLocaleTimeString();
}

function state(c: ConnInfo): string {
  if (!c.ended) return "open";
  return c.error ? `ended: ${c.error}` : "ended";
}

/** The filters of the page's own URL the list keeps (/trace?attendee=ID:
 * the instructor following one attendee), as a query string. */
export function listFilter(search: string): string {
  const from = new URLSearchParams(search);
  const keep = new URLSearchParams();
  for (const k of ["attendee", "listener", "client", "outcome"]) {
    const v = from.get(k);
    if (v) keep.set(k, v);
  }
  return keep.toString();
}

export function mountTracePage(pg: Playground): void {
  const filter = listFilter(location.search);
  const listEl = $("conn-list")!;
  const status = $("trace-status");
  const title = $("conn-title");
  let conns: ConnInfo[] = [];
  let openId: string | undefined;
  let events: TraceEvent[] = [];
  let stopFeed: (() => void) | undefined;
  const be = backend();
  let opening = 0;

  const view = new TraceView($("trace")!, {
    lanes: { client: "client (not recorded here)", broker: be.mode === "static" ? "broker (in this page)" : "broker (this server)" },
    emptyText: "Pick a connection to see its messages.",
    onSelect: (t) => writeHash({ conn: openId, ...t }),
  });
  const setStatus = (text: string, kind: "ok" | "bad" | "busy" = "ok") => {
    if (!status) return;
    status.textContent = text;
    status.className = `status ${kind}`;
  };

  const pcap = h("a", { class: "button", "data-testid": "download-pcapng", hidden: true, download: "" }, "Download .pcapng");
  const replay = h("a", { class: "button", "data-testid": "open-replay", hidden: true, title: "a page of this recording that you can link to" }, "Open as replay");
  const exportButton = h(
    "button",
    {
      type: "button",
      "data-testid": "export-session",
      hidden: true,
      onclick: async () => {
        if (!openId) return;
        const broker: Recording | null = await brokerRecording(openId);
        if (!broker) {
          setStatus(`The broker no longer has connection ${openId}.`, "bad");
          return;
        }
        downloadSession({ client: null, broker }, `mqtts-broker-${openId}`);
      },
    },
    "Export session JSON",
  );
  view.toolbar.append(pcap, exportButton, replay);

  const renderList = () => {
    clear(listEl);
    if (!conns.length) {
      listEl.append(
        h(
          "li",
          { class: "hint" },
          be.mode === "static"
            ? "No connections yet. In the static build every page runs a broker of its own: this view shows the connections made by this page's broker (the playground and the lesson pages show theirs in their own trace panels)."
            : "No connections yet. Run the demo on the playground page, or connect a device: they show up here as they happen.",
        ),
      );
      return;
    }
    for (const c of [...conns].reverse()) {
      const on = c.id === openId;
      listEl.append(
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: `conn${on ? " sel" : ""}${c.ended ? " ended" : ""}${c.error ? " bad" : ""}`,
              "data-testid": "conn",
              "data-id": c.id,
              "data-client-id": c.clientId ?? "",
              "aria-pressed": String(on),
              onclick: () => open(c.id),
            },
            h("span", { class: "conn-top" }, h("b", {}, c.id), " ", h("span", { class: "cid" }, c.clientId ? c.clientId : "(no client id yet)")),
            h("span", { class: "conn-meta" }, `${c.listener} · ${c.remote || "tunnel"} · ${c.tlsVersion ? `${c.tlsVersion}${c.resumed ? " resumed" : ""}` : "no TLS"}${c.peerCN ? ` · cert ${c.peerCN}` : ""}`),
            h("span", { class: "conn-meta" }, `${clock(c.started)} · `, h("span", { class: `state ${c.ended ? (c.error ? "bad" : "ended") : "open"}`, "data-testid": "conn-state" }, state(c))),
          ),
        ),
      );
    }
  };

  const showInfo = (c: ConnInfo | undefined) => {
    if (title) title.textContent = c ? `Connection ${c.id}${c.clientId ? ` · ${c.clientId}` : ""}` : "Trace";
    const id = c?.id;
    exportButton.hidden = !id;
    // Files only the server makes: none in the static build.
    const pcapURL = id ? be.pcapngURL(id) : undefined;
    const replayURL = id ? be.replayURL(id) : undefined;
    pcap.hidden = !pcapURL;
    replay.hidden = !replayURL;
    if (pcapURL) pcap.setAttribute("href", pcapURL);
    if (replayURL) replay.setAttribute("href", replayURL);
  };

  const follow = (what: { conn?: string; after?: number }) => {
    stopFeed?.();
    stopFeed = be.follow(
      { ...what, filter },
      {
        connections: (list) => {
          conns = list;
          renderList();
          if (!openId) setStatus(`Live: ${conns.length} recent connection${conns.length === 1 ? "" : "s"}.`);
        },
        events: (t: ConnTrace) => {
          if (t.connection.id !== openId) return;
          // After a reconnect the feed may repeat events: keep the new ones.
          const last = events.length ? events[events.length - 1].seq : 0;
          const fresh = t.events.filter((e) => e.seq > last);
          showInfo(t.connection);
          if (!fresh.length) return;
          events = [...events, ...fresh];
          view.update(events);
          setStatus(`Following ${t.connection.id} live: ${events.length} events.`);
        },
        error: (err) =>
          err
            ? setStatus(`The broker view stopped: ${err.message}`, "bad")
            : setStatus("The live feed stopped; the browser tries again by itself.", "busy"),
      },
    );
  };

  const open = async (id: string, target = parseHash()) => {
    const ticket = ++opening;
    openId = id;
    renderList();
    setStatus(`Loading ${id}…`, "busy");
    let t: ConnTrace;
    try {
      t = await be.conn(id);
    } catch (e) {
      if (ticket !== opening) return;
      setStatus((e as Error).message || `Could not load ${id}.`, "bad");
      openId = undefined;
      events = [];
      view.update(events);
      showInfo(undefined);
      renderList();
      follow({});
      return;
    }
    if (ticket !== opening) return;
    events = t.events ?? [];
    showInfo(t.connection);
    view.update(events);
    writeHash(target.conn === id ? target : { conn: id });
    if (target.conn === id) view.show(target);
    setStatus(`${id}: ${events.length} events${t.connection.ended ? "" : "; following it live"}.`);
    follow({ conn: id, after: events.length });
  };

  const followHash = () => {
    const t = parseHash();
    if (t.conn && t.conn !== openId) open(t.conn, t);
    else view.show(t);
  };
  window.addEventListener("hashchange", followHash);
  if (be.mode === "static") {
    // This page's broker has only the connections this page makes.
    const demo = h(
      "button",
      {
        type: "button",
        "data-testid": "static-demo",
        onclick: async () => {
          demo.disabled = true;
          setStatus("Connecting to the broker in this page…", "busy");
          try {
            const c = await pg.connect({ listener: "mqtts" });
            await c.subscribe("x/#");
            await c.publish("x/hello", "hello from the broker view");
            await c.nextMessage();
            await c.close();
            setStatus(`Made connection ${c.brokerKey()}: pick it on the left.`);
          } catch (e) {
            setStatus(`The connection failed: ${(e as Error).message}`, "bad");
          } finally {
            demo.disabled = false;
          }
        },
      },
      "Make a connection in this page",
    );
    listEl.before(h("div", { class: "buttons" }, demo));
  }
  renderList();
  // The feed only speaks when the list changes: start from the list as it is.
  be.connections(filter)
    .then(
      (l) => {
        if (!conns.length) conns = l;
        renderList();
        if (!openId) setStatus(`Live: ${conns.length} recent connection${conns.length === 1 ? "" : "s"}.`);
      },
      (e: Error) => setStatus(`Could not list the connections: ${e.message}`, "bad"),
    );
  const first = parseHash();
  if (first.conn) open(first.conn, first);
  else follow({});
}
