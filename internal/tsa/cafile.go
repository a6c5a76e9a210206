package tsa

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
)

// maxCAFileBytes bounds a CA file: a bundle of roots is a few hundred KiB.
const maxCAFileBytes = 4 << 20

// ReadCAFile reads the trusted roots for TSA certificates from a PEM file
// of one or more CERTIFICATE blocks (such as openssl's -CAfile). Other PEM
// blocks are an error, as is a file without certificates.
func ReadCAFile(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tsa: CA file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCAFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tsa: CA file %s: %w", path, err)
	}
	if len(data) > maxCAFileBytes {
		return nil, fmt.Errorf("tsa: CA file %s is larger than %d bytes", path, maxCAFileBytes)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("tsa: CA file %s: PEM block %d is %q, not CERTIFICATE", path, n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tsa: CA file %s: certificate %d: %w", path, n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, fmt.Errorf("tsa: CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// VerifyWithCAFile verifies token against digest as Verify does, trusting
// the roots in the PEM file caFile (ReadCAFile) and no others.
func VerifyWithCAFile(token, digest []byte, caFile string) (*Info, error) {
	roots, err := ReadCAFile(caFile)
	if err != nil {
		return nil, err
	}
	return Verify(token, digest, roots, nil)
}
