// The trace view: a sequence diagram of a connection's events and, for the
// selected event, its fields and an annotated hex dump.
import type { Field, TraceEvent } from "./playground.d";
import { clear, h } from "./dom";

/** Links a spec citation like "RFC 8446 §4.1.2" or "MQTT 5.0 §3.1" to its text. */
export function specURL(spec: string): string | undefined {
  const rfc = /^RFC (\d+)(?: §([\d.]+|[A-Z](?:\.\d+)*))?/.exec(spec);
  if (rfc) {
    const sec = rfc[2] ? (/^[A-Z]/.test(rfc[2]) ? `#appendix-${rfc[2]}` : `#section-${rfc[2]}`) : "";
    return `https://www.rfc-editor.org/rfc/rfc${rfc[1]}${sec}`;
  }
  if (spec.startsWith("MQTT 5")) return "https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html";
  if (spec.startsWith("MQTT 3")) return "https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html";
  return undefined;
}

function fromHex(s: string | undefined): Uint8Array {
  if (!s) return new Uint8Array();
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

export function formatBytes(n: number): string {
  return n >= 10000 ? `${(n / 1024).toFixed(1)} KiB` : `${n.toLocaleString("en")} B`;
}

/** Renders events into a container as a sequence diagram with a detail pane. */
export class TraceView {
  private events: TraceEvent[] = [];
  private selected = -1;
  private readonly list: HTMLElement;
  private readonly detail: HTMLElement;

  constructor(private readonly root: HTMLElement) {
    this.list = h("ol", { class: "seq", "data-testid": "trace-list" });
    this.detail = h("section", { class: "detail", "data-testid": "trace-detail" }, h("p", { class: "hint" }, "Click an event to see its bytes and fields."));
    clear(root);
    root.append(
      h("div", { class: "seq-head" }, h("span", { class: "lane" }, "client (your browser)"), h("span", { class: "lane right" }, "broker")),
      this.list,
      this.detail,
    );
  }

  /** Shows a new set of events, keeping the selection when it still exists. */
  update(events: TraceEvent[]): void {
    this.events = events;
    clear(this.list);
    const t0 = events.length ? Date.parse(events[0].time) : 0;
    events.forEach((e, i) => this.list.append(this.row(e, i, t0)));
    if (this.selected >= events.length) this.selected = -1;
    if (this.selected >= 0) this.select(this.selected);
  }

  private row(e: TraceEvent, i: number, t0: number): HTMLElement {
    // Arrows point from sender to receiver.
    const toBroker = (e.side === "client") === (e.dir === "send");
    const ms = Date.parse(e.time) - t0;
    const li = h(
      "li",
      {
        class: `ev ${e.layer} ${toBroker ? "right" : "left"}${e.error ? " bad" : ""}${i === this.selected ? " sel" : ""}`,
        "data-testid": "trace-event",
        "data-type": e.type,
        "data-layer": e.layer,
        tabindex: 0,
        title: e.summary ?? e.type,
        onclick: () => this.select(i),
        onkeydown: (ev: Event) => {
          if ((ev as KeyboardEvent).key === "Enter") this.select(i);
        },
      },
      h("span", { class: "t" }, `${ms.toFixed(0)} ms`),
      h(
        "span",
        { class: "arrow" },
        h("span", { class: "label" }, h("b", {}, e.type), " ", h("span", { class: "size" }, formatBytes(e.length)), e.encrypted ? h("span", { class: "enc", title: "encrypted on the wire; shown decrypted with the connection's keys" }, "encrypted") : null),
        h("span", { class: "sum" }, e.summary ?? ""),
      ),
    );
    return li;
  }

  /** Selects event i and shows its details. */
  select(i: number): void {
    this.selected = i;
    this.list.querySelectorAll(".ev").forEach((el, j) => el.classList.toggle("sel", j === i));
    const e = this.events[i];
    clear(this.detail);
    if (!e) return;
    const wire = fromHex(e.bytes);
    const plain = fromHex(e.plain);
    const dumps: HexDump[] = [];
    const wireDump = new HexDump(wire, e.fields.filter((f) => f.in !== "plain"));
    dumps.push(wireDump);
    let plainDump: HexDump | undefined;
    if (plain.length) {
      plainDump = new HexDump(plain, e.fields.filter((f) => f.in === "plain"));
      dumps.push(plainDump);
    }
    const table = h("table", { class: "fields", "data-testid": "field-table" }, h("tr", {}, h("th", {}, "field"), h("th", {}, "value"), h("th", {}, "bytes"), h("th", {}, "what it is")));
    for (const f of e.fields) {
      const dump = f.in === "plain" ? plainDump : wireDump;
      const url = f.spec ? specURL(f.spec) : undefined;
      const tr = h(
        "tr",
        {
          "data-testid": "field",
          "data-name": f.name,
          onmouseenter: () => dump?.highlight(f),
          onmouseleave: () => dump?.highlight(undefined),
        },
        h("td", { class: `name d${Math.min(f.depth ?? 0, 4)}` }, f.name),
        h("td", { class: "value" }, f.value),
        h("td", { class: "range" }, `${f.in === "plain" ? "plain " : ""}${f.start}–${f.end}`),
        h("td", { class: "about" }, f.about ?? "", f.spec ? " " : "", f.spec ? (url ? h("a", { href: url, target: "_blank", rel: "noopener" }, f.spec) : f.spec) : ""),
      );
      table.append(tr);
    }
    const parts: (Node | null)[] = [
      h("h3", {}, `${e.side} ${e.dir} · ${e.layer.toUpperCase()} ${e.type} · ${formatBytes(e.length)}`),
      e.summary ? h("p", { class: "summary" }, e.summary) : null,
      e.error ? h("p", { class: "error", "data-testid": "event-error" }, e.error) : null,
      table,
      wire.length ? h("h4", {}, e.encrypted ? "On the wire (encrypted)" : "Bytes") : null,
      wire.length ? wireDump.el : null,
      plainDump ? h("h4", {}, "Decrypted with the connection's key log") : null,
      plainDump ? plainDump.el : null,
    ];
    this.detail.append(...parts.filter((p): p is Node => p !== null));
  }
}

/** A hex dump whose bytes light up for a field. */
class HexDump {
  readonly el: HTMLElement;
  private readonly cells: HTMLElement[] = [];

  constructor(bytes: Uint8Array, fields: Field[]) {
    this.el = h("div", { class: "hex", "data-testid": "hex" });
    const max = Math.min(bytes.length, 4096);
    for (let row = 0; row < max; row += 16) {
      const line = h("div", { class: "hexrow" }, h("span", { class: "off" }, row.toString(16).padStart(4, "0")));
      const ascii = h("span", { class: "ascii" });
      for (let i = row; i < Math.min(row + 16, max); i++) {
        const b = bytes[i];
        const cell = h("span", { class: "b" }, b.toString(16).padStart(2, "0"));
        const f = innermost(fields, i);
        if (f) cell.title = `${f.name}: ${f.value}`;
        this.cells.push(cell);
        line.append(cell);
        ascii.append(b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "·");
      }
      line.append(ascii);
      this.el.append(line);
    }
    if (bytes.length > max) this.el.append(h("div", { class: "hint" }, `… ${bytes.length - max} more bytes`));
  }

  highlight(f: Field | undefined): void {
    this.cells.forEach((c, i) => c.classList.toggle("hl", !!f && i >= f.start && i < f.end));
  }
}

function innermost(fields: Field[], i: number): Field | undefined {
  let best: Field | undefined;
  for (const f of fields) {
    if (i >= f.start && i < f.end && (!best || f.end - f.start <= best.end - best.start)) best = f;
  }
  return best;
}
