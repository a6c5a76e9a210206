package casestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCRUD(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s, p := e.s, e.invA

		got := must[Case](t)(s.GetCase(ctx, p, e.caseA.ID))
		if got.Reference != "2025/0001" || got.Status != StatusOpen || got.Version != 1 || got.AgencyID != e.agA.ID ||
			got.LeadUserID != p.UserID || got.Opened.IsZero() || !got.Closed.IsZero() {
			t.Fatalf("GetCase = %+v", got)
		}
		if got != e.caseA {
			t.Errorf("GetCase differs from CreateCase's result:\n%+v\n%+v", got, e.caseA)
		}
		c2 := must[Case](t)(s.CreateCase(ctx, p, Case{Reference: "2025/0002", Title: "Fraud"}))
		_, err := s.CreateCase(ctx, p, Case{Reference: "2025/0002", Title: "again"})
		wantErr(t, err, ErrConflict)
		// The same reference in another agency is fine.
		must[Case](t)(s.CreateCase(ctx, e.invB, Case{Reference: "2025/0002", Title: "B's case"}))
		list := must[[]Case](t)(s.ListCases(ctx, p, CaseFilter{}))
		if len(list) != 2 || list[0].ID != e.caseA.ID || list[1].ID != c2.ID {
			t.Fatalf("ListCases = %+v", list)
		}

		// Update and close.
		got.Title, got.Status = "Ransomware payments (closed)", StatusClosed
		upd := must[Case](t)(s.UpdateCase(ctx, p, got))
		if upd.Version != 2 || upd.Closed.IsZero() || upd.Title != got.Title {
			t.Fatalf("UpdateCase = %+v", upd)
		}
		if open := must[[]Case](t)(s.ListCases(ctx, p, CaseFilter{Status: StatusOpen})); len(open) != 1 || open[0].ID != c2.ID {
			t.Fatalf("open cases = %+v", open)
		}

		subj := must[Subject](t)(s.CreateSubject(ctx, p, e.caseA.ID, Subject{Name: "Jane Doe", Kind: SubjectPerson, Notes: "alias 'jd'"}))
		subj.Notes = "alias 'jd', born 1990"
		subj = must[Subject](t)(s.UpdateSubject(ctx, p, subj))
		if subj.Version != 2 || subj.Notes != "alias 'jd', born 1990" {
			t.Fatalf("UpdateSubject = %+v", subj)
		}

		pv := prov("btcd rpc http://127.0.0.1:8334")
		pv.Actor, pv.At = "someone else", time.Unix(1, 0) // the store sets these
		it := must[Item](t)(s.AddItem(ctx, p, e.caseA.ID, Item{Kind: ItemAddress, Chain: "btc", Network: "mainnet",
			Ref: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", Label: "ransom address", Provenance: pv}))
		if it.Provenance.Actor != p.Username || !it.Provenance.At.Equal(it.CreatedAt) || it.Provenance.Source != pv.Source ||
			it.Provenance.Height != 840000 || string(it.Provenance.Params) != `{"hops":4,"model":"haircut"}` {
			t.Fatalf("item provenance = %+v", it.Provenance)
		}
		if g := must[Item](t)(s.GetItem(ctx, p, it.ID)); g.Ref != it.Ref || g.Provenance.SourceIdentity != pv.SourceIdentity {
			t.Fatalf("GetItem = %+v", g)
		}
		it = must[Item](t)(s.UpdateItemLabel(ctx, p, it.ID, it.Version, "ransom address #1"))
		if it.Label != "ransom address #1" || it.Version != 2 {
			t.Fatalf("UpdateItemLabel = %+v", it)
		}
		_, err = s.AddItem(ctx, p, e.caseA.ID, Item{Kind: "wallet", Chain: "btc", Network: "mainnet", Ref: "x"})
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != "kind" {
			t.Fatalf("bad kind: %v", err)
		}

		n1 := must[Note](t)(s.AddNote(ctx, p, e.caseA.ID, 0, "Victim paid 1.2 BTC on 2025-02-11."))
		n2 := must[Note](t)(s.AddNote(ctx, p, e.caseA.ID, it.ID, "Address reused by the attacker."))
		_, err = s.AddNote(ctx, p, c2.ID, it.ID, "item of another case")
		wantErr(t, err, ErrInvalid)
		n1 = must[Note](t)(s.UpdateNote(ctx, p, n1.ID, n1.Version, "Victim paid 1.25 BTC on 2025-02-11."))
		if notes := must[[]Note](t)(s.ListNotes(ctx, p, e.caseA.ID)); len(notes) != 2 || notes[0] != n1 || notes[1] != n2 {
			t.Fatalf("ListNotes = %+v", notes)
		}
		tag := must[ItemTag](t)(s.TagItem(ctx, p, it.ID, "suspect wallet", "ransomware"))
		if tags := must[[]ItemTag](t)(s.ListItemTags(ctx, p, e.caseA.ID)); len(tags) != 1 || tags[0] != tag {
			t.Fatalf("ListItemTags = %+v", tags)
		}

		f := must[Finding](t)(s.AddFinding(ctx, p, e.caseA.ID, Finding{Kind: FindingTrace, Title: "4-hop haircut trace",
			Params: json.RawMessage(`{"hops":4}`), Result: json.RawMessage(`{"destinations":[{"address":"1A","sats":120000000}]}`),
			Provenance: prov("block files /data/blocks")}))
		g := must[Finding](t)(s.GetFinding(ctx, p, f.ID))
		if string(g.Result) != `{"destinations":[{"address":"1A","sats":120000000}]}` || g.Provenance.Actor != p.Username {
			t.Fatalf("GetFinding = %+v", g)
		}

		task := must[Task](t)(s.CreateTask(ctx, p, e.caseA.ID, Task{Title: "Request KYC from exchange", AssigneeID: e.invA.UserID,
			Due: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)}))
		task.Status = TaskDone
		task = must[Task](t)(s.UpdateTask(ctx, p, task))
		if task.Status != TaskDone || task.Version != 2 || !task.Due.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("UpdateTask = %+v", task)
		}
		_, err = s.CreateTask(ctx, p, e.caseA.ID, Task{Title: "x", AssigneeID: e.invB.UserID})
		wantErr(t, err, ErrInvalid) // assignee of another agency

		content := "%PDF-1.7 exchange answer\n"
		ex := must[Exhibit](t)(s.AddExhibit(ctx, p, e.caseA.ID, "answer.pdf", "application/pdf", strings.NewReader(content)))
		if ex.Size != int64(len(content)) || len(ex.SHA256) != 64 || len(ex.TSAToken) == 0 || ex.Provenance.Actor != p.Username {
			t.Fatalf("AddExhibit = %+v", ex)
		}
		if _, err := os.Stat(filepath.Join(e.opt.ExhibitDir, "sha256", ex.SHA256[:2], ex.SHA256)); err != nil {
			t.Fatalf("exhibit file: %v", err)
		}
		// The same content again is stored once.
		ex2 := must[Exhibit](t)(s.AddExhibit(ctx, p, e.caseA.ID, "copy.pdf", "application/pdf", strings.NewReader(content)))
		if ex2.SHA256 != ex.SHA256 || ex2.ID == ex.ID {
			t.Fatalf("second exhibit = %+v", ex2)
		}
		meta, rc, err := s.OpenExhibit(ctx, e.roA, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(data) != content || meta.ID != ex.ID {
			t.Fatalf("OpenExhibit read %q, %v", data, err)
		}
		files := must[[]ExhibitFile](t)(s.ExhibitFiles(ctx))
		if len(files) != 1 || files[0].SHA256 != ex.SHA256 {
			t.Fatalf("ExhibitFiles = %+v", files)
		}
		if _, err := s.Checkpoint(ctx, e.key); err != nil {
			t.Fatal(err)
		}
		e.mustVerify(t)

		// Deleting an item deletes its notes and tags; deleting the case everything.
		must[struct{}](t)(struct{}{}, s.DeleteItem(ctx, p, it.ID))
		if _, err := s.GetNote(ctx, p, n2.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("note on a deleted item: %v", err)
		}
		must[struct{}](t)(struct{}{}, s.DeleteExhibit(ctx, p, ex2.ID))
		must[struct{}](t)(struct{}{}, s.DeleteCase(ctx, p, e.caseA.ID))
		_, err = s.GetCase(ctx, p, e.caseA.ID)
		wantErr(t, err, ErrNotFound)
		if _, err := s.GetSubject(ctx, p, subj.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("subject of a deleted case: %v", err)
		}
		rep := e.mustVerify(t)
		if rep.Checkpoints != 1 || rep.Records < 30 {
			t.Errorf("report %+v", rep)
		}

		// The log tells the story: the view of the case, the export of the exhibit.
		var views, exports int
		for _, r := range e.auditOf(t) {
			if r.Action == ActionView && r.CaseID == e.caseA.ID {
				views++
			}
			if r.Action == ActionExport && r.ObjectType == "exhibit" && r.ActorID == e.roA.UserID {
				exports++
			}
		}
		if views != 1 || exports != 1 {
			t.Errorf("views %d, exhibit exports %d; want 1, 1", views, exports)
		}
	})
}

