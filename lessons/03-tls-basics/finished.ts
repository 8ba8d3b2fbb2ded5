import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, state, conn }: Scope) {
  conn ??= await pg.connect({listener: "mqtts", clientId: `${me}-tls`, tls: {serverName: "localhost", resume: false}});
  const broker = pg.find(conn, {side: "client", dir: "recv", type: "Finished"});
  const browser = pg.find(conn, {side: "client", dir: "send", type: "Finished"});
  state.finished = {broker: pg.value(broker, "verify_data"), browser: pg.value(browser, "verify_data")};
  log(`broker's verify_data:  ${state.finished.broker}`);
  log(`browser's verify_data: ${state.finished.browser}`);
}
