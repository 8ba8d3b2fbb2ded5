// The values of a lesson step's scope (web/src/scope.ts): pg, the lesson
// helpers on top of window.playground, and the small functions step code
// uses. The helpers hold the plumbing (fetching the broker's records,
// measuring a handshake, reading fields) so that the code a step shows stays
// short and about its lesson.
import type { ConnectError, ConnectOptions, Connection, Field, Playground, TraceEvent } from "./playground.d";
import type { ConnInfo } from "./gen/broker";
import { backend } from "./backend";
import type { Cost, Lab, Pick, RecordedConnection, Site } from "./scope";
import { aeadOpen, hkdfExpandLabel } from "./tlscrypto";

const enc = new TextEncoder();

/** hex("abc") is "616263": the form event bytes and plain are in. */
export function hex(s: string): string {
  return Array.from(enc.encode(s), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** text("616263") is "abc" (bytes that are not UTF-8 become U+FFFD). */
export function text(hexs: string): string {
  const b = new Uint8Array(Math.floor(hexs.length / 2));
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hexs.substr(i * 2, 2), 16);
  return new TextDecoder().decode(b);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The placeholders' values as an object: "port.mqtts" becomes
 * site.port.mqtts, "host" site.host. */
export function siteOf(vars: Record<string, string> = {}): Site {
  type Tree = { [key: string]: string | Tree };
  const site: Tree = {};
  for (const [key, value] of Object.entries(vars)) {
    const path = key.split(".");
    let at = site;
    for (const p of path.slice(0, -1)) {
      const next = at[p];
      at = typeof next === "object" ? next : (at[p] = {});
    }
    at[path[path.length - 1]] = value;
  }
  return site as unknown as Site;
}

/** A connection that only shows what was recorded: the trace of a failed
 * connect (error.trace), or a connection the page did not make, as GET
 * /trace/{id} returns it. Assigned to conn, it fills the trace panel and
 * the step's checks read it; it cannot send anything. */
export function recorded(events: TraceEvent[], note = "a recorded connection"): RecordedConnection {
  const cannot = () => Promise.reject(new Error(`${note} is only a recording: it cannot send or receive`));
  return {
    listener: "",
    note,
    subscribe: cannot,
    publish: cannot,
    nextMessage: cannot,
    trace: () => events,
    brokerTrace: () => Promise.resolve(events.filter((e) => e.side === "broker")),
    clientId: () => "",
    brokerKey: () => "",
    checks: () => [],
    recording: () => ({ side: events[0]?.side ?? "client", chunks: [] }),
    pcapng: () => new Uint8Array(),
    keylog: () => "",
    tlsInfo: () => null,
    close: () => Promise.resolve(),
    drop: () => Promise.resolve(),
  };
}

export const isRecorded = (c: Connection | undefined): c is RecordedConnection => typeof (c as RecordedConnection | undefined)?.note === "string";

/** A field matches a name by its own name, or for a TLS extension (field
 * "extension" with ext "key_share") by the extension's name. */
export function fieldMatches(f: Field, name: string): boolean {
  return f.name === name || (f.name === "extension" && f.ext === name);
}

const eventsOf = (from: Connection | TraceEvent[]) => (Array.isArray(from) ? from : from.trace());

function picks(pick: Pick | string): (e: TraceEvent) => boolean {
  const p: Pick = typeof pick === "string" ? { type: pick } : pick;
  return (e) => (!p.type || e.type === p.type) && (!p.side || e.side === p.side) && (!p.dir || e.dir === p.dir);
}

/** What a connection cost on the wire up to CONNACK (see Cost). */
export function cost(c: Connection): Cost {
  const mine = c.trace().filter((e) => e.side === "client");
  const upto = mine.slice(0, mine.findIndex((e) => e.type === "CONNACK") + 1);
  // With TLS the wire is the records; without, the MQTT packets themselves.
  const wire = upto.some((e) => e.layer === "tls") ? upto.filter((e) => e.layer === "tls") : upto;
  let rounds = 0;
  wire.forEach((e, i) => {
    if (e.dir === "send" && (i === 0 || wire[i - 1].dir === "recv")) rounds++;
  });
  const sum = (pick: (e: TraceEvent) => boolean) => wire.filter(pick).reduce((n, e) => n + e.length, 0);
  return {
    sent: sum((e) => e.dir === "send"),
    received: sum((e) => e.dir === "recv"),
    rounds,
    hello: sum((e) => e.type === "ClientHello"),
    serverHello: sum((e) => e.type === "ServerHello"),
    certs: sum((e) => e.type === "Certificate" && e.dir === "recv"),
    verify: sum((e) => e.type === "CertificateVerify" && e.dir === "recv"),
    resumed: !!c.tlsInfo()?.resumed,
    version: c.tlsInfo()?.version ?? "no TLS",
  };
}

/** Makes pg: the playground plus the lesson helpers. log prints a line in
 * the running step's log (for download links). */
export function makeLab(pg: Playground, links: (a: HTMLAnchorElement) => void): Lab {
  const lab: Lab = {
    ...pg,
    async attempt(opts, note) {
      try {
        return { ok: true, conn: await pg.connect(opts), error: "" };
      } catch (e) {
        const err = e as ConnectError;
        const what = note ?? `the refused connection to ${opts.listener ?? "mqtts"}`;
        return { ok: false, conn: recorded(err.trace ?? [], what), error: err.message ?? String(e) };
      }
    },
    async failingChecks(opts) {
      const look = await pg.connect({ ...opts, tls: { ...opts.tls, insecureSkipVerify: true } });
      const failed = look.checks().filter((c) => !c.ok && c.step !== "verification skipped").map((c) => c.step);
      await look.close();
      return failed;
    },
    brokerSaw: (conn, type, dir) => conn.brokerTrace({ until: dir ? { type, dir } : { type } }),
    connections: () => backend().connections(),
    async brokerEntry(conn) {
      const random = conn.tlsInfo()?.clientRandom;
      const list = await lab.connections();
      return random ? list.find((c) => c.clientRandom === random) : list.find((c) => c.clientId === conn.clientId());
    },
    brokerRecord: (id) => backend().conn(id),
    health: () => backend().health(),
    rotateBrokerCert: () => backend().rotate(),
    find: (from, pick) => eventsOf(from).find(picks(pick)),
    findAll: (from, pick) => eventsOf(from).filter(picks(pick)),
    value: (e, field) => e?.fields.find((f) => fieldMatches(f, field))?.value ?? "",
    values: (e, field) => e?.fields.filter((f) => fieldMatches(f, field)).map((f) => f.value) ?? [],
    fieldHex(e, field) {
      const f = e?.fields.find((x) => fieldMatches(x, field));
      if (!e || !f) return "";
      return ((f.in === "plain" ? e.plain : e.bytes) ?? "").slice(2 * f.start, 2 * f.end);
    },
    chainPEM(conn) {
      const msg = lab.find(conn, { side: "client", dir: "recv", type: "Certificate" });
      if (!msg) return [];
      const raw = (f: Field) => ((f.in === "plain" ? msg.plain : msg.bytes) ?? "").slice(2 * f.start, 2 * f.end);
      return msg.fields
        .filter((f) => f.name === "cert_data")
        .map((f) => {
          const der = raw(f).match(/../g)?.map((b) => String.fromCharCode(parseInt(b, 16))).join("") ?? "";
          const b64 = btoa(der).replace(/.{64}/g, "$&\n").trim();
          return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
        });
    },
    cost,
    async measure(opts: ConnectOptions, keep = false) {
      const t0 = performance.now();
      const c = await pg.connect(opts);
      const r: Cost & { ms: number; conn?: Connection } = { ...cost(c), ms: Math.round(performance.now() - t0) };
      if (keep) r.conn = c;
      else await c.close();
      return r;
    },
    row: (cells, widths) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i] ?? 0) : String(c).padStart(widths[i] ?? 0))).join(" "),
    waitForClient(clientId, timeoutMs) {
      const since = Date.now() - 2000;
      // The broker's feed (GET /trace/stream) sends its list of connections on every
      // change: wait for one of this client id to end, so that its whole
      // session is recorded.
      return new Promise<ConnInfo | undefined>((resolve) => {
        let newest: ConnInfo | undefined;
        const end = () => {
          clearTimeout(timer);
          stop();
          resolve(newest?.ended ? newest : undefined);
        };
        const timer = setTimeout(end, timeoutMs);
        const stop = backend().follow(
          {},
          {
            connections: (list) => {
              newest = list
                .filter((c) => c.clientId === clientId && Date.parse(c.started) >= since)
                .sort((a, b) => Date.parse(b.started) - Date.parse(a.started))[0];
              if (newest?.ended) end();
            },
          },
        );
      });
    },
    download(bytes, filename) {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/octet-stream" }));
      a.download = filename;
      a.textContent = `Download ${filename} (${bytes.length} bytes)`;
      a.dataset.testid = "download";
      links(a);
      return a.href;
    },
    sh: (w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.split("'").join(`'\\''`)}'`),
    hkdfExpandLabel,
    aeadOpen,
  };
  return lab;
}
