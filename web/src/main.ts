// Entry point of the page bundle: Go's wasm_exec.js, the window.playground
// API and, on the playground page, its UI.
import "wasm_exec";
import "./style.css";
import { installPlayground } from "./playground";
import { mountPage } from "./page";

const script = document.currentScript as HTMLScriptElement | null;
const pg = installPlayground(script);
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mountPage(pg));
} else {
  mountPage(pg);
}
