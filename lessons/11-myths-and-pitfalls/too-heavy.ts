import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const tls = {groups: ["X25519"]};
  // Bytes of TLS handshake records this side saw (sent and received).
  const handshake = (c = conn) => pg.findAll(c, {side: "client"})
    .filter((e) => e.layer === "tls" && e.type !== "ApplicationData")
    .reduce((n, e) => n + e.length, 0);
  // A full handshake (it stores its ticket), then one that resumes.
  const full = await pg.connect({clientId: `${me}-full`, tls: {...tls, resume: false}});
  state.full = {bytes: handshake(full)};
  await full.close();
  conn = await pg.connect({clientId: `${me}-light`, tls});
  state.resumed = {bytes: handshake(conn)};
  const reading = JSON.stringify({t: 21.4, rh: 48, bat: 3.02});
  await conn.publish(`lesson/${me}/climate`, reading, {qos: 1});
  const sent = pg.findAll(conn, {side: "client", dir: "send"});
  const publish = sent.filter((e) => e.type === "PUBLISH").pop();
  const record = sent.filter((e) => e.type === "ApplicationData").pop();
  state.overhead = (record?.length ?? 0) - (publish?.length ?? 0);
  log(`full handshake (X25519):    ${state.full.bytes} bytes`);
  log(`resumed handshake (X25519): ${state.resumed.bytes} bytes`);
  log(`one reading: ${reading.length} bytes of payload, a ${publish?.length}-byte PUBLISH, a ${record?.length}-byte TLS record (+${state.overhead})`);
  const perDay = 24 * 12;
  const per = record?.length ?? 0;
  log(`every 5 minutes for a day, one connection: ${perDay * per} bytes; a resumed reconnect for each: ${perDay * (per + state.resumed.bytes)} bytes`);
}
