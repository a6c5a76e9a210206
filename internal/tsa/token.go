package tsa

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strconv"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// token is a parsed TimeStampToken: a CMS ContentInfo holding SignedData
// whose content is a TSTInfo.
type token struct {
	digestAlgs []crypto.Hash       // SignedData.digestAlgorithms
	tstDER     []byte              // the encapsulated TSTInfo, as signed
	tst        tstInfo             // parsed from tstDER
	certs      []*x509.Certificate // SignedData.certificates (X.509 ones)
	signer     signerInfo
}

// signerInfo is the one SignerInfo of a time-stamp token.
type signerInfo struct {
	issuer      []byte   // issuerAndSerialNumber: raw Name; nil with a key identifier
	serial      *big.Int // issuerAndSerialNumber: serial
	keyID       []byte   // subjectKeyIdentifier; nil with issuer and serial
	digest      crypto.Hash
	signedAttrs []byte // the [0] IMPLICIT element as received
	attrs       signedAttrs
	sigAlg      asn1.ObjectIdentifier
	signature   []byte
}

// signedAttrs are the signed attributes this package reads.
type signedAttrs struct {
	contentType   asn1.ObjectIdentifier
	messageDigest []byte
	essV1         []cryptobyte.String // values of signingCertificate
	essV2         []cryptobyte.String // values of signingCertificateV2
}

// tstInfo is a parsed TSTInfo (RFC 3161 section 2.4.2).
type tstInfo struct {
	policy   asn1.ObjectIdentifier
	hash     crypto.Hash
	imprint  []byte
	serial   *big.Int
	genTime  time.Time
	accuracy time.Duration
	ordering bool
	nonce    *big.Int
	name     *generalName // nil when absent
}

// generalName is the TSTInfo's tsa field.
type generalName struct {
	tag   int    // the GeneralName CHOICE: 1 rfc822Name, 2 dNSName, 4 directoryName, 6 URI, ...
	value []byte // directoryName: the raw Name (a SEQUENCE); string forms: the text
}

func (n *generalName) String() string {
	switch n.tag {
	case 4:
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(n.value, &rdn); err == nil && len(rest) == 0 {
			return rdn.String()
		}
		return "(unreadable directory name)"
	case 1, 2, 6:
		return string(n.value)
	}
	return "(GeneralName of kind " + strconv.Itoa(n.tag) + ")"
}

