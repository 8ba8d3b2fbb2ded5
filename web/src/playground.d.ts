// Public types of the MQTTS Playground's JavaScript API (window.playground).
// They mirror Go code: the method names in wasm/api.go, client options in
// wasm/client/client.go, trace events in trace/event.go, listener info in
// broker/broker.go. A Go test (wasm/api_test.go) keeps the names in step.

/** What the page exposes as window.playground. */
export interface Playground {
  /** Resolves once the Go wasm client is loaded and running. */
  ready: Promise<void>;
  /** Opens an MQTT session to a broker listener through the WebSocket tunnel. */
  connect(opts?: ConnectOptions): Promise<Connection>;
  /** The broker's listeners, as GET /healthz lists them. */
  listeners(): Promise<ListenerInfo[]>;
  /** Decodes a saved recording (conn.recording(), or GET /trace/{id}/recording) into events. */
  decode(recording: Recording): Promise<TraceEvent[]>;
  /** Makes a key pair in the page (Go, ECDSA P-256), has the local CA sign its
   * request (POST /pki/csr) and returns the identity; use it with
   * connect({listener: "mtls", tls: {identity: id.id}}). The private key never
   * leaves the page. */
  createIdentity(name: string): Promise<Identity>;
  /** Keeps an identity in this browser (IndexedDB) so it survives a reload. */
  saveIdentity(id: string): Promise<void>;
  /** The identities kept in this browser, loaded back into the page. */
  savedIdentities(): Promise<Identity[]>;
  /** Revokes the identity's certificate (POST /pki/revoke, proving possession
   * of the key with a signature made in the page): the mtls listener refuses
   * it from the next handshake on. */
  revokeIdentity(id: string): Promise<void>;
  /** Removes a kept identity from this browser. */
  forgetIdentity(name: string): Promise<void>;
}

/** Options of playground.connect; all optional. */
export interface ConnectOptions {
  /** Broker listener name: "mqtts" (default), "mtls", "mqtt", … */
  listener?: string;
  /** MQTT client identifier; default "playground-" + random. */
  clientId?: string;
  username?: string;
  password?: string;
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0 (default). */
  mqttVersion?: 4 | 5;
  /** MQTT keep-alive in seconds (default 60). */
  keepAlive?: number;
  /** TLS settings, used when the listener speaks TLS. */
  tls?: TLSOptions;
}

/** A client identity: a key made in the page and its certificate. */
export interface Identity {
  /** Handle for tls.identity; valid while the page is open. */
  id: string;
  /** The certificate's subject common name, also the MQTT user name on mtls. */
  name: string;
  subject: string;
  issuer: string;
  /** Hex serial number. */
  serial: string;
  notAfter: string;
  /** The certificate chain, leaf first (no private key). */
  chainPEM: string;
}

export interface TLSOptions {
  /** Name the broker's certificate must match, sent as SNI. Default: the page's host name when the certificate covers it, else "localhost". */
  serverName?: string;
  /** CA certificate(s) to trust, PEM. Default: the playground's CA from /ca.pem. */
  caPEM?: string;
  /** Client certificate chain (PEM) for mutual TLS. */
  certPEM?: string;
  /** Client private key (PEM) for mutual TLS. */
  keyPEM?: string;
  /** An identity from createIdentity/savedIdentities, instead of certPEM/keyPEM. */
  identity?: string;
  /** Accept any certificate (the checks still run and are shown). */
  insecureSkipVerify?: boolean;
  /** false: make a full handshake even when an earlier connection of this
   * page left a session ticket (default true: resume when possible). */
  resume?: boolean;
  /** Key exchange groups to offer, in order: "X25519MLKEM768", "X25519", "P-256", "P-384", "P-521".
   * Default: Go's (X25519MLKEM768 and X25519 key shares). */
  groups?: string[];
  /** "1.2" or "1.3". */
  minVersion?: string;
  maxVersion?: string;
}

