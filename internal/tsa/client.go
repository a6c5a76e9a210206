package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

const (
	// MaxResponseBytes bounds the TimeStampResp read from a TSA.
	MaxResponseBytes = 1 << 20
	// nonceBytes is the size of the random request nonce (RFC 3161
	// suggests at least 64 bits).
	nonceBytes = 16

	queryType = "application/timestamp-query"
	replyType = "application/timestamp-reply"
)

// Client asks one TSA for time-stamp tokens over HTTP (RFC 3161 section
// 3.4). The zero values of the optional fields are usable.
type Client struct {
	URL           string                // the TSA's http or https URL
	HTTP          *http.Client          // nil: http.DefaultClient
	Rand          io.Reader             // source of request nonces; nil: crypto/rand.Reader
	Roots         *x509.CertPool        // trusted roots for the TSA certificate; required
	Intermediates *x509.CertPool        // extra intermediates besides the token's own; optional
	Hash          crypto.Hash           // hash the digests are made with; 0: crypto.SHA256
	Policy        asn1.ObjectIdentifier // TSA policy to request and require; nil: the TSA's default
}

// Timestamp asks the TSA to time-stamp digest, the hash of the data with
// c.Hash (SHA-256 unless set). It sends a TimeStampReq with a random nonce
// and certReq set, checks that the request was granted, verifies the token
// as Verify does with c.Roots and c.Intermediates, and checks that it
// carries the request's imprint, nonce and (when c.Policy is set) policy.
// It returns the token's DER bytes, to be stored and later given to Verify,
// and what the token states.
func (c *Client) Timestamp(ctx context.Context, digest []byte) ([]byte, *Info, error) {
	token, info, err := c.timestamp(ctx, digest)
	if err != nil {
		return nil, nil, fmt.Errorf("tsa: timestamp from %s: %w", c.URL, err)
	}
	return token, info, nil
}

func (c *Client) timestamp(ctx context.Context, digest []byte) ([]byte, *Info, error) {
	h := c.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	if _, ok := oidByHash(h); !ok {
		return nil, nil, fmt.Errorf("hash %v is not supported (SHA-256, SHA-384, SHA-512): %w", h, chain.ErrInvalid)
	}
	if len(digest) != h.Size() {
		return nil, nil, fmt.Errorf("the digest is %d bytes, a %v digest is %d: %w", len(digest), h, h.Size(), chain.ErrInvalid)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("the TSA URL %q is not an http or https URL: %w", c.URL, chain.ErrInvalid)
	}
	if c.Roots == nil {
		return nil, nil, fmt.Errorf("no trusted roots for the TSA certificate: %w", chain.ErrInvalid)
	}
	nonce, err := c.nonce()
	if err != nil {
		return nil, nil, err
	}
	req, err := buildRequest(h, digest, c.Policy, nonce)
	if err != nil {
		return nil, nil, err
	}
	body, err := c.post(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	token, err := parseResponse(body)
	if err != nil {
		return nil, nil, err
	}
	info, err := verify(token, digest, c.Roots, c.Intermediates)
	if err != nil {
		return nil, nil, fmt.Errorf("the reply's token: %w", err)
	}
	if info.Hash != h {
		return nil, nil, fmt.Errorf("the token's imprint uses %v, the request %v: %w", info.Hash, h, ErrMismatch)
	}
	if info.Nonce == nil || info.Nonce.Cmp(nonce) != 0 {
		return nil, nil, fmt.Errorf("the token's nonce %v is not the request's %v (a replayed or misdirected reply): %w", info.Nonce, nonce, ErrMismatch)
	}
	if c.Policy != nil && !info.Policy.Equal(c.Policy) {
		return nil, nil, fmt.Errorf("the token's policy %v is not the requested %v: %w", info.Policy, c.Policy, ErrMismatch)
	}
	return token, info, nil
}

func (c *Client) nonce() (*big.Int, error) {
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [nonceBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("read a random nonce: %v", err)
	}
	n := new(big.Int).SetBytes(b[:])
	if n.Sign() == 0 {
		n.SetInt64(1) // a nonce of zero reads like a missing one in logs
	}
	return n, nil
}

func (c *Client) post(ctx context.Context, query []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(query))
	if err != nil {
		return nil, fmt.Errorf("build the HTTP request: %v", err)
	}
	req.Header.Set("Content-Type", queryType)
	req.Header.Set("Accept", replyType)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err // a *url.Error: "Post URL: ..."
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s: %q", resp.Status, snippet(body))
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("the reply is larger than %d bytes", MaxResponseBytes)
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || (mt != replyType && mt != "application/timestamp-response") {
		return nil, fmt.Errorf("the reply has Content-Type %q, not %s", resp.Header.Get("Content-Type"), replyType)
	}
	return body, nil
}

