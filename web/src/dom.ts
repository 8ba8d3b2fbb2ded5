// A tiny DOM builder: text always goes in as text, never as HTML, because
// topics and payloads come from other people's clients.
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | ((e: Event) => void) | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/**
 * Scrolls el into view inside its own document only: each scrolling
 * ancestor, then the document. Element.scrollIntoView also scrolls every
 * page that frames this one, so a deep link in an embedded trace would move
 * the host's page.
 */
export function reveal(el: Element, block: "nearest" | "center" = "nearest"): void {
  const doc = el.ownerDocument;
  const root = doc.scrollingElement;
  const view = doc.defaultView;
  for (let p = el.parentElement; p; p = p.parentElement) {
    const isRoot = p === root;
    if (!isRoot) {
      const oy = view?.getComputedStyle(p).overflowY;
      if ((oy !== "auto" && oy !== "scroll") || p.scrollHeight <= p.clientHeight) continue;
    }
    const e = el.getBoundingClientRect();
    const top = isRoot ? 0 : p.getBoundingClientRect().top + p.clientTop;
    const height = isRoot ? (view?.innerHeight ?? 0) : p.clientHeight;
    let dy = 0;
    if (block === "center") dy = e.top + e.height / 2 - (top + height / 2);
    else if (e.top < top) dy = e.top - top;
    else if (e.bottom > top + height) dy = Math.min(e.bottom - (top + height), e.top - top);
    if (dy === 0) continue;
    if (isRoot) view?.scrollBy(0, dy);
    else p.scrollTop += dy;
  }
}
