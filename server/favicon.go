package main

import (
	_ "embed"
	"net/http"
)

//go:embed favicon.svg
var faviconSVG []byte

// favicon answers GET /favicon.svg, which the pages name, and GET
// /favicon.ico, which browsers ask for on their own, with the
// playground's icon: a padlock.
type favicon struct{ svg []byte }

func newFavicon() favicon { return favicon{svg: faviconSVG} }

func (f favicon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(f.svg)
}
