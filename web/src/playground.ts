// window.playground: loads the Go wasm client and wraps its connect method
// (wasm/jsapi/api_js.go) with listener lookup and sane defaults.
import type { ConnectError, ConnectOptions, Connection, Health, Identity, ListenerInfo, Playground, Recording, TraceEvent } from "./playground.d";
import type { IdentityRequest, RevocationProof, SavedIdentity } from "./gen/wasm";
import { inPageBackend, serverBackend, setBackend, staticBuild, thrown, type Backend } from "./backend";
import { unpackData } from "./wasmdata";

/** The connection object of the Go global: ConnMethods in wasm/jsapi/api.go. */
type GoConn = Omit<Connection, "listener" | "brokerTrace" | "pcapng"> & { pcapng(): Uint8Array | Error };
/** The Go global (GlobalMethods in wasm/jsapi/api.go). */
interface GoAPI {
  connect(options: object): Promise<GoConn>;
  decode(recording: Recording): TraceEvent[] | Error;
  readCapture(capture: Uint8Array, keylog: string): Promise<Recording>;
  newIdentity(name: string): Promise<IdentityRequest>;
  setIdentityCert(id: string, chainPEM: string): Promise<Identity>;
  exportIdentity(id: string): Promise<SavedIdentity>;
  importIdentity(keyPEM: string, chainPEM: string): Promise<Identity>;
  signRevocation(id: string, unixTime: string): Promise<RevocationProof>;
}

/** IndexedDB store of identities the learner chose to keep. */
const DB = "mqtts-playground";
const STORE = "identities";
function idb<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "name" });
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error);
    };
  });
}

declare global {
  interface Window {
    playground: Playground;
    __playgroundGo?: GoAPI;
    __playgroundGoReady?: () => void;
  }
  // Defined by wasm_exec.js.
  class Go {
    importObject: WebAssembly.Imports;
    run(instance: WebAssembly.Instance): Promise<void>;
  }
}

/** Event sent on window when a connection changes (new events in its trace). */
export const UPDATE_EVENT = "playground:update";

export interface UpdateDetail {
  conn: Connection;
  what: string;
}

/** Where the server is: the origin the script was loaded from. */
export function serverBase(script: HTMLScriptElement | null): URL {
  return new URL("/", script?.src ?? location.href);
}

// hostOf is the host of a "host:port" address ("[::1]:8883" → "::1").
function hostOf(addr: string): string {
  const i = addr.lastIndexOf(":");
  const host = i < 0 ? addr : addr.slice(0, i);
  return host.replace(/^\[(.*)\]$/, "$1");
}

type BrokerTraceWait = NonNullable<Parameters<Connection["brokerTrace"]>[0]>;

/** Resolves once the broker has recorded an event of the connection key
 * matching wait.until with a seq above wait.after: the feed of key
 * (GET /trace/stream?conn=key) sends the events recorded so far and then each
 * new batch. Rejects after
 * wait.timeoutMs with what it waited for and what it saw. */
function waitForBroker(be: Backend, key: string, wait: BrokerTraceWait): Promise<void> {
  const after = wait.after ?? 0;
  const timeoutMs = wait.timeoutMs ?? 5000;
  const until = wait.until;
  const matches =
    typeof until === "function" ? until : (e: TraceEvent) => Object.entries(until).every(([k, v]) => e[k as keyof TraceEvent] === v);
  const what = typeof until === "function" ? "event passing the given test" : `event ${JSON.stringify(until)}`;
  return new Promise((resolve, reject) => {
    if (!key) {
      reject(new Error("brokerTrace: this connection has no broker key yet: nothing to wait for"));
      return;
    }
    const seen: TraceEvent[] = [];
    const end = (err?: Error) => {
      clearTimeout(timer);
      stop();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => {
      const last = seen.slice(-6).map((e) => `${e.seq} ${e.dir} ${e.type}`);
      end(new Error(`brokerTrace: the broker recorded no ${what} after seq ${after} of connection ${key} within ${timeoutMs} ms` +
        ` (it has ${seen.length} events${last.length ? `, the last: ${last.join(", ")}` : ""})`));
    }, timeoutMs);
    const stop = be.follow(
      { conn: key },
      {
        events: ({ events: batch }) => {
          seen.push(...batch);
          if (batch.some((e) => e.seq > after && matches(e))) end();
        },
      },
    );
  });
}

