package tsatest_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/tsatest"
)

// TestOpenSSLClient checks the harness with openssl on both sides: an
// openssl-made query, POSTed over HTTP, gets a granted reply that openssl
// verifies against the CA file.
func TestOpenSSLClient(t *testing.T) {
	s := tsatest.Start(t)
	if err := os.WriteFile(filepath.Join(s.Dir, "evidence.bin"), []byte("exhibit 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.OpenSSL(t, "ts", "-query", "-data", "evidence.bin", "-sha256", "-cert", "-out", "client.tsq")
	query, err := os.ReadFile(filepath.Join(s.Dir, "client.tsq"))
	if err != nil {
		t.Fatal(err)
	}
	reply := post(t, s.URL, "application/timestamp-query", query, http.StatusOK)
	if err := os.WriteFile(filepath.Join(s.Dir, "client.tsr"), reply, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := s.OpenSSL(t, "ts", "-reply", "-in", "client.tsr", "-text"); !bytes.Contains(out, []byte("Status: Granted")) {
		t.Fatalf("reply not granted:\n%s", out)
	}
	out := s.OpenSSL(t, "ts", "-verify", "-data", "evidence.bin", "-in", "client.tsr", "-CAfile", s.CAFile)
	if !bytes.Contains(out, []byte("Verification: OK")) {
		t.Fatalf("openssl does not verify the reply:\n%s", out)
	}
	if s.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", s.Requests())
	}
	if s.Roots == nil || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("TSA = %+v", s)
	}
}

// TestBadRequests checks that the harness refuses what is not a POSTed
// timestamp query and passes openssl's rejection of a bad one on.
func TestBadRequests(t *testing.T) {
	s := tsatest.Start(t)
	post(t, s.URL, "text/plain", []byte("hello"), http.StatusUnsupportedMediaType)
	// openssl answers a query it cannot read with a rejection, as a TSA does.
	body := post(t, s.URL, "application/timestamp-query", []byte("not DER"), http.StatusOK)
	if !strings.Contains(string(body), "Bad request format") {
		t.Errorf("reply to a bad query is not openssl's rejection: %q", body)
	}
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %s, want 405", resp.Status)
	}
}

// TestOptions checks that the options reach the TSA certificate.
func TestOptions(t *testing.T) {
	s := tsatest.Start(t, tsatest.WithKey("rsa:2048"), tsatest.WithSignerDigest("sha512"))
	out := s.OpenSSL(t, "x509", "-in", "tsa.crt", "-noout", "-text")
	for _, want := range []string{"rsaEncryption", "Public-Key: (2048 bit)", "Time Stamping", "critical"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("TSA certificate lacks %q:\n%s", want, out)
		}
	}
}

func post(t *testing.T, url, contentType string, body []byte, wantStatus int) []byte {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST %s: %s, want %d: %s", contentType, resp.Status, wantStatus, buf.Bytes())
	}
	if wantStatus == http.StatusOK && resp.Header.Get("Content-Type") != "application/timestamp-reply" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return buf.Bytes()
}
