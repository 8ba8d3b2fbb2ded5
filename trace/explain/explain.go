// Package explain turns the TLS failures a learner can meet — certificate
// verification errors, alerts from the other side, handshake errors seen by
// the broker — into plain words: what went wrong, why it usually happens,
// and how to fix it in the common MQTT clients (mosquitto_pub/sub, MQTT.js,
// Eclipse Paho for Python, Go's crypto/tls, and the playground's own API).
//
// The wasm client uses it for the errors connect() rejects with, and the
// broker for its log lines, so a learner reads the same explanation in the
// page and in the terminal. It does not decide anything; it only explains.
package explain

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
)

// Clients are the keys of Explanation.Fix, in the order they are shown.
var Clients = []string{"playground", "mosquitto", "mqtt.js", "paho", "go"}

// Explanation is a failure explained.
type Explanation struct {
	// Cause names the failure in the words crypto/x509 or the TLS alert
	// uses, so it can be searched for: "certificate signed by unknown authority".
	Cause string `json:"cause"`
	// Detail says what exactly happened in this case (names, dates).
	Detail string `json:"detail,omitempty"`
	// Why says in one or two sentences what usually causes it.
	Why string `json:"why"`
	// Fix says what to change, per client (keys from Clients; "broker" for
	// fixes on the broker's side).
	Fix map[string]string `json:"fix"`
	// Spec cites where the rule is defined.
	Spec string `json:"spec,omitempty"`
}

// Message is the one-line form: cause, detail and the fix for client (or
// the broker's fix when client has none).
func (e Explanation) Message(client string) string {
	var b strings.Builder
	b.WriteString(e.Cause)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	fix := e.Fix[client]
	if fix == "" {
		fix = e.Fix["broker"]
	}
	if fix != "" {
		b.WriteString("; ")
		b.WriteString(fix)
	}
	return b.String()
}

// Text is the long form: every line of the explanation, fixes for every client.
func (e Explanation) Text() string {
	var b strings.Builder
	b.WriteString(e.Cause)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	b.WriteString("\n" + e.Why + "\n")
	keys := make([]string, 0, len(e.Fix))
	for k := range e.Fix {
		keys = append(keys, k)
	}
	sort.SliceStable(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", k, e.Fix[k])
	}
	return b.String()
}

func rank(k string) int {
	for i, c := range Clients {
		if c == k {
			return i
		}
	}
	return len(Clients)
}

// caFixes tell each client to trust the playground's CA.
var caFixes = map[string]string{
	"playground": "give the client the broker's CA (tls.caPEM; the playground's is at /ca.pem)",
	"mosquitto":  "pass --cafile ca.pem",
	"mqtt.js":    "pass ca: fs.readFileSync('ca.pem') in the connect options",
	"paho":       "call client.tls_set(ca_certs='ca.pem')",
	"go":         "set tls.Config.RootCAs to a pool holding ca.pem (x509.NewCertPool, AppendCertsFromPEM)",
}

// nameFixes tell each client how to connect with a name the certificate covers.
func nameFixes(covered string) map[string]string {
	return map[string]string{
		"playground": "connect with one of the names it covers (tls.serverName: " + covered + ")",
		"mosquitto":  "use -h with a name the certificate covers (" + covered + ")",
		"mqtt.js":    "connect to a covered host name, or set servername to one (" + covered + ")",
		"paho":       "connect() to a host name the certificate covers (" + covered + ")",
		"go":         "set tls.Config.ServerName to a covered name (" + covered + ")",
		"broker":     "or issue the broker a certificate whose subjectAltName lists the name clients use",
	}
}

