// The widget script (GET /widget.js): custom elements for other sites'
// pages, with no iframe.
//
//   <script src="https://playground.example.com/widget.js" defer></script>
//   <mqtts-trace src="session.json" event="client-1" field="random"></mqtts-trace>
//   <mqtts-connect listener="mqtts"></mqtts-connect>
//   <mqtts-lesson lesson="tls-basics" step="3"></mqtts-lesson>
//
// Each element draws in its own shadow root (the playground's stylesheet
// and a few rules of its own inside it): the host's styles do not reach in
// and ours do not leak out. Every element on the page shares one Go wasm
// client, fetched only when an element that needs it comes into view.
// The script talks to the playground it was loaded from; /tunnel accepts
// the host page only when the operator lists its origin (--allow-origin).
//
// Events, dispatched on the element (bubbling, composed):
//   mqtts-select    {event, field, nth}   the reader selected an event/field
//   mqtts-connected {listener, clientId}  <mqtts-connect> has a session
//   mqtts-step      {lesson, step, ...}   a <mqtts-lesson> frame's message
import "wasm_exec";
import { makePlayground, serverBase, UPDATE_EVENT, type UpdateDetail } from "./playground";
import { TraceView, SELECT_EVENT } from "./traceview";
import { sessionParts } from "./session";
import { checkSrc } from "./replay";
import { MESSAGE_SOURCE } from "./embed";
import type { Target } from "./links";
import type { Connection, Playground, TraceEvent } from "./playground.d";
import { h } from "./dom";

/** What the server puts before the bundle: where its assets are. */
declare const __mqttsAssets: { wasm: string; style: string } | undefined;

declare global {
  interface Window {
    __mqttsWidget?: boolean;
  }
}

/** Rules of the widget's own, beside the playground's stylesheet: the
 * page's variables on the host element, light or dark as the reader's
 * system prefers. */
const WIDGET_CSS = `
:host { all: initial; display: block; contain: content;
  --fg: #1d232a; --muted: #5c6773; --bg: #fbfaf7; --panel: #ffffff; --line: #dcd8cf;
  --tls: #2f5fb3; --mqtt: #23824a; --bad: #b3261e; --hl: #ffe28a;
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 15px; line-height: 1.4;
  color: var(--fg); background: var(--bg); color-scheme: light; }
@media (prefers-color-scheme: dark) {
  :host { --fg: #e6e9ee; --muted: #9aa5b1; --bg: #15181c; --panel: #1d2126; --line: #39404a;
    --tls: #8fb4ff; --mqtt: #6fd39a; --bad: #ff8a80; --hl: #6b5a1e; color-scheme: dark; }
  .trace-view, .panel, button, .detail { background: var(--panel); color: var(--fg); }
  button.primary { background: var(--tls); color: #10141a; }
  .hex, code, article.cert { background: #232830; color: var(--fg); }
  .byteinfo, .tag.rtt { background: #3a3320; color: #f3e3b0; }
  li.ev:hover { background: #242a31; }
  li.ev.sel { background: #26344a; }
  .tag.bad { background: #3b2323; }
  table.fields tr.sel { background: #2c4a75; }
}
:host([hidden]) { display: none; }
.w { border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
.w .seq-scroll { max-height: 24rem; }
.w .detail { max-height: 36rem; overflow: auto; }
.w-bar { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-bottom: .4rem; }
.w-status { font-size: .85rem; color: var(--muted); }
.w-error { color: var(--bad); font-size: .9rem; }
button:focus-visible, li.ev:focus-visible { outline: 2px solid var(--tls); outline-offset: 1px; }
iframe { width: 100%; border: 0; display: block; }
`;

const script = document.currentScript as HTMLScriptElement | null;
const base = serverBase(script);
const assets = typeof __mqttsAssets === "object" ? __mqttsAssets : { wasm: script?.dataset.wasm ?? "", style: script?.dataset.style ?? "" };
let shared: { api: Playground; start: () => Promise<void> } | undefined;

/** The page's one playground client, made (not yet loaded) on first use. */
function playground(): { api: Playground; start: () => Promise<void> } {
  shared ??= makePlayground(base, new URL(assets.wasm, base), true);
  return shared;
}

/** Calls f once el is (nearly) in view. */
function whenVisible(el: Element, f: () => void): void {
  const io = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        io.disconnect();
        f();
      }
    },
    { rootMargin: "200px" },
  );
  io.observe(el);
}

/** Shadow root with the stylesheets; returns its content box. */
function shell(host: HTMLElement): HTMLElement {
  const root = host.shadowRoot ?? host.attachShadow({ mode: "open" });
  root.replaceChildren();
  if (assets.style) root.append(h("link", { rel: "stylesheet", href: new URL(assets.style, base).href }));
  const style = document.createElement("style");
  style.textContent = WIDGET_CSS;
  const box = h("div", { class: "w", part: "box" });
  root.append(style, box);
  return box;
}

