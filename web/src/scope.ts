// The names a lesson step's code sees, with their types: step files
// (lessons/NN-lesson/*.ts, see lessons/README.md) are functions of a Scope,
// and tsc checks them against it with the page. web/src/lab.ts makes the
// values; lessons/stepcode.go lists the same names (ScopeNames).
import type { ConnectOptions, Connection, Health, Playground, TraceEvent } from "./playground.d";
import type { ConnInfo, ConnTrace, Rotated } from "./gen/broker";

export type { Connection, ConnectOptions, TraceEvent };

/** The placeholders of the lesson page, for code (lessons/placeholders.go). */
export interface Site {
  /** The host the page was reached at. */
  host: string;
  /** A DNS name the broker certificate covers. */
  name: string;
  /** The page's origin. */
  url: string;
  port: { mqtt: string; mqtts: string; mtls: string };
  ca: { url: string; file: string; pem: string };
}

/** A connection that only shows what was recorded (see recorded). */
export interface RecordedConnection extends Connection {
  /** Said above the trace panel instead of the TLS parameters. */
  note: string;
}

/** What pg.attempt resolves to. */
export interface Attempt {
  /** Whether the connection was made. */
  ok: boolean;
  /** The connection; when it failed, a recording of it up to the failure. */
  conn: Connection;
  /** Why it failed, in the client's words ("" when ok). */
  error: string;
}

/** What a connection cost on the wire, up to the broker's CONNACK. */
export interface Cost {
  /** Bytes sent and received: TLS records, or MQTT packets without TLS. */
  sent: number;
  received: number;
  /** How often the client sent something and then waited for an answer. */
  rounds: number;
  /** Bytes of ClientHello, ServerHello, Certificate and CertificateVerify. */
  hello: number;
  serverHello: number;
  certs: number;
  verify: number;
  resumed: boolean;
  /** "TLS 1.3", "TLS 1.2" or "no TLS". */
  version: string;
}

/** Which events to pick: by type (any type when left out), side and direction. */
export interface Pick {
  type?: string;
  side?: "client" | "broker";
  dir?: "send" | "recv";
}

/** pg in a step: window.playground plus helpers that keep step code short. */
export interface Lab extends Playground {
  /** Connects and resolves either way: a refusal is a result to look at,
   * not an error. A failed connection comes back as a recording of its
   * trace up to the failure (assign it to conn to show it). */
  attempt(opts: ConnectOptions, note?: string): Promise<Attempt>;
  /** The certificate checks that fail on a listener. A verifying client
   * stops at the first failure, so this connects once more with
   * verification off, only to read conn.checks(), and closes at once. */
  failingChecks(opts: ConnectOptions): Promise<string[]>;
  /** Waits until the broker has recorded an event of conn of the given
   * type (and direction), then returns the broker's events of conn. */
  brokerSaw(conn: Connection, type: string, dir?: "send" | "recv"): Promise<TraceEvent[]>;
  /** GET /trace: the broker's recent connections, newest first. */
  connections(): Promise<ConnInfo[]>;
  /** The broker's entry for conn in GET /trace (found by its client random, or client id without TLS). */
  brokerEntry(conn: Connection): Promise<ConnInfo | undefined>;
  /** GET /trace/{id}: a connection and its events as the broker recorded them. */
  brokerRecord(id: string): Promise<ConnTrace>;
  /** GET /healthz: the listeners and their figures. */
  health(): Promise<Health>;
  /** POST /pki/rotate: gives the broker a new certificate (new key and
   * serial, same names, same CA) for the handshakes that follow; waits
   * out the server's "just rotated" answer. In the static build the
   * broker in the page rotates. */
  rotateBrokerCert(): Promise<Rotated>;
  /** The first event of conn's trace (or of a list of events) that matches. */
  find(from: Connection | TraceEvent[], pick: Pick | string): TraceEvent | undefined;
  /** Every event that matches, in order. */
  findAll(from: Connection | TraceEvent[], pick: Pick | string): TraceEvent[];
  /** The value of an event's first field of that name (or TLS extension name), or "". */
  value(e: TraceEvent | undefined, field: string): string;
  /** The values of every field of that name, in order. */
  values(e: TraceEvent | undefined, field: string): string[];
  /** The bytes of a field, as hex (from the wire, or the decrypted content). */
  fieldHex(e: TraceEvent | undefined, field: string): string;
  /** The certificates the broker sent in conn's handshake, as PEM, its own
   * first (empty for a resumed handshake, which has none). */
  chainPEM(conn: Connection): string[];
  /** What conn cost on the wire up to CONNACK. */
  cost(conn: Connection): Cost;
  /** Connects with opts, measures cost(conn), and closes. keep: leave it open (as result.conn). */
  measure(opts: ConnectOptions, keep?: boolean): Promise<Cost & { ms: number; conn?: Connection }>;
  /** Fixed-width columns for a log table: each row's cells padded to widths. */
  row(cells: (string | number)[], widths: number[]): string;
  /** Waits (GET /trace/stream) for a finished connection of a client with
   * this client id that started after the call; resolves undefined after
   * timeoutMs. */
  waitForClient(clientId: string, timeoutMs: number): Promise<ConnInfo | undefined>;
  /** A word for a POSIX shell command line: single-quoted when it needs
   * quoting (as the {{x|sh}} placeholder filter does). */
  sh(word: string): string;
  /** Offers bytes as a file download from the page (a link in the step's log). */
  download(bytes: Uint8Array, filename: string): string;
  /** HKDF-Expand-Label(secret, label, "", length) of RFC 8446 §7.1 (hash
   * "SHA-256" or "SHA-384"); hex in, hex out. */
  hkdfExpandLabel(secretHex: string, label: string, length: number, hash?: string): Promise<string>;
  /** Opens one TLS 1.3 record's encrypted part with the AEAD of a cipher
   * suite: checks the tag and returns the plaintext, hex. */
  aeadOpen(suite: string, keyHex: string, nonceHex: string, aadHex: string, sealedHex: string): Promise<string>;
}

/** The names a step's code sees. */
export interface Scope {
  /** window.playground plus the lesson helpers. */
  pg: Lab;
  /** The lesson's current connection (set by an earlier step, or assigned here to show it). */
  conn: Connection;
  /** Kept across the lesson's steps. */
  state: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A short id of this browser, for client ids and topics. */
  me: string;
  /** Prints in the step's log. */
  log(...args: unknown[]): void;
  /** UTF-8 text as lower-case hex, the form of event bytes. */
  hex(text: string): string;
  /** Hex as text. */
  text(hex: string): string;
  sleep(ms: number): Promise<void>;
  /** conn.trace() when the step starts. */
  events: TraceEvent[];
  /** The placeholders' values: site.host, site.port.mqtts … */
  site: Site;
  /** A stand-in connection showing recorded events (see lessons/README.md). */
  recorded(events: TraceEvent[], note?: string): RecordedConnection;
}