func TestExhibitLimit(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		opt := e.opt
		opt.MaxExhibit = 10
		s := open(t, e.dsn, opt)
		_, err := s.AddExhibit(ctx, e.invA, e.caseA.ID, "big.bin", "application/octet-stream", strings.NewReader("0123456789A"))
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != "content" {
			t.Fatalf("oversized exhibit: %v", err)
		}
		ex := must[Exhibit](t)(s.AddExhibit(ctx, e.invA, e.caseA.ID, "ok.bin", "application/octet-stream", strings.NewReader("0123456789")))
		if ex.Size != 10 {
			t.Fatalf("exhibit = %+v", ex)
		}
		if left, _ := os.ReadDir(filepath.Join(opt.ExhibitDir, "tmp")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		if l := must[[]Exhibit](t)(s.ListExhibits(ctx, e.invA, e.caseA.ID)); len(l) != 1 {
			t.Errorf("exhibits = %+v", l)
		}
		_, err = s.AddExhibit(ctx, e.invA, e.caseA.ID, "../../etc/passwd", "text/plain", strings.NewReader("x"))
		wantErr(t, err, ErrInvalid)
		_, err = s.AddExhibit(ctx, e.invA, e.caseA.ID, "a.txt", "not a media type", strings.NewReader("x"))
		wantErr(t, err, ErrInvalid)
	})
}

