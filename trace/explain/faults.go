package explain

import (
	"errors"
	"io"
	"net"
	"strings"
)

// Faults are the faults of the lesson listeners, by listener name, in the
// order the server opens them (broker/pki's scenarios, then the man in the
// middle and the key-type listeners). Their names are the listeners'
// names, a contract with the lessons.
var Faults = []Fault{
	{"expired", "expired certificate",
		"Its certificate expired yesterday: a client that checks dates refuses it (\"certificate has expired\").",
		"Renew certificates well before NotAfter, automatically; when a device refuses a fresh certificate, check the device's clock."},
	{"not-yet-valid", "certificate not yet valid",
		"Its certificate only becomes valid tomorrow: clients refuse it until then.",
		"Most often a clock is wrong (a device without a real-time clock or NTP, or the CA's): set clocks by NTP, and never date a certificate in the future."},
	{"wrong-host", "certificate for another host name",
		"Its certificate names only wrong-host.invalid, so the name the client dialed is not in it, though a trusted CA signed it.",
		"Issue the broker a certificate whose subjectAltName lists every name clients dial, and have clients dial one of those names; never switch the name check off."},
	{"ip-mismatch", "IP address not in the certificate",
		"Its certificate lists only the IP address 192.0.2.1: a client that dials a name or another address finds no match.",
		"A client that dials an IP address needs exactly that address as an IP entry of subjectAltName; better, dial a DNS name the certificate lists."},
	{"self-signed", "self-signed certificate",
		"Its certificate is signed by its own key: no CA vouches for it, and a client cannot tell it from an attacker's.",
		"Give the broker a certificate from a CA the clients trust. Trusting this one certificate is safe only if its SHA-256 fingerprint matches one the broker's operator published out of band."},
	{"unknown-ca", "certificate from an untrusted CA",
		"Its chain is complete but ends at the \"MQTTS Playground Impostor CA\", which clients do not trust. From the client's side this looks exactly like a man in the middle (compare rogue-relay).",
		"Do not add a CA to a client's trust because a broker presents it: first compare the CA's SHA-256 fingerprint with one the broker's operator published out of band (a web page you trust, a printed sheet, a phone call)."},
	{"missing-intermediate", "intermediate CA not sent",
		"It sends only its own certificate, without the intermediate CA that links it to the root the clients trust.",
		"Serve the full chain: the broker's certificate followed by its intermediate (mosquitto: both in certfile)."},
	{"weak-key", "1024-bit RSA key",
		"Go clients accept its 1024-bit RSA key; OpenSSL-based clients (mosquitto, paho) refuse it (\"ee key too small\").",
		"Re-issue the certificate with an ECDSA P-256 key, or RSA of 2048 bits or more."},
	{"sha1-signature", "certificate signed with SHA-1",
		"Its certificate is signed with SHA-1, which clients no longer accept: they cannot rely on the signature.",
		"Re-issue the certificate (and its CA) with a SHA-256 or stronger signature."},
	{"tls12-only", "TLS 1.2 at most",
		"It speaks at most TLS 1.2: default clients settle on 1.2, and a client that requires TLS 1.3 is refused (protocol_version).",
		"Allow TLS 1.3 on the broker; keep 1.2 only for devices that need it."},
	{"rogue-relay", "man in the middle",
		"It presents a certificate for the broker's names from a CA nobody trusts, then relays to mqtts. A client that verifies refuses it, and cannot tell it from unknown-ca; one that skips verification hands over its password and messages.",
		"Never switch verification off. If a broker's CA is new to you, compare its SHA-256 fingerprint with one published out of band before trusting it."},
	{"key-rsa2048", "nothing wrong: an RSA 2048 key",
		"A sound certificate with an RSA 2048 key: compare the handshake's size and time with mqtts (ECDSA P-256).",
		"Nothing to fix: RSA 2048 is sound; ECDSA P-256 makes smaller certificates and faster handshakes."},
	{"key-ed25519", "nothing wrong: an Ed25519 key",
		"A sound certificate with an Ed25519 key: compare the handshake with mqtts (ECDSA P-256).",
		"Nothing to fix; check that every device's TLS library supports Ed25519 before choosing it."},
	{"cn-only", "name only in the common name",
		"Its certificate names the host only in the subject's common name (CN=localhost), with no subjectAltName: Go and browsers refuse it, while OpenSSL-based clients (mosquitto, Python's ssl) and mbedTLS fall back to the CN and accept it.",
		"Put every name the clients dial into subjectAltName; never rely on the common-name fallback."},
	{"revoked", "revoked certificate, stapled",
		"Its certificate was revoked by its CA, and the listener staples the CA's signed OCSP answer saying so: a client that checks the staple refuses it; one that ignores it (plain Go, mosquitto) connects.",
		"Replace a revoked certificate at once; have clients check stapled OCSP answers (and demand one for a must-staple certificate)."},
}

// LessonFault returns the fault of the lesson listener called name.
func LessonFault(name string) (Fault, bool) {
	for _, f := range Faults {
		if f.Listener == name {
			return f, true
		}
	}
	return Fault{}, false
}

// OnBroker explains a handshake on the fault's listener as the broker
// sees it: err is what tls.Server's handshake returned, nil when it
// succeeded. When the client refused the broker (its certificate, or its
// TLS versions), the fault is the reason and its advice the fix, instead
// of the generic advice of [Broker].
func (f Fault) OnBroker(err error) Explanation {
	if err == nil {
		return Explanation{
			Cause:  "a client completed the handshake with lesson listener " + f.Listener,
			Detail: "this listener's deliberate fault: " + f.What,
			Why:    f.Meets,
			Fix:    map[string]string{"broker": f.Advice},
		}
	}
	e := Broker(err)
	if refusedBroker(err) {
		e.Detail = strings.TrimPrefix(e.Detail+"; ", "; ") + "this listener's deliberate fault: " + f.What
		e.Why = f.Meets
		e.Fix = map[string]string{"broker": f.Advice}
	}
	return e
}

// refusedBroker reports whether a failed server handshake is the client
// refusing what the broker offered: an alert from the client, a client that
// hung up (some do that instead of an alert), or no common version.
func refusedBroker(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "remote error: tls: ") || strings.Contains(msg, "bad record MAC") ||
		strings.Contains(msg, "unsupported versions") || strings.Contains(msg, "protocol version") ||
		errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(msg, "connection reset")
}
