package explain

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
)

// Remote explains a TLS alert the broker sent to the client, named as
// crypto/tls reports it ("remote error: tls: bad certificate" → "bad
// certificate"); gaveCert says whether the client sent a certificate.
func Remote(alert string, gaveCert bool) Explanation {
	alert = strings.TrimPrefix(alert, "remote error: tls: ")
	e := Explanation{
		Cause: "the broker rejected the handshake with the alert \"" + alert + "\"",
		Spec:  "RFC 8446 §6.2",
	}
	switch alert {
	case "certificate required", "bad certificate", "handshake failure":
		if !gaveCert {
			e.Detail = "this listener requires a client certificate issued by its CA (mutual TLS), and the client sent none"
			e.Why = "With mutual TLS the broker authenticates the device by its certificate, not just by a password."
			e.Fix = clientCertFixes
			return e
		}
		if alert == "handshake failure" {
			e.Why = "The two sides found no TLS version, cipher suite, group or signature algorithm they both accept."
			e.Fix = map[string]string{"playground": "check tls.minVersion/maxVersion", "broker": "allow at least TLS 1.2 with ECDHE and AES-GCM or ChaCha20"}
			return e
		}
		e.Detail = "the broker refused the client certificate (expired, revoked, or not for client authentication)"
		e.Why = "The broker checks the client's certificate as strictly as the client checks the broker's."
		e.Fix = map[string]string{"broker": "issue the client a fresh certificate from the broker's CA"}
	case "unknown certificate authority":
		e.Detail = "the broker does not trust the CA that issued the client certificate"
		e.Why = "The broker accepts client certificates only from the CAs it is configured with."
		e.Fix = map[string]string{"broker": "issue the client certificate from the broker's CA (POST /pki/csr), or add its CA to the broker's client CAs"}
	case "revoked certificate", "certificate revoked": // Go's name and the RFC's
		e.Detail = "the client certificate was revoked"
		if !gaveCert {
			e.Detail = "the client certificate of the earlier session this connection resumed was revoked (a resumed session carries the certificate of the handshake that made it)"
		}
		e.Why = "A revoked certificate is refused at the next handshake, resumed ones included, even though it has not expired."
		e.Fix = map[string]string{"playground": "create a new identity (playground.createIdentity) and connect with it", "broker": "issue the device a new certificate"}
	case "expired certificate", "certificate expired":
		e.Detail = "the broker found the client certificate outside its validity window"
		e.Why = "The broker checks the client certificate's dates as strictly as the client checks the broker's; a wrong clock on either side has the same effect."
		e.Fix = map[string]string{"playground": "create a new identity", "broker": "issue the device a fresh certificate, and check the clocks"}
	case "unsupported certificate":
		e.Detail = "the broker cannot use the client certificate (its key type or usage)"
		e.Why = "A client certificate must allow client authentication (extended key usage clientAuth) and have a key type the broker supports."
		e.Fix = map[string]string{"broker": "issue the client a certificate for client authentication (POST /pki/csr does)"}
	case "protocol version not supported":
		e.Detail = "the broker and client share no TLS version"
		e.Why = "Each side has a minimum and maximum version; here the ranges do not overlap."
		e.Fix = map[string]string{"playground": "check tls.minVersion/maxVersion", "mosquitto": "check --tls-version", "go": "check tls.Config.MinVersion/MaxVersion"}
	default:
		e.Why = "The broker's TLS stack found a problem with what the client sent."
	}
	return e
}

// clientCertFixes tell each client how to present a client certificate.
var clientCertFixes = map[string]string{
	"playground": "choose a client certificate: make one in the page (playground.createIdentity, then tls.identity) or give tls.certPEM and tls.keyPEM",
	"mosquitto":  "pass --cert client.pem --key client.key",
	"mqtt.js":    "pass cert and key (fs.readFileSync) in the connect options",
	"paho":       "call client.tls_set(ca_certs='ca.pem', certfile='client.pem', keyfile='client.key')",
	"go":         "set tls.Config.Certificates to the client certificate and key (tls.LoadX509KeyPair)",
}

