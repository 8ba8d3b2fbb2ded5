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
  rtt?: RTT;
}

/** A round trip the client saw, taken apart as far as the two records allow. */
export interface RTT {
  /** From the client sending the request to it receiving the response, by the client's clock. */
  ms: number;
  request: TraceEvent;
  /** From the broker receiving the request to it sending the response, by
   * the broker's clock; undefined when the broker's side is not known. The
   * rest of ms is the way there and back: network, tunnel and the page's
   * own work (the wasm client reading and writing through the browser). */
  brokerMs?: number;
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

/** The event that stands for the row: the client's when both ends saw it,
 * unless only the broker could decrypt it. */
export function primary(r: Row): TraceEvent {
  if (decryptedByBroker(r)) return r.broker!;
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

/** What an event has in common with its record at the other end: the
 * bytes, and for records the type, except that an encrypted record pairs
 * by its bytes alone (an end without its keys names it ApplicationData). */
function pairKey(e: TraceEvent): string {
  return e.encrypted ? `${e.layer}|encrypted|${sender(e)}|${e.bytes}` : `${e.layer}|${e.type}|${sender(e)}|${e.bytes}`;
}

/** Whether the row's client record is one the client could not decrypt
 * and the broker could: after a handshake the client gave up, the broker's
 * key log still opens what the broker sent (a NewSessionTicket). */
export function decryptedByBroker(r: Row): boolean {
  return !!(r.client?.encrypted && !r.client.plain && r.broker?.plain);
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

/** What a request waits for, as seen from the client; undefined for other events. */
function requestKey(e: TraceEvent): string | undefined {
  switch (e.type) {
    case "ClientHello":
      return "hello";
    case "CONNECT":
      return "connect";
    case "SUBSCRIBE":
      return `sub ${e.packetId}`;
    case "UNSUBSCRIBE":
      return `unsub ${e.packetId}`;
    case "PINGREQ":
      return "ping";
    case "PUBLISH":
      // QoS 1 is answered by PUBACK, QoS 2 first by PUBREC; QoS 0 by nothing.
      return e.qos ? `pub ${e.packetId}` : undefined;
  }
  return undefined;
}

function responseKey(e: TraceEvent): string | undefined {
  switch (e.type) {
    case "ServerHello":
      return "hello";
    case "CONNACK":
      return "connect";
    case "SUBACK":
      return `sub ${e.packetId}`;
    case "UNSUBACK":
      return `unsub ${e.packetId}`;
    case "PINGRESP":
      return "ping";
    case "PUBACK":
    case "PUBREC":
      return `pub ${e.packetId}`;
  }
  return undefined;
}

/** Marks responses to the client's requests with the round trip time the
 * client saw and, when the broker recorded both, the broker's part of it. */
function markRTT(rows: Row[]): void {
  const pending = new Map<string, Row>();
  for (const r of rows) {
    const c = r.client;
    if (!c) continue;
    if (c.dir === "send") {
      const k = requestKey(c);
      if (k && !pending.has(k)) pending.set(k, r);
    } else {
      const k = responseKey(c);
      const req = k ? pending.get(k) : undefined;
      if (k && req?.client) {
        pending.delete(k);
        const brokerMs = req.broker && r.broker ? timeMs(r.broker.time) - timeMs(req.broker.time) : undefined;
        r.rtt = { ms: timeMs(c.time) - timeMs(req.client.time), request: req.client, brokerMs };
      }
    }
  }
}
