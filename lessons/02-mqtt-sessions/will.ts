import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const topic = `lessons/${me}/devices`;
  const watcher = await pg.connect({listener: "mqtt", clientId: `${me}-watcher`});
  await watcher.subscribe(`${topic}/+`, 1);
  // Two devices, each leaving a will with the broker.
  const polite = await pg.connect({listener: "mqtt", clientId: `${me}-polite`,
    will: {topic: `${topic}/polite`, payload: "polite went away", qos: 1}});
  const crash = await pg.connect({listener: "mqtt", clientId: `${me}-crash`,
    will: {topic: `${topic}/crash`, payload: "crash went away", qos: 1}});
  await polite.close(); // sends DISCONNECT first
  await crash.drop();   // just goes, as when power or the network fails
  state.wills = [];
  for (;;) {
    const m = await watcher.nextMessage(1500).catch(() => null);
    if (!m) break;
    state.wills.push(m.payload);
  }
  await watcher.close();
  log(`the watcher received ${state.wills.length}: ${state.wills.join(", ") || "nothing"}`);
  conn = crash;
}
