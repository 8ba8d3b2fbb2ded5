// Where the broker is: the one seam between the page and "the server".
// In the server build (go run ./server) that is the HTTP routes of the
// server the page came from (/healthz, /ca.pem, /trace/…, /pki/…, the
// /trace/stream feed, the /tunnel WebSocket). In the static build
// (./task static) the broker, its listeners and its CA run inside the page,
// in the static wasm (wasm/static), which sets window.__playgroundBroker:
// the same answers, as the same JSON, and no request leaves the page.
import type { Health, Recording, TraceEvent } from "./playground.d";
import type { ConnInfo, ConnList, ConnTrace, Rotated } from "./gen/broker";

/** The broker inside the page (static build), set by wasm/static before it
 * calls __playgroundGoReady. Every string is the JSON body of the server
 * route of the same meaning (Methods in wasm/inpage/names.go). */
export interface InPageBroker {
  mode: "static";
  // A Go function cannot throw: these return an Error when they fail
  // (see thrown).
  health(): string | Error;
  caPEM(): string | Error;
  traceList(query: string): string | Error;
  traceConn(key: string): string | Error;
  recording(key: string): string | Error;
  watch(key: string, onEvents: (json: string) => void): () => void;
  signCSR(csrPEM: string): Promise<string>;
  revoke(certPEM: string, proof: string, unixTime: string): Promise<void>;
  rotate(): Promise<string>;
}

/** v, or the Error the wasm returned in its place thrown: a Go function
 * called from JavaScript cannot throw (wasm/jsapi/throw_js.go). */
export function thrown<T>(v: T | Error): T {
  if (v instanceof Error) throw v;
  return v;
}

declare global {
  interface Window {
    __playgroundBroker?: InPageBroker;
    /** Why the broker in the page did not start (wasm/inpage ErrorName). */
    __playgroundBrokerError?: string;
  }
}

/** What a feed of the broker's records says (see Backend.follow). */
export interface FollowHandlers {
  /** The broker's recent connections, on every change. */
  connections?: (list: ConnInfo[]) => void;
  /** New events of the followed connection (conn), with its info. */
  events?: (t: ConnTrace) => void;
  /** The feed stopped (the server build retries by itself); the static
   * build says why (err), and looks again. */
  error?: (err?: Error) => void;
}

/** The broker as the page's code sees it, wherever it runs. */
export interface Backend {
  /** "server": the HTTP routes of the server; "static": the in-page broker. */
  readonly mode: "server" | "static";
  /** GET /healthz, as it is now. */
  health(): Promise<Health>;
  /** GET /ca.pem: the root CA the broker's certificates lead to. */
  caPEM(): Promise<string>;
  /** A URL the page's code can fetch the CA certificate from (site.ca.url). */
  caURL(): Promise<string>;
  /** GET /trace?query: the broker's recent connections. */
  connections(query?: string): Promise<ConnInfo[]>;
  /** GET /trace/{key}; rejects with the broker's words when it has no such connection. */
  conn(key: string): Promise<ConnTrace>;
  /** GET /trace/{key}/recording, or null when the broker has none. */
  recording(key: string): Promise<Recording | null>;
  /** The /trace/stream feed: the connection list (filter: a query string)
   * and, with conn, that connection's events after the first `after`. */
  follow(what: { conn?: string; after?: number; filter?: string }, on: FollowHandlers): () => void;
  /** POST /pki/csr: the chain PEM the CA signed. */
  signCSR(csrPEM: string): Promise<string>;
  /** POST /pki/revoke with the proof of possession. */
  revoke(certPEM: string, proof: string, unixTime: string): Promise<void>;
  /** POST /pki/rotate: the broker's new certificate. The server allows
   * one rotation every few seconds: a 429 is waited out (up to 15 s). */
  rotate(): Promise<Rotated>;
  /** The tunnel's WebSocket URL (ignored by the static wasm). */
  tunnelURL(): string;
  /** Links to files only the server makes (a connection's .pcapng, its
   * replay page); undefined in the static build. */
  pcapngURL(key: string): string | undefined;
  replayURL(key: string): string | undefined;
}

