package main

import (
	"context"
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
// times of pageTimes (ms/…) averaged over the loads. "cold" loads with the
// browser cache off (a first visit), "warm" from the cache (a return; the
// browser may also reuse its compiled wasm). Run it with
//
//	go test ./server -run '^$' -bench PageToHandshake -benchtime 10x
//
// and read the figures beside the machine's load: they are wall-clock.
func BenchmarkPageToHandshake(b *testing.B) {
	app := startApp(b, testConfig(b), true)
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			ctx := newBrowser(b)
			if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: mode == "cold"})
				return err
			})); err != nil {
				b.Fatal(err)
			}
			var sum pageTimes
			n := 0
			for b.Loop() {
				if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/")); err != nil {
					b.Fatal(err)
				}
				t, err := chromedp.Run(ctx, chromedp.Evaluate[pageTimes](measurePage, chromedp.EvalAwaitPromise))
				if err != nil {
					b.Fatal(err)
				}
				if !t.WasResumed {
					b.Fatal("the third connect did not resume an earlier session")
				}
				sum.Compiled += t.Compiled
				sum.Ready += t.Ready
				sum.Connected += t.Connected
				sum.Full += t.Full
				sum.Resumed += t.Resumed
				sum.FullAgain += t.FullAgain
				n++
			}
			avg := func(v float64) float64 { return v / float64(n) }
			b.ReportMetric(avg(sum.Compiled), "ms/wasm-compiled")
			b.ReportMetric(avg(sum.Ready), "ms/wasm-ready")
			b.ReportMetric(avg(sum.Connected), "ms/page→handshake")
			b.ReportMetric(avg(sum.Full), "ms/full-connect")
			b.ReportMetric(avg(sum.Resumed), "ms/resumed-connect")
			b.ReportMetric(avg(sum.FullAgain), "ms/full-connect-again")
			b.ReportMetric(sum.FullAgain/sum.Resumed, "full/resumed")
			b.ReportMetric(0, "ns/op")
		})
	}
}
