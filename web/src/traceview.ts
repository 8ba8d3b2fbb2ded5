// The trace view: a sequence diagram of one connection as both ends saw it
// and, for the selected event, its fields, its bytes (ciphertext and
// plaintext side by side) and, for certificates, the chain as cards.
import type { Field, TraceEvent } from "./playground.d";
import { align, decryptedByBroker, eventKey, formatMs, primary, rowEvents, sender, timeMs, type Row, type RTT, type Side } from "./align";
import { certificates, shortName, validity, type Cert } from "./certs";
import type { Target } from "./links";
import { networkRTT } from "./netping";
import { clear, h, reveal } from "./dom";

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

/** Where a field's bytes are, in words: "offset 5, 3 bytes" (of the
 * decrypted content for fields of the plaintext). */
export function byteRange(f: Field): string {
  const n = f.end - f.start;
  return `${f.in === "plain" ? "decrypted, " : ""}offset ${f.start}, ${n} byte${n === 1 ? "" : "s"}`;
}

/** The parts of a round trip, as far as they are known: the broker's own
 * time (its clock), the network's (a plain HTTP round trip to this server,
 * measured by the page) and the rest: the WebSocket tunnel and the page's
 * own work (the wasm client, the browser's event loop). */
export function rttParts(rtt: RTT, networkMs: number | undefined): { broker?: number; network?: number; rest?: number } {
  const broker = rtt.brokerMs !== undefined && rtt.brokerMs >= 0 ? rtt.brokerMs : undefined;
  const network = networkMs !== undefined && isFinite(networkMs) ? networkMs : undefined;
  const rest = broker !== undefined && network !== undefined ? Math.max(0, rtt.ms - broker - network) : undefined;
  return { broker, network, rest };
}

const WHO: Record<Side, string> = { client: "client", broker: "broker" };

export interface TraceViewOptions {
  /** Titles of the two lifelines. */
  lanes?: { client: string; broker: string };
  /** Called when the learner selects an event or a field (to update the URL). */
  onSelect?: (t: Target) => void;
  /** What the diagram says while it has no events. */
  emptyText?: string;
  /** A plain network round trip to the server, in ms, to tell the
   * network's part of each round trip from the tunnel's and the page's.
   * Default: measured by the page (netping.ts); a replay of an old
   * session gives () => undefined. */
  networkMs?: () => number | undefined;
}

/** A field of the shown event, with what names it in a deep link. */
interface ShownField {
  f: Field;
  nth: number;
  row: HTMLTableRowElement;
  dump?: HexDump;
}

/**
 * The DOM event a TraceView's root dispatches (bubbling) whenever its
 * selection changes, by a click or a deep link; detail is the Target.
 */
export const SELECT_EVENT = "trace-select";

