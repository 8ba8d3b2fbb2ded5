package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// In the browser: a key made in the page, a certificate from POST /pki/csr,
// mutual TLS with it, revocation proved with the page's key, and the next
// connection refused.
func TestBrowserIdentityRevoke(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => {
		const id = await playground.createIdentity("browser-learner");
		const c = await playground.connect({listener: "mtls", tls: {identity: id.id, serverName: "localhost"}});
		await c.subscribe("x/mtls", 1);
		const info = c.tlsInfo();
		await c.close();
		await playground.saveIdentity(id.id);
		const saved = await playground.savedIdentities();
		await playground.revokeIdentity(id.id);
		const again = await playground.connect({listener: "mtls", tls: {identity: id.id, serverName: "localhost"}})
			.then(() => "connected", e => e.message);
		await playground.forgetIdentity("browser-learner");
		return {name: id.name, issuer: id.issuer, chain: id.chainPEM, version: info.version, saved: saved.map(s => s.name), again,
			left: (await playground.savedIdentities()).length};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if res["name"] != "browser-learner" || !strings.Contains(res["issuer"].(string), "Intermediate") || !strings.Contains(res["chain"].(string), "BEGIN CERTIFICATE") {
		t.Errorf("identity %v", res)
	}
	if res["version"] != "TLS 1.3" {
		t.Errorf("mtls version %v", res["version"])
	}
	if saved, _ := res["saved"].([]any); len(saved) != 1 || saved[0] != "browser-learner" {
		t.Errorf("saved identities %v", res["saved"])
	}
	if again, _ := res["again"].(string); !strings.Contains(again, "revoked certificate") { // alert 44, not bad_certificate
		t.Errorf("connect after revocation: %q", again)
	}
	if res["left"] != float64(0) {
		t.Errorf("identities left after forgetting: %v", res["left"])
	}
	// The broker knew the learner by the certificate's name.
	var found bool
	for _, c := range app.broker.Conns() {
		found = found || (c.Listener == "mtls" && c.PeerCN == "browser-learner")
	}
	if !found {
		t.Errorf("no mtls connection with CN browser-learner: %+v", app.broker.Conns())
	}
}

// Every lesson listener, from the browser: the same errors (and the same
// explanations) as a device meets.
func TestBrowserLessonListeners(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(async () => {
		const out = {};
		for (const l of (await playground.listeners()).filter(l => l.lesson)) {
			out[l.name] = await playground.connect({listener: l.name, tls: {serverName: "localhost"}})
				.then(async c => { const v = c.tlsInfo().version; await c.close(); return "connected " + v; }, e => e.message);
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range lessonCases {
		msg := got[tt.listener]
		switch {
		case tt.cause == "" && !strings.HasPrefix(msg, "connected"):
			t.Errorf("%s: %q, want a connection", tt.listener, msg)
		case tt.cause != "" && (!strings.HasPrefix(msg, tt.cause) || !strings.Contains(msg, tt.detail)):
			t.Errorf("%s: %q\nwant it to start with %q and mention %q", tt.listener, msg, tt.cause, tt.detail)
		}
	}
	// The client cannot tell a broker with an unfamiliar CA from a man in
	// the middle: both get the same advice, to check a fingerprint first.
	for _, l := range []string{"unknown-ca", "rogue-relay"} {
		if msg := got[l]; !strings.Contains(msg, "man in the middle") || !strings.Contains(msg, "fingerprint") || !strings.Contains(msg, "out of band") {
			t.Errorf("%s: %q, want the fingerprint checked out of band, since a man in the middle looks the same", l, msg)
		}
	}
	if got["tls12-only"] != "connected TLS 1.2" {
		t.Errorf("tls12-only: %q", got["tls12-only"])
	}
}
