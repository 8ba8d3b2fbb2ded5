// Sizes the MQTTS Playground frames of a page to their content. A page of
// the playground opened with ?embed=1 posts its height to the page that
// frames it: {source: "mqtts-playground", type: "height", height}. Copy
// this file next to your docs (or paste it in a <script>); set
// data-playground on the script tag to the playground's origin so that
// only its messages count.
//
//   <script src="embed-resize.js" data-playground="https://playground.example.com"></script>
(() => {
  const script = document.currentScript;
  const origin = script && script.dataset.playground ? new URL(script.dataset.playground).origin : "";
  addEventListener("message", (e) => {
    const m = e.data;
    if (!m || m.source !== "mqtts-playground" || m.type !== "height" || typeof m.height !== "number") return;
    if (origin && e.origin !== origin) return;
    for (const f of document.querySelectorAll("iframe")) {
      if (f.contentWindow === e.source) f.style.height = `${Math.min(Math.max(m.height, 100), 5000)}px`;
    }
  });
})();
