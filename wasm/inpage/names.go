package inpage

// The names the static build's JavaScript relies on (see InPageBroker in
// web/src/backend.ts): ./wasm/static sets them. This
// file has no syscall/js so that plain `go test` can compare them with
// the page's TypeScript.

// GlobalName is the global object ./wasm/static sets before the client's
// API (jsapi.GlobalName) and its ready callback.
const GlobalName = "__playgroundBroker"

// ErrorName is the global the static build's wasm sets, instead of
// GlobalName, to why the broker in the page did not start.
const ErrorName = "__playgroundBrokerError"

// Mode is the value of the global's mode property.
const Mode = "static"

// Methods are the global's methods: health, caPEM, traceList, traceConn
// and recording return the JSON (or PEM) body of the server's route of the
// same meaning and throw an Error on failure; watch(key, onEvents) returns
// the function that stops watching; signCSR, revoke and rotate return
// Promises.
var Methods = []string{"health", "caPEM", "traceList", "traceConn", "recording", "watch", "signCSR", "revoke", "rotate"}
