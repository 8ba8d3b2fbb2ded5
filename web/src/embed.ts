// Embed mode (any page with ?embed=1; the server marks <html data-embed>):
// the page lives in another site's iframe. It never scrolls that page, it
// tells it its height so the frame can fit its content, and what the
// reader selects; its own links stay embedded.
//
// Messages to the host page (window.parent.postMessage, any origin: they
// carry nothing private):
//
//   {source: "mqtts-playground", type: "height", height: 812}
//   {source: "mqtts-playground", type: "select", event: "client-5", field: "random", nth: 1}
//   {source: "mqtts-playground", type: "step", lesson: "tls-basics", step: 3, done: true}
//
// A host sizes the frame with:
//
//   addEventListener("message", (e) => {
//     if (e.data?.source === "mqtts-playground" && e.data.type === "height")
//       for (const f of document.querySelectorAll("iframe"))
//         if (f.contentWindow === e.source) f.style.height = e.data.height + "px";
//   });
import { SELECT_EVENT } from "./traceview";
import type { Target } from "./links";

/** What every message to the host carries in source. */
export const MESSAGE_SOURCE = "mqtts-playground";

/** The DOM event the lesson page dispatches on document when a step is
 * first done; detail is {lesson, step}. */
export const STEP_DONE_EVENT = "lesson-step-done";

/** Whether this page is rendered for embedding. */
export function embedded(doc: Document = document): boolean {
  return doc.documentElement.hasAttribute("data-embed");
}

/** Adds embed=1 to a same-origin link, so following it stays embedded. */
export function embedHref(href: string, base: string = location.href): string {
  const u = new URL(href, base);
  if (u.origin !== new URL(base).origin) return href;
  u.searchParams.set("embed", "1");
  return u.href;
}

/** Starts embed mode when the page is embedded; a no-op otherwise. */
export function installEmbed(): void {
  if (!embedded()) return;
  const post = (msg: Record<string, unknown>) => {
    if (window.parent !== window) window.parent.postMessage({ source: MESSAGE_SOURCE, ...msg }, "*");
  };
  let last = -1;
  const report = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    post({ type: "height", height });
  };
  new ResizeObserver(report).observe(document.documentElement);
  // The browser skips the rendering (and so ResizeObserver) of a frame
  // that is out of view: measure after DOM changes as well, so a frame
  // below the fold has its height before the reader scrolls to it.
  let pending = 0;
  new MutationObserver(() => {
    if (!pending) pending = window.setTimeout(() => ((pending = 0), report()), 50);
  }).observe(document.body, { childList: true, subtree: true });
  report();
  document.addEventListener(SELECT_EVENT, (e) => {
    report();
    post({ type: "select", ...(e as CustomEvent<Target>).detail });
  });
  document.addEventListener(STEP_DONE_EVENT, (e) => {
    post({ type: "step", ...(e as CustomEvent<{ lesson: string; step: number }>).detail, done: true });
  });
  document.addEventListener("click", (e) => {
    const a = (e.target as Element | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
    if (a && !a.target && !a.hasAttribute("download")) a.href = embedHref(a.href);
  });
}
