import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const clientId = `${me}-table`;
  const tls = {serverName: "localhost", resume: false};
  const x25519 = {...tls, groups: ["X25519"]};
  state.table = {};
  const t = state.table;
  t["plain MQTT, no TLS"] = await pg.measure({listener: "mqtt", clientId});
  t["TLS 1.3, ECDSA, ML-KEM"] = await pg.measure({listener: "mqtts", clientId, tls});
  t["TLS 1.3, RSA 2048, ML-KEM"] = await pg.measure({listener: "key-rsa2048", clientId, tls});
  t["TLS 1.3, Ed25519, ML-KEM"] = await pg.measure({listener: "key-ed25519", clientId, tls});
  t["TLS 1.3, ECDSA, X25519"] = await pg.measure({listener: "mqtts", clientId, tls: x25519}); // stores a ticket
  t["TLS 1.2, ECDSA, X25519"] = await pg.measure({listener: "tls12-only", clientId, tls: x25519});
  t["TLS 1.3, ECDSA, X25519, resumed"] = await pg.measure({listener: "mqtts", clientId, tls: {...x25519, resume: true}}, true);
  conn = t["TLS 1.3, ECDSA, X25519, resumed"].conn;
  const w = [33, 5, 9, 7, 12];
  log(pg.row(["", "sent", "received", "rounds", "200 ms link"], w));
  for (const k in t) log(pg.row([k, t[k].sent, t[k].received, t[k].rounds, `${t[k].rounds * 200} ms`], w));
}
