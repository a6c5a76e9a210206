package share

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// ImportOptions say whom Import trusts and how much it reads.
type ImportOptions struct {
	Partners      []casepack.Identity // known senders (the caller loads them)
	AcceptUnknown bool                // import from a sender not among Partners (reported as such)
	Limits        casepack.Limits     // zero fields: casepack.DefaultLimits
}

// ImportReport says what Import created and from whom.
type ImportReport struct {
	Case casestore.Case // the new case of the importing agency
	// Sender is the known partner whose key signed the package; for an
	// unknown sender (AcceptUnknown), the identity the package claims
	// (sender-identity.txt, or the manifest's agency and key).
	Sender        casepack.Identity
	SenderKeyID   string // the signing key's id
	ClaimedAgency string // the manifest's origin agency, as the sender names itself
	KnownSender   bool
	Manifest      casepack.Manifest
	Digest        string // hex SHA-256 of the package file, recorded as the case's origin
	Exhibits      int    // exhibit records
	Files         int    // exhibit files (one per content)
	Items         int
	Findings      int
	AuditRecords  int                     // the sender's audit records in the package
	SenderAudit   []casestore.AuditRecord // those records, as the package carries them
}

// content is a package's files, checked against each other.
type content struct {
	rec    *casestore.CaseRecords
	files  map[string][]byte // exhibit SHA-256 → content
	sender *casepack.Identity
}

// Import reads a package sent to this installation (k's age identity),
// checks it and its sender, stores its exhibit files and creates the case
// in the principal's agency. See the package documentation for what is
// checked; nothing is stored before every check has passed.
func Import(ctx context.Context, st *casestore.Store, p casestore.Principal, r io.Reader, k *casepack.Keys,
	opt ImportOptions) (*ImportReport, error) {
	if err := checkKeys(k); err != nil {
		return nil, err
	}
	pkg, err := casepack.Read(r, []age.Identity{k.Age}, opt.Limits)
	if err != nil {
		return nil, fmt.Errorf("share: import: %w", err)
	}
	rep := &ImportReport{Manifest: pkg.Manifest, Digest: pkg.Digest, SenderKeyID: casepack.KeyID(pkg.SenderKey),
		ClaimedAgency: pkg.Manifest.OriginAgency}
	sender, err := pkg.Sender(opt.Partners)
	switch {
	case err == nil:
		rep.Sender, rep.KnownSender = sender, true
	case !errors.Is(err, casepack.ErrUnknownSender) || !opt.AcceptUnknown:
		return nil, fmt.Errorf("share: import: %w", err)
	}
	c, err := parseContent(pkg)
	if err != nil {
		return nil, fmt.Errorf("share: import: %w", err)
	}
	if !rep.KnownSender {
		rep.Sender = casepack.Identity{Agency: pkg.Manifest.OriginAgency, SigningKey: pkg.SenderKey}
		if c.sender != nil {
			rep.Sender = *c.sender
		}
	}
	origin := casestore.Origin{Agency: pkg.Manifest.OriginAgency, PackageDigest: pkg.Digest, SenderKeyID: rep.SenderKeyID}
	// Every record is checked as ImportCase will check it before a file is
	// stored: a package whose records are refused stores nothing.
	if err := casestore.CheckImport(c.rec, origin); err != nil {
		return nil, fmt.Errorf("share: import: %w: %s: %w", casepack.ErrFormat, CaseFile, err)
	}
	if err := referenceFree(ctx, st, p, c.rec.Case.Reference); err != nil {
		return nil, err
	}
	var added []string // files this import added to the exhibit store
	fail := func(err error) (*ImportReport, error) {
		return nil, errors.Join(err, removeAdded(ctx, st, added))
	}
	for _, ex := range c.rec.Exhibits {
		data, ok := c.files[ex.SHA256]
		if !ok {
			continue // stored already (two exhibits of one content)
		}
		f, err := st.StoreExhibitContent(ctx, p, bytes.NewReader(data))
		if err != nil {
			return fail(fmt.Errorf("share: import: store exhibit file %s: %w", ex.SHA256, err))
		}
		if f.New {
			added = append(added, f.SHA256)
		}
		if f.SHA256 != ex.SHA256 || f.Size != ex.Size {
			return fail(fmt.Errorf("share: import: exhibit file %s was stored as %s (%d bytes)", ex.SHA256, f.SHA256, f.Size))
		}
		delete(c.files, ex.SHA256)
		rep.Files++
	}
	if rep.Case, err = st.ImportCase(ctx, p, c.rec, origin); err != nil {
		return fail(fmt.Errorf("share: import: %w", err))
	}
	rep.Exhibits, rep.Items, rep.Findings = len(c.rec.Exhibits), len(c.rec.Items), len(c.rec.Findings)
	rep.AuditRecords, rep.SenderAudit = len(c.rec.Audit), c.rec.Audit
	return rep, nil
}

