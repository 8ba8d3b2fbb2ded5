package pki

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"slices"
	"time"
)

// RevokedFile is the file in the data folder listing revoked certificates
// and the last CRL number, as JSON.
const RevokedFile = "revoked.json"

// Revocation reasons (RFC 5280, section 5.3.1) for Revoke.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonCertificateHold      = 6
	ReasonRemoveFromCRL        = 8
	ReasonPrivilegeWithdrawn   = 9
	ReasonAACompromise         = 10
)

var reasonNames = map[int]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

// ReasonName returns the RFC 5280 name of a revocation reason code, or ""
// for a code that is not one.
func ReasonName(reason int) string { return reasonNames[reason] }

// alertCertificateRevoked is the TLS alert for a revoked certificate
// (RFC 8446 §6.2).
const alertCertificateRevoked = 44

// crlValidity is how long a CRL is valid (NextUpdate - ThisUpdate);
// crlRefresh is the age at which CRL builds a new one.
const (
	crlValidity = 24 * time.Hour
	crlRefresh  = 12 * time.Hour
)

// Revocation is one revoked certificate.
type Revocation struct {
	Serial    *big.Int
	RevokedAt time.Time
	Reason    int    // one of the Reason constants
	Subject   string // the certificate's common name, for people
	NotAfter  time.Time
}

// revocationFile is the JSON form of RevokedFile.
type revocationFile struct {
	CRLNumber int64             `json:"crl_number"`
	Revoked   []revocationEntry `json:"revoked"`
}

type revocationEntry struct {
	Serial    string    `json:"serial"` // hexadecimal
	RevokedAt time.Time `json:"revoked_at"`
	Reason    int       `json:"reason"`
	Subject   string    `json:"subject,omitempty"`
	NotAfter  time.Time `json:"not_after"`
}

func serialKey(s *big.Int) string { return s.Text(16) }

// loadRevocations reads RevokedFile; a missing file is an empty list.
func (ca *CA) loadRevocations() error {
	m := map[string]Revocation{}
	path := filepath.Join(ca.dir, RevokedFile)
	data, err := ca.readFile(RevokedFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ca.revoked.Store(&m)
		return nil
	case err != nil:
		return fmt.Errorf("pki: read the revocation list: %w", err)
	}
	var f revocationFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("pki: %s does not parse (%v): fix it, or remove it to un-revoke every certificate", path, err)
	}
	for i, e := range f.Revoked {
		s, ok := new(big.Int).SetString(e.Serial, 16)
		if !ok || s.Sign() <= 0 {
			return fmt.Errorf("pki: %s: entry %d has serial %q, not a positive hexadecimal number: fix it, or remove the entry", path, i+1, e.Serial)
		}
		m[serialKey(s)] = Revocation{Serial: s, RevokedAt: e.RevokedAt, Reason: e.Reason, Subject: e.Subject, NotAfter: e.NotAfter}
	}
	ca.crlNum = f.CRLNumber
	ca.revoked.Store(&m)
	return nil
}

// saveRevocations writes RevokedFile (0644) atomically. Called with revMu.
func (ca *CA) saveRevocations(m map[string]Revocation, crlNum int64) error {
	f := revocationFile{CRLNumber: crlNum, Revoked: []revocationEntry{}}
	for _, r := range sortedRevocations(m) {
		f.Revoked = append(f.Revoked, revocationEntry{Serial: serialKey(r.Serial), RevokedAt: r.RevokedAt.UTC(), Reason: r.Reason, Subject: r.Subject, NotAfter: r.NotAfter.UTC()})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("pki: encode the revocation list: %w", err)
	}
	return ca.storeFile(RevokedFile, append(data, '\n'), 0o644)
}

func sortedRevocations(m map[string]Revocation) []Revocation {
	out := make([]Revocation, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Revocation) int {
		if c := a.RevokedAt.Compare(b.RevokedAt); c != 0 {
			return c
		}
		return a.Serial.Cmp(b.Serial)
	})
	return out
}

