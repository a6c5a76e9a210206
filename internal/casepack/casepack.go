package casepack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
)

// FormatV1 is the format of the packages this version reads and writes.
const FormatV1 = "vestigo-case-package/1"

// Names inside the archive.
const (
	manifestName = "manifest.json"
	sigName      = "manifest.sig"
	filesDir     = "files/"
)

// Errors of Read (see the package documentation). Test with errors.Is.
var (
	ErrNotForYou     = errors.New("package is not for this installation")
	ErrSignature     = errors.New("bad signature")
	ErrTampered      = errors.New("package was tampered with")
	ErrUnsafePath    = errors.New("unsafe path")
	ErrTooLarge      = errors.New("package too large")
	ErrFormat        = errors.New("not a case package")
	ErrUnknownSender = errors.New("unknown sender")
)

// Entry is one file of a package: a case record (JSON) or an exhibit. Path
// is relative to files/ in the archive, slash-separated.
type Entry struct {
	Path string
	Data []byte
}

// Manifest describes a package. The caller of Write fills the case, agency,
// recipient, time, version and redaction fields; Write fills Format, the
// sender's key and key id and Entries.
type Manifest struct {
	Format         string          `json:"format"`          // FormatV1
	CaseRef        string          `json:"case_ref"`        // the sender's reference of the case
	Title          string          `json:"title"`           // the case's title (may be empty)
	OriginAgency   string          `json:"origin_agency"`   // the sending agency, as it names itself
	SenderKey      string          `json:"sender_key"`      // base64 of the sender's ed25519 public key
	SenderKeyID    string          `json:"sender_key_id"`   // KeyID of SenderKey
	Recipient      string          `json:"recipient"`       // the age recipient the package is addressed to
	Created        time.Time       `json:"created"`         // when the package was made (UTC)
	VestigoVersion string          `json:"vestigo_version"` // the version of the sending vestigo
	Redacted       []string        `json:"redacted"`        // fields the sender removed (--redact)
	Entries        []ManifestEntry `json:"entries"`         // every file, sorted by path
}

// ManifestEntry is one file as the manifest records it.
type ManifestEntry struct {
	Path   string `json:"path"`   // relative to files/
	Size   int64  `json:"size"`   // bytes
	SHA256 string `json:"sha256"` // lower-case hex
}

const (
	maxCaseRef   = 256
	maxTitle     = 1024
	maxVersion   = 64
	maxRecipient = 4096
	maxRedacted  = 1000
	maxField     = 256
)

// checkHeader checks the manifest's fields other than the entries and the
// sender's key.
func (m *Manifest) checkHeader() error {
	if m.Format != FormatV1 {
		return fmt.Errorf("unknown format %q, want %q", m.Format, FormatV1)
	}
	for _, f := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"case_ref", m.CaseRef, maxCaseRef, true},
		{"title", m.Title, maxTitle, false},
		{"origin_agency", m.OriginAgency, maxAgency, true},
		{"recipient", m.Recipient, maxRecipient, true},
		{"vestigo_version", m.VestigoVersion, maxVersion, true},
	} {
		if err := checkText(f.name, f.v, f.max, f.required); err != nil {
			return err
		}
	}
	if strings.ContainsAny(m.Recipient, " \t") {
		return fmt.Errorf("recipient %q holds a space", m.Recipient)
	}
	if m.Created.IsZero() {
		return errors.New("created is not set")
	}
	if len(m.Redacted) > maxRedacted {
		return fmt.Errorf("over %d redacted fields", maxRedacted)
	}
	seen := map[string]bool{}
	for _, f := range m.Redacted {
		if err := checkText("redacted field", f, maxField, true); err != nil {
			return err
		}
		if seen[f] {
			return fmt.Errorf("redacted field %q is listed twice", f)
		}
		seen[f] = true
	}
	return nil
}

// senderKey decodes SenderKey and checks SenderKeyID.
func (m *Manifest) senderKey() (ed25519.PublicKey, error) {
	pub, err := base64.StdEncoding.Strict().DecodeString(m.SenderKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("sender_key %q is not a base64 ed25519 public key", m.SenderKey)
	}
	if id := KeyID(pub); m.SenderKeyID != id {
		return nil, fmt.Errorf("sender_key_id %q is not the key id of sender_key (%s)", m.SenderKeyID, id)
	}
	return pub, nil
}

