package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// csrReq describes a certificate request to make.
type csrReq struct {
	subject pkix.Name
	uris    []string
	dns     []string
	ips     []string
	extra   []pkix.Extension
}

// makeCSRDER makes a DER certificate request signed by key.
func makeCSRDER(t testing.TB, key crypto.Signer, r csrReq) []byte {
	t.Helper()
	tmpl := &x509.CertificateRequest{Subject: r.subject, DNSNames: r.dns, ExtraExtensions: r.extra}
	for _, u := range r.uris {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, p)
	}
	for _, ip := range r.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func makeCSR(t testing.TB, key crypto.Signer, r csrReq) []byte {
	t.Helper()
	return pemOf("CERTIFICATE REQUEST", makeCSRDER(t, key, r))
}

func cn(name string) csrReq { return csrReq{subject: pkix.Name{CommonName: name}} }

// Keys made once: RSA generation is slow.
var (
	testP256, _    = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	testP384, _    = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	testP224, _    = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	testP521, _    = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	testRSA2048, _ = rsa.GenerateKey(rand.Reader, 2048)
	testRSA1024, _ = rsa.GenerateKey(rand.Reader, 1024)
	_, testEd, _   = ed25519.GenerateKey(rand.Reader)
)

// parseChain parses PEM certificates.
func parseChain(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			t.Fatalf("PEM block %q in a chain", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestSignCSR(t *testing.T) {
	ca := newCA(t)
	isCA, _ := asn1.Marshal(struct {
		IsCA bool `asn1:"optional"`
	}{true})
	tests := []struct {
		name     string
		key      crypto.Signer
		req      csrReq
		pemType  string
		validity time.Duration
		wantCN   string
		wantURI  string // "" for none
	}{
		{"ECDSA P-256", testP256, cn("device-1"), "", 0, "device-1", ""},
		{"RSA-2048", testRSA2048, cn("sensor_2.lab"), "", 0, "sensor_2.lab", ""},
		{"ECDSA P-384", testP384, cn("A"), "", 0, "A", ""},
		{"Ed25519", testEd, cn("ed-device"), "", 0, "ed-device", ""},
		{"64 characters", testP256, cn(strings.Repeat("x", 64)), "", 0, strings.Repeat("x", 64), ""},
		{"matching SAN URI copied", testP256, csrReq{subject: pkix.Name{CommonName: "device-1"}, uris: []string{"https://example.com/", "mqtt://user/device-1"}}, "", 0, "device-1", "mqtt://user/device-1"},
		{"SAN URI of another user ignored", testP256, csrReq{subject: pkix.Name{CommonName: "device-1"}, uris: []string{"mqtt://user/admin"}}, "", 0, "device-1", ""},
		{"SAN URI near miss ignored", testP256, csrReq{subject: pkix.Name{CommonName: "device-1"}, uris: []string{"mqtt://user/device-1?x=1", "mqtt://u@user/device-1", "mqtt://user:1/device-1", "mqtt://users/device-1"}}, "", 0, "device-1", ""},
		{"DNS and IP SANs not copied", testRSA2048, csrReq{subject: pkix.Name{CommonName: "device-2"}, dns: []string{"localhost", "broker.example"}, ips: []string{"127.0.0.1"}}, "", 0, "device-2", ""},
		{"other subject fields and asked-for CA ignored", testP256, csrReq{
			subject: pkix.Name{CommonName: "device-3", Organization: []string{"MQTTS Playground"}, OrganizationalUnit: []string{"admins"}},
			extra:   []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: isCA}},
		}, "", 0, "device-3", ""},
		{"NEW CERTIFICATE REQUEST", testP256, cn("old-tool"), "NEW CERTIFICATE REQUEST", 0, "old-tool", ""},
		{"validity 1h", testP256, cn("short"), "", time.Hour, "short", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := tt.pemType
			if typ == "" {
				typ = "CERTIFICATE REQUEST"
			}
			csr := pemOf(typ, makeCSRDER(t, tt.key, tt.req))
			start := time.Now()
			chainPEM, leaf, err := ca.SignCSR(csr, CSROptions{Validity: tt.validity})
			if err != nil {
				t.Fatalf("SignCSR: %v", err)
			}
			chain := parseChain(t, chainPEM)
			if len(chain) != 2 || !chain[0].Equal(leaf) || !chain[1].Equal(ca.Intermediate) {
				t.Fatalf("chain of %d certificates, want leaf then intermediate", len(chain))
			}
			if leaf.Subject.CommonName != tt.wantCN || len(leaf.Subject.Names) != 1 {
				t.Errorf("subject %v, want only CN %q", leaf.Subject, tt.wantCN)
			}
			if !publicKeysEqual(tt.key.Public(), leaf.PublicKey) {
				t.Error("certificate is not for the request's key")
			}
			if len(leaf.DNSNames) != 0 || len(leaf.IPAddresses) != 0 || len(leaf.EmailAddresses) != 0 {
				t.Errorf("names copied from the request: %q %v %q", leaf.DNSNames, leaf.IPAddresses, leaf.EmailAddresses)
			}
			var uris []string
			for _, u := range leaf.URIs {
				uris = append(uris, u.String())
			}
			if tt.wantURI == "" && len(uris) != 0 || tt.wantURI != "" && (len(uris) != 1 || uris[0] != tt.wantURI) {
				t.Errorf("URIs %q, want %q", uris, tt.wantURI)
			}
			if leaf.IsCA || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
				t.Errorf("IsCA %v, ExtKeyUsage %v; want a clientAuth-only leaf", leaf.IsCA, leaf.ExtKeyUsage)
			}
			validity := tt.validity
			if validity == 0 {
				validity = 30 * 24 * time.Hour
			}
			if d := leaf.NotAfter.Sub(start); d < validity-time.Minute || d > validity+time.Minute {
				t.Errorf("valid for %v from now, want %v", d, validity)
			}
			inter := x509.NewCertPool()
			inter.AddCert(chain[1])
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("chain does not verify for clientAuth: %v", err)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
				t.Error("chain verifies for serverAuth too")
			}
		})
	}
}

