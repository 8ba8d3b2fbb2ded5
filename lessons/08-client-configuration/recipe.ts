import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, site, conn }: Scope) {
  // The three settings: the TLS port (mqtts), the CA file, the server name.
  const caPEM = await (await fetch(site.ca.url)).text();
  const byAddress = await pg.connect({listener: "mqtts", clientId: `${me}-by-address`, tls: {caPEM, serverName: "127.0.0.1", resume: false}});
  conn = await pg.connect({listener: "mqtts", clientId: `${me}-by-name`, tls: {caPEM, serverName: site.name, resume: false}});
  const sni = (c = conn) => pg.value(pg.find(c, {side: "client", type: "ClientHello"}), "server_name") || "(no server_name extension)";
  state.sni = {address: sni(byAddress), name: sni(conn), checks: [byAddress, conn].map((c) => c.checks().every((x) => x.ok))};
  await byAddress.close();
  log(`asked for 127.0.0.1:   ${state.sni.address}; certificate checks passed: ${state.sni.checks[0]}`);
  log(`asked for ${site.name}: ${state.sni.name}; certificate checks passed: ${state.sni.checks[1]}`);
}