/** The broker's side of the connection the broker knows as key(): the
 * events as last fetched (GET /trace/{key}), and brokerTrace to fetch them,
 * waiting first when asked to. */
function brokerSide(be: Backend, key: () => string): { brokerTrace: Connection["brokerTrace"]; events: () => TraceEvent[] } {
  let events: TraceEvent[] = [];
  const fetchEvents = async (): Promise<TraceEvent[]> => {
    const k = key();
    if (!k) return events;
    events = await be.conn(k).then(
      (t) => t.events,
      () => events,
    );
    return events;
  };
  return {
    events: () => events,
    brokerTrace: async (wait) => {
      if (wait) await waitForBroker(be, key(), wait);
      return fetchEvents();
    },
  };
}

/** What to do when the static build's wasm does not load: browsers load
 * no wasm for a page opened as a file, and compile none a host sends with
 * another type than application/wasm. */
function staticServeHint(): string {
  return location.protocol === "file:"
    ? ". Browsers do not load it for a page opened from a file: serve the static build's folder over HTTP (e.g. python3 -m http.server -d FOLDER) and open the page from there."
    : ". Serve the static build's folder as it was written, every file with its type (.wasm as application/wasm); python3 -m http.server -d FOLDER does.";
}

/** Installs window.playground for the page the script runs in: with the
 * server's routes, or in the static build (<html data-build="static">)
 * with the broker inside the page, whose wasm URL is relative to the page. */
export function installPlayground(script: HTMLScriptElement | null): Playground {
  const inPage = staticBuild();
  const base = serverBase(script);
  const wasm = new URL(script?.dataset.wasm ?? "", inPage ? location.href : base);
  const { api, backend } = makePlayground(base, wasm, false, inPage ? "static" : "server");
  setBackend(backend);
  window.playground = api;
  return api;
}

/**
 * The playground API of the server at base, whose wasm client is at
 * wasmURL. Lazy, nothing is fetched until start is called (or a method
 * needs the client): the widget script starts it when a widget that needs
 * it comes into view. Either way the page has one wasm instance. In the
 * static mode the broker runs in the same wasm (see backend.ts), and base is
 * not used.
 */
