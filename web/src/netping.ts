// The network's part of a round trip: a plain HTTP request to the server
// the page came from, timed by the browser (Resource Timing: from sending
// the request to the first byte of the answer, on a kept-alive
// connection). The trace view subtracts it, and the broker's own time,
// from the round trips the wasm client sees through the WebSocket tunnel;
// what is left is the tunnel and the page's own work. In the static build
// the broker runs in the page: the network's part is 0.

import { backend } from "./backend";

let measured: number | undefined;
let running: Promise<number | undefined> | undefined;
const waiting: (() => void)[] = [];

/** The best of a few round trips to GET /healthz, in ms; undefined when the browser gives no timing. */
async function measure(): Promise<number | undefined> {
  // The static build's broker is in the page: no network between them.
  if (backend().mode === "static") return 0;
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const url = new URL(`/healthz?ping=${Date.now()}-${i}`, location.href).href;
    const t0 = performance.now();
    try {
      await (await fetch(url, { cache: "no-store" })).arrayBuffer();
    } catch {
      return undefined;
    }
    const entry = performance.getEntriesByName(url).pop() as PerformanceResourceTiming | undefined;
    // The first request may open the connection: Resource Timing tells
    // the request's own time apart; without it, the whole fetch counts.
    const ms = entry && entry.responseStart > 0 ? entry.responseStart - entry.requestStart : performance.now() - t0;
    best = Math.min(best, ms);
  }
  return isFinite(best) ? best : undefined;
}

/** The measured network round trip in ms, or undefined until it is known
 * (the first call starts measuring; onKnown runs once it is). */
export function networkRTT(onKnown?: () => void): number | undefined {
  if (measured !== undefined) return measured;
  if (onKnown) waiting.push(onKnown);
  running ??= measure().then((ms) => {
    measured = ms;
    for (const f of waiting.splice(0)) f();
    return ms;
  });
  return undefined;
}
