// Package tsatest runs a real RFC 3161 time-stamping authority for tests:
// OpenSSL's `openssl ts -reply` behind an in-process HTTP server on
// 127.0.0.1. Tests import it; the product never does.
//
// Start creates, in a temporary directory, a root CA and a TSA certificate
// issued by it (critical extended key usage timeStamping) with openssl,
// writes the TSA configuration (tsa.cnf, the recipe of
// shared/docs/real-components.md section 6) and serves
// application/timestamp-query POSTs on a free port: each request body is
// handed to `openssl ts -reply -config tsa.cnf` and its reply returned as
// application/timestamp-reply. openssl calls are serialised (they share the
// serial file). The server stops when the test ends.
//
// The TSA grants SHA-256, SHA-384 and SHA-512 imprints under the default
// policy 1.2.3.4.1 (and 1.2.3.4.5.6 on request), with accuracy 1 s,
// ordering and its name in the token, and includes the TSA and CA
// certificates when asked (certReq). Options choose the TSA key, the
// signing digest and the ESS certificate-identifier hash.
//
// Errors: a missing `openssl` binary, or an openssl command that fails
// while setting up, fails the test (t.Fatalf) with openssl's output; a
// request that openssl cannot answer gets HTTP 500 with openssl's output,
// so the client under test reports it.
package tsatest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Policy is the TSA's default policy; OtherPolicy is the one other policy
// it grants on request.
const (
	Policy      = "1.2.3.4.1"
	OtherPolicy = "1.2.3.4.5.6"
)

const (
	maxQueryBytes  = 64 << 10         // a TimeStampReq is ~100 bytes
	commandTimeout = 30 * time.Second // per openssl call during set-up
)

// TSA is a running local time-stamping authority.
type TSA struct {
	URL      string         // http://127.0.0.1:PORT/
	CAFile   string         // PEM root certificate (openssl -CAfile)
	CertFile string         // PEM TSA signing certificate
	Roots    *x509.CertPool // the root certificate of CAFile
	Dir      string         // the TSA's directory: keys, certificates, tsa.cnf, tsaserial, requests
	Config   string         // path of tsa.cnf

	openssl string
	mu      sync.Mutex // serialises openssl ts -reply (the serial file)
	n       int        // requests answered, under mu
	closed  bool       // the test has ended, under mu
}

// Option changes how Start sets up the TSA.
type Option func(*config)

type config struct {
	keyArgs      []string // openssl req arguments that make the TSA key
	signerDigest string
	essAlg       string
}

// WithKey chooses the TSA's key: "ec:P-256" (the default), "ec:P-384",
// "ec:P-521" or "rsa:BITS" such as "rsa:2048".
func WithKey(spec string) Option {
	return func(c *config) {
		if curve, ok := strings.CutPrefix(spec, "ec:"); ok {
			c.keyArgs = []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + curve}
		} else {
			c.keyArgs = []string{"-newkey", spec}
		}
	}
}

// WithSignerDigest sets the digest the TSA signs with ("sha256", the
// default, "sha384" or "sha512").
func WithSignerDigest(name string) Option { return func(c *config) { c.signerDigest = name } }

// WithESSCertIDAlg sets the hash of the ESS certificate identifier: "sha256"
// (the default; signingCertificateV2) or "sha1" (signingCertificate).
func WithESSCertIDAlg(name string) Option { return func(c *config) { c.essAlg = name } }

// Binary returns the path of openssl, failing the test when it is missing.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("tsatest: openssl is not on PATH (%v): install Debian's openssl package (apt-get install openssl)", err)
	}
	return path
}

