// Lines up the two ends of one connection: the events the browser recorded
// (side "client") and those the broker recorded (side "broker"). An event
// sent by one end and received by the other carries the same bytes, so the
// two are paired by layer, type and bytes, never by clock: the browser's and
// the server's clocks can be seconds apart.
import type { TraceEvent } from "./playground.d";

export type Side = "client" | "broker";

/** One line of the sequence diagram: a message both ends saw, or one only one end recorded. */
export interface Row {
  client?: TraceEvent;
  broker?: TraceEvent;
  /** The end that sent the bytes. */
  from: Side;
  /** Set on a response the client saw: the time since its request. */
  rtt?: { ms: number; request: TraceEvent };
}

/** How deep links and the selection name an event: "client-5", "broker-12". */
export function eventKey(e: TraceEvent): string {
  return `${e.side}-${e.seq}`;
}

/** The sender of an event's bytes. */
export function sender(e: TraceEvent): Side {
  return e.dir === "send" ? e.side : e.side === "client" ? "broker" : "client";
}

/** The events of a row, the client's first. */
export function rowEvents(r: Row): TraceEvent[] {
  return [r.client, r.broker].filter((e): e is TraceEvent => e !== undefined);
}

/** The event that stands for the row: the client's when both ends saw it. */
export function primary(r: Row): TraceEvent {
  return (r.client ?? r.broker)!;
}

/** Milliseconds since the epoch, keeping the sub-millisecond digits RFC 3339 times carry. */
export function timeMs(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$/.exec(s);
  if (!m) return Date.parse(s);
  return Date.parse(m[1] + m[3]) + (m[2] ? parseFloat(m[2]) * 1000 : 0);
}

/** "0.4 ms", "12 ms", "3.2 s". */
export function formatMs(ms: number): string {
  if (!isFinite(ms)) return "";
  if (Math.abs(ms) >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 10) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

function pairKey(e: TraceEvent): string {
  return `${e.layer}|${e.type}|${sender(e)}|${e.bytes}`;
}

/**
 * Pairs and orders the events of both ends. Rows follow the client's order;
 * an event only the broker recorded goes right after the last row holding a
 * broker event that came before it. Without client events the rows follow
 * the broker's order.
 */
export function align(events: TraceEvent[]): Row[] {
  const client = events.filter((e) => e.side === "client");
  const broker = events.filter((e) => e.side === "broker");
  // Broker events waiting for a partner, by what they carry, in order.
  const waiting = new Map<string, TraceEvent[]>();
  for (const b of broker) {
    if (!b.bytes) continue;
    const k = pairKey(b);
    const q = waiting.get(k);
    if (q) q.push(b);
    else waiting.set(k, [b]);
  }
  const rows: Row[] = [];
  const rowOf = new Map<TraceEvent, number>();
  for (const c of client) {
    const b = c.bytes ? waiting.get(pairKey(c))?.shift() : undefined;
    const r: Row = { client: c, broker: b, from: sender(c) };
    if (b) rowOf.set(b, rows.length);
    rows.push(r);
  }
  // Broker-only events, anchored after the row of the latest paired broker
  // event before them (-1: before every row).
  const after = new Map<number, Row[]>();
  let anchor = -1;
  for (const b of broker) {
    const i = rowOf.get(b);
    if (i !== undefined) {
      anchor = Math.max(anchor, i);
      continue;
    }
    const list = after.get(anchor);
    const r: Row = { broker: b, from: sender(b) };
    if (list) list.push(r);
    else after.set(anchor, [r]);
  }
  const out: Row[] = [...(after.get(-1) ?? [])];
  rows.forEach((r, i) => out.push(r, ...(after.get(i) ?? [])));
  markRTT(out);
  return out;
}

function field(e: TraceEvent, name: string): string | undefined {
  return e.fields.find((f) => f.name === name && !f.depth)?.value;
}

/** What a request waits for, as seen from the client; undefined for other events. */
function requestKey(e: TraceEvent): string | undefined {
  const id = () => field(e, "Packet Identifier") ?? "";
  switch (e.type) {
    case "ClientHello":
      return "hello";
    case "CONNECT":
      return "connect";
    case "SUBSCRIBE":
      return `sub ${id()}`;
    case "UNSUBSCRIBE":
      return `unsub ${id()}`;
    case "PINGREQ":
      return "ping";
    case "PUBLISH": {
      const qos = e.fields.find((f) => f.name === "QoS")?.value ?? "";
      return qos.startsWith("1") ? `pub ${id()}` : undefined;
    }
  }
  return undefined;
}

function responseKey(e: TraceEvent): string | undefined {
  const id = () => field(e, "Packet Identifier") ?? "";
  switch (e.type) {
    case "ServerHello":
      return "hello";
    case "CONNACK":
      return "connect";
    case "SUBACK":
      return `sub ${id()}`;
    case "UNSUBACK":
      return `unsub ${id()}`;
    case "PINGRESP":
      return "ping";
    case "PUBACK":
      return `pub ${id()}`;
  }
  return undefined;
}

/** Marks responses to the client's requests with the round trip time the client saw. */
function markRTT(rows: Row[]): void {
  const pending = new Map<string, TraceEvent>();
  for (const r of rows) {
    const c = r.client;
    if (!c) continue;
    if (c.dir === "send") {
      const k = requestKey(c);
      if (k && !pending.has(k)) pending.set(k, c);
    } else {
      const k = responseKey(c);
      const req = k ? pending.get(k) : undefined;
      if (k && req) {
        pending.delete(k);
        r.rtt = { ms: timeMs(c.time) - timeMs(req.time), request: req };
      }
    }
  }
}
