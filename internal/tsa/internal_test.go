package tsa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func TestParseGeneralizedTime(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"20260301123045Z", base, true},
		{"20260301123045.5Z", base.Add(500 * time.Millisecond), true},
		{"20260301123045.123456789Z", base.Add(123456789), true},
		{"20260301123045.001Z", base.Add(time.Millisecond), true},
		{"20260301123045.50Z", time.Time{}, false}, // trailing zero (not DER)
		{"20260301123045.Z", time.Time{}, false},   // empty fraction
		{"20260301123045.1234567891Z", time.Time{}, false},
		{"20260301123045", time.Time{}, false},      // no Z
		{"20260301123045+0100", time.Time{}, false}, // RFC 3161 wants UTC
		{"2026030112304Z", time.Time{}, false},      // too short
		{"20261301123045Z", time.Time{}, false},     // month 13
		{"2026030112304aZ", time.Time{}, false},     // not a digit
		{"+0260301123045Z", time.Time{}, false},     // sign
		{"20260301123045.1a3Z", time.Time{}, false}, // not a digit in the fraction
		{"20260301123045,5Z", time.Time{}, false},   // comma
		{"", time.Time{}, false},
	}
	for _, tc := range cases {
		got, err := parseGeneralizedTime([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("parseGeneralizedTime(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseAccuracy(t *testing.T) {
	build := func(f func(b *cryptobyte.Builder)) cryptobyte.String {
		var b cryptobyte.Builder
		f(&b)
		return cryptobyte.String(b.BytesOrPanic())
	}
	cases := []struct {
		name string
		in   cryptobyte.String
		want time.Duration
		ok   bool
	}{
		{"empty", build(func(b *cryptobyte.Builder) {}), 0, true},
		{"seconds", build(func(b *cryptobyte.Builder) { b.AddASN1Int64(2) }), 2 * time.Second, true},
		{"all", build(func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1Int64WithTag(500, tagCtx0Prim)
			b.AddASN1Int64WithTag(7, tagCtx1Prim)
		}), time.Second + 500*time.Millisecond + 7*time.Microsecond, true},
		{"millis 0", build(func(b *cryptobyte.Builder) { b.AddASN1Int64WithTag(0, tagCtx0Prim) }), 0, false},
		{"millis 1000", build(func(b *cryptobyte.Builder) { b.AddASN1Int64WithTag(1000, tagCtx0Prim) }), 0, false},
		{"negative seconds", build(func(b *cryptobyte.Builder) { b.AddASN1Int64(-1) }), 0, false},
		{"micros before millis", build(func(b *cryptobyte.Builder) {
			b.AddASN1Int64WithTag(7, tagCtx1Prim)
			b.AddASN1Int64WithTag(500, tagCtx0Prim)
		}), 0, false},
	}
	for _, tc := range cases {
		got, err := parseAccuracy(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: parseAccuracy = %v, %v; want %v ok=%v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

// statusReply builds a TimeStampResp without a token.
func statusReply(status int64, texts []string, failBits []int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(status)
			if texts != nil {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, s := range texts {
						b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
					}
				})
			}
			if failBits != nil {
				bits := make([]byte, 4)
				for _, i := range failBits {
					bits[i/8] |= 0x80 >> (i % 8)
				}
				b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddUint8(0); b.AddBytes(bits) })
			}
		})
	})
	return b.BytesOrPanic()
}

func TestParseResponse(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		sent error
		text []string
	}{
		{"rejection", statusReply(2, []string{"Requested policy is not supported."}, []int{15}), ErrRejected,
			[]string{"rejection: Requested policy is not supported. (unacceptedPolicy)"}},
		{"waiting", statusReply(3, nil, nil), ErrRejected, []string{"waiting"}},
		{"unknown status", statusReply(9, nil, []int{0, 25, 30}), ErrRejected, []string{"status 9", "badAlg, systemFailure, failure bit 30"}},
		{"granted without token", statusReply(0, nil, nil), ErrMalformed, []string{"granted but holds no time-stamp token"}},
		{"trailing data", append(statusReply(0, nil, nil), 0), ErrMalformed, nil},
		{"not UTF8String", []byte{0x30, 0x09, 0x30, 0x07, 0x02, 0x01, 0x02, 0x30, 0x02, 0x04, 0x00}, ErrMalformed, nil},
		{"empty", nil, ErrMalformed, nil},
	}
	for _, tc := range cases {
		_, err := parseResponse(tc.in)
		if !errors.Is(err, tc.sent) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.sent)
			continue
		}
		for _, s := range tc.text {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, s)
			}
		}
	}
}

