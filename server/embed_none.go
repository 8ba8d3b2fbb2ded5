//go:build !embedassets

package main

import "io/fs"

// embedded holds the prebuilt web assets in a release binary; without the
// embedassets build tag the server builds them from the source tree.
var embedded fs.FS
