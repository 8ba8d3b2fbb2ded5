// Package pki is the playground's local certificate authority: a root CA and
// an intermediate CA created on first start in the data folder and reused
// after, and the server and client certificates they issue. NewMemory
// makes one that lives only in memory, for the static build, whose broker
// runs inside the page with no file system.
//
// It writes private keys with mode 0600 and the folder with 0700. Besides
// issuing certificates it signs client certificate requests (SignCSR),
// revokes certificates and publishes a CRL (Revoke, CRL, VerifyClient),
// swaps the broker certificate without a restart (Rotator), can use an
// existing CA instead of its own (LoadExternal), and makes deliberately
// broken certificates for the lesson listeners (Scenario). The server
// decides who may ask for a certificate.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// File names inside the data folder.
const (
	RootCertFile         = "ca.pem"
	RootKeyFile          = "ca.key"
	IntermediateCertFile = "intermediate.pem"
	IntermediateKeyFile  = "intermediate.key"
	ServerCertFile       = "server.pem" // leaf then intermediate (leaf alone under an external root)
	ServerKeyFile        = "server.key"
)

// Validity periods of what the CA issues.
const (
	rootValidity         = 10 * 365 * 24 * time.Hour
	intermediateValidity = 5 * 365 * 24 * time.Hour
	leafValidity         = 397 * 24 * time.Hour // the longest browsers accept
	renewBefore          = 30 * 24 * time.Hour
)

// CA is a root and an intermediate certificate authority with their keys.
//
// Intermediate is the issuing CA: it signs every leaf, CRL and client
// certificate. For a CA made by LoadOrCreate it is the playground's own
// intermediate under Root. For one given to LoadExternal it is the given
// certificate; when that certificate is itself a root, Root and
// Intermediate are the same certificate and leaves are sent without any CA
// certificate after them.
//
// A CA is safe for concurrent use once loaded.
type CA struct {
	Root            *x509.Certificate
	Intermediate    *x509.Certificate
	rootKey         crypto.Signer // nil for an external intermediate
	intermediateKey crypto.Signer
	dir             string
	mem             *memFiles // the CA's files, for a CA made by NewMemory; nil: they are in dir
	now             func() time.Time

	// external is set by LoadExternal; extChain is then what follows a
	// leaf in a chain (the issuing CA and the CAs above it, not the root).
	external bool
	extChain []*x509.Certificate

	revMu    sync.Mutex // Revoke, CRL building and revoked.json
	revoked  atomic.Pointer[map[string]Revocation]
	crlNum   int64     // last CRL number used, persisted
	crl      []byte    // cached CRL, nil when it must be rebuilt
	crlThis  time.Time // its ThisUpdate
	scenMu   sync.Mutex
	scenario map[string]cachedScenario
	rotMu    sync.Mutex // Rotate: write server files and swap together
}

// LoadOrCreate loads the CA kept in dir, creating dir and a new root and
// intermediate CA when dir holds none. created reports whether it made a
// new CA. It also loads the list of revoked certificates kept in dir. It is
// LoadOrCreateWith with no options.
func LoadOrCreate(dir string) (ca *CA, created bool, err error) {
	ca, rep, err := LoadOrCreateWith(dir, Options{})
	return ca, rep.Created, err
}

// NewMemory makes a new root and intermediate CA that live only in memory,
// for a broker with no file system (the static build, where the broker
// runs inside the page): nothing is read or written, the broker
// certificate, lesson CAs and revocations are kept in memory and are gone
// when the process ends. Dir returns "" for it. Everything else works as
// for a CA made by LoadOrCreate.
func NewMemory() (*CA, error) {
	ca := &CA{mem: &memFiles{files: map[string][]byte{}}, now: time.Now}
	ca.revoked.Store(&map[string]Revocation{})
	if err := ca.create(); err != nil {
		return nil, err
	}
	return ca, nil
}