func TestAgencyIsolation(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s := e.s
		it := must[Item](t)(s.AddItem(ctx, e.invA, e.caseA.ID, Item{Kind: ItemTx, Chain: "btc", Network: "mainnet",
			Ref: "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b", Provenance: prov("x")}))
		note := must[Note](t)(s.AddNote(ctx, e.invA, e.caseA.ID, 0, "investigator's note"))

		// Agency B cannot see A's case: not found, exactly like a missing one.
		_, errOther := s.GetCase(ctx, e.invB, e.caseA.ID)
		wantErr(t, errOther, ErrNotFound)
		_, errMissing := s.GetCase(ctx, e.invB, 999999)
		wantErr(t, errMissing, ErrNotFound)
		if strings.ReplaceAll(errOther.Error(), fmt.Sprint(e.caseA.ID), "N") != strings.ReplaceAll(errMissing.Error(), "999999", "N") {
			t.Errorf("another agency's case and a missing case fail differently:\n%v\n%v", errOther, errMissing)
		}
		for name, err := range map[string]error{
			"GetItem":    second(s.GetItem(ctx, e.invB, it.ID)),
			"ListNotes":  second(s.ListNotes(ctx, e.invB, e.caseA.ID)),
			"AddNote":    second(s.AddNote(ctx, e.invB, e.caseA.ID, 0, "hi")),
			"UpdateCase": second(s.UpdateCase(ctx, e.adminB, e.caseA)),
			"DeleteCase": s.DeleteCase(ctx, e.adminB, e.caseA.ID),
			"Export":     second(s.ExportCase(ctx, e.invB, e.caseA.ID)),
			"Deconflict": second(s.Deconflict(ctx, e.invB, e.caseA.ID)),
			"GetUser":    second(s.GetUser(ctx, e.adminB, e.invA.UserID)),
			"SetPass":    s.SetPassword(ctx, e.adminB, e.invA.UserID, "another password"),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s across agencies: %v, want not found", name, err)
			}
		}
		if l := must[[]Case](t)(s.ListCases(ctx, e.invB, CaseFilter{})); len(l) != 0 {
			t.Errorf("B lists A's cases: %+v", l)
		}

		// Within the agency, roles decide.
		c := e.caseA
		c.Title = "changed by read-only"
		_, err := s.UpdateCase(ctx, e.roA, c)
		wantErr(t, err, ErrForbidden)
		_, err = s.AddNote(ctx, e.roA, e.caseA.ID, 0, "read-only note")
		wantErr(t, err, ErrForbidden)
		_, err = s.AddItem(ctx, e.revA, e.caseA.ID, Item{Kind: ItemTx, Chain: "btc", Network: "mainnet", Ref: "ab"})
		wantErr(t, err, ErrForbidden)
		_, err = s.CreateUser(ctx, e.invA, "new.user", RoleAdmin, pw)
		wantErr(t, err, ErrForbidden)
		wantErr(t, s.DisableUser(ctx, e.revA, e.invA.UserID), ErrForbidden)
		// A reviewer adds notes and tasks, and changes only their own.
		rn := must[Note](t)(s.AddNote(ctx, e.revA, e.caseA.ID, 0, "review: check the second payment"))
		must[Note](t)(s.UpdateNote(ctx, e.revA, rn.ID, rn.Version, "review: check the 2nd payment"))
		_, err = s.UpdateNote(ctx, e.revA, note.ID, note.Version, "reviewer edits the investigator's note")
		wantErr(t, err, ErrForbidden)
		must[Task](t)(s.CreateTask(ctx, e.revA, e.caseA.ID, Task{Title: "re-run the trace"}))
		// Read-only reads.
		must[Case](t)(s.GetCase(ctx, e.roA, e.caseA.ID))
		must[[]Note](t)(s.ListNotes(ctx, e.roA, e.caseA.ID))
		// A zero principal is refused.
		_, err = s.ListCases(ctx, Principal{}, CaseFilter{})
		wantErr(t, err, ErrUnauthorized)

		// Every refusal is in the log, with what was attempted.
		denied := map[string]AuditRecord{}
		for _, r := range e.auditOf(t) {
			if r.Action == ActionDenied {
				var d struct{ Attempted, Result string }
				if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
					t.Fatal(err)
				}
				denied[d.Attempted] = r
			}
		}
		for what, who := range map[string]Principal{
			fmt.Sprintf("view case %d", e.caseA.ID):                   e.invB,
			"view case 999999":                                        e.invB,
			fmt.Sprintf("change case %d", e.caseA.ID):                 e.roA,
			fmt.Sprintf("add a note to case %d", e.caseA.ID):          e.roA,
			fmt.Sprintf("add a item to case %d", e.caseA.ID):          e.revA,
			fmt.Sprintf("change note %d", note.ID):                    e.revA,
			fmt.Sprintf("delete case %d", e.caseA.ID):                 e.adminB,
			fmt.Sprintf("read item %d", it.ID):                        e.invB,
			fmt.Sprintf("set the password of user %d", e.invA.UserID): e.adminB,
			"create user new.user":                                    e.invA,
			"list cases":                                              {},
		} {
			r, ok := denied[what]
			if !ok {
				t.Errorf("no denied record for %q (have %v)", what, keys(denied))
				continue
			}
			if r.ActorID != who.UserID || r.AgencyID != who.AgencyID {
				t.Errorf("denied %q recorded for user %d agency %d, want %d/%d", what, r.ActorID, r.AgencyID, who.UserID, who.AgencyID)
			}
		}
		// The API records denials of its own.
		if err := s.Audit(ctx, e.roA, Event{Action: ActionDenied, ObjectType: "route", Detail: json.RawMessage(`{"route":"POST /api/cases"}`)}); err != nil {
			t.Fatal(err)
		}
		err = s.Audit(ctx, e.roA, Event{Action: ActionCreate})
		wantErr(t, err, ErrInvalid)
		// Agency A sees its own log, B does not see A's.
		for _, r := range must[[]AuditRecord](t)(s.ListAudit(ctx, e.adminB, AuditFilter{Limit: 1000})) {
			if r.AgencyID != e.agB.ID {
				t.Fatalf("B reads a record of agency %d: %+v", r.AgencyID, r)
			}
		}
		if l := must[[]AuditRecord](t)(s.ListAudit(ctx, e.revA, AuditFilter{CaseID: e.caseA.ID})); len(l) < 3 {
			t.Errorf("case audit = %d records", len(l))
		}
		e.mustVerify(t)
	})
}