// removeAdded removes, after a failed import, the exhibit files the import
// added, unless an exhibit of the store refers to them by now.
func removeAdded(ctx context.Context, st *casestore.Store, added []string) error {
	var errs []error
	for _, sum := range added {
		if _, err := st.RemoveUnusedExhibitFile(context.WithoutCancel(ctx), sum); err != nil {
			errs = append(errs, fmt.Errorf("share: import: clean up: %w", err))
		}
	}
	return errors.Join(errs...)
}

// referenceFree refuses a case reference the principal's agency already
// uses, before any file is stored (ImportCase checks it again, atomically).
func referenceFree(ctx context.Context, st *casestore.Store, p casestore.Principal, ref string) error {
	const page = 1000
	for off := 0; ; off += page {
		cases, err := st.ListCases(ctx, p, casestore.CaseFilter{Limit: page, Offset: off})
		if err != nil {
			return fmt.Errorf("share: import: %w", err)
		}
		for _, c := range cases {
			if c.Reference == ref {
				return fmt.Errorf("share: import: the agency already has a case %q (case %d): %w", ref, c.ID, casestore.ErrConflict)
			}
		}
		if len(cases) < page {
			return nil
		}
	}
}

// formatErr is an inconsistency of a signed package's content.
func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", casepack.ErrFormat, fmt.Sprintf(format, a...))
}

// parseContent checks a package's files against each other: case.json
// parses strictly and names the manifest's case, every exhibit has its file
// (SHA-256 and size), every file is referenced, the sender identity, if
// present, is the key that signed the package. Errors wrap
// casepack.ErrFormat.
func parseContent(pkg *casepack.Package) (*content, error) {
	c := &content{files: map[string][]byte{}}
	var caseJSON []byte
	haveCase := false
	for _, e := range pkg.Entries {
		switch {
		case e.Path == CaseFile:
			caseJSON, haveCase = e.Data, true
		case e.Path == SenderFile:
			id, err := casepack.ParseIdentity(e.Data)
			if err != nil {
				return nil, formatErr("%s: %v", SenderFile, err)
			}
			if !bytes.Equal(id.SigningKey, pkg.SenderKey) {
				return nil, formatErr("%s names key %s, the package is signed by %s", SenderFile, id.KeyID(), casepack.KeyID(pkg.SenderKey))
			}
			c.sender = &id
		case strings.HasPrefix(e.Path, ExhibitsDir) && isSHA256(strings.TrimPrefix(e.Path, ExhibitsDir)):
			c.files[strings.TrimPrefix(e.Path, ExhibitsDir)] = e.Data
		default:
			return nil, formatErr("unexpected file %q in the package", e.Path)
		}
	}
	if !haveCase {
		return nil, formatErr("%s is missing", CaseFile)
	}
	rec, err := parseCase(caseJSON)
	if err != nil {
		return nil, err
	}
	if rec.Case.Reference != pkg.Manifest.CaseRef {
		return nil, formatErr("%s is case %q, the manifest names %q", CaseFile, rec.Case.Reference, pkg.Manifest.CaseRef)
	}
	// Each file's hash is its name: casepack checked the content against
	// the manifest's SHA-256, which must be the name.
	sums := map[string]string{}
	for _, e := range pkg.Manifest.Entries {
		sums[e.Path] = e.SHA256
	}
	used := map[string]bool{}
	for i, ex := range rec.Exhibits {
		if !isSHA256(ex.SHA256) {
			return nil, formatErr("%s: exhibits[%d]: sha256 %q is not lower-case hex of 32 bytes", CaseFile, i, ex.SHA256)
		}
		data, ok := c.files[ex.SHA256]
		switch {
		case !ok:
			return nil, formatErr("exhibit %d (%q) refers to file %s%s, which is not in the package", ex.ID, ex.Name, ExhibitsDir, ex.SHA256)
		case sums[ExhibitsDir+ex.SHA256] != ex.SHA256:
			return nil, formatErr("file %s%s has SHA-256 %s", ExhibitsDir, ex.SHA256, sums[ExhibitsDir+ex.SHA256])
		case int64(len(data)) != ex.Size:
			return nil, formatErr("exhibit %d (%q) has %d bytes, its file %d", ex.ID, ex.Name, ex.Size, len(data))
		}
		used[ex.SHA256] = true
	}
	for sum := range c.files {
		if !used[sum] {
			return nil, formatErr("file %s%s is not referenced by any exhibit", ExhibitsDir, sum)
		}
	}
	c.rec = rec
	return c, nil
}

// parseCase decodes case.json strictly: no unknown fields, one JSON value.
// Errors wrap casepack.ErrFormat.
func parseCase(data []byte) (*casestore.CaseRecords, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rec casestore.CaseRecords
	if err := dec.Decode(&rec); err != nil {
		return nil, formatErr("%s: %v", CaseFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, formatErr("%s: data after the case records", CaseFile)
	}
	return &rec, nil
}

func isSHA256(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}
