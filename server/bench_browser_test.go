package main

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// pageTimes is what one load of the playground page measures, in ms from
// the navigation's start (performance.now()).
type pageTimes struct {
	// Compiled and Ready are when the wasm module was compiled and when
	// the Go client was running (performance marks of playground.ts).
	Compiled float64 `json:"compiled"`
	Ready    float64 `json:"ready"`
	// Connected is when the first connect to mqtts resolved: the page →
	// first handshake time. Full is that connect alone (tunnel, a full
	// TLS 1.3 handshake, MQTT CONNECT); FullAgain a second with resume
	// off, Resumed a third that resumes a session of the first two.
	Connected float64 `json:"connected"`
	Full      float64 `json:"full"`
	Resumed   float64 `json:"resumed"`
	FullAgain float64 `json:"fullAgain"`
	// WasResumed is tlsInfo().resumed of the second connect.
	WasResumed bool `json:"wasResumed"`
}

const measurePage = `(async () => {
	await playground.ready;
	const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? -1;
	const t0 = performance.now();
	const c = await playground.connect({listener: "mqtts"});
	const connected = performance.now();
	await c.close();
	// The first connect also warms the wasm code up (the engine's faster
	// tier): compare a full and a resumed handshake after it.
	const t1 = performance.now();
	const f = await playground.connect({listener: "mqtts", tls: {resume: false}});
	const t2 = performance.now();
	await f.close();
	const t3 = performance.now();
	const r = await playground.connect({listener: "mqtts"});
	const t4 = performance.now();
	const wasResumed = r.tlsInfo().resumed;
	await r.close();
	return {compiled: mark("playground:wasm-compiled"), ready: mark("playground:wasm-ready"), connected, full: connected - t0,
		fullAgain: t2 - t1, resumed: t4 - t3, wasResumed};
})()`

// BenchmarkPageToHandshake loads the playground page in headless Chromium
// and connects to mqtts as soon as the wasm client runs; it reports the
// medians of the times of pageTimes (ms/…) over the loads, and the slowest
// page → handshake. "cold" loads with the browser cache cleared (a first
// visit), "warm" from the cache (a return; the browser may also reuse its
// compiled wasm). Run it with
//
//	go test ./server -run '^$' -bench PageToHandshake -benchtime 10x
//
// and read the figures beside the machine's load: they are wall-clock.
// BenchmarkStaticPageToHandshake does the same for the static build.
func BenchmarkPageToHandshake(b *testing.B) {
	app := startApp(b, testConfig(b), true)
	benchPageLoads(b, "http://"+app.httpAddr+"/")
}

// BenchmarkStaticPageToHandshake is BenchmarkPageToHandshake on the static
// build's playground page, served by a plain file server: the broker and
// its CA start in the page before the first connect.
func BenchmarkStaticPageToHandshake(b *testing.B) {
	benchPageLoads(b, startStaticHost(b, "/").base)
}

// benchPageLoads loads url cold and warm b.N times each (see
// BenchmarkPageToHandshake) and reports the figures of pageTimes.
func benchPageLoads(b *testing.B, url string) {
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			ctx := newBrowser(b)
			// DevTools' network domain (chromedp turns it on) keeps a copy of
			// every response for the inspector: it made the wasm's download
			// about twice as slow (measured), which a visitor without
			// DevTools open does not pay. Off; a cold load clears the cache
			// instead of turning it off.
			if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, network.Disable, cdp.Empty{})
				return err
			})); err != nil {
				b.Fatal(err)
			}
			// On again for whoever gets the tab next (chromedp expects it).
			b.Cleanup(func() {
				chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
					return err
				}))
			})
			var all []pageTimes
			for b.Loop() {
				if mode == "cold" {
					if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
						_, err := cdp.Call(ctx, tg, network.ClearBrowserCache, cdp.Empty{})
						return err
					})); err != nil {
						b.Fatal(err)
					}
				}
				if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
					b.Fatal(err)
				}
				t, err := chromedp.Run(ctx, chromedp.Evaluate[pageTimes](measurePage, chromedp.EvalAwaitPromise))
				if err != nil {
					b.Fatal(err)
				}
				if !t.WasResumed {
					b.Fatal("the third connect did not resume an earlier session")
				}
				all = append(all, t)
			}
			// Medians: the first load in a tab also starts its renderer.
			med := func(f func(pageTimes) float64) float64 {
				v := make([]float64, len(all))
				for i, t := range all {
					v[i] = f(t)
				}
				slices.Sort(v)
				if n := len(v); n%2 == 0 {
					return (v[n/2-1] + v[n/2]) / 2
				}
				return v[len(v)/2]
			}
			b.ReportMetric(med(func(t pageTimes) float64 { return t.Compiled }), "ms/wasm-compiled")
			b.ReportMetric(med(func(t pageTimes) float64 { return t.Ready }), "ms/wasm-ready")
			b.ReportMetric(med(func(t pageTimes) float64 { return t.Connected }), "ms/page→handshake")
			b.ReportMetric(slices.MaxFunc(all, func(a, b pageTimes) int { return cmp.Compare(a.Connected, b.Connected) }).Connected, "ms/page→handshake-max")
			b.ReportMetric(med(func(t pageTimes) float64 { return t.Full }), "ms/full-connect")
			b.ReportMetric(med(func(t pageTimes) float64 { return t.Resumed }), "ms/resumed-connect")
			b.ReportMetric(med(func(t pageTimes) float64 { return t.FullAgain }), "ms/full-connect-again")
			b.ReportMetric(med(func(t pageTimes) float64 { return t.FullAgain / t.Resumed }), "full/resumed")
			b.ReportMetric(0, "ns/op")
		})
	}
}
