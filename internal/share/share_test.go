package share

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// clock is a test clock: every reading is a millisecond after the last.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// install is one Vestigo installation: its case store, exhibit directory,
// keys and users of its agency.
type install struct {
	st         *casestore.Store
	exhibitDir string
	keys       *casepack.Keys
	agency     casestore.Agency
	admin, inv casestore.Principal
	ro         casestore.Principal
}

const pw = "correct horse battery staple"

func newInstall(t *testing.T, seed uint64, code, user string) *install {
	return newInstallWith(t, seed, code, user, nil)
}

// newInstallWith is newInstall with options changed by opt.
func newInstallWith(t *testing.T, seed uint64, code, user string, opt func(*casestore.Options)) *install {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC).Add(time.Duration(seed) * time.Hour)}
	in := &install{exhibitDir: filepath.Join(t.TempDir(), "exhibits")}
	o := casestore.Options{Clock: clk.Now, ExhibitDir: in.exhibitDir, Argon2: casestore.Argon2Params{Memory: 64, Time: 1, Threads: 1}}
	if opt != nil {
		opt(&o)
	}
	st, err := casestore.Open(ctx, filepath.Join(t.TempDir(), "cases.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in.st = st
	if in.keys, err = casepack.GenerateKeys(rand.NewChaCha8([32]byte{byte(seed)})); err != nil {
		t.Fatal(err)
	}
	if in.agency, err = st.CreateAgency(ctx, code, code+" investigations"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.BootstrapAdmin(ctx, in.agency.ID, "admin."+user, pw); err != nil {
		t.Fatal(err)
	}
	if in.admin, err = st.AuthenticatePassword(ctx, "admin."+user, pw); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		role casestore.Role
		p    *casestore.Principal
	}{{user, casestore.RoleInvestigator, &in.inv}, {"ro." + user, casestore.RoleReadOnly, &in.ro}} {
		if _, err := st.CreateUser(ctx, in.admin, u.name, u.role, pw); err != nil {
			t.Fatal(err)
		}
		if *u.p, err = st.AuthenticatePassword(ctx, u.name, pw); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func (in *install) identity() casepack.Identity { return in.keys.Identity(in.agency.Code) }

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func prov(src string) casestore.Provenance {
	return casestore.Provenance{Source: src, SourceIdentity: casestore.SourceIdentity{NodeVersion: "btcd 0.26.2",
		GenesisHash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
		Chain: "btc", Network: "mainnet", BlockHash: "00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054",
		Height: 840000, IndexTip: 840010, VestigoVersion: "0.9.0", Params: []byte(`{"hops":4,"model":"haircut"}`)}
}

// Markers: each is the text of one redactable part of the sample case.
const (
	mNote        = "NOTE-MARKER: the suspect uses a hardware wallet"
	mSubjectNote = "SUBJNOTE-MARKER: lives in Pristina"
	mSubject     = "SUBJECT-MARKER Ardian"
	mTask        = "TASK-MARKER: request KYC from the exchange"
	mExhibitName = "EXHIBIT-NAME-MARKER.txt"
	mExhibitData = "EXHIBIT-CONTENT-MARKER: answer of the exchange"
	mTag         = "TAG-MARKER"
	mFinding     = "FINDING-MARKER exposure"
	mFindingRes  = "FINDING-RESULT-MARKER"
	mLegal       = "LEGAL-MARKER Art. 95 CPC, order of 2025-03-01"
	mLabel       = "LABEL-MARKER ransom address"
)

// sampleCase fills a case of every kind of record and returns it.
func sampleCase(t *testing.T, in *install) casestore.Case {
	t.Helper()
	ctx := context.Background()
	st, p := in.st, in.inv
	c := must[casestore.Case](t)(st.CreateCase(ctx, p, casestore.Case{Reference: "KOS-2025/0042", Title: "Ransomware <payments> & co",
		LegalBasis: mLegal, LeadUserID: p.UserID}))
	it := must[casestore.Item](t)(st.AddItem(ctx, p, c.ID, casestore.Item{Kind: casestore.ItemAddress, Chain: "btc",
		Network: "mainnet", Ref: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", Label: mLabel, Provenance: prov("btcd rpc http://127.0.0.1:8334")}))
	must[casestore.Item](t)(st.AddItem(ctx, p, c.ID, casestore.Item{Kind: casestore.ItemTx, Chain: "btc", Network: "mainnet",
		Ref: strings.Repeat("ab", 32), Label: "payment", Provenance: prov("block files /data/blocks")}))
	must[casestore.Note](t)(st.AddNote(ctx, p, c.ID, it.ID, mNote))
	must[casestore.Note](t)(st.AddNote(ctx, p, c.ID, 0, "case note"))
	must[casestore.ItemTag](t)(st.TagItem(ctx, p, it.ID, mTag, "ransomware"))
	must[casestore.Finding](t)(st.AddFinding(ctx, p, c.ID, casestore.Finding{Kind: casestore.FindingExposure, Title: mFinding,
		Params: []byte(`{"hops":3}`), Result: []byte(`{"summary":"` + mFindingRes + `","sats":[1,2,3]}`), Provenance: prov("btcd rpc")}))
	must[casestore.Exhibit](t)(st.AddExhibitWithProvenance(ctx, p, c.ID, mExhibitName, "text/plain",
		casestore.Provenance{Source: "exchange answer, request 17"}, strings.NewReader(mExhibitData)))
	// The same content twice: one file in the package.
	must[casestore.Exhibit](t)(st.AddExhibit(ctx, p, c.ID, "copy.txt", "text/plain", strings.NewReader(mExhibitData)))
	must[casestore.Exhibit](t)(st.AddExhibit(ctx, p, c.ID, "empty.bin", "application/octet-stream", strings.NewReader("")))
	must[casestore.Task](t)(st.CreateTask(ctx, p, c.ID, casestore.Task{Title: mTask, AssigneeID: p.UserID}))
	must[casestore.Subject](t)(st.CreateSubject(ctx, p, c.ID, casestore.Subject{Name: mSubject, Kind: casestore.SubjectPerson,
		Notes: mSubjectNote}))
	// A note added and deleted: its records are part of the trail.
	n := must[casestore.Note](t)(st.AddNote(ctx, p, c.ID, 0, "a mistake"))
	if err := st.DeleteNote(ctx, p, n.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

var now = time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)

func export(t *testing.T, from *install, caseID int64, to *install, redact ...string) ([]byte, *casepack.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := Export(context.Background(), from.st, from.inv, caseID, from.keys, ExportOptions{Recipient: to.keys.Recipient(),
		Redact: redact, Agency: from.agency.Code, Version: "0.9.0-test", Now: now}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

// plaintext decrypts a package: the gzip stream of its archive.
func plaintext(t *testing.T, pkg []byte, k *casepack.Keys) []byte {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(pkg), k.Age)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// archive is the uncompressed tar of a package and its files by name.
func archive(t *testing.T, pkg []byte, k *casepack.Keys) ([]byte, map[string][]byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(plaintext(t, pkg, k)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = must[[]byte](t)(io.ReadAll(tr))
	}
	return raw, files
}

func importInto(in *install, pkg []byte, opt ImportOptions) (*ImportReport, error) {
	return Import(context.Background(), in.st, in.inv, bytes.NewReader(pkg), in.keys, opt)
}

// assertEmpty fails unless the installation has no case and no exhibit file.
func assertEmpty(t *testing.T, in *install) {
	t.Helper()
	if cs := must[[]casestore.Case](t)(in.st.ListCases(context.Background(), in.admin, casestore.CaseFilter{})); len(cs) != 0 {
		t.Fatalf("a refused import left %d cases", len(cs))
	}
	var files []string
	filepath.WalkDir(in.exhibitDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("a refused import left files %v", files)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	c := sampleCase(t, kos)
	pkg, m := export(t, kos, c.ID, nbi)

	rep, err := importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(pkg)
	if !rep.KnownSender || rep.Sender.Agency != "KOS-PD" || rep.Digest != hex.EncodeToString(digest[:]) ||
		rep.SenderKeyID != kos.identity().KeyID() || rep.ClaimedAgency != "KOS-PD" {
		t.Fatalf("report %+v", rep)
	}
	// The returned manifest is the one in the package.
	if got, want := must[[]byte](t)(json.Marshal(rep.Manifest)), must[[]byte](t)(json.Marshal(m)); !bytes.Equal(got, want) {
		t.Fatalf("Export's manifest\n%s\nthe package's\n%s", want, got)
	}
	if rep.Exhibits != 3 || rep.Files != 2 || rep.Items != 2 || rep.Findings != 1 || len(m.Entries) != 4 {
		t.Fatalf("report counts %+v, %d entries", rep, len(m.Entries))
	}
	got := rep.Case
	if got.AgencyID != nbi.agency.ID || got.OriginAgency != "KOS-PD" || got.OriginPackageDigest != rep.Digest ||
		got.OriginSenderKeyID != rep.SenderKeyID || got.Reference != c.Reference || got.Title != c.Title ||
		got.LegalBasis != mLegal || got.ImportedAt.IsZero() {
		t.Fatalf("imported case %+v", got)
	}

	// Items and findings keep their provenance exactly, the sender's actor included.
	srcItems := must[[]casestore.Item](t)(kos.st.ListItems(ctx, kos.inv, c.ID))
	items := must[[]casestore.Item](t)(nbi.st.ListItems(ctx, nbi.inv, got.ID))
	if len(items) != len(srcItems) {
		t.Fatalf("%d items, want %d", len(items), len(srcItems))
	}
	for i := range items {
		a, b := srcItems[i].Provenance, items[i].Provenance
		if b.Actor != "ivan.sender" || !a.At.Equal(b.At) || a.Source != b.Source || string(a.Params) != string(b.Params) ||
			a.BlockHash != b.BlockHash || items[i].Label != srcItems[i].Label || items[i].Ref != srcItems[i].Ref {
			t.Fatalf("item %d: %+v, sent %+v", i, items[i], srcItems[i])
		}
	}
	fs := must[[]casestore.Finding](t)(nbi.st.ListFindings(ctx, nbi.inv, got.ID))
	if len(fs) != 1 || fs[0].Provenance.Actor != "ivan.sender" || fs[0].Provenance.Height != 840000 ||
		!strings.Contains(string(fs[0].Result), mFindingRes) {
		t.Fatalf("findings %+v", fs)
	}
	notes := must[[]casestore.Note](t)(nbi.st.ListNotes(ctx, nbi.inv, got.ID))
	if len(notes) != 2 || notes[0].Text != mNote || notes[0].ItemID != items[0].ID || notes[1].ItemID != 0 {
		t.Fatalf("notes %+v", notes)
	}
	// Exhibits: the same content, read through the recipient's store.
	exs := must[[]casestore.Exhibit](t)(nbi.st.ListExhibits(ctx, nbi.inv, got.ID))
	if len(exs) != 3 {
		t.Fatalf("%d exhibits", len(exs))
	}
	for _, ex := range exs {
		_, rc, err := nbi.st.OpenExhibit(ctx, nbi.inv, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		data := must[[]byte](t)(io.ReadAll(rc))
		rc.Close()
		want := mExhibitData
		if ex.Name == "empty.bin" {
			want = ""
		}
		if string(data) != want {
			t.Fatalf("exhibit %s: %q", ex.Name, data)
		}
	}

	// The sender's trail is in the package: every change record of the
	// case, as the sender's log holds it, and no reads.
	var trail []casestore.AuditRecord
	for _, r := range must[[]casestore.AuditRecord](t)(kos.st.ListAudit(ctx, kos.admin, casestore.AuditFilter{CaseID: c.ID, Limit: 1000})) {
		if r.Action != casestore.ActionView && r.Action != casestore.ActionExport {
			trail = append(trail, r)
		}
	}
	if len(trail) < 14 || !slices.Equal(trail, rep.SenderAudit) || rep.AuditRecords != len(trail) {
		t.Fatalf("sender's audit in the package: %d records, the sender's log has %d:\n%+v", len(rep.SenderAudit), len(trail), rep.SenderAudit)
	}
	deletes := 0
	for _, r := range rep.SenderAudit {
		if r.Actor != "ivan.sender" {
			t.Fatalf("audit record %+v", r)
		}
		if r.Action == casestore.ActionDelete {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d delete records, want 1", deletes)
	}
	// The recipient's store is sound after the import.
	vr := must[*casestore.VerifyReport](t)(nbi.st.Verify(ctx, casestore.Verifier{}))
	if !vr.OK() || vr.Exhibits != 3 {
		t.Fatalf("verify after import: %+v", vr)
	}

	// The same package again: the reference is taken.
	_, err = importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
	if !errors.Is(err, casestore.ErrConflict) {
		t.Fatalf("second import: %v", err)
	}
	// A read-only user may not import.
	nbi2 := newInstall(t, 2, "NBI", "nora.recipient")
	_, err = Import(ctx, nbi2.st, nbi2.ro, bytes.NewReader(pkg), nbi2.keys, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
	if !errors.Is(err, casestore.ErrForbidden) {
		t.Fatalf("read-only import: %v", err)
	}
	assertEmpty(t, nbi2)
}

func TestWrongRecipient(t *testing.T) {
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	third := newInstall(t, 3, "FIU", "fred.third")
	c := sampleCase(t, kos)
	pkg, _ := export(t, kos, c.ID, third)
	_, err := importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}, AcceptUnknown: true})
	if !errors.Is(err, casepack.ErrNotForYou) || !strings.HasPrefix(err.Error(), "share: ") {
		t.Fatalf("import of a package for another installation: %v", err)
	}
	assertEmpty(t, nbi)
	// The one it is for opens it.
	if _, err := importInto(third, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}}); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownSender(t *testing.T) {
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	third := newInstall(t, 3, "FIU", "fred.third")
	c := sampleCase(t, kos)
	pkg, _ := export(t, kos, c.ID, nbi)

	_, err := importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{third.identity()}})
	if !errors.Is(err, casepack.ErrUnknownSender) {
		t.Fatalf("unknown sender: %v", err)
	}
	assertEmpty(t, nbi)
	// A partner known under the sender's agency name but another key is not the sender.
	impostor := third.identity()
	impostor.Agency = "KOS-PD"
	_, err = importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{impostor}})
	if !errors.Is(err, casepack.ErrUnknownSender) {
		t.Fatalf("sender with another key: %v", err)
	}
	assertEmpty(t, nbi)

	rep, err := importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{third.identity()}, AcceptUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	want := kos.identity()
	if rep.KnownSender || rep.Sender.Agency != want.Agency || !bytes.Equal(rep.Sender.SigningKey, want.SigningKey) ||
		rep.Sender.Recipient != want.Recipient || rep.Case.OriginSenderKeyID != want.KeyID() {
		t.Fatalf("unknown sender accepted: %+v", rep)
	}
}

func TestRedaction(t *testing.T) {
	ctx := context.Background()
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	c := sampleCase(t, kos)
	audit := must[[]casestore.AuditRecord](t)(kos.st.ListAudit(ctx, kos.admin, casestore.AuditFilter{CaseID: c.ID, Limit: 1000}))
	var auditHashes []string
	for _, r := range audit {
		auditHashes = append(auditHashes, r.Hash)
	}
	gone := map[string][]string{
		RedactNotes:           {mNote, mSubjectNote},
		RedactSubjects:        {mSubject, mSubjectNote},
		RedactTasks:           {mTask},
		RedactExhibits:        {mExhibitName, mExhibitData, "copy.txt", "exchange answer, request 17"},
		RedactAudit:           auditHashes,
		RedactTags:            {mTag},
		RedactFindings:        {mFinding, mFindingRes},
		RedactLegalBasis:      {mLegal},
		RedactItemLabels:      {mLabel},
		RedactProvenanceActor: {"ivan.sender"},
	}
	if names := slices.Sorted(func(yield func(string) bool) {
		for k := range gone {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(names, Redactions()) {
		t.Fatalf("the test covers %v, Redactions are %v", names, Redactions())
	}
	full, _ := export(t, kos, c.ID, nbi)
	fullRaw, _ := archive(t, full, nbi.keys)
	for name, markers := range gone {
		t.Run(name, func(t *testing.T) {
			for _, s := range markers {
				if !bytes.Contains(fullRaw, []byte(s)) {
					t.Fatalf("%q is not in the unredacted package", s)
				}
			}
			pkg, m := export(t, kos, c.ID, nbi, name, name)
			raw, files := archive(t, pkg, nbi.keys)
			for _, s := range markers {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("redacted %s: %q is still in the package", name, s)
				}
			}
			wantRedacted := []string{name}
			switch name {
			case RedactNotes, RedactLegalBasis, RedactItemLabels, RedactProvenanceActor:
				wantRedacted = []string{RedactAuditHashes, name}
			}
			if !slices.Equal(m.Redacted, wantRedacted) {
				t.Errorf("manifest redacted %v, want %v", m.Redacted, wantRedacted)
			}
			rec, err := parseCase(files["files/"+CaseFile])
			if err != nil {
				t.Fatal(err)
			}
			// What stays stays.
			if len(rec.Items) != 2 || rec.Case.Reference != c.Reference {
				t.Fatalf("redacting %s removed the items or the case: %+v", name, rec.Case)
			}
			for _, r := range rec.Audit {
				switch {
				case name == RedactNotes && r.ObjectType == "note", name == RedactExhibits && r.ObjectType == "exhibit",
					name == RedactFindings && r.ObjectType == "finding", name == RedactTags && r.ObjectType == "tag",
					name == RedactTasks && r.ObjectType == "task", name == RedactSubjects && r.ObjectType == "subject":
					t.Errorf("redacted %s: audit record %+v is still there", name, r)
				}
			}
			if name != RedactAudit && len(rec.Audit) == 0 {
				t.Errorf("redacting %s removed the whole audit", name)
			}
		})
	}
	// Everything at once still imports.
	pkg, _ := export(t, kos, c.ID, nbi, Redactions()...)
	rep, err := importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Case.LegalBasis != "" || rep.Exhibits != 0 || rep.AuditRecords != 0 || rep.Items != 2 ||
		!slices.Equal(rep.Manifest.Redacted, Redactions()) {
		t.Fatalf("fully redacted import %+v", rep)
	}

	// An unknown name is refused, listing the valid ones, before anything is read.
	var buf bytes.Buffer
	_, err = Export(ctx, kos.st, kos.inv, c.ID, kos.keys, ExportOptions{Recipient: nbi.keys.Recipient(),
		Redact: []string{"notes", "passwords"}, Agency: "KOS-PD", Version: "0.9.0", Now: now}, &buf)
	if !errors.Is(err, casestore.ErrInvalid) || !strings.Contains(err.Error(), `"passwords"`) ||
		!strings.Contains(err.Error(), strings.Join(Redactions(), ", ")) || buf.Len() != 0 {
		t.Fatalf("unknown redaction: %v", err)
	}
}

func TestExportOptions(t *testing.T) {
	ctx := context.Background()
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	c := sampleCase(t, kos)
	good := ExportOptions{Recipient: nbi.keys.Recipient(), Agency: "KOS-PD", Version: "0.9.0", Now: now}
	before := len(must[[]casestore.AuditRecord](t)(kos.st.ListAudit(ctx, kos.admin, casestore.AuditFilter{Limit: 1000})))
	for name, mod := range map[string]func(o *ExportOptions){
		"recipient":     func(o *ExportOptions) { o.Recipient = "age1notakey" },
		"no recipient":  func(o *ExportOptions) { o.Recipient = "" },
		"agency":        func(o *ExportOptions) { o.Agency = "" },
		"agency line":   func(o *ExportOptions) { o.Agency = "KOS\nPD" },
		"version":       func(o *ExportOptions) { o.Version = "" },
		"long version":  func(o *ExportOptions) { o.Version = strings.Repeat("9", 65) },
		"no time":       func(o *ExportOptions) { o.Now = time.Time{} },
		"bad redaction": func(o *ExportOptions) { o.Redact = []string{""} },
	} {
		opt := good
		mod(&opt)
		if _, err := Export(ctx, kos.st, kos.inv, c.ID, kos.keys, opt, io.Discard); !errors.Is(err, casestore.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Export(ctx, kos.st, kos.inv, c.ID, &casepack.Keys{}, good, io.Discard); err == nil {
		t.Error("export without keys")
	}
	// Refused before the store was asked: no export record.
	if after := len(must[[]casestore.AuditRecord](t)(kos.st.ListAudit(ctx, kos.admin, casestore.AuditFilter{Limit: 1000}))); after != before {
		t.Errorf("refused exports left %d audit records", after-before)
	}
	// Another agency's case does not exist for the principal.
	if _, err := Export(ctx, nbi.st, nbi.inv, c.ID, nbi.keys, good, io.Discard); !errors.Is(err, casestore.ErrNotFound) {
		t.Errorf("export of a case not in the store: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	c := sampleCase(t, kos)
	a, _ := export(t, kos, c.ID, nbi, RedactTasks)
	// Reads in between (a view, the first export's own records) change nothing.
	must[casestore.Case](t)(kos.st.GetCase(ctx, kos.ro, c.ID))
	b, _ := export(t, kos, c.ID, nbi, RedactTasks)
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions gave the same bytes (age keys should be fresh)")
	}
	pa, pb := plaintext(t, a, nbi.keys), plaintext(t, b, nbi.keys)
	if !bytes.Equal(pa, pb) {
		t.Fatal("the same case exported twice at the same time gave different plaintext")
	}
	// A change does change it.
	must[casestore.Note](t)(kos.st.AddNote(ctx, kos.inv, c.ID, 0, "new"))
	d, _ := export(t, kos, c.ID, nbi, RedactTasks)
	if bytes.Equal(pa, plaintext(t, d, nbi.keys)) {
		t.Fatal("a new note did not change the package")
	}
}

// repack writes a package from the sender to the recipient with the files
// of pkg changed by edit: a sender that signs an inconsistent package.
func repack(t *testing.T, pkg []byte, from, to *install, edit func(files map[string][]byte)) []byte {
	t.Helper()
	p, err := casepack.Read(bytes.NewReader(pkg), []age.Identity{to.keys.Age}, casepack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range p.Entries {
		files[e.Path] = e.Data
	}
	edit(files)
	var entries []casepack.Entry
	for path, data := range files {
		entries = append(entries, casepack.Entry{Path: path, Data: data})
	}
	m := p.Manifest
	m.Entries, m.Format, m.SenderKey, m.SenderKeyID = nil, "", "", ""
	var buf bytes.Buffer
	r := must[*age.X25519Recipient](t)(to.identity().AgeRecipient())
	if err := casepack.Write(&buf, m, entries, from.keys, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInconsistentPackage(t *testing.T) {
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	c := sampleCase(t, kos)
	sum := sha256.Sum256([]byte(mExhibitData))
	exhibit := ExhibitsDir + hex.EncodeToString(sum[:])
	other := sha256.Sum256([]byte("other"))
	editCase := func(fn func(rec map[string]any)) func(files map[string][]byte) {
		return func(files map[string][]byte) {
			var rec map[string]any
			if err := json.Unmarshal(files[CaseFile], &rec); err != nil {
				panic(err)
			}
			fn(rec)
			files[CaseFile], _ = json.Marshal(rec)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(files map[string][]byte)
		want string
	}{
		{"exhibit file missing", func(f map[string][]byte) { delete(f, exhibit) }, "not in the package"},
		{"file not referenced", func(f map[string][]byte) { f[ExhibitsDir+hex.EncodeToString(other[:])] = []byte("other") },
			"not referenced"},
		{"file under another hash", func(f map[string][]byte) { f[exhibit] = []byte("other") }, "has SHA-256"},
		{"unexpected file", func(f map[string][]byte) { f["notes.txt"] = []byte("x") }, "unexpected file"},
		{"no case", func(f map[string][]byte) { delete(f, CaseFile) }, "case.json is missing"},
		{"unknown field", editCase(func(rec map[string]any) { rec["passwords"] = []string{"x"} }), "unknown field"},
		{"another case", editCase(func(rec map[string]any) { rec["case"].(map[string]any)["reference"] = "X/1" }),
			"the manifest names"},
		{"wrong size", editCase(func(rec map[string]any) {
			rec["exhibits"].([]any)[0].(map[string]any)["size"] = 3
		}), "bytes"},
		{"bad hash", editCase(func(rec map[string]any) {
			rec["exhibits"].([]any)[0].(map[string]any)["sha256"] = "../../etc/passwd"
		}), "not lower-case hex"},
		{"trailing data", func(f map[string][]byte) { f[CaseFile] = append(f[CaseFile], []byte("{}")...) }, "data after"},
		{"sender identity of another key", func(f map[string][]byte) {
			third := newInstall(t, 3, "KOS-PD", "x")
			f[SenderFile] = must[[]byte](t)(casepack.FormatIdentity(third.identity()))
		}, "signed by"},
		{"bad sender identity", func(f map[string][]byte) { f[SenderFile] = []byte("hello") }, SenderFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nbi := newInstall(t, 2, "NBI", "nora.recipient")
			pkg, _ := export(t, kos, c.ID, nbi)
			bad := repack(t, pkg, kos, nbi, tc.edit)
			_, err := importInto(nbi, bad, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
			if !errors.Is(err, casepack.ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("import: %v, want ErrFormat with %q", err, tc.want)
			}
			assertEmpty(t, nbi)
		})
	}
	// Tampered ciphertext: casepack's refusal comes through.
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	pkg, _ := export(t, kos, c.ID, nbi)
	pkg[len(pkg)-100] ^= 1
	_, err := importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
	if !errors.Is(err, casepack.ErrTampered) {
		t.Fatalf("tampered package: %v", err)
	}
	// Limits come through.
	pkg, _ = export(t, kos, c.ID, nbi)
	_, err = importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}, Limits: casepack.Limits{MaxEntry: 100}})
	if !errors.Is(err, casepack.ErrTooLarge) {
		t.Fatalf("over the limits: %v", err)
	}
	assertEmpty(t, nbi)
}