// Broker explains a failed TLS handshake as the broker sees it: err is what
// tls.Server's handshake returned.
func Broker(err error) Explanation {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return Explanation{
			Cause:  "the client did not speak TLS",
			Detail: "its first bytes were not a TLS ClientHello (plain MQTT to a TLS port?)",
			Why:    "A TLS listener expects the handshake first; an MQTT CONNECT sent in the clear is refused.",
			Fix: map[string]string{
				"mosquitto": "add --cafile ca.pem (which turns TLS on) or use the plain port",
				"mqtt.js":   "use an mqtts:// URL",
				"paho":      "call client.tls_set(...) before connect()",
				"go":        "dial with tls.Dial",
			},
		}
	case strings.Contains(msg, "didn't provide a certificate"), strings.Contains(msg, "certificate required"):
		return Explanation{Cause: "the client sent no certificate", Detail: "this listener requires one (mutual TLS)", Why: "Mutual TLS authenticates the device by a certificate issued by the broker's CA.", Fix: clientCertFixes, Spec: "RFC 8446 §4.4.2"}
	case strings.Contains(msg, "remote error: tls: "):
		alert := msg[strings.Index(msg, "remote error: tls: ")+len("remote error: tls: "):]
		e := Explanation{Cause: "the client rejected the broker's certificate", Detail: "it sent the alert \"" + alert + "\"", Spec: "RFC 8446 §6.2"}
		switch alert {
		case "bad certificate", "unknown certificate authority", "certificate unknown":
			e.Why = "Most often the client does not have the broker's CA, or connected with a name the certificate does not cover."
			e.Fix = caFixes
		case "certificate expired", "expired certificate":
			e.Why = "The client thinks the broker's certificate is outside its validity window (check the device's clock)."
			e.Fix = map[string]string{"broker": "renew the certificate; check the device's clock"}
		default:
			e.Cause = "the client aborted the handshake"
			e.Why = "The client's TLS stack found a problem with what the broker sent."
		}
		return e
	case strings.Contains(msg, "bad record MAC"):
		return Explanation{
			Cause:  "the client aborted the handshake",
			Detail: "the broker could not read the client's next record (" + msg + ")",
			Why:    "Seen when a client gives up in the middle of the handshake — most often because it rejected the broker's certificate (OpenSSL-based clients such as mosquitto do this) — or when bytes were changed on the way.",
			Fix:    caFixes,
		}
	case strings.Contains(msg, "failed to verify certificate"), strings.Contains(msg, "revoked"):
		return Explanation{Cause: "the client's certificate was refused", Detail: strings.TrimPrefix(msg, "tls: "), Why: "The broker verifies client certificates against its CA, their validity window, usage and the revocation list.", Fix: map[string]string{"broker": "issue the device a fresh certificate from the broker's CA (POST /pki/csr)"}}
	case strings.Contains(msg, "unsupported versions"), strings.Contains(msg, "protocol version"):
		detail := "the client offered no TLS version this listener accepts"
		if v := offeredVersions(msg); v != "" {
			detail = "the client offered only " + v + ", which this listener does not accept"
		}
		return Explanation{Cause: "no common TLS version", Detail: detail, Why: "Each side accepts a range of TLS versions; here the client's and the listener's do not overlap.", Fix: map[string]string{"mosquitto": "use --tls-version tlsv1.2 or newer", "broker": "allow TLS 1.2 and 1.3"}}
	case strings.Contains(msg, "no cipher suite"):
		return Explanation{Cause: "no common cipher suite", Detail: msg, Why: "The client offered only cipher suites the listener does not accept (often old CBC or RC4 suites).", Fix: map[string]string{"broker": "allow ECDHE with AES-GCM or ChaCha20-Poly1305"}}
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), strings.Contains(msg, "connection reset"):
		return Explanation{Cause: "the client closed the connection during the handshake", Why: "Some clients hang up without an alert when they reject the broker's certificate or cannot agree on parameters.", Fix: caFixes}
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline"):
		return Explanation{Cause: "the handshake timed out", Why: "The client connected but did not finish the handshake in time (a stalled or very slow device, or a port scan).", Fix: map[string]string{}}
	}
	return Explanation{Cause: "TLS handshake failed", Detail: msg, Why: "The broker could not complete the handshake with this client.", Fix: map[string]string{}}
}

// offeredVersions names the versions of crypto/tls's "client offered only
// unsupported versions: [304 303]" ("TLS 1.3, TLS 1.2"), or "" when msg
// lists none.
func offeredVersions(msg string) string {
	_, list, ok := strings.Cut(msg, "unsupported versions: [")
	list, _, _ = strings.Cut(list, "]")
	if !ok || list == "" {
		return ""
	}
	var names []string
	for _, f := range strings.Fields(list) {
		v, err := strconv.ParseUint(f, 16, 16)
		if err != nil {
			return ""
		}
		names = append(names, versionName(uint16(v)))
	}
	return strings.Join(names, ", ")
}

// versionName names a TLS protocol version number.
func versionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301, 0x0302, 0x0303, 0x0304:
		return "TLS 1." + strconv.Itoa(int(v-0x0301))
	}
	return "version 0x" + strconv.FormatUint(uint64(v), 16)
}