func second[T any](_ T, err error) error { return err }

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestOptimisticConcurrency(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		a, bb := e.caseA, e.caseA // two investigators read version 1
		a.Title = "first writer"
		must[Case](t)(e.s.UpdateCase(ctx, e.invA, a))
		bb.Title = "second writer"
		_, err := e.s.UpdateCase(ctx, e.adminA, bb)
		wantErr(t, err, ErrConflict)
		if got := must[Case](t)(e.s.GetCase(ctx, e.invA, e.caseA.ID)); got.Title != "first writer" || got.Version != 2 {
			t.Fatalf("case = %+v", got)
		}
		n := must[Note](t)(e.s.AddNote(ctx, e.invA, e.caseA.ID, 0, "v1"))
		must[Note](t)(e.s.UpdateNote(ctx, e.invA, n.ID, n.Version, "v2"))
		_, err = e.s.UpdateNote(ctx, e.invA, n.ID, n.Version, "v2 again")
		wantErr(t, err, ErrConflict)
		_, err = e.s.UpdateCase(ctx, e.invA, Case{ID: e.caseA.ID, Reference: "r", Title: "t"})
		wantErr(t, err, ErrInvalid) // no version
		e.mustVerify(t)
	})
}

func TestHostileText(t *testing.T) {
	hostile := []string{
		`'; DROP TABLE cases; --`,
		`<script>alert(1)</script>`,
		`Robert'); DROP TABLE notes;--`,
		"Ünïcödé — 中文 — العربية — emoji 🕵️‍♀️ — \u202eRTL override",
		`\x00 is not a NUL, "quotes" and \\backslashes\\ and $1 ? placeholders`,
	}
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s, p := e.s, e.invA
		for i, h := range hostile {
			c := must[Case](t)(s.CreateCase(ctx, p, Case{Reference: fmt.Sprintf("H-%d %s", i, h), Title: h, LegalBasis: h + "\nline 2"}))
			got := must[Case](t)(s.GetCase(ctx, p, c.ID))
			if got.Title != h || got.LegalBasis != h+"\nline 2" || got.Reference != fmt.Sprintf("H-%d %s", i, h) {
				t.Fatalf("case text changed: %q", got.Title)
			}
			n := must[Note](t)(s.AddNote(ctx, p, c.ID, 0, h))
			if g := must[Note](t)(s.GetNote(ctx, p, n.ID)); g.Text != h {
				t.Fatalf("note text changed: %q → %q", h, g.Text)
			}
			sj := must[Subject](t)(s.CreateSubject(ctx, p, c.ID, Subject{Name: h, Notes: h}))
			if g := must[Subject](t)(s.GetSubject(ctx, p, sj.ID)); g.Name != h || g.Notes != h {
				t.Fatalf("subject changed: %q", g.Name)
			}
			it := must[Item](t)(s.AddItem(ctx, p, c.ID, Item{Kind: ItemEntity, Chain: "btc", Network: "mainnet", Ref: h, Label: h,
				Provenance: Provenance{Source: h}}))
			if g := must[Item](t)(s.GetItem(ctx, p, it.ID)); g.Ref != h || g.Label != h || g.Provenance.Source != h {
				t.Fatalf("item changed: %q", g.Ref)
			}
			tg := must[ItemTag](t)(s.TagItem(ctx, p, it.ID, h, h))
			if tg.Label != h || tg.Category != h {
				t.Fatalf("tag changed: %q", tg.Label)
			}
			res, _ := json.Marshal(map[string]string{"text": h})
			f := must[Finding](t)(s.AddFinding(ctx, p, c.ID, Finding{Kind: FindingOther, Title: h, Result: res}))
			var back map[string]string
			g := must[Finding](t)(s.GetFinding(ctx, p, f.ID))
			if err := json.Unmarshal(g.Result, &back); err != nil || back["text"] != h || g.Title != h {
				t.Fatalf("finding changed: %s", g.Result)
			}
		}
		// The tables are all still there and Verify hashes the same text.
		if l := must[[]Case](t)(s.ListCases(ctx, p, CaseFilter{})); len(l) != len(hostile)+1 {
			t.Fatalf("%d cases", len(l))
		}
		e.mustVerify(t)

		// What cannot be stored is refused, naming the field.
		for _, tc := range []struct {
			field string
			err   error
		}{
			{"title", second(s.CreateCase(ctx, p, Case{Reference: "nul", Title: "a\x00b"}))},
			{"title", second(s.CreateCase(ctx, p, Case{Reference: "utf8", Title: "a\xffb"}))},
			{"title", second(s.CreateCase(ctx, p, Case{Reference: "long", Title: strings.Repeat("x", 501)}))},
			{"title", second(s.CreateCase(ctx, p, Case{Reference: "newline", Title: "a\nb"}))},
			{"reference", second(s.CreateCase(ctx, p, Case{Title: "no reference"}))},
			{"text", second(s.AddNote(ctx, p, e.caseA.ID, 0, ""))},
			{"status", second(s.CreateCase(ctx, p, Case{Reference: "st", Title: "t", Status: "pending"}))},
			{"params", second(s.AddFinding(ctx, p, e.caseA.ID, Finding{Kind: FindingRisk, Title: "t", Params: []byte("{bad")}))},
			{"username", second(s.CreateUser(ctx, e.adminA, "<script>", RoleReviewer, pw))},
			{"password", second(s.CreateUser(ctx, e.adminA, "shortpw", RoleReviewer, "short"))},
		} {
			var ie *InvalidError
			if !errors.As(tc.err, &ie) || ie.Field != tc.field {
				t.Errorf("want invalid %s, got %v", tc.field, tc.err)
			}
		}
	})
}

