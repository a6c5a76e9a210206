package casepack

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	"filippo.io/age"
)

// Identity is the public identity of an installation, what a partner agency
// is given and keeps in its list of known senders: the agency's name, the
// key that verifies its packages and the age recipient packages for it are
// encrypted to.
type Identity struct {
	Agency     string            // e.g. "KOS-PD" or "Kosovo Police, Cyber Crime Unit"
	SigningKey ed25519.PublicKey // verifies the packages it sends
	Recipient  string            // age1…: where packages for it are encrypted to
}

const (
	identityHeader = "vestigo-identity v1"
	maxAgency      = 200
	maxIdentity    = 4 << 10
)

// Identity is the public identity of k under the given agency name.
func (k *Keys) Identity(agency string) Identity {
	return Identity{Agency: agency, SigningKey: k.SigningKey(), Recipient: k.Recipient()}
}

// KeyID is the fingerprint of the identity's signing key (see KeyID).
func (id Identity) KeyID() string { return KeyID(id.SigningKey) }

// AgeRecipient parses the identity's recipient for Write.
func (id Identity) AgeRecipient() (*age.X25519Recipient, error) {
	r, err := age.ParseX25519Recipient(id.Recipient)
	if err != nil {
		return nil, fmt.Errorf("casepack: identity of %q: recipient: %w", id.Agency, err)
	}
	return r, nil
}

func (id Identity) check() error {
	if err := checkText("agency", id.Agency, maxAgency, true); err != nil {
		return err
	}
	if len(id.SigningKey) != ed25519.PublicKeySize {
		return fmt.Errorf("signing key has %d bytes, want %d", len(id.SigningKey), ed25519.PublicKeySize)
	}
	if _, err := age.ParseX25519Recipient(id.Recipient); err != nil {
		return fmt.Errorf("recipient %q: %v", id.Recipient, err)
	}
	return nil
}

// FormatIdentity writes id as text:
//
//	vestigo-identity v1
//	agency: KOS-PD
//	key-id: 0123456789abcdef
//	signing-key: <base64 of the 32-byte ed25519 public key>
//	recipient: age1…
func FormatIdentity(id Identity) ([]byte, error) {
	if err := id.check(); err != nil {
		return nil, fmt.Errorf("casepack: identity: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nagency: %s\nkey-id: %s\nsigning-key: %s\nrecipient: %s\n", identityHeader,
		id.Agency, id.KeyID(), base64.StdEncoding.EncodeToString(id.SigningKey), id.Recipient)
	return b.Bytes(), nil
}

// ParseIdentity reads what FormatIdentity writes: the same five lines in the
// same order (CRLF line ends and a missing last line end are accepted). The
// key id must be the fingerprint of the signing key. Errors wrap ErrFormat.
func ParseIdentity(data []byte) (Identity, error) {
	fail := func(format string, a ...any) (Identity, error) {
		return Identity{}, fmt.Errorf("casepack: identity: %w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	if len(data) > maxIdentity {
		return fail("over %d bytes", maxIdentity)
	}
	text := strings.TrimSuffix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	lines := strings.Split(text, "\n")
	if lines[0] != identityHeader {
		return fail("does not start with %q", identityHeader)
	}
	keys := []string{"agency", "key-id", "signing-key", "recipient"}
	if len(lines) != 1+len(keys) {
		return fail("%d lines, want %d", len(lines), 1+len(keys))
	}
	vals := make([]string, len(keys))
	for i, k := range keys {
		v, ok := strings.CutPrefix(lines[i+1], k+": ")
		if !ok {
			return fail("line %d: want %q", i+2, k+": …")
		}
		vals[i] = v
	}
	pub, err := base64.StdEncoding.Strict().DecodeString(vals[2])
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fail("signing-key is not a base64 ed25519 public key")
	}
	id := Identity{Agency: vals[0], SigningKey: ed25519.PublicKey(pub), Recipient: vals[3]}
	if err := id.check(); err != nil {
		return fail("%v", err)
	}
	if vals[1] != id.KeyID() {
		return fail("key-id %s is not the fingerprint of the signing key (%s)", vals[1], id.KeyID())
	}
	return id, nil
}