// Start sets up a TSA in t.TempDir() and serves it until the test ends.
func Start(t testing.TB, opts ...Option) *TSA {
	t.Helper()
	cfg := config{
		keyArgs:      []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"},
		signerDigest: "sha256",
		essAlg:       "sha256",
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &TSA{openssl: Binary(t), Dir: t.TempDir()}
	s.Config = filepath.Join(s.Dir, "tsa.cnf")
	s.CAFile = filepath.Join(s.Dir, "ca.crt")
	s.CertFile = filepath.Join(s.Dir, "tsa.crt")
	if err := os.WriteFile(s.Config, []byte(configFile(cfg)), 0o600); err != nil {
		t.Fatalf("tsatest: write %s: %v", s.Config, err)
	}
	s.OpenSSL(t, "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", "/CN=Vestigo Test Root CA",
		"-config", "tsa.cnf", "-extensions", "v3_ca")
	s.OpenSSL(t, append(append([]string{"req", "-new"}, cfg.keyArgs...), "-nodes", "-keyout", "tsa.key",
		"-out", "tsa.csr", "-subj", "/CN=Vestigo Test TSA", "-config", "tsa.cnf")...)
	s.OpenSSL(t, "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
		"-out", "tsa.crt", "-days", "3650", "-extfile", "tsa.cnf", "-extensions", "v3_tsa")
	if err := os.WriteFile(filepath.Join(s.Dir, "tsaserial"), []byte("01\n"), 0o600); err != nil {
		t.Fatalf("tsatest: write the serial file: %v", err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir, "requests"), 0o700); err != nil {
		t.Fatalf("tsatest: %v", err)
	}
	s.Roots = x509.NewCertPool()
	s.Roots.AddCert(readCert(t, s.CAFile))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tsatest: listen on 127.0.0.1: %v", err)
	}
	s.URL = "http://" + ln.Addr().String() + "/"
	srv := &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: commandTimeout}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
		// A handler still running holds mu until its openssl is done (Close
		// cancels its context); later ones see closed and leave Dir alone,
		// which t.TempDir removes after this.
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
	})
	return s
}

// Requests returns how many requests the TSA has answered with openssl.
func (s *TSA) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// OpenSSL runs openssl with args in the TSA's directory (serialised with
// the server) and returns its combined output; a failure fails the test
// with that output.
func (s *TSA) OpenSSL(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	s.mu.Lock()
	out, err := s.run(ctx, nil, args...)
	s.mu.Unlock()
	if err != nil {
		t.Fatalf("tsatest: openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// run runs openssl in Dir; the caller holds mu.
func (s *TSA) run(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.openssl, args...)
	cmd.Dir = s.Dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	return cmd.CombinedOutput()
}

// serve answers one timestamp query with openssl ts -reply. Query and
// reply go through files in Dir/requests, kept for a failing test's
// inspection.
func (s *TSA) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "tsatest: POST a timestamp query", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/timestamp-query" {
		http.Error(w, fmt.Sprintf("tsatest: Content-Type %q is not application/timestamp-query", ct), http.StatusUnsupportedMediaType)
		return
	}
	query, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBytes+1))
	if err != nil || len(query) > maxQueryBytes {
		http.Error(w, "tsatest: unreadable or oversized query", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "tsatest: the TSA has stopped", http.StatusServiceUnavailable)
		return
	}
	s.n++
	q := filepath.Join("requests", fmt.Sprintf("%04d.tsq", s.n))
	a := filepath.Join("requests", fmt.Sprintf("%04d.tsr", s.n))
	var out []byte
	if err = os.WriteFile(filepath.Join(s.Dir, q), query, 0o600); err == nil {
		out, err = s.run(r.Context(), nil, "ts", "-reply", "-config", "tsa.cnf", "-queryfile", q, "-out", a)
	}
	var reply []byte
	if err == nil {
		reply, err = os.ReadFile(filepath.Join(s.Dir, a))
	}
	s.mu.Unlock()
	if err != nil {
		http.Error(w, fmt.Sprintf("tsatest: openssl ts -reply: %v\n%s", err, out), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(reply)
}

func readCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("tsatest: %v", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("tsatest: %s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("tsatest: %s: %v", path, err)
	}
	return cert
}

// configFile is tsa.cnf of shared/docs/real-components.md section 6 with
// the options applied.
func configFile(c config) string {
	return `[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = .
serial = ./tsaserial
signer_cert = ./tsa.crt
certs = ./ca.crt
signer_key = ./tsa.key
signer_digest = ` + c.signerDigest + `
crypto_device = builtin
default_policy = ` + Policy + `
other_policies = ` + OtherPolicy + `
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = ` + c.essAlg + `
`
}
