package web

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/web/accept"
)

// Prefix is the URL path under which assets are served.
const Prefix = "/assets/"

// ServeHTTP serves an asset by its hashed name under Prefix, brotli or gzip
// compressed when the client accepts it, cacheable forever (a new build has
// new names).
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, Prefix)
	f, ok := a.File(name)
	if !ok {
		http.Error(w, "no such asset: "+name+" (reload the page: the server may have been rebuilt)", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Add("Vary", "Accept-Encoding")
	body := f.Raw
	ae := r.Header.Get("Accept-Encoding")
	if br := f.BrotliBytes(); br != nil && accept.Names(ae, "br") {
		h.Set("Content-Encoding", "br")
		body = br
	} else if accept.Names(ae, "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.Gzip
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
