package explain

import (
	"crypto/x509"
	"fmt"
	"slices"
)

// ExtKeyUsageNames names the extended key usages of c as RFC 5280 does
// (serverAuth, clientAuth …), an unknown one by its number or OID.
func ExtKeyUsageNames(c *x509.Certificate) []string {
	names := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageAny:             "any",
		x509.ExtKeyUsageServerAuth:      "serverAuth",
		x509.ExtKeyUsageClientAuth:      "clientAuth",
		x509.ExtKeyUsageCodeSigning:     "codeSigning",
		x509.ExtKeyUsageEmailProtection: "emailProtection",
		x509.ExtKeyUsageTimeStamping:    "timeStamping",
		x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
	}
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := names[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("usage %d", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
}

// AllowsServerAuth reports whether c may be used for, or in the chain of,
// a TLS server: no extended key usage, or one that includes serverAuth or
// any.
func AllowsServerAuth(c *x509.Certificate) bool {
	return len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 ||
		slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

// RestrictingCA returns the first CA certificate above the leaf of chain
// (leaf first) whose extended key usage rules out serverAuth while the
// leaf allows it, or nil. crypto/x509, like most TLS stacks, requires
// every certificate of the chain to allow the use it checks, so such a CA
// makes a server certificate it issued useless for a server.
func RestrictingCA(chain []*x509.Certificate) *x509.Certificate {
	if len(chain) == 0 || !AllowsServerAuth(chain[0]) {
		return nil
	}
	for _, c := range chain[1:] {
		if !AllowsServerAuth(c) {
			return c
		}
	}
	return nil
}
