package tsa

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha1" // ESS signingCertificate (v1) identifies the signer by SHA-1
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors of this package; see the package documentation.
var (
	ErrRejected  = errors.New("request rejected by the time-stamping authority")
	ErrMismatch  = errors.New("token does not match")
	ErrSignature = errors.New("token signature or signer not valid")
	ErrMalformed = errors.New("malformed time-stamp data")
)

// minRSABits is the smallest RSA key accepted for a TSA signature.
const minRSABits = 2048

// Info is what a verified time-stamp token states.
type Info struct {
	Time     time.Time             // genTime: when the TSA stamped the imprint (UTC)
	Accuracy time.Duration         // the TSA's stated accuracy of Time; 0 when the token states none
	Serial   *big.Int              // the TSA's serial number of the token
	Policy   asn1.ObjectIdentifier // the TSA policy under which the token was issued
	Hash     crypto.Hash           // hash algorithm of the message imprint
	Digest   []byte                // the message imprint (equal to the digest verified)
	Nonce    *big.Int              // the request's nonce; nil when the request had none
	Ordering bool                  // the TSA claims tokens can be ordered by Time alone
	TSA      string                // subject of the signing certificate, e.g. "CN=Test TSA"
	Signer   *x509.Certificate     // the TSA certificate that signed the token
	Chain    []*x509.Certificate   // the verified chain, Signer first, a trusted root last
}

// Verify checks that token (the DER of a TimeStampToken, as
// Client.Timestamp returns it) is a valid time stamp of digest, signed by a
// TSA whose certificate chains to roots (through the token's own
// certificates and intermediates, which may be nil). digest is the SHA-256,
// SHA-384 or SHA-512 hash of the data, as named in the token. The package
// documentation says what a success proves; errors wrap ErrMalformed,
// ErrSignature or ErrMismatch.
func Verify(token, digest []byte, roots, intermediates *x509.CertPool) (*Info, error) {
	info, err := verify(token, digest, roots, intermediates)
	if err != nil {
		return nil, fmt.Errorf("tsa: verify token: %w", err)
	}
	return info, nil
}

func verify(der, digest []byte, roots, intermediates *x509.CertPool) (*Info, error) {
	if roots == nil {
		return nil, errors.New("no trusted roots given")
	}
	if len(der) > MaxResponseBytes {
		return nil, malformed("the token is %d bytes, more than %d", len(der), MaxResponseBytes)
	}
	t, err := parseToken(der)
	if err != nil {
		return nil, err
	}
	signer, err := t.findSigner()
	if err != nil {
		return nil, err
	}
	if err := t.checkSignature(signer); err != nil {
		return nil, err
	}
	if err := t.checkSigningCertificate(signer); err != nil {
		return nil, err
	}
	chain, err := t.checkChain(signer, roots, intermediates)
	if err != nil {
		return nil, err
	}
	if err := checkTSAName(t.tst.name, signer); err != nil {
		return nil, err
	}
	if len(digest) != t.tst.hash.Size() {
		return nil, fmt.Errorf("the digest is %d bytes, the token's imprint is %v (%d bytes): %w",
			len(digest), t.tst.hash, t.tst.hash.Size(), ErrMismatch)
	}
	if !bytes.Equal(digest, t.tst.imprint) {
		return nil, fmt.Errorf("the token's message imprint %x is not the digest %x: %w", t.tst.imprint, digest, ErrMismatch)
	}
	info := &Info{
		Time:     t.tst.genTime,
		Accuracy: t.tst.accuracy,
		Serial:   t.tst.serial,
		Policy:   t.tst.policy,
		Hash:     t.tst.hash,
		Digest:   slices.Clone(t.tst.imprint),
		Nonce:    t.tst.nonce,
		Ordering: t.tst.ordering,
		TSA:      signer.Subject.String(),
		Signer:   signer,
		Chain:    chain,
	}
	return info, nil
}

// findSigner returns the token's certificate that the SignerInfo names.
func (t *token) findSigner() (*x509.Certificate, error) {
	for _, c := range t.certs {
		if t.signer.keyID != nil {
			if bytes.Equal(c.SubjectKeyId, t.signer.keyID) {
				return c, nil
			}
		} else if bytes.Equal(c.RawIssuer, t.signer.issuer) && c.SerialNumber.Cmp(t.signer.serial) == 0 {
			return c, nil
		}
	}
	if t.signer.keyID != nil {
		return nil, fmt.Errorf("the signer's certificate (subject key identifier %x) is not among the token's %d certificates: %w",
			t.signer.keyID, len(t.certs), ErrSignature)
	}
	return nil, fmt.Errorf("the signer's certificate (serial %x of %s) is not among the token's %d certificates: %w",
		t.signer.serial, nameString(t.signer.issuer), len(t.certs), ErrSignature)
}