func TestConcurrentAppends(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		stores := []*Store{e.s}
		if e.s.d.postgres {
			// A second server on the same database: the lock is the database's.
			stores = append(stores, open(t, e.dsn, e.opt))
		}
		before := len(e.auditOf(t))
		const workers, each = 6, 15
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				s := stores[w%len(stores)]
				for i := 0; i < each; i++ {
					if _, err := s.AddNote(ctx, e.invA, e.caseA.ID, 0, fmt.Sprintf("worker %d note %d", w, i)); err != nil {
						errs <- err
						return
					}
					if _, err := s.GetCase(ctx, e.roA, e.caseA.ID); err != nil {
						errs <- err
						return
					}
					if i%5 == 0 {
						if _, err := s.GetCase(ctx, e.invB, e.caseA.ID); !errors.Is(err, ErrNotFound) {
							errs <- fmt.Errorf("denied read: %v", err)
							return
						}
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		recs := e.auditOf(t)
		if want := before + workers*each*2 + workers*3; len(recs) != want {
			t.Errorf("%d audit records, want %d", len(recs), want)
		}
		for i, r := range recs {
			if r.Seq != int64(i+1) {
				t.Fatalf("record %d has seq %d", i+1, r.Seq)
			}
		}
		rep := e.mustVerify(t)
		if rep.Records != int64(len(recs)) {
			t.Errorf("report counts %d records", rep.Records)
		}
	})
}