// parseToken parses the DER of a TimeStampToken without judging it.
func parseToken(der []byte) (*token, error) {
	in := cryptobyte.String(der)
	var ci, content, sd cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("token is not one DER ContentInfo")
	}
	if !ci.ReadASN1ObjectIdentifier(&ct) {
		return nil, malformed("ContentInfo has no content type")
	}
	if !ct.Equal(oidSignedData) {
		return nil, malformed("content type %v is not CMS signedData", ct)
	}
	if !ci.ReadASN1(&content, tagCtx0Cons) || !ci.Empty() ||
		!content.ReadASN1(&sd, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, malformed("ContentInfo content is not one SignedData")
	}

	t := &token{}
	var version int64
	if !sd.ReadASN1Integer(&version) {
		return nil, malformed("SignedData has no version")
	}
	if version != 3 { // RFC 5652 5.1: 3 when the content type is not id-data
		return nil, malformed("SignedData version %d, want 3", version)
	}
	var algs cryptobyte.String
	if !sd.ReadASN1(&algs, cbasn1.SET) {
		return nil, malformed("SignedData has no digestAlgorithms")
	}
	for !algs.Empty() {
		h, err := readDigestAlgorithm(&algs, "SignedData digestAlgorithms")
		if err != nil {
			return nil, err
		}
		t.digestAlgs = append(t.digestAlgs, h)
	}

	var eci, econtent, octets cryptobyte.String
	var ect asn1.ObjectIdentifier
	if !sd.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&ect) {
		return nil, malformed("SignedData has no encapsulated content")
	}
	if !ect.Equal(oidTSTInfo) {
		return nil, malformed("encapsulated content type %v is not id-ct-TSTInfo", ect)
	}
	if !eci.ReadASN1(&econtent, tagCtx0Cons) || !eci.Empty() ||
		!econtent.ReadASN1(&octets, cbasn1.OCTET_STRING) || !econtent.Empty() {
		return nil, malformed("encapsulated TSTInfo is missing or not one OCTET STRING")
	}
	t.tstDER = octets
	tst, err := parseTSTInfo(octets)
	if err != nil {
		return nil, err
	}
	t.tst = *tst

	var certs cryptobyte.String
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certs, &hasCerts, tagCtx0Cons) {
		return nil, malformed("SignedData certificates are not readable")
	}
	for hasCerts && !certs.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&el, &tag) {
			return nil, malformed("SignedData certificates are not readable")
		}
		if tag != cbasn1.SEQUENCE {
			continue // another CertificateChoices (attribute certificate, other): not used
		}
		c, err := x509.ParseCertificate(el)
		if err != nil {
			return nil, malformed("certificate %d in the token: %v", len(t.certs)+1, err)
		}
		t.certs = append(t.certs, c)
	}
	if !sd.SkipOptionalASN1(tagCtx1Cons) { // crls: not used
		return nil, malformed("SignedData crls are not readable")
	}
	var infos, si cryptobyte.String
	if !sd.ReadASN1(&infos, cbasn1.SET) || !sd.Empty() {
		return nil, malformed("SignedData has no signerInfos or trailing data")
	}
	if !infos.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, malformed("token has no SignerInfo")
	}
	if !infos.Empty() {
		return nil, malformed("token has more than one SignerInfo (RFC 3161 allows only the TSA's)")
	}
	signer, err := parseSignerInfo(si)
	if err != nil {
		return nil, err
	}
	t.signer = *signer
	found := false
	for _, h := range t.digestAlgs {
		found = found || h == signer.digest
	}
	if !found {
		return nil, malformed("signer's digest algorithm %v is not among SignedData digestAlgorithms", signer.digest)
	}
	return t, nil
}

func parseSignerInfo(si cryptobyte.String) (*signerInfo, error) {
	s := &signerInfo{}
	var version int64
	if !si.ReadASN1Integer(&version) {
		return nil, malformed("SignerInfo has no version")
	}
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, name cryptobyte.String
		s.serial = new(big.Int)
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(s.serial) || !ias.Empty() {
			return nil, malformed("SignerInfo issuerAndSerialNumber is not readable")
		}
		s.issuer = name
		if version != 1 {
			return nil, malformed("SignerInfo version %d with issuerAndSerialNumber, want 1", version)
		}
	case si.PeekASN1Tag(tagCtx0Prim):
		var kid cryptobyte.String
		if !si.ReadASN1(&kid, tagCtx0Prim) || len(kid) == 0 {
			return nil, malformed("SignerInfo subjectKeyIdentifier is not readable")
		}
		s.keyID = kid
		if version != 3 {
			return nil, malformed("SignerInfo version %d with subjectKeyIdentifier, want 3", version)
		}
	default:
		return nil, malformed("SignerInfo has no signer identifier")
	}
	var err error
	if s.digest, err = readDigestAlgorithm(&si, "SignerInfo digestAlgorithm"); err != nil {
		return nil, err
	}
	var attrs cryptobyte.String
	if !si.ReadASN1Element(&attrs, tagCtx0Cons) {
		return nil, malformed("SignerInfo has no signed attributes")
	}
	s.signedAttrs = attrs
	if s.attrs, err = parseSignedAttrs(attrs); err != nil {
		return nil, err
	}
	oid, params, ok := readAlgorithm(&si)
	if !ok || !isNullOrAbsent(params) {
		return nil, malformed("SignerInfo signatureAlgorithm is not readable")
	}
	s.sigAlg = oid
	var sig cryptobyte.String
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) || len(sig) == 0 {
		return nil, malformed("SignerInfo has no signature")
	}
	s.signature = sig
	if !si.SkipOptionalASN1(tagCtx1Cons) || !si.Empty() { // unsignedAttrs: not used
		return nil, malformed("SignerInfo has trailing data")
	}
	return s, nil
}