// selfSigned makes a certificate for the EKU and key-usage checks.
func selfSigned(t *testing.T, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(1)
	tmpl.Subject = pkix.Name{CommonName: "unit TSA"}
	tmpl.NotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tmpl.NotAfter = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// ekuExtension encodes an extended key usage extension.
func ekuExtension(t *testing.T, critical bool, oids ...asn1.ObjectIdentifier) []pkix.Extension {
	v, err := asn1.Marshal(oids)
	if err != nil {
		t.Fatal(err)
	}
	return []pkix.Extension{{Id: oidExtKeyUsage, Critical: critical, Value: v}}
}

func TestCheckTimeStampingCert(t *testing.T) {
	serverAuth := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	cases := []struct {
		name string
		tmpl *x509.Certificate
		ok   bool
	}{
		{"critical timeStamping", &x509.Certificate{ExtraExtensions: ekuExtension(t, true, oidKPTimeStamp),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}, true},
		{"no key usage", &x509.Certificate{ExtraExtensions: ekuExtension(t, true, oidKPTimeStamp)}, true},
		{"non-critical", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}, false},
		{"two usages", &x509.Certificate{ExtraExtensions: ekuExtension(t, true, oidKPTimeStamp, serverAuth)}, false},
		{"server only", &x509.Certificate{ExtraExtensions: ekuExtension(t, true, serverAuth)}, false},
		{"no EKU", &x509.Certificate{}, false},
		{"key usage certSign", &x509.Certificate{ExtraExtensions: ekuExtension(t, true, oidKPTimeStamp),
			KeyUsage: x509.KeyUsageCertSign}, false},
	}
	for _, tc := range cases {
		err := checkTimeStampingCert(selfSigned(t, tc.tmpl))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrSignature)) {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestCheckTSAName(t *testing.T) {
	u, _ := url.Parse("https://tsa.example/")
	cert := selfSigned(t, &x509.Certificate{DNSNames: []string{"tsa.example"}, EmailAddresses: []string{"tsa@example"}, URIs: []*url.URL{u}})
	subject := cert.RawSubject
	other, _ := asn1.Marshal(pkix.Name{CommonName: "someone else"}.ToRDNSequence())
	// The same name with a PrintableString instead of a UTF8String.
	printable, _ := asn1.Marshal(pkix.RDNSequence{{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "unit TSA"}}})
	cases := []struct {
		name string
		gn   *generalName
		ok   bool
	}{
		{"absent", nil, true},
		{"subject", &generalName{tag: 4, value: subject}, true},
		{"subject, other string type", &generalName{tag: 4, value: printable}, true},
		{"other subject", &generalName{tag: 4, value: other}, false},
		{"dns", &generalName{tag: 2, value: []byte("TSA.example")}, true},
		{"other dns", &generalName{tag: 2, value: []byte("evil.example")}, false},
		{"email", &generalName{tag: 1, value: []byte("tsa@example")}, true},
		{"uri", &generalName{tag: 6, value: []byte("https://tsa.example/")}, true},
		{"registeredID", &generalName{tag: 8, value: []byte{1}}, false},
	}
	for _, tc := range cases {
		err := checkTSAName(tc.gn, cert)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrSignature)) {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestSignatureAlgorithm(t *testing.T) {
	cases := []struct {
		oid    asn1.ObjectIdentifier
		digest crypto.Hash
		want   string
		ok     bool
	}{
		{oidECDSASHA256, crypto.SHA256, "ecdsa", true},
		{oidECDSASHA384, crypto.SHA256, "", false}, // disagrees with the digest algorithm
		{oidECPublicKey, crypto.SHA512, "ecdsa", true},
		{oidRSA, crypto.SHA384, "rsa", true},
		{oidRSASHA512, crypto.SHA512, "rsa", true},
		{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}, crypto.SHA256, "", false}, // RSA-PSS: unsupported
	}
	for _, tc := range cases {
		h, key, err := signatureAlgorithm(tc.oid, tc.digest)
		if (err == nil) != tc.ok || key != tc.want || (tc.ok && h != tc.digest) || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Errorf("signatureAlgorithm(%v, %v) = %v, %q, %v", tc.oid, tc.digest, h, key, err)
		}
	}
}

func TestBuildRequest(t *testing.T) {
	digest := make([]byte, 32)
	der, err := buildRequest(crypto.SHA256, digest, asn1.ObjectIdentifier{1, 2, 3}, big.NewInt(0x80))
	if err != nil {
		t.Fatal(err)
	}
	// TimeStampReq as encoding/asn1 reads it.
	var req struct {
		Version int
		Imprint struct {
			Alg  pkix.AlgorithmIdentifier
			Hash []byte
		}
		Policy  asn1.ObjectIdentifier `asn1:"optional"`
		Nonce   *big.Int              `asn1:"optional"`
		CertReq bool                  `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(der, &req); err != nil || len(rest) != 0 {
		t.Fatalf("request does not decode: %v", err)
	}
	if req.Version != 1 || !req.Imprint.Alg.Algorithm.Equal(oidSHA256) || len(req.Imprint.Hash) != 32 ||
		!req.Policy.Equal(asn1.ObjectIdentifier{1, 2, 3}) || req.Nonce.Int64() != 0x80 || !req.CertReq {
		t.Errorf("request = %+v", req)
	}
}

// FuzzParseResponse feeds arbitrary replies to the TimeStampResp parser,
// seeded with a granted reply around the committed token and rejections.
func FuzzParseResponse(f *testing.F) {
	token, err := os.ReadFile("testdata/token.der")
	if err != nil {
		f.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(0) })
		b.AddBytes(token)
	})
	f.Add(b.BytesOrPanic())
	f.Add(statusReply(2, []string{"no"}, []int{0, 15}))
	f.Add(statusReply(0, nil, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		tok, err := parseResponse(in)
		if err == nil && len(tok) == 0 {
			t.Fatal("granted with an empty token")
		}
		if err != nil && !errors.Is(err, ErrRejected) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
	})
}
