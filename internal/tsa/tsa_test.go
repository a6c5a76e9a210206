package tsa_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/tsa"
	"github.com/vestigo-forensics/vestigo/internal/tsatest"
)

var defaultPolicy = asn1.ObjectIdentifier{1, 2, 3, 4, 1}

func client(s *tsatest.TSA) *tsa.Client {
	return &tsa.Client{URL: s.URL, Roots: s.Roots}
}

func digestOf(h crypto.Hash, data string) []byte {
	w := h.New()
	w.Write([]byte(data))
	return w.Sum(nil)
}

// stamp gets a token for data from s, failing the test on error.
func stamp(t *testing.T, s *tsatest.TSA, data string) ([]byte, *tsa.Info) {
	t.Helper()
	token, info, err := client(s).Timestamp(context.Background(), digestOf(crypto.SHA256, data))
	if err != nil {
		t.Fatalf("Timestamp: %v", err)
	}
	return token, info
}

// opensslVerify has openssl check token against the data, as a peer
// verifier would, and fails the test unless it says OK.
func opensslVerify(t *testing.T, s *tsatest.TSA, token []byte, data, caFile string) {
	t.Helper()
	dir := t.TempDir()
	tokenFile, dataFile := filepath.Join(dir, "token.der"), filepath.Join(dir, "data.bin")
	if err := os.WriteFile(tokenFile, token, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dataFile, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out := s.OpenSSL(t, "ts", "-verify", "-data", dataFile, "-in", tokenFile, "-token_in", "-CAfile", caFile)
	if !bytes.Contains(out, []byte("Verification: OK")) {
		t.Fatalf("openssl ts -verify does not accept the token:\n%s", out)
	}
}

func TestRoundTrip(t *testing.T) {
	s := tsatest.Start(t)
	const data = "audit-log checkpoint 42\n"
	before := time.Now().Truncate(time.Second)
	token, info, err := client(s).Timestamp(context.Background(), digestOf(crypto.SHA256, data))
	if err != nil {
		t.Fatalf("Timestamp: %v", err)
	}
	after := time.Now()

	// What the token states.
	if info.Time.Before(before) || info.Time.After(after) {
		t.Errorf("Time %v not within the request's [%v, %v]", info.Time, before, after)
	}
	if info.Time.Location() != time.UTC {
		t.Errorf("Time %v is not UTC", info.Time)
	}
	if info.Accuracy != time.Second || !info.Policy.Equal(defaultPolicy) || info.Hash != crypto.SHA256 ||
		!info.Ordering || info.TSA != "CN=Vestigo Test TSA" || info.Nonce == nil || info.Serial.Sign() <= 0 {
		t.Errorf("Info = %+v", info)
	}
	if !bytes.Equal(info.Digest, digestOf(crypto.SHA256, data)) {
		t.Errorf("Digest %x", info.Digest)
	}
	if len(info.Chain) != 2 || info.Chain[0] != info.Signer || info.Chain[1].Subject.CommonName != "Vestigo Test Root CA" {
		t.Errorf("Chain = %v", info.Chain)
	}

	// The stored token verifies again, with the pool and with the CA file.
	again, err := tsa.Verify(token, digestOf(crypto.SHA256, data), s.Roots, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !again.Time.Equal(info.Time) || again.Serial.Cmp(info.Serial) != 0 || again.Nonce.Cmp(info.Nonce) != 0 {
		t.Errorf("Verify gives %+v, Timestamp gave %+v", again, info)
	}
	if _, err := tsa.VerifyWithCAFile(token, digestOf(crypto.SHA256, data), s.CAFile); err != nil {
		t.Errorf("VerifyWithCAFile: %v", err)
	}

	// The peer verifier agrees.
	opensslVerify(t, s, token, data, s.CAFile)

	// The next token has the next serial.
	_, next := stamp(t, s, "another")
	if next.Serial.Cmp(info.Serial) <= 0 {
		t.Errorf("serials %v then %v", info.Serial, next.Serial)
	}
}

// TestOpenSSLQuery verifies a token that openssl asked for (its own nonce
// and request encoding), the other direction of the cross-check.
func TestOpenSSLQuery(t *testing.T) {
	s := tsatest.Start(t)
	const data = "exhibit 3: wallet.dat\n"
	if err := os.WriteFile(filepath.Join(s.Dir, "exhibit.bin"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	s.OpenSSL(t, "ts", "-query", "-data", "exhibit.bin", "-sha384", "-cert", "-out", "q.tsq")
	query, err := os.ReadFile(filepath.Join(s.Dir, "q.tsq"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL, "application/timestamp-query", bytes.NewReader(query))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %v %v", resp.Status, err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "q.tsr"), reply, 0o600); err != nil {
		t.Fatal(err)
	}
	s.OpenSSL(t, "ts", "-reply", "-in", "q.tsr", "-token_out", "-out", "q.der")
	token, err := os.ReadFile(filepath.Join(s.Dir, "q.der"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := tsa.Verify(token, digestOf(crypto.SHA384, data), s.Roots, nil)
	if err != nil {
		t.Fatalf("Verify of openssl's token: %v", err)
	}
	if info.Hash != crypto.SHA384 || info.Nonce == nil {
		t.Errorf("Info = %+v", info)
	}
}

// TestKeysAndDigests runs the round trip with each supported kind of TSA
// key, signing digest, ESS identifier and imprint hash.
func TestKeysAndDigests(t *testing.T) {
	cases := []struct {
		name    string
		opts    []tsatest.Option
		imprint crypto.Hash
	}{
		{"ec-p384-sha384", []tsatest.Option{tsatest.WithKey("ec:P-384"), tsatest.WithSignerDigest("sha384")}, crypto.SHA384},
		{"ec-p521-sha512", []tsatest.Option{tsatest.WithKey("ec:P-521"), tsatest.WithSignerDigest("sha512")}, crypto.SHA512},
		{"rsa2048-sha512", []tsatest.Option{tsatest.WithKey("rsa:2048"), tsatest.WithSignerDigest("sha512")}, crypto.SHA384},
		{"ess-v1-sha1", []tsatest.Option{tsatest.WithESSCertIDAlg("sha1")}, crypto.SHA256},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tsatest.Start(t, tc.opts...)
			const data = "case 2026-0017 exhibit"
			c := client(s)
			c.Hash = tc.imprint
			token, info, err := c.Timestamp(context.Background(), digestOf(tc.imprint, data))
			if err != nil {
				t.Fatalf("Timestamp: %v", err)
			}
			if info.Hash != tc.imprint {
				t.Errorf("Hash %v", info.Hash)
			}
			opensslVerify(t, s, token, data, s.CAFile)
		})
	}
}

func TestMismatch(t *testing.T) {
	s := tsatest.Start(t)
	token, _ := stamp(t, s, "the real exhibit")
	for name, digest := range map[string][]byte{
		"other data":   digestOf(crypto.SHA256, "a forged exhibit"),
		"other length": digestOf(crypto.SHA384, "the real exhibit"),
		"empty":        nil,
	} {
		if _, err := tsa.Verify(token, digest, s.Roots, nil); !errors.Is(err, tsa.ErrMismatch) {
			t.Errorf("%s: err = %v, want ErrMismatch", name, err)
		}
	}
}

func TestWrongRoots(t *testing.T) {
	s := tsatest.Start(t)
	other := tsatest.Start(t) // another CA with the same names
	const data = "checkpoint"
	token, _ := stamp(t, s, data)
	if _, err := tsa.Verify(token, digestOf(crypto.SHA256, data), other.Roots, nil); !errors.Is(err, tsa.ErrSignature) {
		t.Errorf("Verify with another CA: err = %v, want ErrSignature", err)
	}
	if _, err := tsa.VerifyWithCAFile(token, digestOf(crypto.SHA256, data), other.CAFile); !errors.Is(err, tsa.ErrSignature) {
		t.Errorf("VerifyWithCAFile with another CA: err = %v, want ErrSignature", err)
	}
	if _, err := tsa.Verify(token, digestOf(crypto.SHA256, data), x509.NewCertPool(), nil); !errors.Is(err, tsa.ErrSignature) {
		t.Errorf("Verify with an empty pool: err = %v, want ErrSignature", err)
	}
	if _, err := tsa.Verify(token, digestOf(crypto.SHA256, data), nil, nil); err == nil {
		t.Error("Verify with nil roots succeeded")
	}
	c := &tsa.Client{URL: s.URL, Roots: other.Roots}
	if _, _, err := c.Timestamp(context.Background(), digestOf(crypto.SHA256, data)); !errors.Is(err, tsa.ErrSignature) {
		t.Errorf("Timestamp with another CA: err = %v, want ErrSignature", err)
	}
}

func TestPolicy(t *testing.T) {
	s := tsatest.Start(t)
	c := client(s)
	c.Policy = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6} // tsatest.OtherPolicy
	_, info, err := c.Timestamp(context.Background(), digestOf(crypto.SHA256, "x"))
	if err != nil {
		t.Fatalf("Timestamp with the other policy: %v", err)
	}
	if info.Policy.String() != tsatest.OtherPolicy {
		t.Errorf("Policy %v", info.Policy)
	}

	c.Policy = asn1.ObjectIdentifier{1, 2, 3, 4, 99}
	_, _, err = c.Timestamp(context.Background(), digestOf(crypto.SHA256, "x"))
	if !errors.Is(err, tsa.ErrRejected) {
		t.Fatalf("unknown policy: err = %v, want ErrRejected", err)
	}
	// openssl says "Requested policy is not supported." with unacceptedPolicy.
	if !strings.Contains(err.Error(), "rejection") || !strings.Contains(err.Error(), "unacceptedPolicy") ||
		!strings.Contains(err.Error(), "policy is not supported") {
		t.Errorf("rejection does not carry the TSA's status: %v", err)
	}
}

// replayProxy forwards the first request to the TSA and answers every
// later one with that first (real, validly signed) reply: a replay.
func replayProxy(t *testing.T, target string) string {
	var mu sync.Mutex
	var recorded []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if recorded == nil {
			resp, err := http.Post(target, r.Header.Get("Content-Type"), r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			if recorded, err = io.ReadAll(resp.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(recorded)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestReplayedReply(t *testing.T) {
	s := tsatest.Start(t)
	c := &tsa.Client{URL: replayProxy(t, s.URL), Roots: s.Roots}
	digest := digestOf(crypto.SHA256, "exhibit")
	if _, _, err := c.Timestamp(context.Background(), digest); err != nil {
		t.Fatalf("first request: %v", err)
	}
	// The same digest again: the reply is valid but carries the old nonce.
	_, _, err := c.Timestamp(context.Background(), digest)
	if !errors.Is(err, tsa.ErrMismatch) || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("replayed reply: err = %v, want ErrMismatch on the nonce", err)
	}
	// Another digest: the imprint differs.
	_, _, err = c.Timestamp(context.Background(), digestOf(crypto.SHA256, "another exhibit"))
	if !errors.Is(err, tsa.ErrMismatch) || !strings.Contains(err.Error(), "imprint") {
		t.Errorf("reply for another digest: err = %v, want ErrMismatch on the imprint", err)
	}
}

func TestBadInput(t *testing.T) {
	s := tsatest.Start(t)
	d := digestOf(crypto.SHA256, "x")
	cases := map[string]struct {
		c      tsa.Client
		digest []byte
	}{
		"short digest":  {tsa.Client{URL: s.URL, Roots: s.Roots}, d[:31]},
		"sha384 length": {tsa.Client{URL: s.URL, Roots: s.Roots}, digestOf(crypto.SHA384, "x")},
		"no URL":        {tsa.Client{Roots: s.Roots}, d},
		"ftp URL":       {tsa.Client{URL: "ftp://127.0.0.1/", Roots: s.Roots}, d},
		"no roots":      {tsa.Client{URL: s.URL}, d},
		"sha1":          {tsa.Client{URL: s.URL, Roots: s.Roots, Hash: crypto.SHA1}, d[:20]},
	}
	for name, tc := range cases {
		if _, _, err := tc.c.Timestamp(context.Background(), tc.digest); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%s: err = %v, want chain.ErrInvalid", name, err)
		}
	}
	if s.Requests() != 0 {
		t.Errorf("bad input reached the TSA %d times", s.Requests())
	}
}

// TestNotATSA points the client at servers that do not answer RFC 3161.
func TestNotATSA(t *testing.T) {
	s := tsatest.Start(t)
	cases := map[string]http.HandlerFunc{
		"html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>login</html>"))
		},
		"500": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusInternalServerError) },
		"garbage reply": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/timestamp-reply")
			w.Write([]byte{0x30, 0x03, 0x02, 0x01})
		},
	}
	for name, h := range cases {
		srv := httptest.NewServer(h)
		c := &tsa.Client{URL: srv.URL, Roots: s.Roots}
		_, _, err := c.Timestamp(context.Background(), digestOf(crypto.SHA256, "x"))
		srv.Close()
		if err == nil {
			t.Errorf("%s: Timestamp succeeded", name)
		}
		if name == "garbage reply" && !errors.Is(err, tsa.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

// TestTamper flips bits of a real token. Flips in the message imprint
// (inside the TSTInfo) and in the signature must fail with ErrSignature;
// every other single-byte change must fail too, except in the copy of the
// CA certificate that the token carries unsigned and that the verifier does
// not use (the trusted root comes from the pool).
func TestTamper(t *testing.T) {
	s := tsatest.Start(t)
	const data = "exhibit 9"
	digest := digestOf(crypto.SHA256, data)
	token, info := stamp(t, s, data)

	flip := func(i int, mask byte) []byte {
		b := bytes.Clone(token)
		b[i] ^= mask
		return b
	}
	at := bytes.Index(token, digest)
	if at < 0 {
		t.Fatal("the imprint is not in the token")
	}
	if _, err := tsa.Verify(flip(at+5, 0x01), digest, s.Roots, nil); !errors.Is(err, tsa.ErrSignature) {
		t.Errorf("flip in the TSTInfo imprint: err = %v, want ErrSignature", err)
	}
	// The SignerInfo has no unsigned attributes: the token ends with the
	// signature's last integer.
	if _, err := tsa.Verify(flip(len(token)-3, 0x01), digest, s.Roots, nil); !errors.Is(err, tsa.ErrSignature) {
		t.Errorf("flip in the signature: err = %v, want ErrSignature", err)
	}

	caDER := info.Chain[len(info.Chain)-1].Raw
	caAt := bytes.Index(token, caDER)
	if caAt < 0 {
		t.Fatal("the CA certificate is not in the token")
	}
	kinds := map[string]int{}
	for i := range token {
		for _, mask := range []byte{0x01, 0x80} {
			got, err := tsa.Verify(flip(i, mask), digest, s.Roots, nil)
			switch {
			case errors.Is(err, tsa.ErrMalformed):
				kinds["malformed"]++
			case errors.Is(err, tsa.ErrSignature):
				kinds["signature"]++
			case errors.Is(err, tsa.ErrMismatch):
				kinds["mismatch"]++
			case err != nil:
				t.Errorf("byte %d ^%#x: error wraps no sentinel: %v", i, mask, err)
			case i < caAt || i >= caAt+len(caDER):
				t.Errorf("byte %d ^%#x (outside the unused CA copy) still verifies", i, mask)
			case !got.Time.Equal(info.Time) || got.Serial.Cmp(info.Serial) != 0 || got.TSA != info.TSA:
				t.Errorf("byte %d ^%#x in the CA copy changed the statement: %+v", i, mask, got)
			default:
				kinds["unused CA copy"]++
			}
		}
	}
	t.Logf("%d single-bit flips of a %d-byte token: %v", 2*len(token), len(token), kinds)
}

func TestReadCAFile(t *testing.T) {
	s := tsatest.Start(t)
	dir := t.TempDir()
	key, err := os.ReadFile(filepath.Join(s.Dir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"empty.pem": nil, "key.pem": key, "mixed.pem": append(bytes.Clone(ca), key...), "text.pem": []byte("hello\n")}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := tsa.ReadCAFile(path); err == nil {
			t.Errorf("ReadCAFile(%s) succeeded", name)
		}
	}
	if _, err := tsa.ReadCAFile(filepath.Join(dir, "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bundle := filepath.Join(dir, "bundle.pem")
	other := tsatest.Start(t)
	otherCA, err := os.ReadFile(other.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle, append(otherCA, ca...), 0o600); err != nil {
		t.Fatal(err)
	}
	token, _ := stamp(t, s, "bundle")
	if _, err := tsa.VerifyWithCAFile(token, digestOf(crypto.SHA256, "bundle"), bundle); err != nil {
		t.Errorf("VerifyWithCAFile with a two-root bundle: %v", err)
	}
}
