import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn ??= await pg.connect({listener: "mqtts", clientId: `${me}-keys`, tls: {serverName: "localhost", resume: false}});
  await conn.publish(`lessons/${me}/capture`, "hello, Wireshark", {qos: 1});
  const file = conn.pcapng();
  pg.download(file, "mqtts-playground.pcapng");
  // A pcapng file is a list of blocks: a 4-byte type, a 4-byte length, a body.
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  state.blocks = [];
  for (let at = 0; at + 8 <= file.length; ) {
    const length = view.getUint32(at + 4, true);
    state.blocks.push(view.getUint32(at, true));
    if (length < 12) break;
    at += length;
  }
  const names = new Map([[0x0a0d0d0a, "Section Header"], [0x1, "Interface Description"], [0xa, "Decryption Secrets"], [0x6, "Enhanced Packet"]]);
  const counted = new Map();
  for (const b of state.blocks) counted.set(names.get(b) ?? `type ${b}`, (counted.get(names.get(b) ?? `type ${b}`) ?? 0) + 1);
  log(`${file.length} bytes in ${state.blocks.length} blocks:`);
  for (const [name, n] of counted) log(`  ${n} × ${name} Block`);
}