// parseSignedAttrs reads the signed attributes element ([0] IMPLICIT SET
// OF Attribute). Each attribute type may occur once.
func parseSignedAttrs(el cryptobyte.String) (signedAttrs, error) {
	var a signedAttrs
	var set cryptobyte.String
	if !el.ReadASN1(&set, tagCtx0Cons) {
		return a, malformed("signed attributes are not readable")
	}
	seen := map[string]bool{}
	for !set.Empty() {
		var attr, values cryptobyte.String
		var typ asn1.ObjectIdentifier
		if !set.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&typ) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return a, malformed("a signed attribute is not readable")
		}
		if seen[typ.String()] {
			return a, malformed("signed attribute %v occurs twice", typ)
		}
		seen[typ.String()] = true
		var vals []cryptobyte.String
		for !values.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !values.ReadAnyASN1Element(&v, &tag) {
				return a, malformed("signed attribute %v has an unreadable value", typ)
			}
			vals = append(vals, v)
		}
		switch {
		case typ.Equal(oidContentType):
			if len(vals) != 1 || !vals[0].ReadASN1ObjectIdentifier(&a.contentType) || !vals[0].Empty() {
				return a, malformed("content-type attribute is not one object identifier")
			}
		case typ.Equal(oidMessageDigst):
			var d cryptobyte.String
			if len(vals) != 1 || !vals[0].ReadASN1(&d, cbasn1.OCTET_STRING) || !vals[0].Empty() {
				return a, malformed("message-digest attribute is not one OCTET STRING")
			}
			a.messageDigest = d
		case typ.Equal(oidSigningCert):
			a.essV1 = vals
		case typ.Equal(oidSigningCert2):
			a.essV2 = vals
		}
	}
	if a.contentType == nil {
		return a, malformed("signed attributes have no content type")
	}
	if a.messageDigest == nil {
		return a, malformed("signed attributes have no message digest")
	}
	return a, nil
}

// parseTSTInfo parses the DER of a TSTInfo.
func parseTSTInfo(der []byte) (*tstInfo, error) {
	in := cryptobyte.String(der)
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("TSTInfo is not one SEQUENCE")
	}
	t := &tstInfo{serial: new(big.Int)}
	var version int64
	if !s.ReadASN1Integer(&version) || version != 1 {
		return nil, malformed("TSTInfo version is not 1")
	}
	if !s.ReadASN1ObjectIdentifier(&t.policy) {
		return nil, malformed("TSTInfo has no policy")
	}
	var mi, imprint cryptobyte.String
	if !s.ReadASN1(&mi, cbasn1.SEQUENCE) {
		return nil, malformed("TSTInfo has no message imprint")
	}
	h, err := readDigestAlgorithm(&mi, "TSTInfo message imprint")
	if err != nil {
		return nil, err
	}
	if !mi.ReadASN1(&imprint, cbasn1.OCTET_STRING) || !mi.Empty() {
		return nil, malformed("TSTInfo message imprint has no hash")
	}
	if len(imprint) != h.Size() {
		return nil, malformed("TSTInfo message imprint is %d bytes, %v gives %d", len(imprint), h, h.Size())
	}
	t.hash, t.imprint = h, imprint
	if !s.ReadASN1Integer(t.serial) {
		return nil, malformed("TSTInfo has no serial number")
	}
	var gt cryptobyte.String
	if !s.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return nil, malformed("TSTInfo has no genTime")
	}
	if t.genTime, err = parseGeneralizedTime(gt); err != nil {
		return nil, malformed("TSTInfo genTime: %v", err)
	}
	if s.PeekASN1Tag(cbasn1.SEQUENCE) {
		var acc cryptobyte.String
		s.ReadASN1(&acc, cbasn1.SEQUENCE)
		if t.accuracy, err = parseAccuracy(acc); err != nil {
			return nil, err
		}
	}
	if s.PeekASN1Tag(cbasn1.BOOLEAN) && !s.ReadASN1Boolean(&t.ordering) {
		return nil, malformed("TSTInfo ordering is not a BOOLEAN")
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		t.nonce = new(big.Int)
		if !s.ReadASN1Integer(t.nonce) {
			return nil, malformed("TSTInfo nonce is not an INTEGER")
		}
	}
	if s.PeekASN1Tag(tagCtx0Cons) {
		var n, el cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadASN1(&n, tagCtx0Cons) || !n.ReadAnyASN1Element(&el, &tag) || !n.Empty() {
			return nil, malformed("TSTInfo tsa name is not one GeneralName")
		}
		if t.name, err = parseGeneralName(el, tag); err != nil {
			return nil, err
		}
	}
	if s.PeekASN1Tag(tagCtx1Cons) {
		var exts cryptobyte.String
		s.ReadASN1(&exts, tagCtx1Cons)
		if err := checkExtensions(exts); err != nil {
			return nil, err
		}
	}
	if !s.Empty() {
		return nil, malformed("TSTInfo has unexpected trailing fields")
	}
	return t, nil
}