/** Renders events into a container as a sequence diagram with a detail pane. */
export class TraceView {
  /** Where pages put their buttons (downloads, exports). */
  readonly toolbar: HTMLElement;
  private rows: Row[] = [];
  private events: TraceEvent[] = [];
  private byKey = new Map<string, { row: Row; index: number; event: TraceEvent }>();
  private sig = "";
  private t0: Record<Side, number> = { client: NaN, broker: NaN };
  /** Whether both ends' events are shown. */
  private both = false;
  private selKey: string | undefined;
  private wanted: Target | undefined;
  private detailSig = "";
  private fields: ShownField[] = [];
  private pinned: ShownField | undefined;
  private info: HTMLElement | undefined;
  private readonly list: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly legend: HTMLElement;
  private scroller!: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly opts: TraceViewOptions = {},
  ) {
    const lanes = opts.lanes ?? { client: "client (your browser)", broker: "broker" };
    this.toolbar = h("div", { class: "trace-tools", "data-testid": "trace-tools" });
    this.list = h("ol", { class: "seq", "data-testid": "trace-list", "aria-label": "messages, in order" });
    this.empty = h("p", { class: "hint seq-empty" }, opts.emptyText ?? "No events yet.");
    this.legend = h("p", { class: "hint legend", hidden: true }, "Each arrow is one message; solid when both ends recorded it, with each end's time by its own clock. Dashed: only one end recorded it.");
    this.detail = h("section", { class: "detail", "data-testid": "trace-detail", "aria-label": "selected event" }, this.hint());
    if (!opts.networkMs) {
      // Measure the network now, before the wasm client keeps the page
      // busy; draw the rows again once it is known.
      networkRTT(() => {
        this.sig = "";
        this.update(this.events);
      });
    }
    clear(root);
    root.classList.add("trace-view");
    root.append(
      this.toolbar,
      h(
        "div",
        { class: "seq-pane" },
        h(
          "div",
          { class: "seq-head", "aria-hidden": "true" },
          h("span", { class: "t", title: "time since the client's first event, by the client's clock" }, "time"),
          h("span", { class: "lanes" }, h("span", { class: "lane-name" }, lanes.client), h("span", { class: "lane-name" }, lanes.broker)),
          h("span", { class: "t", title: "time since the broker's first event, by the broker's clock" }, "time"),
        ),
        (this.scroller = h("div", { class: "seq-scroll" }, this.list, this.empty)),
        this.legend,
      ),
      this.detail,
    );
  }

  private hint(): HTMLElement {
    return h("p", { class: "hint" }, "Select an event (click it, or focus it and press Enter) to see its fields and bytes.");
  }

  /** The key ("client-5") of the selected event, if any. */
  get selected(): string | undefined {
    return this.selKey;
  }

  /** Shows a new set of events, keeping the selection when it still exists. */
  update(events: TraceEvent[]): void {
    this.events = events;
    const sig = `${events[0]?.time}|` + events.map((e) => `${eventKey(e)}:${e.length}`).join(",");
    if (sig === this.sig) return;
    this.sig = sig;
    // In a widget's shadow root, document.activeElement is the widget.
    const focused = ((this.root.getRootNode() as Document | ShadowRoot).activeElement as HTMLElement | null)?.closest?.<HTMLElement>("li.ev")?.dataset.key;
    this.rows = align(events);
    this.byKey.clear();
    this.rows.forEach((row, index) => rowEvents(row).forEach((event) => this.byKey.set(eventKey(event), { row, index, event })));
    for (const side of ["client", "broker"] as const) {
      const first = events.find((e) => e.side === side);
      this.t0[side] = first ? timeMs(first.time) : NaN;
    }
    const both = events.some((e) => e.side === "client") && events.some((e) => e.side === "broker");
    this.both = both;
    this.legend.hidden = !both;
    // Following a live connection: stay at the bottom when already there.
    const sc = this.scroller;
    const atBottom = sc.scrollTop > 0 && sc.scrollTop + sc.clientHeight >= sc.scrollHeight - 4;
    clear(this.list);
    this.rows.forEach((r) => this.list.append(this.row(r, both)));
    this.empty.hidden = this.rows.length > 0;
    if (atBottom) sc.scrollTop = sc.scrollHeight;
    if (focused) this.list.querySelector<HTMLElement>(`li.ev[data-events~="${focused}"]`)?.focus({ preventScroll: true });

    if (this.wanted && this.byKey.has(this.wanted.event ?? "")) {
      this.show(this.wanted);
      return;
    }
    if (this.selKey && !this.byKey.has(this.selKey)) this.selKey = undefined;
    this.renderDetail();
  }

  /**
   * Selects what a deep link names. When the event is not there yet (a live
   * connection), the selection waits for it.
   */
  show(t: Target): void {
    if (!t.event) return;
    const found = this.byKey.get(t.event);
    if (!found) {
      this.wanted = t;
      return;
    }
    this.wanted = undefined;
    this.selKey = t.event;
    this.renderDetail();
    const li = this.list.querySelector<HTMLElement>(`li.ev[data-events~="${t.event}"]`);
    if (li) reveal(li);
    if (t.field) {
      const sf = this.fields.find((x) => x.f.name === t.field && x.nth === (t.nth ?? 1));
      if (sf) {
        this.pin(sf);
        reveal(sf.row, "center");
      }
    }
    this.announce(t);
  }

  /** Tells the page (and, embedded, its host) what is selected now. */
  private announce(t: Target): void {
    this.root.dispatchEvent(new CustomEvent<Target>(SELECT_EVENT, { bubbles: true, detail: t }));
  }

  /** The learner chose an event. */
  private choose(key: string): void {
    this.wanted = undefined;
    this.selKey = key;
    this.renderDetail();
    this.opts.onSelect?.({ event: key });
    this.announce({ event: key });
  }

  private time(e: TraceEvent | undefined): string {
    return e ? formatMs(timeMs(e.time) - this.t0[e.side]) : "";
  }

  /** The round trip tags of a response row: the total the client saw, and
   * its parts when known. */
  private rttTags(r: Row, e: TraceEvent): (HTMLElement | null)[] {
    if (!r.rtt) return [];
    const p = rttParts(r.rtt, this.opts.networkMs ? this.opts.networkMs() : networkRTT());
    const parts = [
      p.broker !== undefined ? `the broker ${formatMs(p.broker)} (its clock, from receiving the request to answering)` : "",
      p.network !== undefined ? `the network ≈ ${formatMs(p.network)} (a plain HTTP round trip to this server)` : "",
      p.rest !== undefined ? `the tunnel and this page's wasm client ≈ ${formatMs(p.rest)} (the rest)` : "",
    ].filter(Boolean);
    const title = `round trip seen by the client: ${r.rtt.request.type} sent, ${e.type} back after ${formatMs(r.rtt.ms)}${parts.length ? `; of it ${parts.join(", ")}` : ""}`;
    const split =
      p.rest !== undefined
        ? h("span", { class: "tag rtt-split", "data-testid": "rtt-split", title }, `net ${formatMs(p.network!)} · broker ${formatMs(p.broker!)} · tunnel+wasm ${formatMs(p.rest)}`)
        : null;
    return [h("span", { class: "tag rtt", "data-testid": "rtt", title }, `RTT ${formatMs(r.rtt.ms)}`), split];
  }

  private row(r: Row, both: boolean): HTMLElement {
    const e = primary(r);
    const byBroker = decryptedByBroker(r);
    const paired = !!(r.client && r.broker);
    const own: Side | "both" = paired ? "both" : e.side;
    const toBroker = r.from === "client";
    const key = eventKey(e);
    const selected = !!this.selKey && rowEvents(r).some((x) => eventKey(x) === this.selKey);
    const lonely = !paired && both;
    const onlyNote = lonely ? (e.side === "client" ? "only the client recorded this" : "only the broker recorded this") : "";
    const brokerNote = byBroker ? "the client could not decrypt this record (it stopped before deriving the keys); the broker's keys decrypt it" : "";
    const title = [`${WHO[r.from]} → ${WHO[toBroker ? "broker" : "client"]}: ${e.summary ?? e.type}`, onlyNote, brokerNote].filter(Boolean).join(" · ");
    return h(
      "li",
      {
        class: `ev ${e.layer} ${toBroker ? "right" : "left"}${paired ? " paired" : ` stub at-${e.side}`}${lonely ? " lonely" : ""}${e.error ? " bad" : ""}${selected ? " sel" : ""}`,
        "data-testid": "trace-event",
        "data-type": e.type,
        "data-layer": e.layer,
        "data-side": own,
        "data-paired": String(paired),
        "data-from": r.from,
        "data-key": key,
        "data-events": rowEvents(r).map(eventKey).join(" "),
        "aria-current": selected ? "true" : undefined,
        tabindex: 0,
        title,
        onclick: () => this.choose(key),
        onkeydown: (ev: Event) => {
          const k = (ev as KeyboardEvent).key;
          if (k === "Enter" || k === " ") {
            ev.preventDefault();
            this.choose(key);
          }
        },
      },
      h("span", { class: "t tc" }, this.time(r.client)),
      h(
        "span",
        { class: "lane" },
        h(
          "span",
          { class: "arrow" },
          h(
            "span",
            { class: "label" },
            h("b", {}, e.type),
            " ",
            h("span", { class: "size" }, formatBytes(e.length)),
            byBroker
              ? h("span", { class: "tag enc by-broker", "data-testid": "decrypted-by-broker", title: brokerNote }, "decrypted with the broker's keys")
              : e.encrypted
                ? h("span", { class: "tag enc", title: "encrypted on the wire; shown decrypted with the connection's keys" }, "encrypted")
                : null,
            ...this.rttTags(r, e),
            lonely ? h("span", { class: "tag only" }, e.side === "client" ? "client only" : "broker only") : null,
          ),
          h("span", { class: "sum" }, e.error ? `⚠ ${e.error}` : (e.summary ?? "")),
        ),
      ),
      h("span", { class: "t tb" }, this.time(r.broker)),
    );
  }

  private renderDetail(): void {
    const found = this.selKey ? this.byKey.get(this.selKey) : undefined;
    this.list.querySelectorAll<HTMLElement>("li.ev").forEach((li) => {
      const on = !!this.selKey && (li.dataset.events ?? "").split(" ").includes(this.selKey);
      li.classList.toggle("sel", on);
      if (on) li.setAttribute("aria-current", "true");
      else li.removeAttribute("aria-current");
    });
    const partner = found ? rowEvents(found.row).find((x) => x !== found.event) : undefined;
    const sig = found ? `${this.selKey}|${partner ? eventKey(partner) : ""}|${found.event.length}|${found.event.error ?? ""}|${this.both}` : "";
    if (sig === this.detailSig) return;
    const sameEvent = this.detailSig.split("|")[0] === this.selKey;
    const keep = sameEvent && this.pinned ? { name: this.pinned.f.name, nth: this.pinned.nth } : undefined;
    this.detailSig = sig;
    this.fields = [];
    this.pinned = undefined;
    this.info = undefined;
    clear(this.detail);
    if (!found) {
      this.detail.append(this.hint());
      return;
    }
    this.detail.append(...this.detailParts(found.row, found.event));
    const again = keep && this.fields.find((x) => x.f.name === keep.name && x.nth === keep.nth);
    if (again) this.pin(again);
  }

  private detailParts(r: Row, e: TraceEvent): Node[] {
    const from = sender(e);
    const to: Side = from === "client" ? "broker" : "client";
    const sentBy = from === "client" ? r.client : r.broker;
    const gotBy = from === "client" ? r.broker : r.client;
    const when: Node[] = [];
    if (sentBy) when.push(h("span", {}, `sent at ${this.time(sentBy)} by the ${WHO[from]}'s clock`));
    if (gotBy) when.push(h("span", {}, `received at ${this.time(gotBy)} by the ${WHO[to]}'s clock`));
    if (this.both && !sentBy) when.push(h("span", {}, `the ${WHO[from]} has no record of sending it`));
    if (this.both && !gotBy) when.push(h("span", {}, `the ${WHO[to]} has no record of receiving it (yet)`));
    const views =
      r.client && r.broker
        ? h(
            "div",
            { class: "views", role: "group", "aria-label": "whose record to show" },
            "Recorded by ",
            ...([r.client, r.broker] as TraceEvent[]).map((x) =>
              h(
                "button",
                {
                  type: "button",
                  "data-testid": "record-of",
                  "data-side": x.side,
                  "aria-pressed": String(x === e),
                  onclick: () => this.choose(eventKey(x)),
                },
                `${x.side} (#${x.seq})`,
              ),
            ),
          )
        : null;
    const parts: (Node | null)[] = [
      h(
        "div",
        { class: "detail-head" },
        h("h3", {}, h("span", { class: `layer ${e.layer}` }, e.layer.toUpperCase()), " ", e.type, " ", h("span", { class: "size" }, formatBytes(e.length))),
        h("p", { class: "meta" }, `${WHO[from]} → ${WHO[to]} · `, ...join(when, " · ")),
        views,
      ),
      e.summary ? h("p", { class: "summary" }, e.summary) : null,
      decryptedByBroker(r)
        ? h(
            "p",
            { class: "note", "data-testid": "broker-keys-note" },
            e.side === "broker"
              ? "The client received this record but never decrypted it: it stopped the handshake before deriving these keys. The broker's key log decrypts it: this is the broker's record of it."
              : "The client received this record but stopped the handshake before deriving the keys that open it. Show the broker's record to see it decrypted with the broker's key log.",
          )
        : null,
      e.error && !(decryptedByBroker(r) && e.side === "client") ? h("p", { class: "error", "data-testid": "event-error" }, e.error) : null,
    ];

    const wire = fromHex(e.bytes);
    const plain = fromHex(e.plain);
    const wireDump = new HexDump(wire, e.fields.filter((f) => f.in !== "plain"));
    const plainDump = plain.length ? new HexDump(plain, e.fields.filter((f) => f.in === "plain")) : undefined;

    // The field table, built first: the dumps and cards point into it.
    const count = new Map<string, number>();
    const table = h(
      "table",
      { class: "fields", "data-testid": "field-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "field"), h("th", { scope: "col" }, "value"), h("th", { scope: "col" }, "where"), h("th", { scope: "col" }, "what it is"))),
    );
    const body = h("tbody", {});
    table.append(body);
    for (const f of e.fields) {
      const nth = (count.get(f.name) ?? 0) + 1;
      count.set(f.name, nth);
      const url = f.spec ? specURL(f.spec) : undefined;
      const sf: ShownField = { f, nth, dump: f.in === "plain" ? plainDump : wireDump, row: undefined as unknown as HTMLTableRowElement };
      sf.row = h(
        "tr",
        {
          "data-testid": "field",
          "data-name": f.name,
          "data-nth": nth,
          tabindex: 0,
          onmouseenter: () => this.hover(sf),
          onmouseleave: () => this.hover(undefined),
          onfocus: () => this.hover(sf),
          onblur: () => this.hover(undefined),
          onclick: (ev: Event) => {
            if ((ev.target as HTMLElement).closest("a")) return;
            this.pickField(sf);
          },
          onkeydown: (ev: Event) => {
            if ((ev as KeyboardEvent).key === "Enter") this.pickField(sf);
          },
        },
        h("td", { class: `name d${Math.min(f.depth ?? 0, 4)}` }, f.name),
        h("td", { class: "value" }, f.value),
        h("td", { class: "range", "data-start": f.start, "data-end": f.end, title: f.end > f.start ? `bytes ${f.start} to ${f.end - 1}, counting from 0` : "no bytes" }, byteRange(f)),
        h("td", { class: "about" }, f.about ?? "", f.spec ? " " : "", f.spec ? (url ? h("a", { href: url, target: "_blank", rel: "noopener" }, f.spec) : f.spec) : ""),
      );
      this.fields.push(sf);
      body.append(sf.row);
    }
    for (const [dump, inPlain] of [
      [wireDump, false],
      [plainDump, true],
    ] as const) {
      dump?.onPoint((i) => this.pointAt(dump, inPlain, i));
      dump?.onPick((i) => {
        const sf = this.innermost(inPlain, i);
        if (sf) this.pickField(sf);
      });
    }

    if (e.type === "Certificate") {
      const certs = certificates(e);
      if (certs.length) parts.push(this.chain(certs, timeMs(e.time), from));
    }
    if (wire.length) {
      const cols: Node[] = [h("div", { class: "hexcol" }, h("h4", {}, e.encrypted ? "On the wire (encrypted)" : "Bytes on the wire"), wireDump.el)];
      if (plainDump) cols.push(h("div", { class: "hexcol" }, h("h4", {}, `Decrypted with the ${e.side}'s key log`), plainDump.el));
      else if (e.encrypted) cols.push(h("div", { class: "hexcol" }, h("h4", {}, "Decrypted"), h("p", { class: "hint" }, "Not decrypted: the keys of this connection are not known here.")));
      parts.push(h("div", { class: `hexpair${cols.length > 1 ? " two" : ""}`, "data-testid": "hex-views" }, ...cols));
      this.info = h("p", { class: "byteinfo", "data-testid": "byte-info", "aria-live": "polite" });
      this.describe(undefined);
      parts.push(this.info);
    }
    parts.push(table);
    return parts.filter((p): p is Node => p !== null);
  }

  /** The certificate chain as cards, leaf first, each linked to its issuer. */
  private chain(certs: Cert[], at: number, owner: Side): HTMLElement {
    const el = h("div", { class: "chain", "data-testid": "cert-chain", role: "list", "aria-label": "certificate chain, as sent: each certificate is followed by its issuer" });
    const cards: HTMLElement[] = [];
    certs.forEach((c, i) => {
      const next = certs[i + 1];
      const v = validity(c, at);
      const issuer = shortName(c.issuerCN, c.issuer);
      const role = i === 0 ? `the ${WHO[owner]}'s own certificate` : c.selfSigned ? "root CA" : "intermediate CA";
      const issuedBy: Node = c.error
        ? h("span", { class: "warn" }, c.error)
        : next
          ? next.subject === c.issuer
            ? h("button", { type: "button", class: "linklike", "data-testid": "issued-by", onclick: () => cards[i + 1]?.focus() }, `issued by ${issuer} ↓`)
            : h("span", { class: "warn" }, `issued by ${issuer}, but the next certificate is ${shortName(next.subjectCN, next.subject)}: the chain is out of order`)
          : c.selfSigned
            ? h("span", {}, "self-signed: a root, trusted only if the receiver already has it")
            : h("span", {}, `issued by ${issuer}, not sent: the receiver must already trust it (its CA file)`);
      const dl = h("dl", {});
      const add = (k: string, v: Node | string | undefined, cls = "") => {
        if (v === undefined || v === "") return;
        dl.append(h("dt", {}, k), h("dd", { class: cls }, v));
      };
      add("subject", c.subject);
      add("issuer", c.issuer);
      if (!c.error) {
        add(
          "valid",
          h(
            "span",
            {},
            `${utc(c.notBefore)} → ${utc(c.notAfter)} `,
            v === "valid" || v === "unknown" ? null : h("span", { class: "tag bad", "data-testid": "cert-validity" }, v === "expired" ? "expired" : "not yet valid"),
          ),
        );
      }
      add("names", c.names?.join(", "));
      add("key", c.key);
      add("signed with", c.signature);
      add("serial", c.serial, "mono");
      add("SHA-256", c.fingerprint, "mono");
      const card = h(
        "article",
        {
          class: `cert ${v === "expired" || v === "not yet valid" || c.error ? "invalid" : ""}`,
          role: "listitem",
          tabindex: -1,
          "data-testid": "cert-card",
          "data-subject": c.subject,
          "data-validity": v,
        },
        h("p", { class: "cert-role" }, `${i + 1}. ${role}`),
        h(
          "h4",
          {},
          h(
            "button",
            {
              type: "button",
              class: "linklike",
              title: "show this certificate's bytes",
              onclick: () => {
                const sf = this.fields.find((x) => x.f === c.fieldRef);
                if (sf) this.pickField(sf);
              },
            },
            shortName(c.subjectCN, c.subject),
          ),
        ),
        dl,
        h("p", { class: "issued" }, issuedBy),
      );
      cards.push(card);
      el.append(card);
    });
    return h("section", { class: "chain-wrap" }, h("h4", {}, `Certificate chain (${certs.length})`), el);
  }

  private innermost(inPlain: boolean, i: number): ShownField | undefined {
    const own = this.fields.filter((x) => (x.f.in === "plain") === inPlain);
    const f = innermost(
      own.map((x) => x.f),
      i,
    );
    return f ? own.find((x) => x.f === f) : undefined;
  }

  /** A byte under the pointer: light up its field. */
  private pointAt(dump: HexDump, inPlain: boolean, i: number | undefined): void {
    const sf = i === undefined ? undefined : this.innermost(inPlain, i);
    this.hover(sf, i === undefined ? undefined : { dump, i });
  }

  private hover(sf: ShownField | undefined, at?: { dump: HexDump; i: number }): void {
    for (const x of this.fields) x.row.classList.toggle("hl", x === sf);
    for (const d of new Set(this.fields.map((x) => x.dump))) d?.mark(d === sf?.dump ? sf.f : undefined, "hl");
    if (sf && !at) sf.dump?.reveal(sf.f);
    this.describe(sf ?? this.pinned, at);
  }

  private pickField(sf: ShownField): void {
    this.pin(sf);
    if (!this.selKey) return;
    const t = { event: this.selKey, field: sf.f.name, nth: sf.nth };
    this.opts.onSelect?.(t);
    this.announce(t);
  }

  private pin(sf: ShownField): void {
    this.pinned = sf;
    for (const x of this.fields) {
      x.row.classList.toggle("sel", x === sf);
      if (x === sf) x.row.setAttribute("aria-current", "true");
      else x.row.removeAttribute("aria-current");
    }
    for (const d of new Set(this.fields.map((x) => x.dump))) d?.mark(d === sf.dump ? sf.f : undefined, "pin");
    sf.dump?.reveal(sf.f);
    this.describe(sf);
  }

  /** The line under the dumps: what the pointed-at (or pinned) field is. */
  private describe(sf: ShownField | undefined, at?: { dump: HexDump; i: number }): void {
    if (!this.info) return;
    clear(this.info);
    if (!sf) {
      this.info.append(at ? `byte ${at.i}: not part of any annotated field` : "Point at a byte to see which field it belongs to; click it (or a field row) to keep it highlighted.");
      return;
    }
    const f = sf.f;
    const url = f.spec ? specURL(f.spec) : undefined;
    this.info.append(
      at ? h("span", { class: "off" }, `byte ${at.i} = 0x${at.dump.byte(at.i).toString(16).padStart(2, "0")}`) : "",
      h("b", {}, f.name),
      h("span", { class: "value" }, f.value),
      f.about ? h("span", { class: "about" }, f.about) : "",
      f.spec ? (url ? h("a", { href: url, target: "_blank", rel: "noopener" }, f.spec) : h("span", {}, f.spec)) : "",
    );
  }
}

