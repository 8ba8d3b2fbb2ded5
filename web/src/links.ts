// Deep links: the URL fragment names what is selected, so a lesson can link
// to one byte of one message:
//
//   #event=client-5&field=random
//   #event=client-5&field=cert_data&nth=2   (the second field of that name)
//   #conn=c12&event=broker-3                (the broker view at /trace)
//
// Selecting an event or a field rewrites the fragment with
// history.replaceState, so the back button is not filled with clicks.

/** What the fragment selects. */
export interface Target {
  conn?: string;
  /** "client-5", "broker-12". */
  event?: string;
  field?: string;
  /** 1-based occurrence of field among the event's fields of that name. */
  nth?: number;
}

export function parseHash(hash: string = location.hash): Target {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const t: Target = {};
  const conn = p.get("conn");
  const event = p.get("event");
  const field = p.get("field");
  const nth = Number(p.get("nth"));
  if (conn) t.conn = conn;
  if (event && /^(client|broker)-\d+$/.test(event)) t.event = event;
  if (field) t.field = field;
  if (Number.isInteger(nth) && nth > 1) t.nth = nth;
  return t;
}

export function formatHash(t: Target): string {
  const parts: string[] = [];
  const add = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== "") parts.push(`${k}=${encodeURIComponent(String(v))}`);
  };
  add("conn", t.conn);
  add("event", t.event);
  add("field", t.field);
  if (t.nth && t.nth > 1) add("nth", t.nth);
  return parts.length ? `#${parts.join("&")}` : "";
}

/** Puts the target in the address bar without adding a history entry. */
export function writeHash(t: Target): void {
  const h = formatHash(t);
  if (h === location.hash || (h === "" && location.hash === "")) return;
  history.replaceState(history.state, "", h || location.pathname + location.search);
}
