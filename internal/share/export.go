package share

import (
	"bytes"
	"context"
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
	"unicode"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// Paths of a package's files (under files/ in the archive).
const (
	CaseFile      = "case.json"
	SenderFile    = "sender-identity.txt"
	ExhibitsDir   = "exhibits/"
	maxAgencyLen  = 200 // casepack's bound of an agency name
	maxVersionLen = 64  // casepack's bound of a version
)

// ExportOptions say to whom and how a case is exported.
type ExportOptions struct {
	Recipient string   // the partner's age1… public key (vestigo case export --to)
	Redact    []string // parts to leave out (Redactions)
	Agency    string   // the sending agency's code (the manifest's origin)
	Version   string   // the sending Vestigo's version
	Now       time.Time
}

// invalidf is an invalid-input error of this package.
func invalidf(format string, a ...any) error {
	return fmt.Errorf("share: %s: %w", fmt.Sprintf(format, a...), casestore.ErrInvalid)
}

// checkKeys refuses incomplete keys before anything is read or written.
func checkKeys(k *casepack.Keys) error {
	if k == nil || k.Age == nil || len(k.Sign) != ed25519.PrivateKeySize {
		return errors.New("share: the installation keys are missing or incomplete")
	}
	return nil
}

// Export writes case caseID as a package for opt.Recipient, signed with k,
// to w, and returns its manifest. Everything the options say is checked
// before the case is read; the read is audited by the store ("export" of
// the case, and of each exhibit file). Exporting needs the right to change
// case content (admins and investigators: casestore.ExportCase refuses
// anyone else with ErrForbidden, audited).
func Export(ctx context.Context, st *casestore.Store, p casestore.Principal, caseID int64, k *casepack.Keys,
	opt ExportOptions, w io.Writer) (*casepack.Manifest, error) {
	redacted, err := parseRedactions(opt.Redact)
	if err != nil {
		return nil, err
	}
	to, err := age.ParseX25519Recipient(strings.TrimSpace(opt.Recipient))
	if err != nil {
		return nil, invalidf("recipient %q is not an age public key (age1…): %v", opt.Recipient, err)
	}
	if !oneLine(opt.Agency, maxAgencyLen) {
		return nil, invalidf("agency %q: give the sending agency's code (1 to %d bytes on one line)", opt.Agency, maxAgencyLen)
	}
	if !oneLine(opt.Version, maxVersionLen) {
		return nil, invalidf("version %q: 1 to %d bytes on one line", opt.Version, maxVersionLen)
	}
	if opt.Now.IsZero() {
		return nil, invalidf("the time of the export is not set")
	}
	if err := checkKeys(k); err != nil {
		return nil, err
	}
	ident, err := casepack.FormatIdentity(k.Identity(opt.Agency))
	if err != nil {
		return nil, invalidf("sender identity: %v", err)
	}
	m := casepack.Manifest{
		OriginAgency:   opt.Agency,
		Recipient:      to.String(),
		Created:        opt.Now.UTC(),
		VestigoVersion: opt.Version,
	}

	rec, err := st.ExportCase(ctx, p, caseID)
	if err != nil {
		return nil, fmt.Errorf("share: export: %w", err)
	}
	m.Redacted = redact(rec, redacted)
	m = withCase(m, rec.Case.Reference, rec.Case.Title)

	entries := []casepack.Entry{{Path: SenderFile, Data: ident}}
	seen := map[string]bool{}
	for _, ex := range rec.Exhibits {
		if seen[ex.SHA256] {
			continue
		}
		seen[ex.SHA256] = true
		data, err := readExhibit(ctx, st, p, ex)
		if err != nil {
			return nil, err
		}
		entries = append(entries, casepack.Entry{Path: ExhibitsDir + ex.SHA256, Data: data})
	}
	caseJSON, err := marshalCase(rec)
	if err != nil {
		return nil, err
	}
	entries = append(entries, casepack.Entry{Path: CaseFile, Data: caseJSON})

	if err := casepack.Write(w, m, entries, k, to); err != nil {
		return nil, fmt.Errorf("share: export: %w", err)
	}
	done := completeManifest(m, entries, k)
	return &done, nil
}

// oneLine tells whether s is 1 to max bytes of UTF-8 without control
// characters.
func oneLine(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func withCase(m casepack.Manifest, ref, title string) casepack.Manifest {
	m.CaseRef, m.Title = ref, title
	return m
}

// readExhibit reads an exhibit's file through the store, which checks its
// content against its SHA-256; the size must be the recorded one.
func readExhibit(ctx context.Context, st *casestore.Store, p casestore.Principal, ex casestore.Exhibit) ([]byte, error) {
	_, rc, err := st.OpenExhibit(ctx, p, ex.ID)
	if err != nil {
		return nil, fmt.Errorf("share: export: exhibit %d: %w", ex.ID, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, ex.Size+1))
	if err != nil {
		return nil, fmt.Errorf("share: export: exhibit %d (%s): %w", ex.ID, ex.Name, err)
	}
	if int64(len(data)) != ex.Size {
		return nil, fmt.Errorf("share: export: exhibit %d (%s): the file is not %d bytes as recorded", ex.ID, ex.Name, ex.Size)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != ex.SHA256 {
		return nil, fmt.Errorf("share: export: exhibit %d (%s): the file's content differs from its SHA-256", ex.ID, ex.Name)
	}
	return data, nil
}

// marshalCase is the one encoding of case.json: indented, HTML left as it
// is, a final newline.
func marshalCase(rec *casestore.CaseRecords) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("share: export: encode %s: %w", CaseFile, err)
	}
	return b.Bytes(), nil
}

// completeManifest is the manifest as casepack.Write completes it: format,
// sender key, entries sorted by path with their sizes and hashes.
func completeManifest(m casepack.Manifest, entries []casepack.Entry, k *casepack.Keys) casepack.Manifest {
	m.Format = casepack.FormatV1
	m.SenderKey = base64.StdEncoding.EncodeToString(k.SigningKey())
	m.SenderKeyID = casepack.KeyID(k.SigningKey())
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b casepack.Entry) int { return strings.Compare(a.Path, b.Path) })
	m.Entries = make([]casepack.ManifestEntry, len(sorted))
	for i, e := range sorted {
		sum := sha256.Sum256(e.Data)
		m.Entries[i] = casepack.ManifestEntry{Path: e.Path, Size: int64(len(e.Data)), SHA256: hex.EncodeToString(sum[:])}
	}
	return m
}
