// Modules esbuild resolves that TypeScript cannot see: Go's wasm_exec.js
// (see the wasm_exec plugin in web/build.go) and stylesheets.
declare module "wasm_exec";
declare module "*.css";