// Revoke marks cert as revoked for reason (one of the Reason constants)
// and stores that in RevokedFile, so it survives restarts. Only leaf
// certificates this CA's issuing CA signed can be revoked. Revoking a
// certificate again changes nothing and returns nil. The next CRL lists
// it, and VerifyClient refuses it from the next handshake on.
func (ca *CA) Revoke(cert *x509.Certificate, reason int) error {
	if cert == nil || cert.SerialNumber == nil {
		return errors.New("pki: no certificate to revoke: give the parsed certificate")
	}
	if _, ok := reasonNames[reason]; !ok || reason == ReasonRemoveFromCRL {
		return fmt.Errorf("pki: %d is not a revocation reason: use 0 (unspecified), 1 (keyCompromise), 4 (superseded), 5 (cessationOfOperation) or another RFC 5280 code", reason)
	}
	if cert.IsCA {
		return fmt.Errorf("pki: %q is a CA certificate: only the leaf certificates the CA issued can be revoked", cert.Subject.CommonName)
	}
	if err := cert.CheckSignatureFrom(ca.Intermediate); err != nil {
		return fmt.Errorf("pki: certificate %q (serial %X) was not issued by %q: only certificates this CA issued can be revoked", cert.Subject.CommonName, cert.SerialNumber, ca.Intermediate.Subject.CommonName)
	}
	ca.revMu.Lock()
	defer ca.revMu.Unlock()
	old := *ca.revoked.Load()
	k := serialKey(cert.SerialNumber)
	if _, ok := old[k]; ok {
		return nil
	}
	m := make(map[string]Revocation, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[k] = Revocation{
		Serial:    new(big.Int).Set(cert.SerialNumber),
		RevokedAt: ca.now().UTC().Truncate(time.Second), // as a CRL stores it
		Reason:    reason,
		Subject:   cert.Subject.CommonName,
		NotAfter:  cert.NotAfter,
	}
	if err := ca.saveRevocations(m, ca.crlNum); err != nil {
		return err
	}
	ca.revoked.Store(&m)
	ca.crl = nil
	return nil
}

// IsRevoked reports whether the certificate with serial was revoked. It
// takes no lock and is safe to call from any goroutine.
func (ca *CA) IsRevoked(serial *big.Int) bool {
	_, ok := ca.revocation(serial)
	return ok
}

func (ca *CA) revocation(serial *big.Int) (Revocation, bool) {
	if serial == nil {
		return Revocation{}, false
	}
	m := ca.revoked.Load()
	if m == nil {
		return Revocation{}, false
	}
	r, ok := (*m)[serialKey(serial)]
	return r, ok
}

// Revocations returns the revoked certificates, oldest revocation first.
func (ca *CA) Revocations() []Revocation {
	m := ca.revoked.Load()
	if m == nil {
		return nil
	}
	return sortedRevocations(*m)
}

// CRL returns the certificate revocation list (DER) signed by the issuing
// CA, listing every revoked certificate, valid for a day. It is cached, and
// rebuilt after a revocation or when half a day old; each build has a CRL
// number one above the last, kept in RevokedFile so it keeps increasing
// across restarts. Callers may keep but not modify the result.
func (ca *CA) CRL() ([]byte, error) {
	ca.revMu.Lock()
	defer ca.revMu.Unlock()
	now := ca.now()
	if ca.crl != nil && now.Sub(ca.crlThis) < crlRefresh && !now.Before(ca.crlThis) {
		return ca.crl, nil
	}
	if ca.Intermediate.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, fmt.Errorf("pki: CA %q has no cRLSign key usage, so it cannot sign a CRL: reissue it with keyUsage keyCertSign, cRLSign (VerifyClient still refuses revoked certificates)", ca.Intermediate.Subject.CommonName)
	}
	m := ca.revoked.Load()
	var entries []x509.RevocationListEntry
	for _, r := range sortedRevocations(*m) {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: r.Serial, RevocationTime: r.RevokedAt, ReasonCode: r.Reason})
	}
	num := ca.crlNum + 1
	this := now.UTC().Truncate(time.Second)
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(num),
		ThisUpdate:                this,
		NextUpdate:                this.Add(crlValidity),
		RevokedCertificateEntries: entries,
	}, ca.Intermediate, ca.intermediateKey)
	if err != nil {
		return nil, fmt.Errorf("pki: sign the CRL with %q: %w: use a CA certificate with a subject key identifier and the cRLSign key usage", ca.Intermediate.Subject.CommonName, err)
	}
	if err := ca.saveRevocations(*m, num); err != nil {
		return nil, err
	}
	ca.crlNum, ca.crl, ca.crlThis = num, der, this
	return der, nil
}

// VerifyClient refuses a revoked client certificate. It has the signature
// of tls.Config.VerifyPeerCertificate, for the mutual-TLS listener:
//
//	&tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool(),
//		VerifyPeerCertificate: ca.VerifyClient}
//
// It runs in every handshake, so a certificate revoked while the broker
// runs is refused from the next handshake on (connections already up stay
// up). It checks revocation only: crypto/tls verifies the chain before
// calling it, when ClientAuth is RequireAndVerifyClientCert or
// VerifyClientCertIfGiven. With no client certificate it returns nil.
func (ca *CA) VerifyClient(rawCerts [][]byte, chains [][]*x509.Certificate) error {
	var leaf *x509.Certificate
	switch {
	case len(chains) > 0 && len(chains[0]) > 0:
		leaf = chains[0][0]
	case len(rawCerts) > 0:
		c, err := x509.ParseCertificate(rawCerts[0])
		if err != nil {
			return fmt.Errorf("pki: the client certificate does not parse (%v): the client must send a valid certificate", err)
		}
		leaf = c
	default:
		return nil
	}
	if r, ok := ca.revocation(leaf.SerialNumber); ok {
		// The error carries alert 44 certificate_revoked (RFC 8446 §6.2)
		// for the broker to send, without adding to the text.
		return fmt.Errorf("pki: certificate serial %X was revoked at %s (%s): the client needs a new certificate%.0w", leaf.SerialNumber, r.RevokedAt.UTC().Format(time.RFC3339), ReasonName(r.Reason), tls.AlertError(alertCertificateRevoked))
	}
	return nil
}
