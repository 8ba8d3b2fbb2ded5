// The instructor's dashboard (/instructor): the class live from GET
// /instructor/stream (workshop.ClassView), and the instructor's actions.
// Everything attendees chose (names, client ids, topics) goes in as text.
import type { ConnInfo } from "./gen/broker";
import type { AttendeeView, ClassView, FailureGroup } from "./gen/workshop";
import { clear, h } from "./dom";
import { download, stamp } from "./session";

function $(id: string): HTMLElement | null {
  return document.querySelector(`[data-testid="${id}"]`);
}

function value(id: string): string {
  return ($(id) as HTMLInputElement | HTMLSelectElement | null)?.value.trim() ?? "";
}

function clock(t: string | undefined): string {
  if (!t) return "";
  const d = new Date(t);
  return isNaN(d.getTime()) || d.getFullYear() < 2000 ? "" : d.toLocaleTimeString();
}

/** The outcome of a connection: open, ok (ended cleanly) or failed. */
export function outcome(c: ConnInfo): "open" | "ok" | "failed" {
  if (c.error) return "failed";
  return c.ended ? "ok" : "open";
}

/** Filters of the broker view. */
export interface ConnFilter {
  attendee: string;
  listener: string;
  client: string;
  outcome: string;
}

/** Keeps the connections the filter lets through, newest first as given.
 * attendee matches an id, or a name through names (id → name). */
export function filterConns(conns: ConnInfo[], f: ConnFilter, names: Map<string, string>): ConnInfo[] {
  const who = f.attendee.toLowerCase();
  return conns.filter(
    (c) =>
      (!who || (c.owner ?? "").toLowerCase().includes(who) || (names.get(c.owner ?? "") ?? "").toLowerCase().includes(who)) &&
      (!f.listener || c.listener.includes(f.listener)) &&
      (!f.client || (c.clientId ?? "").includes(f.client)) &&
      (!f.outcome || outcome(c) === f.outcome),
  );
}