// marshalManifest is the one canonical encoding of a manifest.
func marshalManifest(m *Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write writes a package: the archive WritePlain writes, encrypted with age
// to the recipients. An empty m.Recipient is set to the first recipient when
// that is an X25519 recipient; a set one must be the text form of one of the
// recipients that have one.
func Write(w io.Writer, m Manifest, entries []Entry, k *Keys, recipients ...age.Recipient) error {
	if len(recipients) == 0 {
		return errors.New("casepack: no recipient to encrypt to")
	}
	var names []string
	for _, r := range recipients {
		if s, ok := r.(fmt.Stringer); ok {
			names = append(names, s.String())
		}
	}
	if m.Recipient == "" {
		x, ok := recipients[0].(*age.X25519Recipient)
		if !ok {
			return errors.New("casepack: manifest recipient is empty and the first recipient is not an X25519 key")
		}
		m.Recipient = x.String()
	} else if len(names) > 0 && !slices.Contains(names, m.Recipient) {
		return fmt.Errorf("casepack: manifest recipient %q is none of the recipients it is encrypted to", m.Recipient)
	}
	ew, err := age.Encrypt(w, recipients...)
	if err != nil {
		return fmt.Errorf("casepack: encrypting: %w", err)
	}
	if err := WritePlain(ew, m, entries, k); err != nil {
		return err
	}
	if err := ew.Close(); err != nil {
		return fmt.Errorf("casepack: encrypting: %w", err)
	}
	return nil
}

// WritePlain writes the unencrypted archive of a package: gzip (no name,
// zero mtime) of a tar with manifest.json, manifest.sig and the entries
// under files/ sorted by path. It is deterministic: the same manifest,
// entries and keys give the same bytes. m.Recipient must be set; m.Entries
// must be empty (WritePlain computes them); m.Format may be empty or
// FormatV1; m.SenderKey and m.SenderKeyID may be empty or k's. Created is
// stored in UTC.
func WritePlain(w io.Writer, m Manifest, entries []Entry, k *Keys) error {
	if err := k.check(); err != nil {
		return err
	}
	files, mj, err := prepare(&m, entries, k)
	if err != nil {
		return err
	}
	sig := ed25519.Sign(k.Sign, mj)
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return fmt.Errorf("casepack: %w", err)
	}
	tw := tar.NewWriter(zw)
	mtime := m.Created.Truncate(time.Second)
	put := func(name string, data []byte) error {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Size:     int64(len(data)),
			Mode:     0o644,
			ModTime:  mtime,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("casepack: writing %s: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("casepack: writing %s: %w", name, err)
		}
		return nil
	}
	if err := put(manifestName, mj); err != nil {
		return err
	}
	if err := put(sigName, sig); err != nil {
		return err
	}
	for _, e := range files {
		if err := put(filesDir+e.Path, e.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("casepack: writing the archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("casepack: writing the archive: %w", err)
	}
	return nil
}

// prepare completes and checks the manifest and returns the entries sorted
// by path and the manifest's bytes.
func prepare(m *Manifest, entries []Entry, k *Keys) ([]Entry, []byte, error) {
	if m.Format == "" {
		m.Format = FormatV1
	}
	pub := k.SigningKey()
	if m.SenderKey == "" {
		m.SenderKey = base64.StdEncoding.EncodeToString(pub)
	} else if m.SenderKey != base64.StdEncoding.EncodeToString(pub) {
		return nil, nil, errors.New("casepack: manifest sender_key is not the signing key")
	}
	if m.SenderKeyID == "" {
		m.SenderKeyID = KeyID(pub)
	}
	if _, err := m.senderKey(); err != nil {
		return nil, nil, fmt.Errorf("casepack: manifest: %w", err)
	}
	m.Created = m.Created.UTC()
	if m.Redacted == nil {
		m.Redacted = []string{}
	}
	if err := m.checkHeader(); err != nil {
		return nil, nil, fmt.Errorf("casepack: manifest: %w", err)
	}
	if len(m.Entries) != 0 {
		return nil, nil, errors.New("casepack: manifest entries are computed by Write, leave them empty")
	}
	files := slices.Clone(entries)
	slices.SortFunc(files, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	set := newPathSet()
	m.Entries = make([]ManifestEntry, 0, len(files))
	for _, e := range files {
		if err := checkPath(e.Path); err != nil {
			return nil, nil, fmt.Errorf("casepack: entry: %w", err)
		}
		if err := set.add(e.Path); err != nil {
			return nil, nil, fmt.Errorf("casepack: entry: %w", err)
		}
		sum := sha256.Sum256(e.Data)
		m.Entries = append(m.Entries, ManifestEntry{Path: e.Path, Size: int64(len(e.Data)), SHA256: hex.EncodeToString(sum[:])})
	}
	mj, err := marshalManifest(m)
	if err != nil {
		return nil, nil, fmt.Errorf("casepack: manifest: %w", err)
	}
	return files, mj, nil
}

// parseManifest decodes manifest.json: the format first (so a newer version
// is named as such), then strictly (no unknown fields, one JSON value).
// Errors wrap ErrFormat.
func parseManifest(data []byte) (*Manifest, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrFormat, err)
	}
	if head.Format != FormatV1 {
		return nil, fmt.Errorf("%w: unknown format %q, this version reads %q", ErrFormat, head.Format, FormatV1)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrFormat, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: manifest.json: data after the manifest", ErrFormat)
	}
	return &m, nil
}
