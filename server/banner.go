package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"

	"rsc.io/qr"
)

// The start banner of a class: where attendees go (with a QR code of it in
// the terminal, for a projector) and the instructor's URL.

// qrLines draws text as a QR code for a terminal, two modules a line with
// Unicode half blocks, the light modules drawn (a terminal's text is light
// on dark, so the code reads right there), with a quiet zone of two
// modules.
func qrLines(text string) ([]string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	const quiet = 2
	light := func(x, y int) bool { return !code.Black(x, y) } // outside the code: light
	var lines []string
	for y := -quiet; y < code.Size+quiet; y += 2 {
		var b strings.Builder
		for x := -quiet; x < code.Size+quiet; x++ {
			top, bottom := light(x, y), y+1 < code.Size+quiet && light(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		lines = append(lines, b.String())
	}
	return lines, nil
}

// classURLs are the attendees' URLs of a class, the first one the one to
// show as a QR code: over HTTPS when the server has it (the tunnel then
// runs over wss), at the --tls-cert name when there is one, else at each of
// the machine's addresses.
func (a *App) classURLs(path string) []string {
	var hosts []string
	if a.webCert != nil {
		hosts = append(hosts, a.webCert.DNSNames...)
	}
	for _, n := range a.names {
		if ip, err := netip.ParseAddr(n); err == nil && !ip.IsLoopback() {
			hosts = append(hosts, n)
		}
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
	}
	var urls []string
	for _, addr := range []struct{ scheme, addr string }{{"https", a.httpsAddr}, {"http", a.httpAddr}} {
		if addr.addr == "" {
			continue
		}
		host, port, _ := net.SplitHostPort(addr.addr)
		if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
			// Bound to one address: that is the one to open.
			urls = append(urls, addr.scheme+"://"+net.JoinHostPort(host, port)+path)
			continue
		}
		for _, h := range hosts {
			urls = append(urls, addr.scheme+"://"+net.JoinHostPort(h, port)+path)
		}
	}
	return urls
}

// printClass prints where attendees and the instructor go.
func (a *App) printClass(w io.Writer) {
	join := a.classURLs("/join")
	if len(join) == 0 {
		return
	}
	fmt.Fprintf(w, "  A class (--workshop): %d attendee(s) so far.\n\n  Attendees open  %s\n", a.class.Attendees(), join[0])
	for _, u := range join[1:] {
		fmt.Fprintf(w, "             or  %s\n", u)
	}
	if lines, err := qrLines(join[0]); err == nil {
		fmt.Fprintln(w)
		for _, l := range lines {
			fmt.Fprintln(w, "  "+l)
		}
	}
	boss := a.classURLs("/instructor?token=" + a.cfg.Token)
	fmt.Fprintf(w, "\n  Instructor      %s\n", boss[0])
	fmt.Fprintln(w, "                  (yours alone: it opens the dashboard and lets you act on the class)")
	if strings.HasPrefix(join[0], "https") && a.webCert == nil {
		fmt.Fprintln(w, "\n  The page's certificate comes from the local CA: browsers warn once; the attendee page says how to trust ca.pem.")
	}
	fmt.Fprintln(w)
}