export function makePlayground(
  base: URL,
  wasmURL: URL,
  lazy: boolean,
  mode: "server" | "static" = "server",
): { api: Playground; start: () => Promise<void>; backend: Backend } {
  let load!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    window.__playgroundGoReady = () => {
      performance.mark("playground:wasm-ready");
      resolve();
    };
    // Compiling starts with the first bytes of the download (the page's
    // head preloads the file), not after it.
    load = () =>
      WebAssembly.compileStreaming(fetch(wasmURL))
        .then((mod) => {
          performance.mark("playground:wasm-compiled");
          const go = new Go();
          return WebAssembly.instantiate(mod, go.importObject).then((inst) => {
            unpackData(mod, inst.exports.mem as WebAssembly.Memory);
            go.run(inst).catch((e: unknown) => console.error("wasm client stopped:", e));
          });
        })
        .catch((e: unknown) => reject(new Error(`could not load the wasm client from ${wasmURL}: ${e}${mode === "static" ? staticServeHint() : ""}`)));
  });
  let started = false;
  const start = (): Promise<void> => {
    if (!started) {
      started = true;
      load();
      // What the first connect needs, fetched while the wasm compiles.
      if (mode === "server") {
        getHealth().catch(() => {});
        getCA().catch(() => {});
      }
    }
    return ready;
  };
  const be = mode === "static" ? inPageBackend(start) : serverBackend(base);
  // The listeners and the CA, fetched once for the page's connections.
  let health: Promise<Health> | undefined;
  const getHealth = (): Promise<Health> => (health ??= be.health());
  let ca: Promise<string> | undefined;
  const getCA = (): Promise<string> => (ca ??= be.caPEM());

  if (!lazy) start();

  const notify = (conn: Connection, what: string) => {
    window.dispatchEvent(new CustomEvent<UpdateDetail>(UPDATE_EVENT, { detail: { conn, what } }));
    // Then again once the broker's side is fetched.
    conn.brokerTrace().then(
      () => window.dispatchEvent(new CustomEvent<UpdateDetail>(UPDATE_EVENT, { detail: { conn, what: what + ":broker" } })),
      () => {},
    );
  };

  async function connect(opts: ConnectOptions = {}): Promise<Connection> {
    await start();
    const h = await getHealth();
    const name = opts.listener ?? "mqtts";
    const l = h.listeners.find((x) => x.name === name);
    if (!l || !l.tunnel) {
      const names = h.listeners.filter((x) => x.tunnel).map((x) => x.name);
      throw new Error(`no listener named "${name}" can be reached from the browser; the broker has: ${names.join(", ")}`);
    }
    let tls = undefined;
    if (l.tls && l.upstream) {
      // The user's own broker: its name, and the CA the caller gives
      // (tls.caPEM); the playground's CA has nothing to say about it.
      tls = { ...opts.tls };
      tls.serverName ??= hostOf(l.addr);
    } else if (l.tls) {
      tls = { ...opts.tls };
      tls.caPEM ??= await getCA();
      const host = mode === "static" ? location.hostname : base.hostname;
      tls.serverName ??= h.names.includes(host) ? host : (h.names[0] ?? "localhost");
    }
    const goOpts = { ...opts, listener: name, tls, tunnelURL: be.tunnelURL() };
    let g: GoConn;
    try {
      g = await window.__playgroundGo!.connect(goOpts);
    } catch (e) {
      // The broker may have recorded its side of the failed attempt too.
      const err = e as ConnectError;
      const key = err.brokerKey ?? "";
      err.listener = name;
      err.brokerTrace = brokerSide(be, () => key).brokerTrace;
      throw err;
    }
    // The broker records its side of the same connection; Go names it
    // (the client random of our handshake, or without TLS our client id).
    const { brokerTrace, events: brokerEvents } = brokerSide(be, () => g.brokerKey());
    const conn: Connection = {
      listener: name,
      clientId: () => g.clientId(),
      brokerKey: () => g.brokerKey(),
      brokerTrace,
      subscribe: (filter, qos = 0) => g.subscribe(filter, qos).finally(() => notify(conn, "subscribe")),
      publish: (topic, payload, o) => g.publish(topic, payload, o ?? {}).finally(() => notify(conn, "publish")),
      nextMessage: (timeoutMs = 5000) => g.nextMessage(timeoutMs).finally(() => notify(conn, "message")),
      trace: () => [...g.trace(), ...brokerEvents()],
      checks: () => g.checks(),
      recording: () => g.recording(),
      pcapng: () => thrown(g.pcapng()),
      keylog: () => g.keylog(),
      tlsInfo: () => g.tlsInfo(),
      close: () => g.close().finally(() => notify(conn, "close")),
      drop: () => g.drop().finally(() => notify(conn, "drop")),
    };
    notify(conn, "connect");
    return conn;
  }

  const api: Playground = {
    ready,
    connect,
    listeners: () => getHealth().then((h): ListenerInfo[] => h.listeners),
    decode: async (rec) => {
      await start();
      return thrown(window.__playgroundGo!.decode(rec));
    },
    readCapture: async (capture, keylog) => {
      await start();
      return window.__playgroundGo!.readCapture(capture, keylog ?? "");
    },
    createIdentity: async (name) => {
      await start();
      const { id, csrPEM } = await window.__playgroundGo!.newIdentity(name);
      const chain = await be.signCSR(csrPEM).catch((e: Error) => {
        throw new Error(`the CA refused the request: ${e.message}`);
      });
      return window.__playgroundGo!.setIdentityCert(id, chain);
    },
    saveIdentity: async (id) => {
      await start();
      const e = await window.__playgroundGo!.exportIdentity(id);
      await idb("readwrite", (s) => s.put(e));
    },
    savedIdentities: async () => {
      await start();
      const all = await idb<SavedIdentity[]>("readonly", (s) => s.getAll());
      const out: Identity[] = [];
      for (const e of all) out.push(await window.__playgroundGo!.importIdentity(e.keyPEM, e.chainPEM));
      return out;
    },
    revokeIdentity: async (id) => {
      await start();
      const when = String(Math.floor(Date.now() / 1000));
      const { certPEM, proof } = await window.__playgroundGo!.signRevocation(id, when);
      await be.revoke(certPEM, proof, when).catch((e: Error) => {
        throw new Error(`the CA did not revoke it: ${e.message}`);
      });
    },
    forgetIdentity: async (name) => {
      await idb("readwrite", (s) => s.delete(name));
    },
  };
  return { api, start, backend: be };
}
