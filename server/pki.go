package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/workshop"
	"golang.org/x/time/rate"
)

// pkiAPI lets learners and devices get client certificates from the local CA,
// revoke their own, fetch the revocation list, and (for the rotation lesson)
// have the broker's certificate replaced while clients stay connected.
//
// Rotation is for the instructor only (see instructor), revocation for the
// certificate's holder or the instructor's token; no action is taken for a
// page of another site (crossSite). When the data folder cannot be written,
// the actions that write to it answer 503 and say so.
type pkiAPI struct {
	ca       *pki.CA
	rot      *pki.Rotator
	names    []string
	boss     instructor
	writable func() error // nil when the data folder can be written; else why not
	log      *slog.Logger
	csr      *clientLimiter // certificate requests, per client
	rotate   *rate.Limiter  // broker certificate rotations, for everyone
	now      func() time.Time
	// class, in a class, issues client certificates to its attendees
	// only, each with their id as common name, and counts requests per
	// attendee (see withClass); nil outside one.
	class *classSession
}

// withClass issues certificates to a class's attendees (see pkiAPI.class).
func (p *pkiAPI) withClass(s *classSession) *pkiAPI {
	p.class = s
	return p
}

// withBurst lets a client make n certificate requests at once (then one
// every six seconds); 0 keeps the default.
func (p *pkiAPI) withBurst(n int) *pkiAPI {
	if n > 0 {
		p.csr = newClientLimiter(6*time.Second, n, 10000)
	}
	return p
}

// requester is who asks for a certificate in a class: an attendee (by
// session cookie, or user name and password as HTTP Basic authentication
// for command-line tools), or the instructor (owner empty). An error says
// what to do.
func (p *pkiAPI) requester(r *http.Request) (owner string, err error) {
	if a, _, ok := p.class.attendee(r); ok {
		return a.ID, nil
	}
	if id, ok := p.class.basicAttendee(r); ok {
		return id, nil
	}
	if p.boss.check(r) == nil {
		return "", nil
	}
	return "", errors.New("pki: in a class, certificates are for its attendees: request one from your attendee page, or send your user name and password (curl -u ID:PASSWORD)")
}

// csrCN reads the common name a PEM certificate request asks for; empty
// when it does not parse (SignCSR then says why).
func csrCN(body []byte) string {
	block, _ := pem.Decode(body)
	if block == nil {
		return ""
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return ""
	}
	return csr.Subject.CommonName
}

// newPKIAPI serves ca's endpoints; rot holds the broker certificate, which
// covers names; boss says who the instructor is.
func newPKIAPI(ca *pki.CA, rot *pki.Rotator, names []string, boss instructor, log *slog.Logger) *pkiAPI {
	return &pkiAPI{ca: ca, rot: rot, names: names, boss: boss, log: log, writable: func() error { return nil },
		// Ten at once, then one every six seconds: a workshop table
		// enrolling its devices, not a loop filling the CA's index.
		csr:    newClientLimiter(6*time.Second, 10, 10000),
		rotate: rate.NewLimiter(rate.Every(5*time.Second), 1),
		now:    time.Now}
}

// withWritable sets what says whether the data folder can be written (nil)
// or why not.
func (p *pkiAPI) withWritable(f func() error) *pkiAPI {
	p.writable = f
	return p
}

func (p *pkiAPI) register(mux *http.ServeMux) {
	mux.Handle("POST /pki/csr", crossSite.Handler(http.HandlerFunc(p.signCSR)))
	mux.Handle("POST /pki/revoke", crossSite.Handler(http.HandlerFunc(p.revoke)))
	mux.HandleFunc("GET /pki/crl", p.crl)
	mux.Handle("POST /pki/rotate", crossSite.Handler(http.HandlerFunc(p.rotateCert)))
}

// storageError answers an error of the CA: 503 with the reason when the data
// folder cannot be written (a read-only mount, wrong owner), else code.
func (p *pkiAPI) storageError(w http.ResponseWriter, err error, code int) {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		code = http.StatusServiceUnavailable
		err = fmt.Errorf("pki: the data folder %s cannot be written, so the CA cannot record this (%w); the person running the playground must make it writable", p.ca.Dir(), err)
	}
	http.Error(w, err.Error(), code)
}

// needWritable answers 503 when the data folder is known to be read-only.
func (p *pkiAPI) needWritable(w http.ResponseWriter) bool {
	if err := p.writable(); err != nil {
		p.storageError(w, err, http.StatusServiceUnavailable)
		return false
	}
	return true
}

