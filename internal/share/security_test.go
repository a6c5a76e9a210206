package share

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// carried is the case.json of a package.
func carried(t *testing.T, pkg []byte, to *install) *casestore.CaseRecords {
	t.Helper()
	_, files := archive(t, pkg, to.keys)
	rec, err := parseCase(files["files/"+CaseFile])
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// confirms says whether hash h appears anywhere in the carried audit
// records: what a recipient who guessed a removed value would look for.
func confirms(rec *casestore.CaseRecords, h string) bool {
	for _, r := range rec.Audit {
		if r.ObjectHash == h || r.Hash == h || r.PrevHash == h {
			return true
		}
	}
	return false
}

func TestRedactionHashes(t *testing.T) {
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	c := sampleCase(t, kos)
	fullPkg, _ := export(t, kos, c.ID, nbi)
	full := carried(t, fullPkg, nbi)
	// guess puts the true value of the removed field back into the object
	// of a redacted package, as a recipient who guessed it would.
	for _, tc := range []struct {
		name  string
		guess func(rec *casestore.CaseRecords) any
	}{
		{RedactItemLabels, func(rec *casestore.CaseRecords) any {
			it := rec.Items[0]
			it.Label = mLabel
			return it
		}},
		{RedactLegalBasis, func(rec *casestore.CaseRecords) any {
			cs := rec.Case
			cs.LegalBasis = mLegal
			return cs
		}},
		{RedactNotes, func(rec *casestore.CaseRecords) any {
			sj := rec.Subjects[0]
			sj.Notes = mSubjectNote
			return sj
		}},
		{RedactProvenanceActor, func(rec *casestore.CaseRecords) any {
			it := rec.Items[0]
			it.Provenance.Actor, it.CreatedBy = kos.inv.Username, kos.inv.UserID
			return it
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Unredacted, the object hashes let a recipient check the
			// objects against the trail: the check the guess would use.
			h := must[string](t)(casestore.ObjectHash(tc.guess(full)))
			if !confirms(full, h) {
				t.Fatalf("the unredacted package does not carry the object's hash %s: the test proves nothing", h)
			}
			pkg, m := export(t, kos, c.ID, nbi, tc.name)
			rec := carried(t, pkg, nbi)
			if h := must[string](t)(casestore.ObjectHash(tc.guess(rec))); confirms(rec, h) {
				t.Fatalf("redacted %s: the carried audit records confirm the guessed value", tc.name)
			}
			for _, r := range rec.Audit {
				if r.Hash != "" || r.PrevHash != "" {
					t.Fatalf("redacted %s: record %d keeps its hashes %+v", tc.name, r.Seq, r)
				}
			}
			if len(rec.Audit) == 0 || !slices.Contains(m.Redacted, RedactAuditHashes) {
				t.Fatalf("redacted %s: %d records, manifest redacted %v", tc.name, len(rec.Audit), m.Redacted)
			}
			// What no field redaction touched keeps its object hash.
			kept := false
			for _, r := range rec.Audit {
				kept = kept || (r.ObjectType == "finding" && r.ObjectHash != "")
			}
			if !kept && tc.name != RedactProvenanceActor {
				t.Errorf("redacted %s: the findings' records lost their object hashes", tc.name)
			}
			// It imports.
			to := newInstall(t, 2, "NBI", "nora.recipient")
			pkg, _ = export(t, kos, c.ID, to, tc.name)
			if _, err := importInto(to, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}}); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A redaction that removes whole objects keeps every hash.
	pkg, m := export(t, kos, c.ID, nbi, RedactTasks)
	for _, r := range carried(t, pkg, nbi).Audit {
		if r.Hash == "" || r.PrevHash == "" {
			t.Fatalf("redacting tasks dropped the hashes of record %d", r.Seq)
		}
	}
	if slices.Contains(m.Redacted, RedactAuditHashes) {
		t.Fatalf("manifest redacted %v", m.Redacted)
	}
}

func TestExportNeedsWrite(t *testing.T) {
	ctx := context.Background()
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	nbi := newInstall(t, 2, "NBI", "nora.recipient")
	c := sampleCase(t, kos)
	var buf bytes.Buffer
	_, err := Export(ctx, kos.st, kos.ro, c.ID, kos.keys, ExportOptions{Recipient: nbi.keys.Recipient(), Agency: "KOS-PD",
		Version: "0.9.0", Now: now}, &buf)
	if !errors.Is(err, casestore.ErrForbidden) || buf.Len() != 0 {
		t.Fatalf("export by a read-only user: %v, %d bytes written", err, buf.Len())
	}
	log := must[[]casestore.AuditRecord](t)(kos.st.ListAudit(ctx, kos.admin, casestore.AuditFilter{Limit: 1000}))
	last := log[len(log)-1]
	if last.Action != casestore.ActionDenied || last.ActorID != kos.ro.UserID || !strings.Contains(last.Detail, fmt.Sprintf("export case %d", c.ID)) {
		t.Fatalf("the refusal is not audited: %+v", last)
	}
}

// exhibitFileCount is the number of files in an exhibit store.
func exhibitFileCount(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestImportChecksBeforeStoring(t *testing.T) {
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	c := sampleCase(t, kos)
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
		{"empty note", editCase(func(rec map[string]any) { rec["notes"].([]any)[0].(map[string]any)["text"] = "" }),
			"notes[0].text: empty"},
		{"note on a missing item", editCase(func(rec map[string]any) { rec["notes"].([]any)[0].(map[string]any)["item_id"] = 999 }),
			"notes[0].item_id: item 999 is not in the case"},
		{"bad item kind", editCase(func(rec map[string]any) { rec["items"].([]any)[1].(map[string]any)["kind"] = "wallet" }),
			"items[1].kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nbi := newInstall(t, 2, "NBI", "nora.recipient")
			pkg, _ := export(t, kos, c.ID, nbi)
			bad := repack(t, pkg, kos, nbi, tc.edit)
			_, err := importInto(nbi, bad, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
			if !errors.Is(err, casepack.ErrFormat) || !errors.Is(err, casestore.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("import: %v, want ErrFormat and ErrInvalid with %q", err, tc.want)
			}
			assertEmpty(t, nbi)
		})
	}
}

func TestImportLateFailureRemovesFiles(t *testing.T) {
	ctx := context.Background()
	kos := newInstall(t, 1, "KOS-PD", "ivan.sender")
	c := must[casestore.Case](t)(kos.st.CreateCase(ctx, kos.inv, casestore.Case{Reference: "KOS-2025/7", Title: "two exhibits"}))
	must[casestore.Exhibit](t)(kos.st.AddExhibit(ctx, kos.inv, c.ID, "small.txt", "text/plain", strings.NewReader("small")))
	must[casestore.Exhibit](t)(kos.st.AddExhibit(ctx, kos.inv, c.ID, "big.txt", "text/plain", strings.NewReader(strings.Repeat("big ", 100))))
	// The recipient refuses files over 100 bytes: the second file fails
	// after the first was stored.
	limited := func(o *casestore.Options) { o.MaxExhibit = 100 }

	nbi := newInstallWith(t, 2, "NBI", "nora.recipient", limited)
	pkg, _ := export(t, kos, c.ID, nbi)
	_, err := importInto(nbi, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}})
	if !errors.Is(err, casestore.ErrInvalid) || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("import: %v", err)
	}
	assertEmpty(t, nbi)

	// A file the store held before the import stays.
	nbi2 := newInstallWith(t, 2, "NBI", "nora.recipient", limited)
	own := must[casestore.Case](t)(nbi2.st.CreateCase(ctx, nbi2.inv, casestore.Case{Reference: "NBI/1", Title: "own"}))
	must[casestore.Exhibit](t)(nbi2.st.AddExhibit(ctx, nbi2.inv, own.ID, "mine.txt", "text/plain", strings.NewReader("small")))
	pkg, _ = export(t, kos, c.ID, nbi2)
	if _, err := importInto(nbi2, pkg, ImportOptions{Partners: []casepack.Identity{kos.identity()}}); err == nil {
		t.Fatal("the import passed")
	}
	if n := exhibitFileCount(t, nbi2.exhibitDir); n != 1 {
		t.Fatalf("%d exhibit files, want the one the store had", n)
	}
	vr := must[*casestore.VerifyReport](t)(nbi2.st.Verify(ctx, casestore.Verifier{}))
	if !vr.OK() || vr.Exhibits != 1 {
		t.Fatalf("verify: %+v", vr)
	}
}