func TestPasswords(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		var hash string
		if err := e.raw(t).QueryRow(e.s.d.q(`SELECT password_hash FROM users WHERE id = ?`), e.invA.UserID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(hash, pw) {
			t.Fatalf("stored hash %q", hash)
		}
		_, err := e.s.AuthenticatePassword(ctx, e.invA.Username, pw+"!")
		wantErr(t, err, ErrUnauthorized)
		_, err = e.s.AuthenticatePassword(ctx, "nobody", pw)
		wantErr(t, err, ErrUnauthorized)
		_, err = e.s.AuthenticatePassword(ctx, "'; DROP TABLE users; --", pw)
		wantErr(t, err, ErrUnauthorized)
		must[struct{}](t)(struct{}{}, e.s.SetPassword(ctx, e.invA, e.invA.UserID, "a new long password"))
		_, err = e.s.AuthenticatePassword(ctx, e.invA.Username, pw)
		wantErr(t, err, ErrUnauthorized)
		must[Principal](t)(e.s.AuthenticatePassword(ctx, e.invA.Username, "a new long password"))
		must[struct{}](t)(struct{}{}, e.s.DisableUser(ctx, e.adminA, e.invA.UserID))
		_, err = e.s.AuthenticatePassword(ctx, e.invA.Username, "a new long password")
		wantErr(t, err, ErrUnauthorized)
		// The two later failures of ivan.investigator came within a minute
		// of the first: counted, and written by the flush.
		if err := e.s.FlushAuthFailures(ctx); err != nil {
			t.Fatal(err)
		}
		var failed []string
		for _, r := range e.auditOf(t) {
			if r.Action == ActionLoginFailed {
				var d struct {
					Username, Reason string
					Attempts         int
					Reasons          map[string]int
				}
				json.Unmarshal([]byte(r.Detail), &d)
				failed = append(failed, fmt.Sprintf("%s: %s ×%d %v", d.Username, d.Reason, d.Attempts, d.Reasons))
			}
		}
		want := []string{"ivan.investigator: wrong password ×1 map[]", "nobody: unknown user ×1 map[]",
			"'; DROP TABLE users; --: unknown user ×1 map[]",
			"ivan.investigator: account disabled ×2 map[account disabled:1 wrong password:1]"}
		if strings.Join(failed, "|") != strings.Join(want, "|") {
			t.Errorf("failed logins\n%q\nwant\n%q", failed, want)
		}
		e.mustVerify(t)
	})
}

func TestDefaultArgon2(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	h, err := s.hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("default hash %q", h)
	}
	h2, _ := s.hashPassword(pw)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{pw, true}, {pw + " ", false}, {"", false}} {
		if ok, err := checkPassword(h, tc.pw); err != nil || ok != tc.want {
			t.Errorf("checkPassword(%q) = %v, %v", tc.pw, ok, err)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if _, err := checkPassword(bad, pw); err == nil {
			t.Errorf("checkPassword accepted hash %q", bad)
		}
	}
}