/** An open MQTT session. Methods mirror ConnMethods in wasm/api.go. */
export interface Connection {
  /** The listener this connection went to. */
  listener: string;
  /** Subscribes to a topic filter; resolves to the granted QoS. */
  subscribe(filter: string, qos?: 0 | 1 | 2): Promise<number>;
  /** Publishes a message; QoS 1 and 2 resolve once the broker acknowledged it. */
  publish(topic: string, payload: string | Uint8Array, opts?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  /** The next message received on any subscription; rejects after timeoutMs (default 5000). */
  nextMessage(timeoutMs?: number): Promise<Message>;
  /** Every event recorded so far on this connection, decoded: this side's
   * (side "client") followed by the broker's side as last fetched (side "broker"). */
  trace(): TraceEvent[];
  /** Fetches the broker's side of this connection (GET /trace/{brokerKey()}).
   * With wait, first waits until the broker has recorded an event matching
   * wait.until with a seq above wait.after, watching GET /trace/stream, and
   * rejects with what it waited for when none arrives within wait.timeoutMs:
   * await c.brokerTrace({until: {type: "PUBLISH", dir: "recv"}}). */
  brokerTrace(wait?: {
    /** The event to wait for: the values it must have, or a test. */
    until: Partial<Pick<TraceEvent, "type" | "dir" | "layer">> | ((e: TraceEvent) => boolean);
    /** Count only events with a higher seq (default 0: any event). */
    after?: number;
    /** How long to wait (default 5000 ms). */
    timeoutMs?: number;
  }): Promise<TraceEvent[]>;
  /** How the broker names this connection in GET /trace/{key}: the client
   * random of the TLS handshake, else the MQTT client id of the CONNECT. */
  brokerKey(): string;
  /** The steps of the broker certificate check (empty without TLS). */
  checks(): Check[];
  /** The raw recording (chunks and key log) the trace is decoded from. */
  recording(): Recording;
  /** This side's recording as a pcapng capture with the TLS secrets embedded
   * (a Decryption Secrets Block): Wireshark and tshark open it decrypted. */
  pcapng(): Uint8Array;
  /** The TLS secrets of this connection in NSS key log format. */
  keylog(): string;
  /** Negotiated TLS parameters, or null without TLS. */
  tlsInfo(): TLSInfo | null;
  /** Sends DISCONNECT and closes the connection (with TLS close_notify). */
  close(): Promise<void>;
}

export interface Message {
  topic: string;
  /** The payload as UTF-8 text. */
  payload: string;
  qos: number;
  retain: boolean;
}

/** A failed connect rejects with an Error carrying the trace so far. */
export interface ConnectError extends Error {
  trace?: TraceEvent[];
}

/** One TLS record/handshake message or MQTT packet (trace/event.go). */
export interface TraceEvent {
  seq: number;
  /** RFC 3339 time the last byte was seen. */
  time: string;
  side: "client" | "broker";
  dir: "send" | "recv";
  layer: "tls" | "mqtt";
  /** ClientHello, ServerHello, EncryptedExtensions, Certificate, CertificateVerify, Finished, NewSessionTicket, ApplicationData, Alert, ChangeCipherSpec, CONNECT, CONNACK, PUBLISH, … */
  type: string;
  /** Bytes on the wire. */
  length: number;
  /** Hex of the bytes on the wire. */
  bytes: string;
  /** True when the bytes travelled encrypted. */
  encrypted?: boolean;
  /** Hex of the decrypted content of an encrypted record. */
  plain?: string;
  summary?: string;
  fields: Field[];
  error?: string;
}

/** Annotation of a byte range of an event (trace/event.go). */
export interface Field {
  name: string;
  value: string;
  /** [start, end) offsets into bytes, or into plain when in === "plain". */
  start: number;
  end: number;
  in?: "plain";
  depth?: number;
  about?: string;
  /** e.g. "RFC 8446 §4.1.2", "MQTT 5.0 §3.3.2". */
  spec?: string;
}

/** One step of the certificate check (wasm/client/verify.go). */
export interface Check {
  step: string;
  ok: boolean;
  detail: string;
}

export interface TLSInfo {
  version: string;
  cipherSuite: string;
  group?: string;
  resumed: boolean;
  serverName: string;
}

export interface Recording {
  side: "client" | "broker";
  /** data is base64. */
  chunks: { time: string; dir: "send" | "recv"; app?: boolean; data: string }[];
  keylog?: string;
  dropped?: number;
}

/** A broker listener (broker/broker.go ListenerInfo). */
export interface ListenerInfo {
  name: string;
  addr: string;
  tls: boolean;
  mtls?: boolean;
  lesson: boolean;
  tunnel: boolean;
  about: string;
}

/** GET /healthz */
export interface Health {
  listeners: ListenerInfo[];
  http: string;
  https: string;
  /** Names the broker's certificate covers. */
  names: string[];
}
