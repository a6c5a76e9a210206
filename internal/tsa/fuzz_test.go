package tsa_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"flag"
	"os"
	"os/exec"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/tsa"
	"github.com/vestigo-forensics/vestigo/internal/tsatest"
)

// The seed token in testdata was made once by
//
//	go test ./internal/tsa -run TestSeedToken -update-seed
//
// which stamps seedData with a local openssl TSA (package tsatest) and
// writes the token and that TSA's root certificate. Without the flag the
// test checks that the committed token still verifies, with this package
// and with openssl.
var updateSeed = flag.Bool("update-seed", false, "regenerate testdata/token.der and testdata/token-ca.pem with a local openssl TSA")

const (
	seedData    = "vestigo tsa fuzz seed: audit checkpoint 1\n"
	seedToken   = "testdata/token.der"
	seedCA      = "testdata/token-ca.pem"
	seedDataDoc = "testdata/token-data.txt"
)

func TestSeedToken(t *testing.T) {
	if *updateSeed {
		s := tsatest.Start(t)
		token, _, err := (&tsa.Client{URL: s.URL, Roots: s.Roots}).Timestamp(context.Background(), digestOf(crypto.SHA256, seedData))
		if err != nil {
			t.Fatalf("Timestamp: %v", err)
		}
		ca, err := os.ReadFile(s.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		for path, content := range map[string][]byte{seedToken: token, seedCA: ca, seedDataDoc: []byte(seedData)} {
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	token, err := os.ReadFile(seedToken)
	if err != nil {
		t.Fatalf("%v (regenerate with -update-seed)", err)
	}
	data, err := os.ReadFile(seedDataDoc)
	if err != nil || string(data) != seedData {
		t.Fatalf("%s does not hold the seed data (regenerate with -update-seed): %v", seedDataDoc, err)
	}
	info, err := tsa.VerifyWithCAFile(token, digestOf(crypto.SHA256, seedData), seedCA)
	if err != nil {
		t.Fatalf("the committed seed token does not verify: %v", err)
	}
	if info.TSA != "CN=Vestigo Test TSA" {
		t.Errorf("seed TSA %q", info.TSA)
	}
	// The chain is judged at the token's time, so the token keeps verifying
	// after its certificates expire.
	out, err := exec.Command(tsatest.Binary(t), "ts", "-verify", "-data", seedDataDoc, "-in", seedToken,
		"-token_in", "-CAfile", seedCA).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Verification: OK")) {
		t.Errorf("openssl does not verify the seed token: %v\n%s", err, out)
	}
}

// FuzzVerify feeds arbitrary token bytes to Verify: it must never panic,
// every error must wrap a sentinel, and a success must be for the digest.
func FuzzVerify(f *testing.F) {
	token, err := os.ReadFile(seedToken)
	if err != nil {
		f.Fatal(err)
	}
	roots, err := tsa.ReadCAFile(seedCA)
	if err != nil {
		f.Fatal(err)
	}
	digest := digestOf(crypto.SHA256, seedData)
	f.Add(token)
	f.Add(token[:len(token)/2])
	f.Add(append(bytes.Clone(token), 0))
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := tsa.Verify(b, digest, roots, nil)
		if err != nil {
			if !errors.Is(err, tsa.ErrMalformed) && !errors.Is(err, tsa.ErrSignature) && !errors.Is(err, tsa.ErrMismatch) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(info.Digest, digest) || info.Signer == nil || len(info.Chain) == 0 {
			t.Fatalf("success with %+v", info)
		}
	})
}
