// Public types of the MQTTS Playground's JavaScript API (window.playground).
// The data types are generated from the Go structs that produce the JSON
// (gen/, see tygo.yaml): trace events and recordings (trace/), listener
// info (broker/), what the wasm client returns (wasm/jsapi/api.go,
// wasm/client/verify.go) and GET /healthz (server/api.go). The methods
// here mirror wasm/jsapi/api.go and the options wasm/client/client.go; a Go test
// (wasm/api_test.go) keeps names and shapes in step.
import type { Check } from "./gen/client";
import type { Health, ListenerInfo } from "./gen/broker";
import type { CertInfo, Chunk, Event, Field, Recording, RecordStart } from "./gen/trace";
import type { Identity, Message, TLSInfo } from "./gen/wasm";

export type { CertInfo, Check, Chunk, Field, Health, Identity, ListenerInfo, Message, Recording, RecordStart, TLSInfo };
/** One TLS record/handshake message or MQTT packet (trace.Event). */
export type TraceEvent = Event;

/** What the page exposes as window.playground. */
export interface Playground {
  /** Resolves once the Go wasm client is loaded and running. */
  ready: Promise<void>;
  /** Opens an MQTT session to a broker listener, or to an upstream (the
   * user's own broker, the server's --upstream), through the WebSocket tunnel. */
  connect(opts?: ConnectOptions): Promise<Connection>;
  /** The broker's listeners and the upstreams (upstream: true), as GET /healthz lists them. */
  listeners(): Promise<ListenerInfo[]>;
  /** Decodes a saved recording (conn.recording(), or GET /trace/{id}/recording) into events. */
  decode(recording: Recording): Promise<TraceEvent[]>;
  /** Reads a capture file (pcapng, with the TLS secrets of its Decryption
   * Secrets Blocks, or classic pcap, as tcpdump or Wireshark write them) into
   * the recording of its first TCP connection, in the page; keylog (the text
   * of an SSLKEYLOGFILE) adds secrets. Decode the result with decode. */
  readCapture(capture: Uint8Array, keylog?: string): Promise<Recording>;
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
  /** Broker listener name: "mqtts" (default), "mtls", "mqtt", …, or an upstream's name. */
  listener?: string;
  /** MQTT client identifier; default "playground-" + random. */
  clientId?: string;
  username?: string;
  password?: string;
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0 (default). */
  mqttVersion?: 4 | 5;
  /** MQTT keep-alive in seconds (default 60). */
  keepAlive?: number;
  /** false: carry on the session the broker keeps for this client id (default true: a new session). */
  cleanStart?: boolean;
  /** Seconds the broker keeps the session after the connection ends (MQTT 5; default 0). */
  sessionExpiry?: number;
  /** A Last Will: published by the broker when the connection ends without DISCONNECT. */
  will?: { topic: string; payload: string; qos?: 0 | 1 | 2; retain?: boolean; /** Will Delay Interval, seconds */ delay?: number };
  /** An MQTT 5 enhanced authentication method to name in CONNECT (no AUTH exchange follows). */
  authMethod?: string;
  /** TLS settings, used when the listener speaks TLS. */
  tls?: TLSOptions;
}

export interface TLSOptions {
  /** Name the broker's certificate must match, sent as SNI. Default: the page's host name when the certificate covers it, else "localhost"; for an upstream, its host. */
  serverName?: string;
  /** CA certificate(s) to trust, PEM. Default: the playground's CA from /ca.pem; for an upstream none (give its CA: the browser's Go has no system roots). */
  caPEM?: string;
  /** Client certificate chain (PEM) for mutual TLS. */
  certPEM?: string;
  /** Client private key (PEM) for mutual TLS. */
  keyPEM?: string;
  /** An identity from createIdentity/savedIdentities, instead of certPEM/keyPEM. */
  identity?: string;
  /** CA certificates (PEM) the client may use to build the path to a trusted CA without trusting them: for a broker that does not send its intermediate. */
  intermediatesPEM?: string;
  /** Application protocols to offer (ALPN), e.g. ["mqtt"]; tlsInfo().alpn says which the broker chose. */
  alpn?: string[];
  /** Accept any certificate (the checks still run and are shown). */
  insecureSkipVerify?: boolean;
  /** false: make a full handshake even when an earlier connection to this
   * listener left a session ticket (default true: resume when possible).
   * The ticket this connection receives is kept either way. */
  resume?: boolean;
  /** Key exchange groups to offer, in order: "X25519MLKEM768", "X25519", "P-256", "P-384", "P-521".
   * Default: Go's (X25519MLKEM768 and X25519 key shares). */
  groups?: string[];
  /** "1.2" or "1.3". */
  minVersion?: string;
  maxVersion?: string;
}

/** An open MQTT session. Methods mirror ConnMethods in wasm/jsapi/api.go. */
export interface Connection {
  /** The listener this connection went to. */
  listener: string;
  /** Subscribes to a topic filter; resolves to the granted QoS. */
  subscribe(filter: string, qos?: 0 | 1 | 2): Promise<number>;
  /** Publishes a message; QoS 1 and 2 resolve once the broker acknowledged it. */
  publish(topic: string, payload: string | Uint8Array, opts?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  /** The next message received on any subscription; rejects after timeoutMs (default 5000). */
  nextMessage(timeoutMs?: number): Promise<Message>;
  /** The MQTT client identifier the CONNECT carried (the one picked for
   * it when none was given). */
  clientId(): string;
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
   * random of the TLS handshake (tlsInfo().clientRandom), else the MQTT
   * client id of the CONNECT (clientId()). */
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
  /** Ends the connection as a crash would: no DISCONNECT, no close_notify
   * (the broker then publishes the client's will). */
  drop(): Promise<void>;
}

/** A failed connect rejects with an Error carrying the trace so far. */
export interface ConnectError extends Error {
  /** This side's events up to the failure. */
  trace?: TraceEvent[];
  /** The steps of the broker certificate check, when the handshake got as
   * far as the broker's certificate (the failed step has ok: false). */
  checks?: Check[];
  /** How the broker names the failed connection (the client random), once a
   * ClientHello went out. */
  brokerKey?: string;
  /** The broker's side of the failed connection, as Connection.brokerTrace
   * (resolves to [] when there is no brokerKey). */
  brokerTrace?: Connection["brokerTrace"];
  /** The listener the connect went to. */
  listener?: string;
}