export function mountInstructor(): void {
  const status = $("class-status")!;
  const actionStatus = $("action-status")!;
  let view: ClassView | undefined;
  const names = new Map<string, string>();

  const say = (el: HTMLElement, text: string, kind: "ok" | "bad" | "busy" = "ok") => {
    el.textContent = text;
    el.className = `status ${kind}`;
  };
  const post = async (path: string, body?: unknown): Promise<Response> => {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw new Error((await r.text()).trim() || `${path}: ${r.status}`);
    return r;
  };
  const act = async (what: string, f: () => Promise<string | void>) => {
    say(actionStatus, `${what}…`, "busy");
    try {
      say(actionStatus, (await f()) || `${what}: done.`);
    } catch (e) {
      say(actionStatus, `${what}: ${(e as Error).message}`, "bad");
    }
  };

  const renderAttendees = (as: AttendeeView[]) => {
    const body = $("attendees")!;
    clear(body);
    if (!as.length) {
      body.append(h("tr", {}, h("td", { colspan: 7, class: "hint" }, "Nobody has joined yet.")));
      return;
    }
    for (const a of as) {
      const certs = h("td", {});
      for (const c of a.certs ?? []) {
        certs.append(
          h(
            "span",
            { class: "cert", "data-testid": "cert", "data-serial": c.serial },
            c.serial.slice(0, 8),
            c.revoked
              ? h("span", { class: "bad" }, " revoked")
              : h("button", { type: "button", class: "small", "data-testid": "revoke", onclick: () => act(`Revoking ${c.serial}`, async () => void (await post("/instructor/revoke", { serial: c.serial }))) }, "revoke"),
            " ",
          ),
        );
      }
      body.append(
        h(
          "tr",
          { "data-testid": "attendee-row", "data-id": a.id },
          h("td", { "data-testid": "attendee-name" }, a.name),
          h("td", {}, h("code", {}, a.id)),
          h("td", {}, a.lesson ? `${a.lesson} step ${a.step}` : "not started"),
          h("td", {}, String(a.done)),
          h(
            "td",
            { "data-testid": "attendee-conns", "data-browser": a.browser, "data-devices": a.devices },
            a.open ? `${a.open} open: ${a.browser} browser, ${a.devices} device${a.devices === 1 ? "" : "s"}` : "none open",
            a.failures ? h("span", { class: "bad" }, ` · ${a.failures} failed`) : "",
          ),
          certs,
          h(
            "td",
            {},
            h("a", { class: "button small", href: `/trace?attendee=${encodeURIComponent(a.id)}`, "data-testid": "open-trace", target: "_blank" }, "live trace"),
            " ",
            h(
              "button",
              {
                type: "button",
                class: "small danger",
                "data-testid": "remove",
                onclick: () => {
                  if (!confirm(`Remove ${a.name} (${a.id}) from the class? Their certificates are revoked and their connections end.`)) return;
                  act(`Removing ${a.id}`, async () => void (await post("/instructor/remove", { attendee: a.id })));
                },
              },
              "remove",
            ),
          ),
        ),
      );
    }
  };

  const renderFailures = (gs: FailureGroup[]) => {
    const ul = $("failures")!;
    clear(ul);
    if (!gs.length) ul.append(h("li", { class: "hint" }, "No failures yet."));
    for (const g of gs) {
      const who = g.attendees.map((id) => names.get(id) ?? id).join(", ");
      ul.append(h("li", { "data-testid": "failure", "data-kind": g.kind }, h("b", {}, g.text), who ? h("span", { class: "hint" }, ` — ${who}`) : ""));
    }
  };

  const renderConns = () => {
    if (!view) return;
    const f: ConnFilter = { attendee: value("filter-attendee"), listener: value("filter-listener"), client: value("filter-client"), outcome: value("filter-outcome") };
    const conns = filterConns(view.connections ?? [], f, names);
    const body = $("broker-conns")!;
    clear(body);
    $("conn-count")!.textContent = `${conns.length} of the ${view.connections?.length ?? 0} most recent connections (the broker keeps ${view.keepConns}; --keep-conns), newest first.`;
    for (const c of conns.slice(0, 500)) {
      const o = outcome(c);
      body.append(
        h(
          "tr",
          { "data-testid": "broker-conn", "data-id": c.id, "data-owner": c.owner ?? "", "data-outcome": o },
          h("td", {}, h("a", { href: `/trace#conn=${encodeURIComponent(c.id)}`, target: "_blank" }, c.id)),
          h("td", {}, clock(c.started)),
          h("td", {}, c.owner ? `${names.get(c.owner) ?? ""} (${c.owner})` : c.error ? "unknown" : "instructor"),
          h("td", {}, `${c.listener}${c.tunnel ? " (browser)" : ""}`),
          h("td", {}, c.clientId ?? ""),
          h("td", { class: o === "failed" ? "bad" : "" }, o === "failed" ? c.cause || c.error || "failed" : o),
        ),
      );
    }
  };

  for (const id of ["filter-attendee", "filter-listener", "filter-client", "filter-outcome"]) $(id)?.addEventListener("input", renderConns);

  const feed = new EventSource("/instructor/stream");
  feed.addEventListener("class", (ev) => {
    view = JSON.parse((ev as MessageEvent<string>).data) as ClassView;
    names.clear();
    for (const a of view.attendees) names.set(a.id, a.name);
    const open = view.attendees.reduce((n, a) => n + a.open, 0);
    say(status, `Live: ${view.attendees.length} attendee${view.attendees.length === 1 ? "" : "s"}, ${open} open connection${open === 1 ? "" : "s"}${view.note ? ` · last note: ${view.note}` : ""}.`);
    renderAttendees(view.attendees);
    renderFailures(view.failures ?? []);
    renderConns();
  });
  feed.onerror = () => say(status, "The live feed stopped; the browser tries again by itself.", "busy");

  $("send-note")?.addEventListener("click", () =>
    act("Sending the note", async () => {
      await post("/instructor/note", { text: value("note-text") });
      return "Note sent to every attendee's page.";
    }),
  );
  $("send-goto")?.addEventListener("click", () =>
    act("Pushing the class", async () => {
      const lesson = value("goto-lesson");
      const step = Number(value("goto-step")) || 1;
      await post("/instructor/goto", { lesson, step });
      return `Every attendee's page opens ${lesson} step ${step}.`;
    }),
  );
  $("rotate")?.addEventListener("click", () =>
    act("Rotating the broker certificate", async () => {
      const r = (await (await post("/pki/rotate")).json()) as { serial: string };
      return `The broker has a new certificate (serial ${r.serial}); connected clients stay up.`;
    }),
  );
  $("end-class")?.addEventListener("click", () => {
    if (!confirm("End the class? Every attendee's certificates are revoked, their connections end and they are forgotten; you get the export.")) return;
    act("Ending the class", async () => {
      const r = await post("/instructor/end");
      download(`class-${stamp()}.json`, new Uint8Array(await r.arrayBuffer()), "application/json");
      return "The class has ended; its export is downloaded (and kept in the data folder).";
    });
  });
}