// checkSignature checks the signed attributes against the encapsulated
// TSTInfo and the signature over the signed attributes.
func (t *token) checkSignature(cert *x509.Certificate) error {
	s := &t.signer
	if !s.attrs.contentType.Equal(oidTSTInfo) {
		return fmt.Errorf("the signed content-type attribute is %v, not id-ct-TSTInfo: %w", s.attrs.contentType, ErrSignature)
	}
	h := s.digest.New()
	h.Write(t.tstDER)
	if sum := h.Sum(nil); !bytes.Equal(sum, s.attrs.messageDigest) {
		return fmt.Errorf("the %v of the TSTInfo is %x but the signed message digest is %x (the TSTInfo was altered): %w",
			s.digest, sum, s.attrs.messageDigest, ErrSignature)
	}

	sigHash, keyType, err := signatureAlgorithm(s.sigAlg, s.digest)
	if err != nil {
		return err
	}
	// The signature covers the DER of the attributes with their SET OF tag
	// (RFC 5652 5.4), not the [0] IMPLICIT tag they carry in SignerInfo.
	signed := slices.Clone(s.signedAttrs)
	signed[0] = 0x31
	h = sigHash.New()
	h.Write(signed)
	sum := h.Sum(nil)
	switch keyType {
	case "ecdsa":
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("signature algorithm %v needs an ECDSA key, the certificate has %v: %w", s.sigAlg, cert.PublicKeyAlgorithm, ErrSignature)
		}
		switch pub.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("unsupported ECDSA curve %s: %w", pub.Curve.Params().Name, ErrSignature)
		}
		if !ecdsa.VerifyASN1(pub, sum, s.signature) {
			return fmt.Errorf("the ECDSA signature over the signed attributes does not verify with the certificate of %s: %w", cert.Subject, ErrSignature)
		}
	case "rsa":
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("signature algorithm %v needs an RSA key, the certificate has %v: %w", s.sigAlg, cert.PublicKeyAlgorithm, ErrSignature)
		}
		if pub.N.BitLen() < minRSABits {
			return fmt.Errorf("the RSA key of %s has %d bits, fewer than %d: %w", cert.Subject, pub.N.BitLen(), minRSABits, ErrSignature)
		}
		if err := rsa.VerifyPKCS1v15(pub, sigHash, sum, s.signature); err != nil {
			return fmt.Errorf("the RSA signature over the signed attributes does not verify with the certificate of %s: %w", cert.Subject, ErrSignature)
		}
	}
	return nil
}

// signatureAlgorithm maps a SignerInfo signatureAlgorithm to its hash and
// key type. An algorithm that names a hash must agree with the signer's
// digest algorithm.
func signatureAlgorithm(oid asn1.ObjectIdentifier, digest crypto.Hash) (crypto.Hash, string, error) {
	table := []struct {
		oid  asn1.ObjectIdentifier
		hash crypto.Hash // 0: the digest algorithm's
		key  string
	}{
		{oidECDSASHA256, crypto.SHA256, "ecdsa"},
		{oidECDSASHA384, crypto.SHA384, "ecdsa"},
		{oidECDSASHA512, crypto.SHA512, "ecdsa"},
		{oidECPublicKey, 0, "ecdsa"},
		{oidRSASHA256, crypto.SHA256, "rsa"},
		{oidRSASHA384, crypto.SHA384, "rsa"},
		{oidRSASHA512, crypto.SHA512, "rsa"},
		{oidRSA, 0, "rsa"},
	}
	for _, e := range table {
		if !e.oid.Equal(oid) {
			continue
		}
		if e.hash != 0 && e.hash != digest {
			return 0, "", malformed("signature algorithm %v does not use the signer's digest algorithm %v", oid, digest)
		}
		return digest, e.key, nil
	}
	return 0, "", malformed("unsupported signature algorithm %v", oid)
}