// x25519CSR is a certificate request for an X25519 key, which cannot sign:
// crypto/x509 cannot make one, so it is put together by hand.
func x25519CSR(t testing.TB) []byte {
	t.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	subj, err := asn1.Marshal(pkix.Name{CommonName: "x25519"}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	info, err := asn1.Marshal(struct {
		Version   int
		Subject   asn1.RawValue
		PublicKey asn1.RawValue
		Attrs     asn1.RawValue
	}{0, asn1.RawValue{FullBytes: subj}, asn1.RawValue{FullBytes: spki}, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true}})
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		Info asn1.RawValue
		Alg  pkix.AlgorithmIdentifier
		Sig  asn1.BitString
	}{asn1.RawValue{FullBytes: info}, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, asn1.BitString{Bytes: []byte{0x30, 0}, BitLength: 16}})
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("CERTIFICATE REQUEST", der)
}

func TestSignCSRRejects(t *testing.T) {
	ca := newCA(t)
	good := makeCSRDER(t, testP256, cn("device-1"))
	tampered := bytes.Clone(good)
	i := bytes.Index(tampered, []byte("device-1"))
	tampered[i] = 'D' // "Device-1": still a valid name, but not what was signed
	oversize := append(makeCSR(t, testP256, cn("device-1")), bytes.Repeat([]byte("\n"), MaxCSRSize)...)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(testP256)
	tests := []struct {
		name string
		csr  []byte
		opts CSROptions
		want string
	}{
		{"empty", nil, CSROptions{}, "pki: no PEM block found: send the request in PEM form"},
		{"not PEM", []byte("hello, CA"), CSROptions{}, "pki: no PEM block found"},
		{"bare DER", good, CSROptions{}, "pki: no PEM block found"},
		{"truncated PEM", makeCSR(t, testP256, cn("device-1"))[:200], CSROptions{}, "pki: no PEM block found"},
		{"certificate PEM", CertPEM(ca.Intermediate), CSROptions{}, `pki: the PEM block is a "CERTIFICATE", not a certificate request`},
		{"private key PEM", pemOf("PRIVATE KEY", keyDER), CSROptions{}, `pki: that is a private key (PEM "PRIVATE KEY"), not a certificate request: never send a private key`},
		{"two blocks", append(pemOf("CERTIFICATE REQUEST", good), pemOf("CERTIFICATE REQUEST", good)...), CSROptions{}, "pki: more than one PEM block found"},
		{"PEM headers", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: good}), CSROptions{}, "pki: the PEM certificate request has headers"},
		{"malformed DER", pemOf("CERTIFICATE REQUEST", []byte{0x30, 0x03, 0x02, 0x01, 0x00}), CSROptions{}, "pki: the PEM block holds no valid certificate request (bad DER: "},
		{"truncated DER", pemOf("CERTIFICATE REQUEST", good[:len(good)-5]), CSROptions{}, "pki: the PEM block holds no valid certificate request (bad DER: "},
		{"bad signature (tampered byte)", pemOf("CERTIFICATE REQUEST", tampered), CSROptions{}, "pki: the certificate request's signature does not verify"},
		{"RSA-1024", makeCSR(t, testRSA1024, cn("device-1")), CSROptions{}, "pki: RSA key of 1024 bits is too weak: use at least 2048 bits"},
		{"P-224", makeCSR(t, testP224, cn("device-1")), CSROptions{}, "pki: ECDSA curve P-224 is not accepted: use P-256"},
		{"P-521", makeCSR(t, testP521, cn("device-1")), CSROptions{}, "pki: ECDSA curve P-521 is not accepted"},
		{"X25519 key", x25519CSR(t), CSROptions{}, "pki: the request's key (unknown algorithm 1.3.101.110) is not a supported type: use ECDSA P-256"},
		{"empty CN", makeCSR(t, testP256, cn("")), CSROptions{}, "pki: the request has no subject common name: set the CN"},
		{"no subject, only a SAN URI", makeCSR(t, testP256, csrReq{uris: []string{"mqtt://user/device-1"}}), CSROptions{}, "pki: the request has no subject common name"},
		{"space in CN", makeCSR(t, testP256, cn("device 1")), CSROptions{}, `pki: common name "device 1" is not allowed: use 1 to 64 letters`},
		{"slash in CN", makeCSR(t, testP256, cn("a/b")), CSROptions{}, `pki: common name "a/b" is not allowed`},
		{"wildcard CN", makeCSR(t, testP256, cn("+")), CSROptions{}, `pki: common name "+" is not allowed`},
		{"CN starting with a dot", makeCSR(t, testP256, cn(".hidden")), CSROptions{}, `pki: common name ".hidden" is not allowed`},
		{"CN starting with a dash", makeCSR(t, testP256, cn("-x")), CSROptions{}, `pki: common name "-x" is not allowed`},
		{"CN of 65 characters", makeCSR(t, testP256, cn(strings.Repeat("x", 65))), CSROptions{}, "is not allowed"},
		{"non-ASCII CN", makeCSR(t, testP256, cn("gerät")), CSROptions{}, "is not allowed"},
		{"forbidden admin", makeCSR(t, testP256, cn("admin")), CSROptions{}, `pki: common name "admin" is reserved: choose another name`},
		{"forbidden Broker, any case", makeCSR(t, testP256, cn("Broker")), CSROptions{}, `pki: common name "Broker" is reserved`},
		{"forbidden by options", makeCSR(t, testP256, cn("teacher")), CSROptions{Forbidden: []string{"teacher"}}, `pki: common name "teacher" is reserved`},
		{"$SYS", makeCSR(t, testP256, cn("$SYS")), CSROptions{}, `pki: common name "$SYS" is reserved (names starting with "$" belong to the broker)`},
		{"$ even with no forbidden names", makeCSR(t, testP256, cn("$share")), CSROptions{Forbidden: []string{}}, `is reserved`},
		{"oversize", oversize, CSROptions{}, "pki: the certificate request is 16"},
		{"negative validity", makeCSR(t, testP256, cn("device-1")), CSROptions{Validity: -time.Hour}, "pki: CSROptions.Validity is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain, leaf, err := ca.SignCSR(tt.csr, tt.opts)
			if err == nil {
				t.Fatalf("SignCSR succeeded (CN %q), want an error containing %q", leaf.Subject.CommonName, tt.want)
			}
			if chain != nil || leaf != nil {
				t.Error("a chain or leaf came with the error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
	t.Run("oversize message", func(t *testing.T) {
		_, _, err := ca.SignCSR(oversize, CSROptions{})
		if err == nil || !strings.Contains(err.Error(), "over the 16 KiB limit") {
			t.Errorf("%v", err)
		}
	})
	t.Run("admin allowed when not forbidden", func(t *testing.T) {
		if _, _, err := ca.SignCSR(makeCSR(t, testP256, cn("admin")), CSROptions{Forbidden: []string{}}); err != nil {
			t.Errorf("%v", err)
		}
	})
	t.Run("exactly the size limit is read", func(t *testing.T) {
		csr := makeCSR(t, testP256, cn("device-1"))
		csr = append(csr, bytes.Repeat([]byte("\n"), MaxCSRSize-len(csr))...)
		if _, _, err := ca.SignCSR(csr, CSROptions{}); err != nil {
			t.Errorf("%v", err)
		}
	})
}

// FuzzSignCSR: no input makes SignCSR panic; what it signs is a
// clientAuth leaf for an allowed name, with no names from the request.
// Each input is tried as given and as the DER inside a PEM block.
func FuzzSignCSR(f *testing.F) {
	ca, _, err := LoadOrCreate(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	good := makeCSRDER(f, testP256, csrReq{subject: pkix.Name{CommonName: "device-1"}, uris: []string{"mqtt://user/device-1"}, dns: []string{"localhost"}})
	for _, seed := range [][]byte{
		pemOf("CERTIFICATE REQUEST", good),
		good,
		makeCSR(f, testRSA2048, cn("rsa-device")),
		makeCSR(f, testEd, cn("ed")),
		makeCSR(f, testRSA1024, cn("weak")),
		makeCSR(f, testP224, cn("p224")),
		makeCSR(f, testP256, cn("$SYS")),
		makeCSR(f, testP256, cn("")),
		x25519CSR(f),
		CertPEM(ca.Intermediate),
		[]byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
		nil,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, pemOf("CERTIFICATE REQUEST", data)} {
			chain, leaf, err := ca.SignCSR(in, CSROptions{})
			if err != nil {
				if chain != nil || leaf != nil {
					t.Fatal("a chain or leaf came with an error")
				}
				if !strings.HasPrefix(err.Error(), "pki: ") {
					t.Fatalf("error %q lacks the pki: prefix", err)
				}
				continue
			}
			if leaf == nil || len(chain) == 0 {
				t.Fatal("no leaf or chain without an error")
			}
			cn := leaf.Subject.CommonName
			if !clientNameRE.MatchString(cn) || strings.EqualFold(cn, "admin") || strings.EqualFold(cn, "broker") {
				t.Fatalf("signed a certificate for %q", cn)
			}
			if leaf.IsCA || len(leaf.DNSNames)+len(leaf.IPAddresses)+len(leaf.EmailAddresses) != 0 ||
				len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
				t.Fatalf("signed a certificate that is more than a client certificate: %+v", leaf)
			}
			for _, u := range leaf.URIs {
				if u.String() != "mqtt://user/"+cn {
					t.Fatalf("copied URI %q", u)
				}
			}
		}
	})
}

// clientNameRE is the rule isClientName checks by hand.
var clientNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func TestIsClientName(t *testing.T) {
	for _, cn := range []string{
		"", "a", "device-1", "A.b_c-d", "-lead", ".lead", "_lead", "9lives", "sp ace", "üser", "a\n", "a$", "$SYS",
		strings.Repeat("x", 64), strings.Repeat("x", 65), "x" + strings.Repeat("-", 63), "trailing\x00",
	} {
		if got, want := isClientName(cn), clientNameRE.MatchString(cn); got != want {
			t.Errorf("isClientName(%q) = %v, the rule says %v", cn, got, want)
		}
	}
}

func FuzzIsClientName(f *testing.F) {
	f.Add("device-1")
	f.Add("-x")
	f.Fuzz(func(t *testing.T, cn string) {
		if got, want := isClientName(cn), clientNameRE.MatchString(cn); got != want {
			t.Fatalf("isClientName(%q) = %v, the rule says %v", cn, got, want)
		}
	})
}
