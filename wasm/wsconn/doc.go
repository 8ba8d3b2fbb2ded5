// Package wsconn is a net.Conn over the browser's WebSocket, for the wasm
// client's tunnel: each Write is one binary message, and the messages
// received are read as one byte stream.
//
// It replaces a WebSocket library in the browser client: the browser does
// the protocol, so all the client needs is the glue, and a library brings
// net/http and its dependencies into the wasm binary (about 300 KB raw,
// 85 KB gzipped). It speaks to the server's /tunnel, whose library (coder/
// websocket) sends binary messages; a text message is an error.
package wsconn
