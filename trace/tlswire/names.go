package tlswire

import (
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Name tables.

// VersionName returns the name of a protocol version, such as "TLS 1.3",
// "TLS 1.2" … "SSL 3.0", "GREASE", or "0x%04X" when it is not one.
func VersionName(v uint16) string {
	if s, ok := versionName(v); ok {
		return s
	}
	return fmt.Sprintf("0x%04X", v)
}

func versionName(v uint16) (string, bool) {
	switch v {
	case tls.VersionTLS13:
		return "TLS 1.3", true
	case tls.VersionTLS12:
		return "TLS 1.2", true
	case tls.VersionTLS11:
		return "TLS 1.1", true
	case tls.VersionTLS10:
		return "TLS 1.0", true
	case 0x0300:
		return "SSL 3.0", true
	case 0xfeff:
		return "DTLS 1.0", true
	case 0xfefd:
		return "DTLS 1.2", true
	case 0xfefc:
		return "DTLS 1.3", true
	}
	if isGREASE(v) {
		return "GREASE", true
	}
	if v>>8 == 0x7f {
		return fmt.Sprintf("TLS 1.3 draft %d", v&0xff), true
	}
	return "", false
}

// isGREASE reports whether v is one of the reserved values 0x0A0A, 0x1A1A …
// 0xFAFA that clients sprinkle in lists to keep servers tolerant of unknown
// values (RFC 8701 §2).
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// extraSuites names cipher suites crypto/tls does not implement.
var extraSuites = map[uint16]string{
	0x0000: "TLS_NULL_WITH_NULL_NULL",
	0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
	0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
	0x003d: "TLS_RSA_WITH_AES_256_CBC_SHA256",
	0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
	0x006b: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
	0x009e: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	0x009f: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x1304: "TLS_AES_128_CCM_SHA256",
	0x1305: "TLS_AES_128_CCM_8_SHA256",
	0x5600: "TLS_FALLBACK_SCSV",
	0xc024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	0xc028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	0xc0ac: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
	0xc0ad: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
	0xc0ae: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
	0xc0af: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
	0xccaa: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// CipherSuiteName returns the standard name of a cipher suite, such as
// "TLS_AES_128_GCM_SHA256", "GREASE" for the reserved GREASE values, or
// "0x%04X" when it is not known.
func CipherSuiteName(id uint16) string {
	s, _ := cipherSuiteName(id)
	return s
}

func cipherSuiteName(id uint16) (string, bool) {
	if s, ok := extraSuites[id]; ok {
		return s, true
	}
	if isGREASE(id) {
		return "GREASE", true
	}
	s := tls.CipherSuiteName(id)
	return s, !strings.HasPrefix(s, "0x")
}

var groupNames = map[uint16]string{
	0x0017: "secp256r1",
	0x0018: "secp384r1",
	0x0019: "secp521r1",
	0x001d: "x25519",
	0x001e: "x448",
	0x001f: "brainpoolP256r1tls13",
	0x0020: "brainpoolP384r1tls13",
	0x0021: "brainpoolP512r1tls13",
	0x0100: "ffdhe2048",
	0x0101: "ffdhe3072",
	0x0102: "ffdhe4096",
	0x0103: "ffdhe6144",
	0x0104: "ffdhe8192",
	0x0200: "MLKEM512",
	0x0201: "MLKEM768",
	0x0202: "MLKEM1024",
	0x11eb: "SecP256r1MLKEM768",
	0x11ec: "X25519MLKEM768",
	0x11ed: "SecP384r1MLKEM1024",
	0x6399: "X25519Kyber768Draft00",
}

// GroupName returns the name of a key-exchange group (a supported_groups
// NamedGroup), such as "x25519", "secp256r1" or "X25519MLKEM768", "GREASE"
// for the reserved GREASE values, or "0x%04X" when it is not known.
func GroupName(id uint16) string {
	s, _ := groupName(id)
	return s
}

func groupName(id uint16) (string, bool) {
	if s, ok := groupNames[id]; ok {
		return s, true
	}
	if isGREASE(id) {
		return "GREASE", true
	}
	return fmt.Sprintf("0x%04X", id), false
}

var schemeNames = map[uint16]string{
	0x0201: "rsa_pkcs1_sha1",
	0x0203: "ecdsa_sha1",
	0x0401: "rsa_pkcs1_sha256",
	0x0403: "ecdsa_secp256r1_sha256",
	0x0501: "rsa_pkcs1_sha384",
	0x0503: "ecdsa_secp384r1_sha384",
	0x0601: "rsa_pkcs1_sha512",
	0x0603: "ecdsa_secp521r1_sha512",
	0x0804: "rsa_pss_rsae_sha256",
	0x0805: "rsa_pss_rsae_sha384",
	0x0806: "rsa_pss_rsae_sha512",
	0x0807: "ed25519",
	0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256",
	0x080a: "rsa_pss_pss_sha384",
	0x080b: "rsa_pss_pss_sha512",
	0x081a: "ecdsa_brainpoolP256r1tls13_sha256",
	0x081b: "ecdsa_brainpoolP384r1tls13_sha384",
	0x081c: "ecdsa_brainpoolP512r1tls13_sha512",
	0x0904: "mldsa44",
	0x0905: "mldsa65",
	0x0906: "mldsa87",
}

// SignatureSchemeName returns the RFC 8446 name of a signature scheme, such
// as "ecdsa_secp256r1_sha256" or "rsa_pss_rsae_sha256"; the TLS 1.2
// hash/signature pairs without one are named like "dsa_sha256". It returns
// "GREASE" for the reserved GREASE values and "0x%04X" when it is not known.
func SignatureSchemeName(id uint16) string {
	s, _ := schemeName(id)
	return s
}

func schemeName(id uint16) (string, bool) {
	if s, ok := schemeNames[id]; ok {
		return s, true
	}
	if isGREASE(id) {
		return "GREASE", true
	}
	// RFC 5246 §7.4.1.4.1: a hash byte (1 md5 … 6 sha512) and a signature
	// byte (1 rsa, 2 dsa, 3 ecdsa).
	hashes := []string{1: "md5", 2: "sha1", 3: "sha224", 4: "sha256", 5: "sha384", 6: "sha512"}
	sigs := []string{1: "rsa_pkcs1", 2: "dsa", 3: "ecdsa"}
	h, s := int(id>>8), int(id&0xff)
	if h >= 1 && h <= 6 && s >= 1 && s <= 3 {
		return sigs[s] + "_" + hashes[h], true
	}
	return fmt.Sprintf("0x%04X", id), false
}

// Formatting helpers.

func nbytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}

// count says "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if len(thing) > 1 && thing[len(thing)-1] == 'y' && !strings.ContainsRune("aeiou", rune(thing[len(thing)-2])) {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(thing, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// hexValue shows bytes in hex, the first 16 of them when there are many.
func hexValue(b []byte) string {
	if len(b) <= 32 {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:16]) + "… (" + nbytes(len(b)) + ")"
}

func colonHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02X", c)
	}
	return sb.String()
}

// textValue shows bytes that should be text: as they are when printable,
// quoted otherwise.
func textValue(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

func seconds(s uint32) string {
	v := strconv.FormatUint(uint64(s), 10) + " s"
	switch {
	case s >= 86400 && s%86400 == 0:
		v += " (" + count(int(s/86400), "day") + ")"
	case s >= 3600 && s%3600 == 0:
		v += " (" + count(int(s/3600), "hour") + ")"
	}
	return v
}

func versionValue(v uint16) string {
	if s, ok := versionName(v); ok {
		return fmt.Sprintf("%s (0x%04x)", s, v)
	}
	return fmt.Sprintf("unknown (0x%04x)", v)
}

func suiteValue(id uint16) string {
	if s, ok := cipherSuiteName(id); ok {
		return fmt.Sprintf("%s (0x%04x)", s, id)
	}
	return fmt.Sprintf("unknown (0x%04x)", id)
}

func groupValue(id uint16) string {
	if s, ok := groupName(id); ok {
		return fmt.Sprintf("%s (0x%04x)", s, id)
	}
	return fmt.Sprintf("unknown (0x%04x)", id)
}

func schemeValue(id uint16) string {
	if s, ok := schemeName(id); ok {
		return fmt.Sprintf("%s (0x%04x)", s, id)
	}
	return fmt.Sprintf("unknown (0x%04x)", id)
}

func compressionName(c uint8) string {
	switch c {
	case 0:
		return "null"
	case 1:
		return "DEFLATE"
	}
	return "unknown"
}

func compressionValue(c uint8) string {
	return fmt.Sprintf("%s (%d)", compressionName(c), c)
}

func statusTypeValue(t uint8) string {
	switch t {
	case 1:
		return "ocsp (1)"
	case 2:
		return "ocsp_multi (2)"
	}
	return fmt.Sprintf("unknown (%d)", t)
}

// certTypeName names a TLS 1.2 ClientCertificateType (RFC 5246 §7.4.4,
// RFC 8422 §5.5).
func certTypeName(t uint8) string {
	switch t {
	case 1:
		return "rsa_sign"
	case 2:
		return "dss_sign"
	case 3:
		return "rsa_fixed_dh"
	case 4:
		return "dss_fixed_dh"
	case 64:
		return "ecdsa_sign"
	case 65:
		return "rsa_fixed_ecdh"
	case 66:
		return "ecdsa_fixed_ecdh"
	}
	return "unknown"
}

// suiteAbout explains a cipher suite from its name.
func suiteAbout(id uint16) string {
	name, ok := cipherSuiteName(id)
	switch {
	case !ok:
		return "A cipher suite this decoder does not know; a server skips suites it does not support"
	case name == "GREASE":
		return "GREASE: a reserved value with no meaning, sent so servers keep ignoring values they do not know (RFC 8701)"
	case id == 0x00ff:
		return "Not a real suite: tells the server the client supports secure renegotiation (RFC 5746 §3.3)"
	case id == 0x5600:
		return "Not a real suite: says this is a fallback retry with a lower version, so a server supporting more can detect a downgrade (RFC 7507)"
	case id>>8 == 0x13:
		aead, hash, _ := strings.Cut(strings.TrimPrefix(name, "TLS_"), "_SHA")
		return fmt.Sprintf("A TLS 1.3 suite: %s encrypts the records and SHA-%s derives the keys; key exchange and signatures are negotiated separately", strings.ReplaceAll(aead, "_", "-"), hash)
	}
	kx, cipher, found := strings.Cut(strings.TrimPrefix(name, "TLS_"), "_WITH_")
	if !found {
		return "A cipher suite of TLS 1.2 or older"
	}
	var how string
	switch kx {
	case "ECDHE_ECDSA":
		how = "ephemeral ECDHE key exchange signed with an ECDSA certificate"
	case "ECDHE_RSA":
		how = "ephemeral ECDHE key exchange signed with an RSA certificate"
	case "DHE_RSA":
		how = "ephemeral finite-field DHE key exchange signed with an RSA certificate"
	case "RSA":
		how = "RSA key exchange, with no forward secrecy"
	default:
		how = strings.ReplaceAll(kx, "_", "-") + " key exchange"
	}
	if i := strings.LastIndex(cipher, "_SHA"); i > 0 {
		enc, hash := strings.ReplaceAll(cipher[:i], "_", "-"), "SHA-"+cipher[i+4:]
		if hash == "SHA-" { // plain _SHA means SHA-1
			hash = "SHA-1"
		}
		if strings.Contains(enc, "CBC") {
			return fmt.Sprintf("A TLS 1.2 suite: %s; records encrypted with %s and authenticated with HMAC-%s", how, enc, hash)
		}
		return fmt.Sprintf("A TLS 1.2 suite: %s; records encrypted with %s, keys derived with %s", how, enc, hash)
	}
	return fmt.Sprintf("A TLS 1.2 suite: %s; records protected with %s", how, strings.ReplaceAll(cipher, "_", "-"))
}

// groupAbout explains a key-exchange group.
func groupAbout(id uint16) string {
	switch id {
	case 0x11ec:
		return "Hybrid post-quantum key agreement: ML-KEM-768 (FIPS 203) plus X25519, safe unless both are broken, so recorded traffic stays secret even from a future quantum computer"
	case 0x11eb:
		return "Hybrid post-quantum key agreement: P-256 ECDH plus ML-KEM-768 (FIPS 203), safe unless both are broken"
	case 0x11ed:
		return "Hybrid post-quantum key agreement: P-384 ECDH plus ML-KEM-1024 (FIPS 203), safe unless both are broken"
	case 0x0200, 0x0201, 0x0202:
		return "Post-quantum key agreement with ML-KEM (FIPS 203) alone, without a classical curve"
	case 0x6399:
		return "An early draft of the X25519 + Kyber hybrid, replaced by X25519MLKEM768"
	case 0x001d:
		return "Elliptic-curve Diffie-Hellman on Curve25519 (RFC 7748): fast, with 32-byte keys; not safe against quantum computers"
	case 0x001e:
		return "Elliptic-curve Diffie-Hellman on Curve448 (RFC 7748)"
	case 0x0017:
		return "Elliptic-curve Diffie-Hellman on the NIST P-256 curve"
	case 0x0018:
		return "Elliptic-curve Diffie-Hellman on the NIST P-384 curve"
	case 0x0019:
		return "Elliptic-curve Diffie-Hellman on the NIST P-521 curve"
	case 0x001f, 0x0020, 0x0021:
		return "Elliptic-curve Diffie-Hellman on a Brainpool curve (RFC 8734)"
	case 0x0100, 0x0101, 0x0102, 0x0103, 0x0104:
		return "Finite-field Diffie-Hellman over a fixed, published group (RFC 7919)"
	}
	if isGREASE(id) {
		return "GREASE: a reserved value with no meaning, sent so servers keep ignoring groups they do not know (RFC 8701)"
	}
	return "A group this decoder does not know; a peer skips groups it does not support"
}

// schemeAbout explains a signature scheme.
func schemeAbout(id uint16) string {
	name, ok := schemeName(id)
	switch {
	case !ok:
		return "A signature scheme this decoder does not know"
	case name == "GREASE":
		return "GREASE: a reserved value with no meaning (RFC 8701)"
	case name == "ed25519" || name == "ed448":
		return "EdDSA signature (RFC 8032)"
	case strings.HasPrefix(name, "mldsa"):
		return "Post-quantum ML-DSA signature (FIPS 204)"
	case strings.HasPrefix(name, "rsa_pss_rsae"):
		return "RSA-PSS signature made with an ordinary RSA key (rsaEncryption certificate)"
	case strings.HasPrefix(name, "rsa_pss_pss"):
		return "RSA-PSS signature made with an RSA key restricted to PSS (RSASSA-PSS certificate)"
	case strings.HasSuffix(name, "sha1") || strings.HasSuffix(name, "md5"):
		return "A legacy signature with a broken hash; accepted at most for old TLS 1.2 peers"
	case strings.HasPrefix(name, "rsa_pkcs1"):
		return "RSA PKCS #1 v1.5 signature; TLS 1.3 allows it only inside certificates"
	case strings.HasPrefix(name, "ecdsa_secp"):
		curve, hash, _ := strings.Cut(strings.TrimPrefix(name, "ecdsa_secp"), "r1_sha")
		return fmt.Sprintf("ECDSA signature on the P-%s curve with SHA-%s", curve, hash)
	case strings.HasPrefix(name, "ecdsa"):
		return "ECDSA signature"
	}
	return "A legacy TLS 1.2 hash and signature pair"
}