// memFiles holds the files of a CA made by NewMemory, by name.
type memFiles struct {
	mu    sync.Mutex
	files map[string][]byte
}

// Options change what LoadOrCreateWith may do to the data folder.
type Options struct {
	// NewIntermediate allows making a new intermediate CA under the
	// existing root when the intermediate's certificate or key is missing.
	// A file of the old one that is still there is kept, renamed, never
	// overwritten.
	NewIntermediate bool
}

// Report says what LoadOrCreateWith did besides loading, for the log.
type Report struct {
	// Created is set when it made a new root and intermediate CA.
	Created bool
	// NewIntermediate is set when it made a new intermediate CA under the
	// existing root (asked for, or the old one was close to expiry).
	NewIntermediate bool
	// Warnings are what the person running the CA should know: loose
	// permissions it found (and tightened), old key files it set aside.
	Warnings []string
}

// LoadOrCreateWith loads the CA kept in dir, creating dir and a new root
// and intermediate CA when dir holds none, and loads the list of revoked
// certificates kept there.
//
// It never overwrites key material: half a root or half an intermediate
// (a certificate without its key or the other way round) is an error that
// names the missing file, not a reason to make a new one, unless
// opts.NewIntermediate allows a new intermediate; with both files of the
// intermediate gone a new one is made (see Report). An intermediate close to
// expiry is renewed, the old files kept beside under new names. Permissions
// looser than the CA's own (a folder others may read, a key file others may
// read) are reported and tightened.
func LoadOrCreateWith(dir string, opts Options) (*CA, Report, error) {
	var rep Report
	ca, err := loadOrCreate(dir, opts, &rep)
	if err != nil {
		return nil, rep, err
	}
	if err := ca.loadRevocations(); err != nil {
		return nil, rep, err
	}
	rep.Warnings = append(rep.Warnings, tighten(dir)...)
	return ca, rep, nil
}

func loadOrCreate(dir string, opts Options, rep *Report) (ca *CA, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: create data folder: %w", err)
	}
	ca = &CA{dir: dir, now: time.Now}
	root, rootKey, err := ca.loadPair(RootCertFile, RootKeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Half a root (a lost key or certificate) is reported, not replaced:
		// replacing it would overwrite the other half and every trust in it.
		if err := bothMissing(dir, RootCertFile, RootKeyFile, "remove %[3]s to make a new CA"); err != nil {
			return nil, err
		}
		if err := ca.create(); err != nil {
			return nil, err
		}
		rep.Created = true
		return ca, nil
	case err != nil:
		return nil, err
	}
	ca.Root, ca.rootKey = root[0], rootKey
	inter, interKey, err := ca.loadPair(IntermediateCertFile, IntermediateKeyFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		// Half an intermediate is reported, as half a root is: every
		// certificate issued so far hangs on it. With both files gone (as
		// the person running it removes them to start over) or when asked
		// for, a new one is made.
		if !opts.NewIntermediate {
			if err := bothMissing(dir, IntermediateCertFile, IntermediateKeyFile,
				"start with --new-intermediate to make a new intermediate CA (%[3]s is then kept, renamed; certificates issued by the old one stop verifying)"); err != nil {
				return nil, err
			}
		}
		warn, err := setAside(dir, IntermediateCertFile, IntermediateKeyFile)
		rep.Warnings = append(rep.Warnings, warn...)
		if err != nil {
			return nil, err
		}
		if err := ca.newIntermediate(); err != nil {
			return nil, err
		}
		rep.NewIntermediate = true
		return ca, nil
	}
	if err := inter[0].CheckSignatureFrom(ca.Root); err != nil {
		return nil, fmt.Errorf("pki: %s is not signed by %s: %w", IntermediateCertFile, RootCertFile, err)
	}
	ca.Intermediate, ca.intermediateKey = inter[0], interKey
	if ca.now().Add(renewBefore).After(ca.Intermediate.NotAfter) {
		warn, err := setAside(dir, IntermediateCertFile, IntermediateKeyFile)
		rep.Warnings = append(rep.Warnings, warn...)
		if err != nil {
			return nil, err
		}
		if err := ca.newIntermediate(); err != nil {
			return nil, err
		}
		rep.NewIntermediate = true
	}
	return ca, nil
}