func TestSessionsAndTokens(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s := e.s
		secret, csrf, exp, err := s.CreateSession(ctx, e.invA, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(secret) < 40 || len(csrf) < 40 || secret == csrf {
			t.Fatalf("secret %q csrf %q", secret, csrf)
		}
		p, gotCSRF, err := s.Session(ctx, secret)
		if err != nil || p != e.invA || gotCSRF != csrf {
			t.Fatalf("Session = %+v %q %v", p, gotCSRF, err)
		}
		var stored string
		if err := e.raw(t).QueryRow(`SELECT secret_sha256 FROM sessions`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != secretHash(secret) || strings.Contains(stored, secret) {
			t.Fatalf("sessions table holds %q", stored)
		}
		_, _, err = s.Session(ctx, secret+"x")
		wantErr(t, err, ErrUnauthorized)
		e.clk.Advance(time.Until(exp) - time.Until(e.clk.t) + time.Second) // past the expiry
		_, _, err = s.Session(ctx, secret)
		wantErr(t, err, ErrUnauthorized)
		secret2, _, _, err := s.CreateSession(ctx, e.revA, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		must[struct{}](t)(struct{}{}, s.DeleteSession(ctx, secret2))
		_, _, err = s.Session(ctx, secret2)
		wantErr(t, err, ErrUnauthorized)
		_, _, _, err = s.CreateSession(ctx, e.invA, 0)
		wantErr(t, err, ErrInvalid)

		tok, id, err := s.CreateToken(ctx, e.invA, e.invA.UserID, "analysis scripts")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, TokenPrefix) {
			t.Fatalf("token %q", tok)
		}
		tp := must[Principal](t)(s.AuthenticateToken(ctx, tok))
		if tp != e.invA {
			t.Fatalf("token principal %+v", tp)
		}
		toks := must[[]Token](t)(s.ListTokens(ctx, e.adminA, e.invA.UserID))
		if len(toks) != 1 || toks[0].ID != id || toks[0].Prefix != tok[:12] || toks[0].LastUsedAt.IsZero() {
			t.Fatalf("tokens %+v", toks)
		}
		var n int
		if err := e.raw(t).QueryRow(e.s.d.q(`SELECT COUNT(*) FROM api_tokens WHERE secret_sha256 = ? AND prefix = ?`),
			secretHash(tok), tok[:12]).Scan(&n); err != nil || n != 1 {
			t.Fatalf("token row: %d, %v", n, err)
		}
		// Someone else's token: only an admin of the agency.
		_, _, err = s.CreateToken(ctx, e.revA, e.invA.UserID, "not mine")
		wantErr(t, err, ErrForbidden)
		wantErr(t, s.RevokeToken(ctx, e.adminB, id), ErrNotFound)
		wantErr(t, s.RevokeToken(ctx, e.revA, id), ErrForbidden)
		must[struct{}](t)(struct{}{}, s.RevokeToken(ctx, e.adminA, id))
		_, err = s.AuthenticateToken(ctx, tok)
		wantErr(t, err, ErrUnauthorized)
		_, err = s.AuthenticateToken(ctx, "vgt_guessed-secret")
		wantErr(t, err, ErrUnauthorized)
		var tokenFails []string
		for _, r := range e.auditOf(t) {
			if r.Action == ActionLoginFailed && r.ObjectType == "token" {
				if strings.Contains(r.Detail, tok) || strings.Contains(r.Detail, "guessed-secret") {
					t.Fatalf("a secret is in the audit log: %s", r.Detail)
				}
				tokenFails = append(tokenFails, r.Detail)
			}
		}
		if len(tokenFails) != 2 {
			t.Errorf("refused tokens recorded: %q", tokenFails)
		}
		// A disabled user's tokens and sessions stop working.
		tok2, _, err := s.CreateToken(ctx, e.revA, e.revA.UserID, "mine")
		if err != nil {
			t.Fatal(err)
		}
		sec3, _, _, _ := s.CreateSession(ctx, e.revA, time.Hour)
		must[struct{}](t)(struct{}{}, s.DisableUser(ctx, e.adminA, e.revA.UserID))
		_, err = s.AuthenticateToken(ctx, tok2)
		wantErr(t, err, ErrUnauthorized)
		_, _, err = s.Session(ctx, sec3)
		wantErr(t, err, ErrUnauthorized)
		// The token's use time is not audited: Verify still passes.
		e.mustVerify(t)
	})
}

func TestDeconflict(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s := e.s
		addr := "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
		add := func(p Principal, c Case, kind ItemKind, ref string) Item {
			return must[Item](t)(s.AddItem(ctx, p, c.ID, Item{Kind: kind, Chain: "btc", Network: "mainnet", Ref: ref}))
		}
		c2 := must[Case](t)(s.CreateCase(ctx, e.invA, Case{Reference: "2025/0002", Title: "Second"}))
		cB := must[Case](t)(s.CreateCase(ctx, e.invB, Case{Reference: "B-1", Title: "B"}))
		mine := add(e.invA, e.caseA, ItemAddress, addr)
		add(e.invA, e.caseA, ItemAddress, "1OnlyHere")
		add(e.invA, e.caseA, ItemTx, "abcd") // transactions are not deconflicted
		other := add(e.invA, c2, ItemAddress, addr)
		add(e.invA, c2, ItemTx, "abcd")
		add(e.invB, cB, ItemAddress, addr) // another agency: invisible
		hits := must[[]DeconflictHit](t)(s.Deconflict(ctx, e.roA, e.caseA.ID))
		if len(hits) != 1 || hits[0].ItemID != mine.ID || len(hits[0].Others) != 1 ||
			hits[0].Others[0] != (CaseItemRef{CaseID: c2.ID, Reference: "2025/0002", Title: "Second", ItemID: other.ID}) {
			t.Fatalf("Deconflict = %+v", hits)
		}
	})
}

