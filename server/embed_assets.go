//go:build embedassets

package main

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// embedded holds the web assets written by `go run ./server --build-assets
// server/dist` (./task build does both steps).
var embedded, _ = fs.Sub(dist, "dist")