// Verify explains an error from verifying the broker's certificate chain
// (crypto/x509's errors, as crypto/tls returns them) for a client that
// connected with serverName at time now.
func Verify(err error, chain []*x509.Certificate, serverName string, now time.Time) Explanation {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ia x509.InsecureAlgorithmError
	switch {
	case errors.As(err, &ua) && strings.Contains(err.Error(), "insecure algorithm"):
		// The chain would lead to a trusted root but for a signature made
		// with an algorithm Go no longer accepts (crypto/x509 hints at it).
		return Explanation{
			Cause:  "certificate signed with an insecure algorithm",
			Detail: "a certificate in the chain is signed with SHA-1, so it cannot be checked; crypto/x509 says: " + err.Error(),
			Why:    "SHA-1 signatures can be forged (collisions were shown in 2017), so Go and the browsers refuse certificates signed with them.",
			Fix:    map[string]string{"broker": "re-issue the certificate (and its CA) with a SHA-256 (or stronger) signature"},
			Spec:   "RFC 9155",
		}
	case errors.As(err, &ua):
		return unknownAuthority(ua, chain)
	case errors.As(err, &he):
		covered := Names(he.Certificate)
		e := Explanation{
			Cause:  fmt.Sprintf("certificate is not valid for %q", serverName),
			Detail: "it covers " + covered,
			Why:    "A client checks that the name it dialled is listed in the certificate's subjectAltName, so a certificate stolen from one server cannot impersonate another.",
			Fix:    nameFixes(covered),
			Spec:   "RFC 6125 §6",
		}
		if ip := net.ParseIP(serverName); ip != nil {
			e.Why = "Connecting by IP address needs the address itself in the certificate's subjectAltName (as an IP entry; a DNS entry with the same text does not count)."
		}
		if c := he.Certificate; c != nil && len(c.DNSNames)+len(c.IPAddresses)+len(c.URIs)+len(c.EmailAddresses) == 0 && c.Subject.CommonName != "" {
			e.Detail = fmt.Sprintf("its only name is in the subject's common name (CN=%s) and it has no subjectAltName", c.Subject.CommonName)
			e.Why = "Go and the browsers match names against the subjectAltName only; the fallback to the common name is obsolete (RFC 9525), though OpenSSL-based clients still use it."
			e.Fix = map[string]string{"broker": "re-issue the certificate with its names in the subjectAltName extension"}
		}
		return e
	case errors.As(err, &ci):
		c := ci.Cert
		switch ci.Reason {
		case x509.Expired:
			state := "has expired"
			why := "Certificates are valid for a window of time; after it the client must refuse them, or a leaked old key would work forever."
			if now.Before(c.NotBefore) {
				state = "is not yet valid"
				why = "The certificate's validity starts in the future — often the device's clock is wrong (no real-time clock after a reboot puts it in 1970) rather than the certificate."
			}
			return Explanation{
				Cause:  "certificate has expired or is not yet valid",
				Detail: fmt.Sprintf("%s %s: valid from %s to %s, and the client's clock says %s", subject(c), state, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)),
				Why:    why,
				Fix: map[string]string{
					"broker":     "renew the certificate before it runs out (and check the client's clock: devices need NTP or an RTC)",
					"playground": "check the computer's clock; the broker needs a certificate valid now",
				},
				Spec: "RFC 5280 §4.1.2.5",
			}
		case x509.IncompatibleUsage:
			if ca := RestrictingCA(chain); ca != nil {
				return Explanation{
					Cause:  "certificate is not for servers",
					Detail: fmt.Sprintf("the broker's certificate allows serverAuth, but %s, a CA above it, limits its extended key usage to %s", subject(ca), strings.Join(ExtKeyUsageNames(ca), ", ")),
					Why:    "crypto/x509, like most TLS stacks, requires every certificate of the chain to allow the use it checks: a CA whose extended key usage leaves out serverAuth cannot vouch for servers.",
					Fix:    map[string]string{"broker": "issue the broker's certificate from a CA whose extended key usage includes serverAuth (or that has none)"},
					Spec:   "RFC 5280 §4.2.1.12",
				}
			}
			return Explanation{
				Cause:  "certificate is not for servers",
				Detail: "its extended key usage lacks serverAuth",
				Why:    "The extended key usage extension limits what a certificate may be used for; a client certificate cannot serve as a broker's.",
				Fix:    map[string]string{"broker": "issue the broker a certificate with extended key usage serverAuth"},
				Spec:   "RFC 5280 §4.2.1.12",
			}
		case x509.NotAuthorizedToSign:
			return Explanation{
				Cause:  "certificate is not authorized to sign other certificates",
				Detail: ci.Error(),
				Why:    "Only certificates marked as CAs (basicConstraints cA=true) may issue others; a leaf that signs a certificate breaks the chain.",
				Fix:    map[string]string{"broker": "issue the certificate from a real CA or intermediate"},
				Spec:   "RFC 5280 §4.2.1.9",
			}
		}
		return Explanation{Cause: "certificate is invalid", Detail: ci.Error(), Why: "The certificate breaks one of the rules of RFC 5280.", Fix: map[string]string{"broker": "issue a new certificate from the CA"}}
	case errors.As(err, &ia):
		return Explanation{
			Cause:  "certificate signed with an insecure algorithm",
			Detail: ia.Error(),
			Why:    "SHA-1 signatures can be forged (collisions were shown in 2017), so Go and the browsers refuse certificates signed with them.",
			Fix:    map[string]string{"broker": "re-issue the certificate with a SHA-256 (or stronger) signature"},
			Spec:   "RFC 9155",
		}
	}
	msg := err.Error()
	if strings.Contains(msg, "RSA key") || strings.Contains(msg, "key size") || strings.Contains(msg, "unsupported type of public key") || strings.Contains(msg, "insecure") {
		return Explanation{
			Cause:  "certificate key is too weak",
			Detail: msg,
			Why:    "RSA keys under 2048 bits can be factored with enough computing power; modern clients refuse them.",
			Fix:    map[string]string{"broker": "re-issue the certificate with an ECDSA P-256 or RSA 2048+ key"},
		}
	}
	return Explanation{Cause: "certificate verification failed", Detail: msg, Why: "The client could not verify the broker's certificate.", Fix: caFixes}
}