// setAside renames the files of dir that exist among names to name.old-TIME
// (TIME now, in UTC), so that what replaces them overwrites nothing.
func setAside(dir string, names ...string) (warnings []string, err error) {
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		old := p + ".old-" + stamp
		if _, err := os.Lstat(old); err == nil {
			return warnings, fmt.Errorf("pki: cannot set %s aside: %s exists", p, old)
		}
		if err := os.Rename(p, old); err != nil {
			return warnings, fmt.Errorf("pki: set %s aside: %w", p, err)
		}
		warnings = append(warnings, fmt.Sprintf("kept the old %s as %s", n, old))
	}
	return warnings, nil
}

// tighten makes the CA's folder (0700) and its key files (0600) private
// again where their permissions let others in, and says what it changed
// (or could not).
func tighten(dir string) []string {
	var warnings []string
	fix := func(p string, want fs.FileMode) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			return
		}
		if err := os.Chmod(p, want); err != nil {
			warnings = append(warnings, fmt.Sprintf("%s has mode %04o: others on this machine may read it, and it could not be tightened to %04o: %v", p, fi.Mode().Perm(), want, err))
			return
		}
		warnings = append(warnings, fmt.Sprintf("%s had mode %04o, which let others on this machine read it: set it to %04o", p, fi.Mode().Perm(), want))
	}
	fix(dir, 0o700)
	// Every key the CA keeps: its own, the broker's, the lesson CAs', and
	// old ones set aside.
	for _, pattern := range []string{"*.key", "*.key.old-*"} {
		keys, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, k := range keys {
			fix(k, 0o600)
		}
	}
	return warnings
}

// bothMissing returns an error when one of the two files exists; fix says
// how to start again without it (%[3]s is the file that exists).
func bothMissing(dir, a, b, fix string) error {
	_, errA := os.Stat(filepath.Join(dir, a))
	_, errB := os.Stat(filepath.Join(dir, b))
	switch {
	case errA == nil && errB != nil:
		return fmt.Errorf("pki: %[1]s exists but %[2]s does not: restore %[2]s, or "+fix, filepath.Join(dir, a), b, a)
	case errB == nil && errA != nil:
		return fmt.Errorf("pki: %[1]s exists but %[2]s does not: restore %[2]s, or "+fix, filepath.Join(dir, b), a, b)
	}
	return nil
}

// Dir is the folder the CA lives in; "" for a CA made by NewMemory.
func (ca *CA) Dir() string { return ca.dir }

// RootPEM returns the root certificate in PEM form: the file clients trust.
func (ca *CA) RootPEM() []byte { return certPEM(ca.Root) }

// Pool returns a pool holding the root certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root)
	return p
}

func (ca *CA) create() error {
	key, err := newKey()
	if err != nil {
		return err
	}
	now := ca.now()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "MQTTS Playground Root CA", Organization: []string{"MQTTS Playground (local, for learning)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(rootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	root, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return err
	}
	ca.Root, ca.rootKey = root, key
	if err := ca.writePair(RootCertFile, RootKeyFile, []*x509.Certificate{root}, key); err != nil {
		return err
	}
	return ca.newIntermediate()
}

