package main

// The names the JavaScript side relies on. This file has no syscall/js so
// that plain `go test` can compare them with web/src/playground.d.ts.

// GlobalName is the global object the wasm module fills in. The page's
// script wraps it as window.playground (see web/src/playground.ts).
const GlobalName = "__playgroundGo"

// ReadyCallback is the global function, if any, the module calls once its
// API is in place.
const ReadyCallback = "__playgroundGoReady"

// GlobalMethods are the methods of GlobalName.
var GlobalMethods = []string{"connect", "decode", "newIdentity", "setIdentityCert", "exportIdentity", "importIdentity", "signRevocation"}

// ConnMethods are the methods of the connection object connect resolves to.
var ConnMethods = []string{"subscribe", "publish", "nextMessage", "trace", "checks", "recording", "pcapng", "keylog", "tlsInfo", "close"}

// ScriptConnMethods are connection methods web/src/playground.ts adds in
// JavaScript on top of ConnMethods.
var ScriptConnMethods = []string{"brokerTrace", "brokerKey"}