func TestExportImport(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s := e.s
		it := must[Item](t)(s.AddItem(ctx, e.invA, e.caseA.ID, Item{Kind: ItemAddress, Chain: "btc", Network: "mainnet",
			Ref: "bc1qexample", Label: "ransom", Provenance: prov("btcd rpc")}))
		must[Note](t)(s.AddNote(ctx, e.invA, e.caseA.ID, it.ID, "on the item"))
		must[ItemTag](t)(s.TagItem(ctx, e.invA, it.ID, "suspect", "ransomware"))
		must[Finding](t)(s.AddFinding(ctx, e.invA, e.caseA.ID, Finding{Kind: FindingExposure, Title: "exposure",
			Params: []byte(`{"hops":3}`), Result: []byte(`[1,2,3]`), Provenance: prov("block files")}))
		must[Exhibit](t)(s.AddExhibit(ctx, e.invA, e.caseA.ID, "letter.txt", "text/plain", strings.NewReader("letter")))
		must[Task](t)(s.CreateTask(ctx, e.invA, e.caseA.ID, Task{Title: "follow up", AssigneeID: e.invA.UserID}))
		must[Subject](t)(s.CreateSubject(ctx, e.invA, e.caseA.ID, Subject{Name: "X"}))

		rec := must[*CaseRecords](t)(s.ExportCase(ctx, e.invA, e.caseA.ID))
		if len(rec.Items) != 1 || len(rec.Notes) != 1 || len(rec.Tags) != 1 || len(rec.Findings) != 1 ||
			len(rec.Exhibits) != 1 || len(rec.Tasks) != 1 || len(rec.Subjects) != 1 || len(rec.Audit) < 8 {
			t.Fatalf("export: %d items %d notes %d tags %d findings %d exhibits %d tasks %d audit", len(rec.Items), len(rec.Notes),
				len(rec.Tags), len(rec.Findings), len(rec.Exhibits), len(rec.Tasks), len(rec.Audit))
		}
		// Through JSON, as a package would carry it.
		blob, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var back CaseRecords
		if err := json.Unmarshal(blob, &back); err != nil {
			t.Fatal(err)
		}
		// Agency B receives it: the exhibit content first.
		_, _, err = s.StoreExhibitFile(ctx, e.invB, strings.NewReader("letter"))
		if err != nil {
			t.Fatal(err)
		}
		origin := Origin{Agency: "KOS-PD", PackageDigest: strings.Repeat("ab", 32), SenderKeyID: "key-1"}
		c := must[Case](t)(s.ImportCase(ctx, e.invB, &back, origin))
		if c.AgencyID != e.agB.ID || c.OriginAgency != "KOS-PD" || c.OriginPackageDigest != origin.PackageDigest ||
			c.ImportedAt.IsZero() || c.Reference != "2025/0001" {
			t.Fatalf("imported case %+v", c)
		}
		items := must[[]Item](t)(s.ListItems(ctx, e.invB, c.ID))
		if len(items) != 1 || items[0].Provenance.Actor != e.invA.Username || !items[0].Provenance.At.Equal(it.Provenance.At) ||
			items[0].Provenance.Source != "btcd rpc" {
			t.Fatalf("imported item provenance %+v", items[0].Provenance)
		}
		notes := must[[]Note](t)(s.ListNotes(ctx, e.invB, c.ID))
		if len(notes) != 1 || notes[0].ItemID != items[0].ID {
			t.Fatalf("imported notes %+v", notes)
		}
		_, err = s.ImportCase(ctx, e.invB, &back, origin)
		wantErr(t, err, ErrConflict)
		_, err = s.ImportCase(ctx, e.roA, &back, origin)
		wantErr(t, err, ErrForbidden)
		var imports, exports int
		for _, r := range e.auditOf(t) {
			if r.Action == ActionImport && r.AgencyID == e.agB.ID {
				imports++
			}
			if r.Action == ActionExport && r.ObjectType == "case" {
				exports++
			}
		}
		if imports != 8 || exports != 1 {
			t.Errorf("%d import records (want 8), %d exports (want 1)", imports, exports)
		}
		e.mustVerify(t)
	})
}

func TestMigrations(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		// Opening again applies nothing and loses nothing.
		s2 := open(t, e.dsn, e.opt)
		must[Case](t)(s2.GetCase(ctx, e.invA, e.caseA.ID))
		var n int
		if err := e.raw(t).QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != SchemaVersion() {
			t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, SchemaVersion())
		}
		// The tables are as tableSpec describes them.
		for _, tb := range allTables {
			rs, err := e.raw(t).Query("SELECT * FROM " + tb.name + " WHERE 1 = 0")
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rs.Columns()
			rs.Close()
			if strings.Join(cols, " ") != strings.Join(tb.colNames(), " ") {
				t.Errorf("%s has columns %v, the spec %v", tb.name, cols, tb.colNames())
			}
		}
		// A newer schema is refused.
		e.exec(t, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, SchemaVersion()+1, "9999_future.sql", 0)
		_, err := Open(ctx, e.dsn, e.opt)
		wantErr(t, err, ErrSchemaTooNew)
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, "", Options{})
	wantErr(t, err, ErrInvalid)
	_, err = Open(ctx, filepath.Join(t.TempDir(), "missing-dir", "c.db"), Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "casestore: open ") {
		t.Fatalf("Open in a missing directory: %v", err)
	}
	_, err = Open(ctx, filepath.Join(t.TempDir(), "c.db"), Options{Argon2: Argon2Params{Memory: 1, Time: 1, Threads: 1}})
	wantErr(t, err, ErrInvalid)
}
