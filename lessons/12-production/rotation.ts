import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  // The serial number of the broker certificate a connection was shown.
  const serial = (c = conn) => pg.value(pg.find(c, {side: "client", type: "Certificate"}), "serialNumber");
  state.device = await pg.connect({clientId: `${me}-long-lived`, tls: {resume: false}});
  state.oldSerial = serial(state.device);
  // POST /pki/rotate on the playground server (it allows one rotation every
  // few seconds, so this waits if someone just rotated); in the static
  // build, the broker in this page rotates.
  state.rotated = await pg.rotateBrokerCert();
  log(`rotated: the broker's new certificate has serial ${state.rotated.serial}`);
  await state.device.publish(`lesson/${me}/still-up`, "published after the rotation", {qos: 1});
  state.stillUp = !!pg.find(state.device, {side: "client", type: "PUBACK"});
  conn = await pg.connect({clientId: `${me}-newcomer`, tls: {resume: false}});
  state.newSerial = serial(conn);
  log(`connection opened before: serial ${state.oldSerial}, and it still publishes: ${state.stillUp}`);
  log(`connection opened after:  serial ${state.newSerial}`);
}