// checkSigningCertificate checks the ESS signingCertificate(V2) attributes
// (RFC 2634, RFC 5035): the first certificate identifier must be the
// signer's, so that the certificate cannot be swapped for another one with
// the same key.
func (t *token) checkSigningCertificate(cert *x509.Certificate) error {
	a := &t.signer.attrs
	if len(a.essV1) == 0 && len(a.essV2) == 0 {
		return fmt.Errorf("the signed attributes do not identify the signing certificate (no ESS signingCertificate): %w", ErrSignature)
	}
	if len(a.essV1) > 1 || len(a.essV2) > 1 {
		return malformed("ESS signing-certificate attribute has more than one value")
	}
	check := func(v cryptobyte.String, v2 bool) error {
		var sc, ids, id, certHash cryptobyte.String
		if !v.ReadASN1(&sc, cbasn1.SEQUENCE) || !v.Empty() || !sc.ReadASN1(&ids, cbasn1.SEQUENCE) ||
			!ids.ReadASN1(&id, cbasn1.SEQUENCE) {
			return malformed("ESS signing-certificate attribute is not readable")
		}
		h := crypto.SHA1
		if v2 {
			h = crypto.SHA256
			if id.PeekASN1Tag(cbasn1.SEQUENCE) {
				var err error
				if h, err = readDigestAlgorithm(&id, "ESSCertIDv2 hashAlgorithm"); err != nil {
					return err
				}
			}
		}
		if !id.ReadASN1(&certHash, cbasn1.OCTET_STRING) {
			return malformed("ESS certificate identifier has no hash")
		}
		hh := h.New()
		hh.Write(cert.Raw)
		if sum := hh.Sum(nil); !bytes.Equal(sum, certHash) {
			return fmt.Errorf("the signed ESS certificate %v %x is not the signer certificate's %x: %w", h, []byte(certHash), sum, ErrSignature)
		}
		if id.Empty() {
			return nil
		}
		// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber INTEGER }
		var is, names cryptobyte.String
		serial := new(big.Int)
		if !id.ReadASN1(&is, cbasn1.SEQUENCE) || !id.Empty() || !is.ReadASN1(&names, cbasn1.SEQUENCE) ||
			!is.ReadASN1Integer(serial) || !is.Empty() {
			return malformed("ESS certificate identifier issuerSerial is not readable")
		}
		if serial.Cmp(cert.SerialNumber) != 0 {
			return fmt.Errorf("the signed ESS issuerSerial names serial %x, the signer's is %x: %w", serial, cert.SerialNumber, ErrSignature)
		}
		for !names.Empty() {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1Element(&el, &tag) {
				return malformed("ESS certificate identifier issuer is not readable")
			}
			gn, err := parseGeneralName(el, tag)
			if err != nil {
				return err
			}
			if gn.tag == 4 && !equalNames(gn.value, cert.RawIssuer) {
				return fmt.Errorf("the signed ESS issuerSerial names issuer %s, the signer's is %s: %w", gn, cert.Issuer, ErrSignature)
			}
		}
		return nil
	}
	for _, v := range a.essV1 {
		if err := check(v, false); err != nil {
			return err
		}
	}
	for _, v := range a.essV2 {
		if err := check(v, true); err != nil {
			return err
		}
	}
	return nil
}

// checkChain checks that the signer certificate was valid at the token's
// time, is a time-stamping certificate as RFC 3161 2.3 demands, and chains
// to roots at that time.
func (t *token) checkChain(cert *x509.Certificate, roots, intermediates *x509.CertPool) ([]*x509.Certificate, error) {
	at := t.tst.genTime
	if at.Before(cert.NotBefore) || at.After(cert.NotAfter) {
		return nil, fmt.Errorf("the token's time %s is outside the validity of the certificate of %s (%s to %s): %w",
			at.Format(time.RFC3339), cert.Subject, cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339), ErrSignature)
	}
	if err := checkTimeStampingCert(cert); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if intermediates != nil {
		pool = intermediates.Clone()
	}
	for _, c := range t.certs {
		if c != cert {
			pool.AddCert(c)
		}
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: pool,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil {
		return nil, fmt.Errorf("the certificate of %s does not chain to a trusted root at %s: %v: %w",
			cert.Subject, at.Format(time.RFC3339), err, ErrSignature)
	}
	return chains[0], nil
}

// checkTimeStampingCert applies RFC 3161 2.3: the TSA certificate has one
// extended key usage, id-kp-timeStamping, and the extension is critical;
// a key usage, if present, allows signatures.
func checkTimeStampingCert(cert *x509.Certificate) error {
	critical := false
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) != 0 {
		return fmt.Errorf("the certificate of %s is not for time stamping only (its extended key usage must be exactly id-kp-timeStamping): %w",
			cert.Subject, ErrSignature)
	}
	if !critical {
		return fmt.Errorf("the certificate of %s does not mark its time-stamping extended key usage critical: %w", cert.Subject, ErrSignature)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fmt.Errorf("the key usage of the certificate of %s allows no signatures: %w", cert.Subject, ErrSignature)
	}
	return nil
}

// checkTSAName checks that the TSTInfo's tsa name, if present, names the
// signing certificate (RFC 3161 2.4.2).
func checkTSAName(n *generalName, cert *x509.Certificate) error {
	if n == nil {
		return nil
	}
	ok := false
	switch n.tag {
	case 4:
		ok = equalNames(n.value, cert.RawSubject)
	case 2:
		ok = slices.ContainsFunc(cert.DNSNames, func(d string) bool { return strings.EqualFold(d, string(n.value)) })
	case 1:
		ok = slices.Contains(cert.EmailAddresses, string(n.value))
	case 6:
		ok = slices.ContainsFunc(cert.URIs, func(u *url.URL) bool { return u.String() == string(n.value) })
	}
	if !ok {
		return fmt.Errorf("the token's TSA name %s does not name its signing certificate %s: %w", n, cert.Subject, ErrSignature)
	}
	return nil
}

// equalNames compares two DER Names: byte for byte, or else by their
// attributes (the same name may be written with another string type).
func equalNames(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ra, rb pkix.RDNSequence
	if rest, err := asn1.Unmarshal(a, &ra); err != nil || len(rest) != 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &rb); err != nil || len(rest) != 0 {
		return false
	}
	return ra.String() == rb.String()
}

// nameString renders a DER Name for messages.
func nameString(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err == nil && len(rest) == 0 {
		return rdn.String()
	}
	return fmt.Sprintf("(unreadable name %x)", der)
}