func (ca *CA) newIntermediate() error {
	key, err := newKey()
	if err != nil {
		return err
	}
	now := ca.now()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "MQTTS Playground Intermediate CA", Organization: []string{"MQTTS Playground (local, for learning)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              minTime(now.Add(intermediateValidity), ca.Root.NotAfter),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	inter, err := sign(tmpl, ca.Root, key.Public(), ca.rootKey)
	if err != nil {
		return err
	}
	ca.Intermediate, ca.intermediateKey = inter, key
	return ca.writePair(IntermediateCertFile, IntermediateKeyFile, []*x509.Certificate{inter}, key)
}

// ServerCertificate returns the broker's certificate for names (DNS names
// and IP addresses), loading it from the data folder when the stored one
// covers every name, is signed by the current intermediate and is not close
// to expiry, and issuing and storing a new one otherwise.
func (ca *CA) ServerCertificate(names []string) (cert tls.Certificate, issued bool, err error) {
	chain, key, err := ca.loadPair(ServerCertFile, ServerKeyFile)
	if err == nil && ca.stillGood(chain[0], names) {
		return tlsCert(chain, key), false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, false, err
	}
	cert, err = ca.Issue(Leaf{CommonName: "MQTTS Playground broker", Names: names, Server: true})
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := ca.writePair(ServerCertFile, ServerKeyFile, certsOf(cert), cert.PrivateKey.(crypto.Signer)); err != nil {
		return tls.Certificate{}, false, err
	}
	return cert, true, nil
}

func (ca *CA) stillGood(leaf *x509.Certificate, names []string) bool {
	if leaf.CheckSignatureFrom(ca.Intermediate) != nil || ca.now().Add(renewBefore).After(leaf.NotAfter) {
		return false
	}
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

// Leaf describes a certificate to issue.
type Leaf struct {
	CommonName string
	// Names are the DNS names and IP addresses the certificate is for.
	Names []string
	// Server asks for a server certificate (serverAuth); otherwise the
	// certificate is for a client (clientAuth).
	Server bool
	// Key is the subject's public key; when nil a new key of KeyType is
	// made and returned in the certificate's PrivateKey.
	Key crypto.PublicKey
	// KeyType is the kind of key made when Key is nil: one of KeyTypes,
	// "" meaning KeyECDSAP256. It is ignored when Key is set.
	KeyType string
	// Weak allows weak keys: KeyType KeyRSA1024, or a Key that is an RSA
	// key under 2048 bits. It is only for the weak-key lesson listener.
	Weak bool
	// NotBefore and NotAfter override the validity window.
	NotBefore, NotAfter time.Time
}

// Issue signs a leaf certificate with the intermediate CA and returns it
// with the chain up to (not including) the root: the leaf then the
// intermediate, or the leaf alone when the issuing CA is a root (see
// LoadExternal).
func (ca *CA) Issue(l Leaf) (tls.Certificate, error) {
	var priv crypto.Signer
	pub := l.Key
	if pub == nil {
		k, err := generateKey(l.KeyType, l.Weak)
		if err != nil {
			return tls.Certificate{}, err
		}
		priv, pub = k, k.Public()
	} else if err := checkKey(pub, l.Weak); err != nil {
		return tls.Certificate{}, err
	}
	now := ca.now()
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: l.CommonName},
		NotBefore: now.Add(-time.Hour),
		NotAfter:  minTime(now.Add(leafValidity), ca.Intermediate.NotAfter),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}
	if !l.NotBefore.IsZero() {
		tmpl.NotBefore = l.NotBefore
	}
	if !l.NotAfter.IsZero() {
		tmpl.NotAfter = l.NotAfter
	}
	if l.Server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if _, ok := pub.(*rsa.PublicKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment // TLS 1.2 RSA key exchange
	}
	for _, n := range l.Names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	leaf, err := sign(tmpl, ca.Intermediate, pub, ca.intermediateKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert := tlsCert(append([]*x509.Certificate{leaf}, ca.chain()...), nil)
	if priv != nil {
		cert.PrivateKey = priv
	}
	return cert, nil
}

// CertPEM encodes certificates as PEM blocks.
func CertPEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		b.Write(certPEM(c))
	}
	return b.Bytes()
}