// snippet returns the start of a non-timestamp HTTP body for an error.
func snippet(b []byte) string {
	const max = 200
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// buildRequest encodes a TimeStampReq (RFC 3161 2.4.1).
func buildRequest(h crypto.Hash, digest []byte, policy asn1.ObjectIdentifier, nonce *big.Int) ([]byte, error) {
	oid, _ := oidByHash(h)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)                                        // version v1
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // messageImprint
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oid)
				b.AddASN1NULL()
			})
			b.AddASN1OctetString(digest)
		})
		if policy != nil {
			b.AddASN1ObjectIdentifier(policy)
		}
		b.AddASN1BigInt(nonce)
		b.AddASN1Boolean(true) // certReq: the token must carry the TSA certificate
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode the request: %v", err)
	}
	return der, nil
}

// PKIStatus values (RFC 3161 2.4.2).
var statusNames = []string{"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"}

// PKIFailureInfo bits (RFC 3161 2.4.2).
var failureNames = map[int]string{
	0: "badAlg", 2: "badRequest", 5: "badDataFormat", 14: "timeNotAvailable",
	15: "unacceptedPolicy", 16: "unacceptedExtension", 17: "addInfoNotAvailable", 25: "systemFailure",
}

// parseResponse reads a TimeStampResp and returns its token's DER when the
// status is granted (or grantedWithMods).
func parseResponse(der []byte) ([]byte, error) {
	in := cryptobyte.String(der)
	var resp, si cryptobyte.String
	var status int64
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !in.Empty() ||
		!resp.ReadASN1(&si, cbasn1.SEQUENCE) || !si.ReadASN1Integer(&status) {
		return nil, malformed("the reply is not a DER TimeStampResp")
	}
	var texts []string
	if si.PeekASN1Tag(cbasn1.SEQUENCE) {
		var free cryptobyte.String
		si.ReadASN1(&free, cbasn1.SEQUENCE)
		for !free.Empty() {
			var s cryptobyte.String
			if !free.ReadASN1(&s, cbasn1.UTF8String) {
				return nil, malformed("the reply's status text is not UTF8Strings")
			}
			texts = append(texts, strings.ToValidUTF8(string(s), "?"))
		}
	}
	var fails []string
	if si.PeekASN1Tag(cbasn1.BIT_STRING) {
		var bits asn1.BitString
		if !si.ReadASN1BitString(&bits) {
			return nil, malformed("the reply's failure info is not a BIT STRING")
		}
		for i := 0; i < bits.BitLength; i++ {
			if bits.At(i) == 1 {
				name, ok := failureNames[i]
				if !ok {
					name = fmt.Sprintf("failure bit %d", i)
				}
				fails = append(fails, name)
			}
		}
	}
	if !si.Empty() {
		return nil, malformed("the reply's status has trailing data")
	}
	if status != 0 && status != 1 {
		name := fmt.Sprintf("status %d", status)
		if status > 0 && status < int64(len(statusNames)) {
			name = statusNames[status]
		}
		msg := name
		if len(texts) > 0 {
			msg += ": " + strings.Join(texts, "; ")
		}
		if len(fails) > 0 {
			msg += " (" + strings.Join(fails, ", ") + ")"
		}
		return nil, fmt.Errorf("%s: %w", msg, ErrRejected)
	}
	var token cryptobyte.String
	if !resp.ReadASN1Element(&token, cbasn1.SEQUENCE) || !resp.Empty() {
		return nil, malformed("the reply is %s but holds no time-stamp token", statusNames[status])
	}
	return token, nil
}
