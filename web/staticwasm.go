package web

import "context"

// StaticWasmPackage is the main package of the static build's wasm: the
// broker, its listeners, an in-memory CA and the client in one page (see
// ./wasm/static and package wasm/inpage).
const StaticWasmPackage = "./wasm/static"

// BuildStaticWasm compiles the static build's wasm with WasmBuildFlags
// into outDir/static.wasm and returns it. The static build's page loads
// it in place of the client's (same JS API, plus window.__playgroundBroker).
func BuildStaticWasm(ctx context.Context, root, outDir string, logf func(string, ...any)) ([]byte, error) {
	return buildWasmMain(ctx, root, outDir, StaticWasmPackage, "static.wasm", "static build's wasm", logf)
}
