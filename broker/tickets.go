package broker

import (
	"crypto/tls"
	"slices"
)

// noTickets12 keeps a listener that asks for client certificates from
// issuing TLS 1.2 session tickets: TLS 1.3 connections still get theirs.
//
// A TLS 1.2 ticket is sent in the clear and resumes with nothing but the
// session's master secret, which the connection's key log holds; the
// server takes the client certificate of a resumed session from the
// ticket. So anyone who saw the ticket and the key log (both on the
// trace) could resume the session without the certificate's key and be
// taken for its common name. A TLS 1.3 ticket resumes only with the
// resumption secret, which no key log line holds or yields.
func noTickets12(cfg *tls.Config) {
	if cfg.ClientAuth == tls.NoClientCert || cfg.SessionTicketsDisabled {
		return
	}
	next := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		var out *tls.Config
		if next != nil {
			c, err := next(hello)
			if err != nil {
				return nil, err
			}
			out = c // a fresh clone, or nil for cfg itself
		}
		in := cfg
		if out != nil {
			in = out
		}
		if negotiated(in, hello.SupportedVersions) >= tls.VersionTLS13 {
			return out, nil
		}
		if out == nil {
			out = cfg.Clone()
		}
		out.SessionTicketsDisabled = true
		return out, nil
	}
}

// negotiated is the version a crypto/tls server with cfg picks from a
// client's supported versions: the first the client lists that the server
// allows (0 if none).
func negotiated(cfg *tls.Config, client []uint16) uint16 {
	lo, hi := cfg.MinVersion, cfg.MaxVersion
	if lo == 0 {
		lo = tls.VersionTLS12
	}
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	if i := slices.IndexFunc(client, func(v uint16) bool { return v >= lo && v <= hi }); i >= 0 {
		return client[i]
	}
	return 0
}
