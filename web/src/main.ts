// Entry point of the page bundle: Go's wasm_exec.js, the window.playground
// API and the UI of whichever page loaded it, told apart by the containers
// the page has: the playground (controls), the broker view (conn-list) or
// the replay page (replay). Pages without any of them only get the API.
import "wasm_exec";
import "./style.css";
import { installPlayground } from "./playground";
import { mountPage } from "./page";
import { mountLessons } from "./lesson";
import { mountTracePage } from "./tracepage";
import { mountReplay } from "./replay";
import { installEmbed } from "./embed";
import { mountDrawer } from "./drawer";
import type { Playground } from "./playground.d";

const script = document.currentScript as HTMLScriptElement | null;
const pg = installPlayground(script);

function mount(pg: Playground): void {
  installEmbed();
  const has = (id: string) => document.querySelector(`[data-testid="${id}"]`) !== null;
  if (has("conn-list")) mountTracePage(pg);
  else if (has("replay")) mountReplay(pg);
  else if (has("lesson") || has("course")) {
    mountLessons(pg);
    if (has("lesson")) mountDrawer();
  }
  else mountPage(pg);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mount(pg));
} else {
  mount(pg);
}
