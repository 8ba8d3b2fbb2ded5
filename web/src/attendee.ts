// The attendee's page in a class (/attendee): their connections, live
// (GET /trace/stream shows an attendee their own only), and a client
// certificate made in the page. The credentials and snippets are rendered
// by the server.
import type { Playground } from "./playground.d";
import type { ConnInfo, ConnList } from "./gen/broker";
import { clear, h } from "./dom";

function $(id: string): HTMLElement | null {
  return document.querySelector(`[data-testid="${id}"]`);
}

/** What kind of client a connection is, in words. */
export function connKind(c: ConnInfo): string {
  if (c.tunnel) return "this browser";
  if (c.peerCN) return `a device with certificate ${c.peerCN}`;
  return "a device or command-line client";
}

export function connOutcome(c: ConnInfo): string {
  if (!c.ended) return "open";
  return c.error ? `failed: ${c.error}` : "ended";
}

export function mountAttendee(pg: Playground): void {
  const root = $("attendee")!;
  const id = root.dataset.id ?? "";
  const list = $("my-conns")!;
  const status = $("my-conns-status")!;

  const render = (conns: ConnInfo[]) => {
    clear(list);
    status.className = "status";
    status.textContent = conns.length
      ? `${conns.length} recent connection${conns.length === 1 ? "" : "s"} of yours, newest first.`
      : "None yet: run a snippet, or a lesson step, and it appears here.";
    for (const c of conns) {
      list.append(
        h(
          "li",
          {},
          h(
            "a",
            { class: `conn${c.ended ? " ended" : ""}${c.error ? " bad" : ""}`, href: `/trace#conn=${encodeURIComponent(c.id)}`, "data-testid": "my-conn", "data-id": c.id, "data-kind": c.tunnel ? "browser" : "device" },
            h("span", { class: "conn-top" }, h("b", {}, c.id), " ", h("span", { class: "cid" }, c.clientId || "(no client id yet)")),
            h("span", { class: "conn-meta" }, `${connKind(c)} · ${c.listener} · ${c.tlsVersion || "no TLS"} · ${connOutcome(c)}`),
          ),
        ),
      );
    }
  };
  const feed = new EventSource("/trace/stream");
  feed.addEventListener("connections", (ev) => render((JSON.parse((ev as MessageEvent<string>).data) as ConnList).connections ?? []));
  feed.onerror = () => {
    status.className = "status busy";
    status.textContent = "The live feed stopped; the browser tries again by itself.";
  };

  const certStatus = $("cert-status")!;
  $("get-cert")?.addEventListener("click", async () => {
    certStatus.className = "status busy";
    certStatus.textContent = "Making a key in this page and asking the CA…";
    try {
      const idn = await pg.createIdentity(id);
      await pg.saveIdentity(idn.id);
      certStatus.className = "status ok";
      certStatus.textContent = `Certificate ${idn.serial} for ${idn.name}, valid until ${new Date(idn.notAfter).toLocaleDateString()}, kept in this browser: connect({listener: "mtls", tls: {identity: "${idn.id}"}}) uses it. For a device, the mosquitto snippet makes one on the command line.`;
    } catch (e) {
      certStatus.className = "status bad";
      certStatus.textContent = (e as Error).message;
    }
  });
}