// clientIP is the address a request came from, for the log.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func readPEMBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, pki.MaxCSRSize+1))
	if err != nil {
		http.Error(w, fmt.Sprintf("pki: the request body is larger than %d bytes", pki.MaxCSRSize), http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return body, true
}

// signCSR answers POST /pki/csr: body a PEM certificate request; response
// the PEM chain, leaf first. The common name becomes the MQTT user name on
// the mtls listener.
func (p *pkiAPI) signCSR(w http.ResponseWriter, r *http.Request) {
	key, who := clientKey(r.RemoteAddr).String(), "this address"
	owner := ""
	if p.class != nil {
		var err error
		if owner, err = p.requester(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		if owner != "" {
			// A room behind one address: each attendee has a bucket.
			key, who = "attendee "+owner, "attendee "+owner
		}
	}
	if ok, wait := p.csr.allowKey(key); !ok {
		if p.csr.warn.allow(key) {
			p.log.Warn("refusing certificate requests: too many", "from", who, "hint", "each client may make --cert-requests at once, then one every six seconds")
		}
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Error(w, fmt.Sprintf("pki: too many certificate requests from %s; try again in %s seconds", who, retryAfter(wait)), http.StatusTooManyRequests)
		return
	}
	body, ok := readPEMBody(w, r)
	if !ok {
		return
	}
	if cn := csrCN(body); owner != "" && cn != "" && cn != owner {
		http.Error(w, fmt.Sprintf("pki: in this class your certificate's common name is your id %q, not %q", owner, cn), http.StatusForbidden)
		return
	}
	chain, leaf, err := p.ca.SignCSR(body, pki.CSROptions{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.log.Info("issued a client certificate", "cn", leaf.Subject.CommonName, "serial", leaf.SerialNumber.Text(16), "for", clientIP(r))
	if p.class != nil {
		c := workshop.Cert{Serial: leaf.SerialNumber.Text(16), Attendee: leaf.Subject.CommonName, CN: leaf.Subject.CommonName,
			Issued: leaf.NotBefore, NotAfter: leaf.NotAfter, PEM: string(pki.CertPEM(leaf))}
		if err := p.class.class.AddCert(c); err != nil {
			p.log.Error("could not record an attendee's certificate", "serial", c.Serial, "err", err)
		}
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(chain)
}

// RevokeProofPrefix starts the text a key holder signs to prove possession
// (see pki.RevokeProofPrefix).
const RevokeProofPrefix = pki.RevokeProofPrefix

// revoke answers POST /pki/revoke: body the PEM certificate to revoke. It is
// allowed when the request proves possession of the certificate's key — as
// the TLS client certificate of an HTTPS request (curl --cert c.pem --key
// c.key), or with X-Revoke-Proof (a signature over RevokeProofPrefix +
// serial + " " + X-Revoke-Time) — or carries the instructor token
// (Authorization: Bearer …).
func (p *pkiAPI) revoke(w http.ResponseWriter, r *http.Request) {
	body, ok := readPEMBody(w, r)
	if !ok {
		return
	}
	cert, err := pki.ParseRevocable(body)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, pki.ErrNotClientCertificate) {
			code = http.StatusForbidden
		}
		http.Error(w, err.Error(), code)
		return
	}
	how, err := p.authorizeRevoke(r, cert)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	reason := pki.ReasonUnspecified
	if s := r.URL.Query().Get("reason"); s != "" {
		if reason, err = strconv.Atoi(s); err != nil {
			http.Error(w, "pki: reason must be a CRL reason code (0, 1, 4, 5 …)", http.StatusBadRequest)
			return
		}
	}
	if !p.needWritable(w) {
		return
	}
	if err := p.ca.Revoke(cert, reason); err != nil {
		p.storageError(w, err, http.StatusBadRequest)
		return
	}
	p.log.Info("revoked a client certificate", "cn", cert.Subject.CommonName, "serial", cert.SerialNumber.Text(16), "proof", how)
	writeJSON(w, map[string]string{"revoked": cert.SerialNumber.Text(16), "cn": cert.Subject.CommonName, "proof": how})
}

func (p *pkiAPI) authorizeRevoke(r *http.Request, cert *x509.Certificate) (string, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Equal(cert) {
		return "TLS client certificate", nil
	}
	if auth := r.Header.Get("Authorization"); p.boss.token != "" && strings.HasPrefix(auth, "Bearer ") {
		if err := p.boss.check(r); err != nil {
			return "", fmt.Errorf("pki: %w", err)
		}
		return "instructor token", nil
	}
	if proof := r.Header.Get("X-Revoke-Proof"); proof != "" {
		if err := p.checkProof(cert, proof, r.Header.Get("X-Revoke-Time")); err != nil {
			return "", err
		}
		return "signed proof", nil
	}
	return "", errors.New("pki: prove you hold the certificate's key (present it as the TLS client certificate: curl --cert c.pem --key c.key https://…/pki/revoke, or sign a revocation proof), or send the instructor token")
}

// checkProof verifies a possession proof (see pki.CheckRevokeProof) made
// within five minutes of now.
func (p *pkiAPI) checkProof(cert *x509.Certificate, proof, when string) error {
	return pki.CheckRevokeProof(cert, proof, when, p.now())
}

func (p *pkiAPI) crl(w http.ResponseWriter, r *http.Request) {
	der, err := p.ca.CRL()
	if err != nil {
		p.storageError(w, err, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(der)
}

// rotateCert answers POST /pki/rotate: the broker gets a new certificate
// (new serial, same names); connections already up keep theirs.
func (p *pkiAPI) rotateCert(w http.ResponseWriter, r *http.Request) {
	if err := p.boss.check(r); err != nil {
		p.log.Warn("refused a broker certificate rotation", "from", clientIP(r), "err", err)
		http.Error(w, "pki: rotating the broker certificate: "+err.Error(), http.StatusForbidden)
		return
	}
	if !p.needWritable(w) {
		return
	}
	if !p.rotate.Allow() {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "pki: the broker certificate was just rotated; try again in a few seconds", http.StatusTooManyRequests)
		return
	}
	leaf, err := p.ca.Rotate(p.rot, p.names)
	if err != nil {
		p.storageError(w, err, http.StatusInternalServerError)
		return
	}
	p.log.Info("rotated the broker certificate", "serial", leaf.SerialNumber.Text(16))
	writeJSON(w, broker.Rotated{Serial: leaf.SerialNumber.Text(16), NotAfter: leaf.NotAfter.UTC()})
}
