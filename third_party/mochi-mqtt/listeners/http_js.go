// SPDX-License-Identifier: MIT

// PATCH(playground): the listeners that need an HTTP server (websocket.go,
// http_healthcheck.go, http_sysinfo.go) are left out of js/wasm builds,
// where the broker runs inside a web page (the playground's static build)
// and serves only connections handed to it: net/http and
// gorilla/websocket stay out of that build. Their constructors remain, so
// Server.AddListenersFromConfig compiles; the listeners they return fail
// to start.

//go:build js

package listeners

import (
	"errors"
	"log/slog"

	"github.com/mochi-mqtt/server/v2/system"
)

// Listener types, as in the files left out.
const (
	TypeWS          = "ws"
	TypeHealthCheck = "healthcheck"
	TypeSysInfo     = "sysinfo"
)

// errNoHTTP is what Init of an HTTP listener returns under js/wasm.
var errNoHTTP = errors.New("listeners: HTTP and WebSocket listeners are not available in a js/wasm build")

// unavailable is an HTTP listener in a js/wasm build: it never starts.
type unavailable struct{ id, address, protocol string }

func (l *unavailable) Init(*slog.Logger) error { return errNoHTTP }
func (l *unavailable) Serve(EstablishFn)       {}
func (l *unavailable) ID() string              { return l.id }
func (l *unavailable) Address() string         { return l.address }
func (l *unavailable) Protocol() string        { return l.protocol }
func (l *unavailable) Close(CloseFn)           {}

// NewWebsocket returns a listener that fails to start under js/wasm.
func NewWebsocket(config Config) Listener {
	return &unavailable{config.ID, config.Address, "ws"}
}

// NewHTTPHealthCheck returns a listener that fails to start under js/wasm.
func NewHTTPHealthCheck(config Config) Listener {
	return &unavailable{config.ID, config.Address, "http"}
}

// NewHTTPStats returns a listener that fails to start under js/wasm.
func NewHTTPStats(config Config, _ *system.Info) Listener {
	return &unavailable{config.ID, config.Address, "http"}
}