func unknownAuthority(ua x509.UnknownAuthorityError, chain []*x509.Certificate) Explanation {
	e := Explanation{
		Cause: "certificate signed by unknown authority",
		Why:   "A client trusts a broker only when its certificate chain ends at a CA the client already trusts; a private CA like the playground's must be given to every client.",
		Fix:   caFixes,
		Spec:  "RFC 5280 §6",
	}
	leaf := ua.Cert
	if leaf == nil && len(chain) > 0 {
		leaf = chain[0]
	}
	if leaf == nil {
		return e
	}
	if len(chain) == 0 {
		chain = []*x509.Certificate{leaf}
	}
	top := chain[len(chain)-1]
	switch {
	case len(chain) == 1 && bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil:
		e.Detail = fmt.Sprintf("the broker's certificate (%s) is self-signed: nobody vouches for it", subject(leaf))
		e.Why = "A self-signed certificate proves nothing about who holds it; trusting it, or turning verification off, accepts an attacker's just as well."
		e.Fix = map[string]string{
			"broker":     "give the broker a certificate issued by a CA the clients trust",
			"playground": "do not switch verification off: connect to a listener with a CA-issued certificate",
		}
	case len(chain) == 1 && !leaf.IsCA:
		e.Detail = fmt.Sprintf("the broker sent only its own certificate (%s), issued by %q, without the intermediate CA that links it to a trusted root", subject(leaf), leaf.Issuer.CommonName)
		e.Why = "Clients build the chain from what the server sends plus their trusted roots; a missing intermediate leaves a gap (browsers sometimes fetch it, MQTT clients do not)."
		e.Fix = map[string]string{"broker": "serve the full chain: the leaf followed by its intermediate (for mosquitto, put both in certfile)"}
	default:
		e.Detail = fmt.Sprintf("the broker's certificate chain leads to %q, which is not among the CAs this client trusts", top.Issuer.CommonName)
		e.Why = "A client trusts a broker only when its chain ends at a CA the client already trusts. A broker whose CA the client was not given and a man in the middle presenting a CA of its own look exactly the same from the client's side, so a CA the broker hands over proves nothing."
		e.Fix = trustFixes
	}
	return e
}

// trustFixes tell each client to trust a broker's CA only once it is known
// to be the right one: checked against a fingerprint published out of band.
var trustFixes = map[string]string{
	"playground": "from here a broker whose CA you were not given and a man in the middle with a CA of its own look the same, so trust a CA only once its SHA-256 fingerprint matches one its operator published out of band (for the playground's broker: tls.caPEM, from /ca.pem)",
	"mosquitto":  "compare the CA's SHA-256 fingerprint (openssl x509 -noout -fingerprint -sha256 -in ca.pem) with one published out of band, then pass --cafile ca.pem",
	"mqtt.js":    "once the CA's SHA-256 fingerprint matches one published out of band, pass ca: fs.readFileSync('ca.pem') in the connect options",
	"paho":       "once the CA's SHA-256 fingerprint matches one published out of band, call client.tls_set(ca_certs='ca.pem')",
	"go":         "once the CA's SHA-256 fingerprint matches one published out of band, set tls.Config.RootCAs to a pool holding it",
}

// Names lists the names a certificate covers, for messages.
func Names(c *x509.Certificate) string {
	if c == nil {
		return "no names"
	}
	var s []string
	s = append(s, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		s = append(s, ip.String())
	}
	for _, u := range c.URIs {
		s = append(s, u.String())
	}
	if len(s) == 0 {
		return "no subject alternative names"
	}
	return strings.Join(s, ", ")
}

func subject(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}