// parseAccuracy reads Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL,
// millis [0] INTEGER (1..999) OPTIONAL, micros [1] INTEGER (1..999) OPTIONAL }.
func parseAccuracy(s cryptobyte.String) (time.Duration, error) {
	var secs, millis, micros int64
	if s.PeekASN1Tag(cbasn1.INTEGER) && (!s.ReadASN1Integer(&secs) || secs < 0 || secs > 1<<32) {
		return 0, malformed("TSTInfo accuracy seconds out of range")
	}
	if s.PeekASN1Tag(tagCtx0Prim) && (!s.ReadASN1Int64WithTag(&millis, tagCtx0Prim) || millis < 1 || millis > 999) {
		return 0, malformed("TSTInfo accuracy millis out of range")
	}
	if s.PeekASN1Tag(tagCtx1Prim) && (!s.ReadASN1Int64WithTag(&micros, tagCtx1Prim) || micros < 1 || micros > 999) {
		return 0, malformed("TSTInfo accuracy micros out of range")
	}
	if !s.Empty() {
		return 0, malformed("TSTInfo accuracy is not readable")
	}
	return time.Duration(secs)*time.Second + time.Duration(millis)*time.Millisecond +
		time.Duration(micros)*time.Microsecond, nil
}

// parseGeneralName reads the GeneralName of the TSTInfo's tsa field.
func parseGeneralName(el cryptobyte.String, tag cbasn1.Tag) (*generalName, error) {
	var body cryptobyte.String
	switch tag {
	case cbasn1.Tag(4).Constructed().ContextSpecific(): // directoryName [4] EXPLICIT Name
		var name cryptobyte.String
		if !el.ReadASN1(&body, tag) || !body.ReadASN1Element(&name, cbasn1.SEQUENCE) || !body.Empty() {
			return nil, malformed("TSTInfo tsa directoryName is not a Name")
		}
		return &generalName{tag: 4, value: name}, nil
	case cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific(), cbasn1.Tag(6).ContextSpecific():
		if !el.ReadASN1(&body, tag) {
			return nil, malformed("TSTInfo tsa name is not readable")
		}
		return &generalName{tag: int(tag & 0x1f), value: body}, nil
	}
	return &generalName{tag: int(tag & 0x1f), value: el}, nil
}

// checkExtensions rejects TSTInfo extensions marked critical: RFC 3161
// defines none, so this package cannot honour any.
func checkExtensions(s cryptobyte.String) error {
	for !s.Empty() {
		var ext, val cryptobyte.String
		var oid asn1.ObjectIdentifier
		critical := false
		if !s.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
			!ext.ReadOptionalASN1Boolean(&critical, cbasn1.BOOLEAN, false) ||
			!ext.ReadASN1(&val, cbasn1.OCTET_STRING) || !ext.Empty() {
			return malformed("TSTInfo extensions are not readable")
		}
		if critical {
			return malformed("TSTInfo has the critical extension %v, which this verifier does not know", oid)
		}
	}
	return nil
}
