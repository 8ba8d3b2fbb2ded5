import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, site, conn }: Scope) {
  const opts = {listener: "cn-only", clientId: `${me}-cn`, tls: {serverName: "localhost", resume: false}};
  const r = await pg.attempt(opts);
  conn = r.conn;
  state.cn = {error: r.error, failed: await pg.failingChecks(opts)};
  log(`Go's verdict: ${r.ok ? "accepted" : r.error}`);
  log(`failing checks: ${state.cn.failed.join(", ")}`);
  // The same certificate, judged by OpenSSL: try this in a terminal.
  const listener = (await pg.listeners()).find((l) => l.name === "cn-only");
  const port = listener?.addr.split(":").pop();
  if (port && port !== "0") log(`\nmosquitto_pub -h localhost -p ${port} --cafile ${pg.sh(site.ca.file)} -t lesson/cn -m hi -d`);
}