function emit(host: HTMLElement, type: string, detail: unknown): void {
  host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

/** A trace view in box that reports selections as mqtts-select on host. */
function traceIn(host: HTMLElement, box: HTMLElement, live: boolean): TraceView {
  const el = h("div", { "data-testid": "widget-trace" });
  box.append(el);
  const view = new TraceView(el, { lanes: { client: "client", broker: "broker" }, networkMs: live ? undefined : () => undefined });
  view.toolbar.hidden = true;
  el.addEventListener(SELECT_EVENT, (e) => {
    const t = (e as CustomEvent<Target>).detail;
    emit(host, "mqtts-select", { event: t.event, field: t.field, nth: t.nth });
  });
  return view;
}

function target(el: HTMLElement): Target {
  const nth = Number(el.getAttribute("nth") ?? "");
  return { event: el.getAttribute("event") ?? undefined, field: el.getAttribute("field") ?? undefined, nth: nth > 0 ? nth : undefined };
}

/** <mqtts-trace src event field nth>: a recorded session, read-only. A
 * session of decoded events needs no wasm; recordings are decoded by the
 * shared client once the element is in view. */
class MqttsTrace extends HTMLElement {
  connectedCallback(): void {
    if (this.shadowRoot) return;
    const box = shell(this);
    const status = h("p", { class: "w-status", "data-testid": "widget-status" }, "Loading the trace…");
    box.append(status);
    whenVisible(this, () => void this.load(box, status));
  }

  private async load(box: HTMLElement, status: HTMLElement): Promise<void> {
    const src = this.getAttribute("src") ?? "";
    try {
      const u = checkSrc(src, document.baseURI);
      const r = await fetch(u);
      if (!r.ok) throw new Error(`GET ${u.pathname} answered ${r.status}`);
      const parts = sessionParts(await r.json());
      const events: TraceEvent[] = [];
      for (const p of parts) {
        if (p.events) events.push(...p.events);
        else events.push(...(await playground().api.decode(p.recording!)).map((e) => ({ ...e, side: p.side })));
      }
      status.remove();
      const view = traceIn(this, box, false);
      view.update(events);
      const t = target(this);
      if (t.event) view.show(t);
    } catch (e) {
      status.className = "w-error";
      status.textContent = `Could not show ${src || "(no src)"}: ${(e as Error).message ?? e}`;
    }
  }
}

/** <mqtts-connect listener>: a button that connects with the shared wasm
 * client and shows the live trace of that connection. */
class MqttsConnect extends HTMLElement {
  private conn: Connection | undefined;

  connectedCallback(): void {
    if (this.shadowRoot) return;
    const listener = this.getAttribute("listener") ?? "mqtts";
    const box = shell(this);
    const button = h("button", { class: "primary", type: "button", "data-testid": "widget-connect" }, `Connect to ${listener}`) as HTMLButtonElement;
    const status = h("span", { class: "w-status", "data-testid": "widget-status", role: "status" }, "");
    box.append(h("div", { class: "w-bar" }, button, status));
    let view: TraceView | undefined;
    // The wasm loads once this element is (nearly) in view, not before.
    whenVisible(this, () => {
      status.textContent = "Loading the Go TLS client…";
      playground()
        .start()
        .then(
          () => (status.textContent = "Ready."),
          (e: unknown) => (status.textContent = `${(e as Error).message ?? e}`),
        );
    });
    window.addEventListener(UPDATE_EVENT, (e) => {
      const d = (e as CustomEvent<UpdateDetail>).detail;
      if (view && d.conn === this.conn) view.update(d.conn.trace());
    });
    button.addEventListener("click", async () => {
      button.disabled = true;
      status.textContent = "Connecting…";
      try {
        await this.conn?.close().catch(() => {});
        const conn = await playground().api.connect({ listener });
        this.conn = conn;
        view ??= traceIn(this, box, true);
        view.update(conn.trace());
        status.textContent = `Connected as ${conn.clientId()}.`;
        emit(this, "mqtts-connected", { listener, clientId: conn.clientId() });
      } catch (e) {
        status.textContent = `Could not connect: ${(e as Error).message ?? e}`;
      } finally {
        button.disabled = false;
        button.textContent = `Connect again`;
      }
    });
  }

  disconnectedCallback(): void {
    this.conn?.close().catch(() => {});
  }
}

/** <mqtts-lesson lesson step>: the lesson page in embed mode in a frame
 * that takes the height the page reports; its messages are passed on as
 * mqtts-step (and selections as mqtts-select). */
class MqttsLesson extends HTMLElement {
  connectedCallback(): void {
    if (this.shadowRoot) return;
    const box = shell(this);
    const id = this.getAttribute("lesson") ?? "";
    const step = this.getAttribute("step");
    const u = new URL(`lessons/${encodeURIComponent(id)}`, base);
    u.searchParams.set("embed", "1");
    if (step) u.hash = `step-${step}`;
    const frame = h("iframe", { title: `lesson ${id}`, loading: "lazy", style: "height:480px", "data-testid": "widget-lesson" }) as HTMLIFrameElement;
    frame.src = u.href;
    box.append(frame);
    window.addEventListener("message", (e) => {
      const m = e.data as Record<string, unknown> | null;
      if (e.source !== frame.contentWindow || e.origin !== base.origin || m?.source !== MESSAGE_SOURCE) return;
      if (m.type === "height" && typeof m.height === "number") frame.style.height = `${m.height}px`;
      else if (m.type === "select") emit(this, "mqtts-select", { event: m.event, field: m.field, nth: m.nth });
      else if (m.type === "step") emit(this, "mqtts-step", { lesson: m.lesson ?? id, step: m.step, done: m.done });
    });
  }
}

if (!window.__mqttsWidget) {
  window.__mqttsWidget = true;
  customElements.define("mqtts-trace", MqttsTrace);
  customElements.define("mqtts-connect", MqttsConnect);
  customElements.define("mqtts-lesson", MqttsLesson);
}
