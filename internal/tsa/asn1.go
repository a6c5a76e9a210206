package tsa

import (
	"crypto"
	"encoding/asn1"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers used by RFC 3161, RFC 5652, RFC 5035 and RFC 5754.
var (
	oidSignedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigst = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCert  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCert2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidECPublicKey  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSASHA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKPTimeStamp  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidSubjectAltNm = asn1.ObjectIdentifier{2, 5, 29, 17}
)

// imprintHashes are the hash algorithms accepted for message imprints and
// CMS digests.
var imprintHashes = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
}

func hashByOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, h := range imprintHashes {
		if h.oid.Equal(oid) {
			return h.hash, true
		}
	}
	return 0, false
}

func oidByHash(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	for _, e := range imprintHashes {
		if e.hash == h {
			return e.oid, true
		}
	}
	return nil, false
}

// Context-specific tags used below.
var (
	tagCtx0Cons = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagCtx1Cons = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagCtx0Prim = cbasn1.Tag(0).ContextSpecific()
	tagCtx1Prim = cbasn1.Tag(1).ContextSpecific()
)

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrMalformed)
}

// readAlgorithm reads an AlgorithmIdentifier; params is the raw parameters
// element, empty when absent.
func readAlgorithm(s *cryptobyte.String) (oid asn1.ObjectIdentifier, params cryptobyte.String, ok bool) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, false
	}
	if !seq.Empty() {
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1Element(&params, &tag) || !seq.Empty() {
			return nil, nil, false
		}
	}
	return oid, params, true
}

// isNullOrAbsent tells whether algorithm parameters are absent or NULL, as
// they must be for SHA-2, ECDSA signatures and (NULL) RSA.
func isNullOrAbsent(params cryptobyte.String) bool {
	return len(params) == 0 || string(params) == "\x05\x00"
}

// readDigestAlgorithm reads an AlgorithmIdentifier naming SHA-256, SHA-384
// or SHA-512.
func readDigestAlgorithm(s *cryptobyte.String, what string) (crypto.Hash, error) {
	oid, params, ok := readAlgorithm(s)
	if !ok {
		return 0, malformed("%s: not an AlgorithmIdentifier", what)
	}
	h, known := hashByOID(oid)
	if !known {
		return 0, malformed("%s: unsupported hash algorithm %v", what, oid)
	}
	if !isNullOrAbsent(params) {
		return 0, malformed("%s: unexpected parameters for %v", what, h)
	}
	return h, nil
}

// parseGeneralizedTime parses the content of a GeneralizedTime as RFC 3161
// requires it: YYYYMMDDhhmmss[.s...]Z, in UTC, the fraction without
// trailing zeros.
func parseGeneralizedTime(b []byte) (time.Time, error) {
	s := string(b)
	if len(s) < 15 || s[len(s)-1] != 'Z' {
		return time.Time{}, fmt.Errorf("time %q is not YYYYMMDDhhmmss[.f]Z", s)
	}
	for i := 0; i < 14; i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, fmt.Errorf("time %q is not YYYYMMDDhhmmss[.f]Z", s)
		}
	}
	t, err := time.Parse("20060102150405", s[:14])
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %v", s, err)
	}
	frac := s[14 : len(s)-1]
	if frac == "" {
		return t, nil
	}
	if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' || frac[len(frac)-1] == '0' {
		return time.Time{}, fmt.Errorf("time %q: bad fraction of a second", s)
	}
	nanos := 0
	for i := 1; i < 10; i++ {
		nanos *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}, fmt.Errorf("time %q: bad fraction of a second", s)
			}
			nanos += int(c - '0')
		}
	}
	return t.Add(time.Duration(nanos)), nil
}
