import type { Scope } from "../../web/src/scope";

export default async function ({ pg, log, state }: Scope) {
  state.listeners = await pg.listeners();
  for (const l of state.listeners) {
    if (!l.lesson) log(`${l.name.padEnd(6)} ${l.tls ? "TLS   " : "no TLS"} ${l.addr.padEnd(22)} ${l.about}`);
  }
}
