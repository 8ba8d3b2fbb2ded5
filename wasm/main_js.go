//go:build js && wasm

// Command wasm is the playground's browser client: Go's crypto/tls and an
// MQTT client running in the page, reaching the broker's listeners through
// the server's WebSocket tunnel. It sets one global object (see package
// jsapi); web/src/playground.ts wraps it as window.playground.
package main

import "github.com/mqtts-playground/playground/wasm/jsapi"

func main() {
	jsapi.Install(jsapi.Tunnel, nil)
	select {}
}
