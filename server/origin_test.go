package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

func TestParseOrigin(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{in: "https://docs.example.com", want: "https://docs.example.com"},
		{in: "HTTPS://Docs.Example.COM/", want: "https://docs.example.com"},
		{in: "https://docs.example.com:443", want: "https://docs.example.com"},
		{in: "http://docs.example.com:80", want: "http://docs.example.com"},
		{in: "http://docs.example.com:443", want: "http://docs.example.com:443"},
		{in: "http://127.0.0.1:8000", want: "http://127.0.0.1:8000"},
		{in: "http://[::1]:8000", want: "http://[::1]:8000"},
		{in: "docs.example.com", err: "want http:// or https://"},
		{in: "*", err: "want http:// or https://"},
		{in: "null", err: "want http:// or https://"},
		{in: "file:///tmp/x.html", err: "want http:// or https://"},
		{in: "https://docs.example.com/guide", err: "only a scheme, a host and a port"},
		{in: "https://docs.example.com?x=1", err: "only a scheme, a host and a port"},
		{in: "https://user@docs.example.com", err: "only a scheme, a host and a port"},
		{in: "https://", err: "only a scheme, a host and a port"},
	} {
		got, err := parseOrigin(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestTunnelOrigins: the tunnel takes pages of its own origin and clients
// without one (devices, tools) always, pages of another site only when
// --allow-origin lists that origin exactly.
func TestTunnelOrigins(t *testing.T) {
	cfg := testConfig(t)
	cfg.AllowOrigins = []string{"https://docs.example.com", "http://127.0.0.1:9000"}
	allowing := startApp(t, cfg, false)
	plain := startApp(t, testConfig(t), false)
	for _, tt := range []struct {
		name   string
		app    *App
		origin string // "self": the app's own
		code   int
	}{
		{"no origin (a device, a tool)", plain, "", http.StatusSwitchingProtocols},
		{"the page's own origin", plain, "self", http.StatusSwitchingProtocols},
		{"another site, none allowed", plain, "https://docs.example.com", http.StatusForbidden},
		{"an allowed site", allowing, "https://docs.example.com", http.StatusSwitchingProtocols},
		{"an allowed site, default port", allowing, "https://docs.example.com:443", http.StatusSwitchingProtocols},
		{"an allowed site and port", allowing, "http://127.0.0.1:9000", http.StatusSwitchingProtocols},
		{"an allowed host by plain http", allowing, "http://docs.example.com", http.StatusForbidden},
		{"an allowed host, other port", allowing, "http://127.0.0.1:9001", http.StatusForbidden},
		{"a sub-domain of an allowed site", allowing, "https://evil.docs.example.com", http.StatusForbidden},
		{"the page's own origin, with allowed sites", allowing, "self", http.StatusSwitchingProtocols},
		{"an opaque origin", allowing, "null", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h := http.Header{}
			switch tt.origin {
			case "":
			case "self":
				h.Set("Origin", "http://"+tt.app.httpAddr)
			default:
				h.Set("Origin", tt.origin)
			}
			ws, resp, err := websocket.Dial(ctx, "ws://"+tt.app.httpAddr+"/tunnel?to=mqtts", &websocket.DialOptions{HTTPHeader: h})
			if ws != nil {
				defer ws.CloseNow()
			}
			if resp == nil || resp.StatusCode != tt.code {
				t.Fatalf("origin %q: %v, %v; want %d", tt.origin, resp, err, tt.code)
			}
			if tt.code == http.StatusForbidden {
				body, _ := io.ReadAll(resp.Body)
				if want := "--allow-origin " + tt.origin; !strings.Contains(string(body), want) {
					t.Errorf("refusal %q does not say %q", body, want)
				}
			}
		})
	}
}

// originProbe is a page of another site that opens a tunnel with the
// browser's own WebSocket and says whether it opened.
const originProbe = `<!DOCTYPE html><html><body><script>
window.opened = new Promise((resolve) => {
	const ws = new WebSocket("ws://%s/tunnel?to=mqtts");
	ws.onopen = () => { ws.close(); resolve("open"); };
	ws.onerror = () => resolve("refused");
});
</script></body></html>`

// TestBrowserTunnelOrigins: in Chromium, a page of an origin given with
// --allow-origin opens a tunnel; a page of any other origin cannot.
func TestBrowserTunnelOrigins(t *testing.T) {
	t.Parallel()
	var addr string
	probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, originProbe, addr)
	})
	allowed := httptest.NewServer(probe)
	t.Cleanup(allowed.Close)
	other := httptest.NewServer(probe)
	t.Cleanup(other.Close)
	cfg := testConfig(t)
	cfg.AllowOrigins = []string{allowed.URL}
	app := startApp(t, cfg, false)
	addr = app.httpAddr
	ctx := newBrowser(t)
	for page, want := range map[string]string{allowed.URL: "open", other.URL: "refused"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
			t.Fatal(err)
		}
		if got := evalJS[string](t, ctx, `window.opened`); got != want {
			t.Errorf("a page of %s: the tunnel %s, want %s (allowed: %s)", page, got, want, allowed.URL)
		}
	}
}