/** The server build's backend: the routes of the server at base. */
export function serverBackend(base: URL): Backend {
  const url = (path: string) => new URL(path, base);
  const getJSON = async <T>(path: string): Promise<T> => {
    const r = await fetch(url(path), { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`GET /${path}: ${r.status} ${(await r.text()).trim()}`);
    return (await r.json()) as T;
  };
  return {
    mode: "server",
    health: async () => {
      const r = await fetch(url("healthz"));
      if (!r.ok) throw new Error(`GET /healthz failed: ${r.status}`);
      return (await r.json()) as Health;
    },
    caPEM: async () => {
      const r = await fetch(url("ca.pem"));
      if (!r.ok) throw new Error(`GET /ca.pem failed: ${r.status}`);
      return r.text();
    },
    caURL: async () => url("ca.pem").href,
    connections: async (query = "") => (await getJSON<ConnList>(`trace${query ? `?${query}` : ""}`)).connections ?? [],
    conn: async (key) => {
      const r = await fetch(url(`trace/${encodeURIComponent(key)}`));
      if (!r.ok) throw new Error((await r.text()).trim() || `GET /trace/${key}: ${r.status}`);
      return (await r.json()) as ConnTrace;
    },
    recording: async (key) => {
      if (!key) return null;
      const r = await fetch(url(`trace/${encodeURIComponent(key)}/recording`)).catch(() => undefined);
      return r?.ok ? ((await r.json()) as Recording) : null;
    },
    follow: ({ conn, after, filter }, on) => {
      const q = new URLSearchParams(filter ?? "");
      if (conn) {
        q.set("conn", conn);
        if (after) q.set("after", String(after));
      }
      const qs = q.toString();
      const feed = new EventSource(url(`trace/stream${qs ? `?${qs}` : ""}`));
      if (on.connections) {
        const f = on.connections;
        feed.addEventListener("connections", (ev) => f((JSON.parse((ev as MessageEvent<string>).data) as ConnList).connections ?? []));
      }
      if (on.events) {
        const f = on.events;
        feed.addEventListener("events", (ev) => f(JSON.parse((ev as MessageEvent<string>).data) as ConnTrace));
      }
      if (on.error) {
        const f = on.error;
        feed.onerror = () => f();
      }
      return () => feed.close();
    },
    signCSR: async (csrPEM) => {
      const r = await fetch(url("pki/csr"), { method: "POST", headers: { "Content-Type": "application/pkcs10" }, body: csrPEM });
      const body = await r.text();
      if (!r.ok) throw new Error(body.trim());
      return body;
    },
    revoke: async (certPEM, proof, unixTime) => {
      const r = await fetch(url("pki/revoke"), {
        method: "POST",
        headers: { "Content-Type": "application/x-pem-file", "X-Revoke-Proof": proof, "X-Revoke-Time": unixTime },
        body: certPEM,
      });
      if (!r.ok) throw new Error((await r.text()).trim());
    },
    rotate: async () => {
      let r = await fetch(url("pki/rotate"), { method: "POST" });
      for (let i = 0; i < 15 && r.status === 429; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        r = await fetch(url("pki/rotate"), { method: "POST" });
      }
      if (!r.ok) throw new Error(`POST /pki/rotate: ${r.status} ${(await r.text()).trim()}`);
      return (await r.json()) as Rotated;
    },
    tunnelURL: () => {
      const t = url("tunnel");
      t.protocol = base.protocol === "https:" ? "wss:" : "ws:";
      return t.href;
    },
    pcapngURL: (key) => url(`trace/${encodeURIComponent(key)}.pcapng`).pathname,
    replayURL: (key) => `${url("replay").pathname}?src=${encodeURIComponent(url(`trace/${key}/recording`).pathname)}`,
  };
}

/** How often the static build's broker view looks at the list of connections. */
const LIST_EVERY_MS = 500;

/** The static build's backend: the broker in this page, once the wasm that
 * runs it has started (start resolves then). */
export function inPageBackend(start: () => Promise<void>): Backend {
  const broker = async (): Promise<InPageBroker> => {
    await start();
    const b = window.__playgroundBroker;
    if (!b) throw new Error(window.__playgroundBrokerError ?? "the static wasm did not set window.__playgroundBroker: is this page's wasm the static build's?");
    return b;
  };
  let caURL: string | undefined;
  const connections = async (query = "") => ((JSON.parse(thrown((await broker()).traceList(query))) as ConnList).connections ?? []);
  return {
    mode: "static",
    health: async () => JSON.parse(thrown((await broker()).health())) as Health,
    caPEM: async () => thrown((await broker()).caPEM()),
    // A URL of this page's own making: fetch(site.ca.url) works in step code.
    caURL: async () => (caURL ??= URL.createObjectURL(new Blob([thrown((await broker()).caPEM())], { type: "application/x-pem-file" }))),
    connections,
    conn: async (key) => JSON.parse(thrown((await broker()).traceConn(key))) as ConnTrace,
    recording: async (key) => {
      if (!key) return null;
      try {
        return JSON.parse(thrown((await broker()).recording(key))) as Recording;
      } catch {
        return null;
      }
    },
    follow: ({ conn, after = 0, filter = "" }, on) => {
      let stopped = false;
      // The list's next poll, and the broker's watch of conn: what stop ends.
      let timer: ReturnType<typeof setTimeout> | undefined;
      let unwatch: (() => void) | undefined;
      let list: ConnInfo[] = [];
      let seen = "";
      const poll = async () => {
        if (stopped) return;
        try {
          list = await connections(filter);
          const now = JSON.stringify(list);
          if (now !== seen) {
            seen = now;
            on.connections?.(list);
          }
        } catch (e) {
          on.error?.(e as Error);
        }
        if (!stopped) timer = setTimeout(poll, LIST_EVERY_MS);
      };
      if (on.connections) void poll();
      if (conn && on.events) {
        const f = on.events;
        let n = 0;
        broker().then(
          (b) => {
            if (stopped) return;
            unwatch = b.watch(conn, (json) => {
              // A batch the wasm queued before stop: not for this caller.
              if (stopped) return;
              const all = (JSON.parse(json) as { events: TraceEvent[] }).events ?? [];
              const fresh = all.filter(() => ++n > after);
              const info = list.find((c) => c.id === conn) ?? ({ id: conn } as ConnInfo);
              if (fresh.length) f({ connection: info, events: fresh });
            });
          },
          (e: Error) => on.error?.(e),
        );
      }
      // Once only: the wasm's stop function is released when called, and
      // calling a released Go function ends the wasm (the page's broker).
      return () => {
        if (stopped) return;
        stopped = true;
        clearTimeout(timer);
        unwatch?.();
      };
    },
    signCSR: async (csrPEM) => (await broker()).signCSR(csrPEM),
    revoke: async (certPEM, proof, unixTime) => (await broker()).revoke(certPEM, proof, unixTime),
    rotate: async () => JSON.parse(await (await broker()).rotate()) as Rotated,
    tunnelURL: () => "in-page",
    pcapngURL: () => undefined,
    replayURL: () => undefined,
  };
}

let current: Backend | undefined;

/** The page's backend, as installPlayground chose it. */
export function backend(): Backend {
  current ??= serverBackend(new URL("/", location.href));
  return current;
}

/** Sets the page's backend (installPlayground does, once). */
export function setBackend(b: Backend): void {
  current = b;
}

/** Whether this page is the static build's (its <html data-build="static">). */
export function staticBuild(): boolean {
  return document.documentElement.dataset.build === "static";
}
