import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  const id = `${me}-twin`;
  const first = await pg.connect({listener: "mqtt", clientId: id});
  const second = await pg.connect({listener: "mqtt", clientId: id});
  // The first connection finds out what happened when it next reads.
  state.first = await first.nextMessage(3000).then(() => "still up", (e) => String(e));
  state.second = await second.publish(`lessons/${me}/twin`, "I am the twin now", {qos: 1}).then(() => "publishes", (e) => String(e));
  log(`first connection: ${state.first}`);
  log(`second connection: ${state.second}`);
  await second.close();
  conn = first;
}
