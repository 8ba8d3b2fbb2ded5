import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const tls = {serverName: "localhost"};
  // resume: false makes a full handshake whatever the page holds; the
  // ticket it receives is kept, so the next connection can resume.
  state.full = await pg.connect({clientId: `${me}-full`, tls: {...tls, resume: false}});
  conn = await pg.connect({clientId: `${me}-again`, tls});
  state.resumed = conn;
  for (const [name, c] of Object.entries({full: state.full, resumed: conn})) {
    const k = pg.cost(c);
    const types = pg.findAll(c, {side: "client"}).filter((e) => e.layer === "tls" && e.type !== "ApplicationData").map((e) => e.type);
    log(`${name.padEnd(8)} resumed=${k.resumed}: ${types.length} messages, ${k.sent} bytes sent, ${k.received} received`);
    log(`         ${types.join(" → ")}`);
  }
}
