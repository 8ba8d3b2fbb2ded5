import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // key-ed25519 is a lesson listener: its clients may use lesson/… only.
  conn = await pg.connect({listener: "key-ed25519", clientId: `${me}-acl`});
  state.inside = await conn.publish(`lesson/${me}/ok`, "inside", {qos: 1}).then(() => "accepted", (e) => String(e));
  state.outside = await conn.publish(`private/${me}`, "outside", {qos: 1}).then(() => "accepted", (e) => String(e));
  state.filter = await conn.subscribe("private/#", 1).then((q) => `granted QoS ${q}`, (e) => String(e));
  log(`publish to lesson/…:    ${state.inside}`);
  log(`publish to private/…:   ${state.outside}`);
  log(`subscribe to private/#: ${state.filter}`);
}
