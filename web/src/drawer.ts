// On narrow screens the lesson's trace is a drawer at the bottom of the
// screen (lesson.css): closed it is one line that counts the events; it
// opens by itself over the lower part of the screen when a step runs or a
// "look in the trace" target is picked, with that step scrolled to the top
// above it, so the trace opens next to the step that fills it.
import { h } from "./dom";

/** The width under which lesson.css turns the trace into a drawer. */
const NARROW = "(max-width: 1000px)";

export function mountDrawer(): void {
  const side = document.querySelector<HTMLElement>(".lesson-side");
  const trace = document.querySelector<HTMLElement>('[data-testid="lesson-trace"]');
  if (!side || !trace) return;
  const count = h("span", { class: "drawer-count" }, "");
  const toggle = h(
    "button",
    { type: "button", class: "drawer-toggle", "data-testid": "trace-drawer-toggle", "aria-expanded": "false", "aria-controls": "lesson-trace-panel" },
    h("span", { class: "drawer-title" }, "Trace"),
    count,
  );
  side.id ||= "lesson-trace-panel";
  side.prepend(toggle);
  const narrow = window.matchMedia(NARROW);
  const set = (open: boolean) => {
    document.body.classList.toggle("drawer-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => set(!document.body.classList.contains("drawer-open")));
  // A step that runs, or a trace target picked: open next to that step.
  document.addEventListener("click", (ev) => {
    if (!narrow.matches) return;
    const t = ev.target as HTMLElement;
    const trigger = t.closest('[data-testid="run"], [data-testid="look-target"]');
    if (!trigger) return;
    set(true);
    trigger.closest("section.step")?.scrollIntoView({ block: "start", behavior: "smooth" });
  });
  // The closed drawer says how much is in it.
  new MutationObserver(() => {
    const n = trace.querySelectorAll('[data-testid="trace-event"]').length;
    count.textContent = n ? `${n} message${n === 1 ? "" : "s"}` : "empty";
  }).observe(trace, { childList: true, subtree: true });
  count.textContent = "empty";
}
