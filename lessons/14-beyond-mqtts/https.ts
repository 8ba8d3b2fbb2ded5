import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const health = await pg.health();
  state.https = health.https ? `https://${location.hostname}:${health.https.split(":").pop()}/` : "";
  const none = document.documentElement.dataset.build === "static"
    ? "none here: this static page came from its host, and its broker runs inside the page"
    : "disabled on this server";
  log(`this page: ${location.origin}; over HTTPS: ${state.https || none}`);
  const nav = performance.getEntriesByType("navigation").filter((e) => e instanceof PerformanceNavigationTiming)[0];
  if (location.protocol === "https:" && nav && nav.secureConnectionStart > 0) {
    log(`your browser's handshake for this page took ${Math.round(nav.connectEnd - nav.secureConnectionStart)} ms; ALPN chose ${nav.nextHopProtocol}`);
  } else if (state.https) {
    state.httpsReached = await fetch(`${state.https}ca.pem`, {mode: "no-cors", cache: "no-store"}).then(() => true, () => false);
    log(state.httpsReached
      ? "your browser completed a TLS handshake with the HTTPS port: it trusts the playground's CA"
      : "your browser refused the HTTPS port: it does not trust the playground's CA — the same check that stops the unknown-ca listener");
  }
  conn = await pg.connect({clientId: `${me}-compare`, tls: {resume: false}});
  const info = conn.tlsInfo();
  const flight = pg.findAll(conn, {side: "client"}).filter((e) => e.layer === "tls" && e.type !== "ApplicationData").map((e) => e.type);
  log(`mqtts from the wasm client: ${info?.version}, ${info?.cipherSuite}, ${info?.group}`);
  log(`   ${flight.join(" → ")}`);
}