/** An RFC 3339 time as "2026-11-25 20:53 UTC". */
function utc(t: string): string {
  const d = new Date(timeMs(t));
  return isNaN(d.getTime()) ? t : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function join(nodes: Node[], sep: string): (Node | string)[] {
  const out: (Node | string)[] = [];
  nodes.forEach((n, i) => {
    if (i) out.push(sep);
    out.push(n);
  });
  return out;
}

/** A hex dump whose bytes light up for a field and report the byte under the pointer. */
class HexDump {
  readonly el: HTMLElement;
  private readonly cells: HTMLElement[] = [];
  private readonly marked = new Map<string, Field | undefined>();

  constructor(
    private readonly bytes: Uint8Array,
    fields: Field[],
  ) {
    this.el = h("div", { class: "hex", "data-testid": "hex" });
    const max = Math.min(bytes.length, 4096);
    for (let row = 0; row < max; row += 16) {
      const line = h("div", { class: "hexrow" }, h("span", { class: "off" }, row.toString(16).padStart(4, "0")));
      const ascii = h("span", { class: "ascii" });
      for (let i = row; i < Math.min(row + 16, max); i++) {
        const b = bytes[i];
        const cell = h("span", { class: `b${fields.length && !innermost(fields, i) ? " bare" : ""}`, "data-i": i }, b.toString(16).padStart(2, "0"));
        this.cells.push(cell);
        line.append(cell);
        ascii.append(b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "·");
      }
      line.append(ascii);
      this.el.append(line);
    }
    if (bytes.length > max) this.el.append(h("div", { class: "hint" }, `… ${bytes.length - max} more bytes`));
  }

  byte(i: number): number {
    return this.bytes[i];
  }

  /** Calls f with the offset of the byte under the pointer, or undefined when it leaves. */
  onPoint(f: (i: number | undefined) => void): void {
    this.el.addEventListener("mouseover", (ev) => {
      const i = (ev.target as HTMLElement).dataset?.i;
      if (i !== undefined) f(Number(i));
    });
    this.el.addEventListener("mouseleave", () => f(undefined));
  }

  onPick(f: (i: number) => void): void {
    this.el.addEventListener("click", (ev) => {
      const i = (ev.target as HTMLElement).dataset?.i;
      if (i !== undefined) f(Number(i));
    });
  }

  /** Marks the bytes of field f with class cls (and unmarks the previous ones). */
  mark(f: Field | undefined, cls: string): void {
    const prev = this.marked.get(cls);
    if (prev === f) return;
    if (prev) for (let i = prev.start; i < Math.min(prev.end, this.cells.length); i++) this.cells[i].classList.remove(cls);
    if (f) for (let i = f.start; i < Math.min(f.end, this.cells.length); i++) this.cells[i].classList.add(cls);
    this.marked.set(cls, f);
  }

  /** Scrolls the dump (not the page) so the field's first byte shows. */
  reveal(f: Field): void {
    const cell = this.cells[f.start];
    if (!cell) return;
    const top = cell.offsetTop - this.el.offsetTop;
    if (top < this.el.scrollTop || top > this.el.scrollTop + this.el.clientHeight - cell.offsetHeight) {
      this.el.scrollTop = Math.max(0, top - this.el.clientHeight / 3);
    }
  }
}

/**
 * The innermost field covering byte i: the shortest. When several fields of
 * the same depth cover exactly the same bytes (the bits of a flags byte), the
 * one above them stands for the byte.
 */
export function innermost(fields: Field[], i: number): Field | undefined {
  const over = fields.filter((f) => i >= f.start && i < f.end);
  if (!over.length) return undefined;
  const size = Math.min(...over.map((f) => f.end - f.start));
  let same = over.filter((f) => f.end - f.start === size);
  while (same.length > 1) {
    const deepest = Math.max(...same.map((f) => f.depth ?? 0));
    const atDeepest = same.filter((f) => (f.depth ?? 0) === deepest);
    if (atDeepest.length === 1) return atDeepest[0];
    const shallower = same.filter((f) => (f.depth ?? 0) < deepest);
    if (!shallower.length) return atDeepest[0];
    same = shallower;
  }
  return same[0];
}