// KeyPEM encodes a private key as a PKCS #8 PEM block.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func certsOf(c tls.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, der := range c.Certificate {
		if x, err := x509.ParseCertificate(der); err == nil {
			out = append(out, x)
		}
	}
	return out
}

// chain returns the CA certificates sent after a leaf: the intermediate,
// or for an external CA the issuing CA and those above it but the root.
func (ca *CA) chain() []*x509.Certificate {
	if ca.external {
		return ca.extChain
	}
	return []*x509.Certificate{ca.Intermediate}
}

// tlsCert makes a tls.Certificate of a chain, leaf first. key may be nil.
func tlsCert(chain []*x509.Certificate, key crypto.Signer) tls.Certificate {
	c := tls.Certificate{Leaf: chain[0]}
	if key != nil {
		c.PrivateKey = key
	}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

func newKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key: %w", err)
	}
	return k, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("pki: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// loadPair reads a PEM certificate chain and its PEM private key.
func (ca *CA) loadPair(certFile, keyFile string) ([]*x509.Certificate, crypto.Signer, error) {
	dir := ca.dir
	certPEMBytes, err := ca.readFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEMBytes, err := ca.readFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	chain, err := parseCertsPEM(certPEMBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s: %w", certFile, err)
	}
	if len(chain) == 0 {
		return nil, nil, fmt.Errorf("pki: %s holds no certificate", filepath.Join(dir, certFile))
	}
	kb, _ := pem.Decode(keyPEMBytes)
	if kb == nil {
		return nil, nil, fmt.Errorf("pki: %s holds no PEM key", filepath.Join(dir, keyFile))
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s: not a PKCS #8 private key (\"-----BEGIN PRIVATE KEY-----\"): %w", keyFile, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("pki: %s: key of type %T cannot sign", keyFile, k)
	}
	if !publicKeysEqual(signer.Public(), chain[0].PublicKey) {
		return nil, nil, fmt.Errorf("pki: %s does not match the certificate in %s", keyFile, certFile)
	}
	return chain, signer, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ae, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ae.Equal(b)
}

// writePair stores a certificate chain (0644) and its key (0600).
func (ca *CA) writePair(certFile, keyFile string, chain []*x509.Certificate, key crypto.Signer) error {
	kp, err := KeyPEM(key)
	if err != nil {
		return err
	}
	if err := ca.storeFile(keyFile, kp, 0o600); err != nil {
		return err
	}
	return ca.storeFile(certFile, CertPEM(chain...), 0o644)
}

// readFile reads one of the CA's files (RootCertFile …): from the data
// folder, or from memory for a CA made by NewMemory.
func (ca *CA) readFile(name string) ([]byte, error) {
	if ca.mem == nil {
		return os.ReadFile(filepath.Join(ca.dir, name))
	}
	ca.mem.mu.Lock()
	defer ca.mem.mu.Unlock()
	data, ok := ca.mem.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return data, nil
}

// storeFile replaces one of the CA's files, in the data folder with mode
// perm, or in memory for a CA made by NewMemory.
func (ca *CA) storeFile(name string, data []byte, perm os.FileMode) error {
	if ca.mem == nil {
		return writeFile(filepath.Join(ca.dir, name), data, perm)
	}
	ca.mem.mu.Lock()
	defer ca.mem.mu.Unlock()
	ca.mem.files[name] = slices.Clone(data)
	return nil
}

// writeFile replaces path atomically, creating it with mode perm.
func writeFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// HostNames returns the names a local server certificate should cover:
// localhost, the loopback addresses, the host name and extra.
func HostNames(extra ...string) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil {
		extra = append([]string{h}, extra...)
	}
	for _, e := range extra {
		if e != "" && !slices.Contains(names, e) {
			names = append(names, e)
		}
	}
	return names
}

// parseCertsPEM parses every CERTIFICATE block of PEM data, in order,
// skipping blocks of other types.
func parseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return chain, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse (%w)", len(chain)+1, err)
		}
		chain = append(chain, c)
	}
}
