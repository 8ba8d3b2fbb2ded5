// A class (--workshop) on every page: a bar naming the attendee with a link
// to their page, the instructor's notes, and the instructor's pushes to a
// lesson step, which open that step. The lesson page reports each step it
// runs (reportStep), so the instructor sees where everyone is. Pages learn
// they are in a class from <meta name="mqtts-class"> (server/pages).
import type { ClassEvent, Me, ProgressReport } from "./gen/workshop";
import { h } from "./dom";

let attendee: Me | undefined;

/** True when the page belongs to a class. */
export function inClass(): boolean {
  return document.querySelector('meta[name="mqtts-class"]') !== null;
}

/** Reports a lesson step the page ran; nothing outside a class. */
export function reportStep(lesson: string, step: number, done: boolean): void {
  if (!inClass()) return;
  const body: ProgressReport = { lesson, step, done };
  fetch("/workshop/progress", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).catch(() => {
    // the class view misses one report; the lesson goes on
  });
}

/** Where a push to a lesson step leads. */
export function stepURL(lesson: string, step: number): string {
  return `/lessons/${encodeURIComponent(lesson)}#step-${step}`;
}

/** Shows the class bar and follows the attendee's feed (GET
 * /workshop/events). The instructor's own pages have no attendee: they get
 * neither. */
export async function followClass(): Promise<void> {
  // The join form has no attendee yet; the dashboard is the instructor's.
  if (!inClass() || document.querySelector('[data-testid="join-form"],[data-testid="instructor"]')) return;
  const r = await fetch("/workshop/me").catch(() => undefined);
  if (!r || !r.ok) return;
  attendee = (await r.json()) as Me;
  const note = document.querySelector<HTMLElement>('[data-testid="class-note"]') ?? h("p", { class: "status class-note", "data-testid": "class-note", role: "status", hidden: true });
  if (!note.isConnected) {
    const bar = h(
      "div",
      { class: "class-bar", "data-testid": "class-bar" },
      h("span", {}, "Class: ", h("b", {}, attendee.name), ` (${attendee.id}) · `),
      h("a", { href: "/attendee" }, "your page"),
      " · ",
      h("a", { href: "/trace" }, "your connections"),
    );
    document.body.prepend(bar, note);
  }
  const feed = new EventSource("/workshop/events");
  feed.addEventListener("class", (ev) => {
    const e = JSON.parse((ev as MessageEvent<string>).data) as ClassEvent;
    switch (e.kind) {
      case "note":
        note.hidden = false;
        note.className = "status class-note";
        note.textContent = `From the instructor: ${e.text ?? ""}`;
        break;
      case "goto": {
        const url = stepURL(e.lesson ?? "", e.step ?? 1);
        note.hidden = false;
        note.className = "status class-note";
        note.textContent = `The instructor opened ${e.lesson} step ${e.step} for the class.`;
        if (location.pathname + location.hash !== url) location.assign(url);
        break;
      }
      case "removed":
      case "ended":
        note.hidden = false;
        note.className = "status bad class-note";
        note.textContent = e.kind === "ended" ? "The class has ended. Thank you!" : "The instructor removed you from the class.";
        feed.close();
        break;
    }
  });
}

/** The attendee of this page, once followClass found them. */
export function classAttendee(): Me | undefined {
  return attendee;
}
