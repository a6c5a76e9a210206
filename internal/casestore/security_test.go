package casestore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// rewriteLog rewrites the whole audit log as someone with write access to
// the database would to hide an edit: the records for which keep says
// false are dropped, edit changes the others, the seqs are renumbered and
// the chain and head are recomputed. It returns the new log.
func rewriteLog(t *testing.T, e *env, keep func(AuditRecord) bool, edit func(*AuditRecord)) []AuditRecord {
	t.Helper()
	var out []AuditRecord
	prev := zeroHash
	for _, r := range e.auditOf(t) {
		if !keep(r) {
			continue
		}
		edit(&r)
		r.Seq = int64(len(out) + 1)
		r.PrevHash = prev
		h, err := recordHash(&r)
		if err != nil {
			t.Fatal(err)
		}
		r.Hash, prev = h, h
		out = append(out, r)
	}
	db := e.raw(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM audit_log`, `DELETE FROM checkpoints`} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range out {
		if err := e.s.insertFull(context.Background(), tx, tAudit, auditRow(&r)); err != nil {
			t.Fatal(err)
		}
	}
	last := out[len(out)-1]
	if _, err := tx.Exec(e.s.d.q(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), last.Seq, last.Hash); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// anchorFile is every checkpoint of the store as an anchor file.
func anchorFile(t *testing.T, e *env) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, cp := range must[[]Checkpoint](t)(e.s.ListCheckpoints(context.Background())) {
		if err := AppendAnchor(&b, cp); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestAnchors(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		pub := e0key().Public().(ed25519.PublicKey)
		setup := func(t *testing.T) (*env, Note, []Checkpoint) {
			e := newEnv(t, b)
			n, _ := populate(t, e)
			must[Note](t)(e.s.AddNote(ctx, e.invA, e.caseA.ID, 0, "between the checkpoints"))
			must[Checkpoint](t)(e.s.Checkpoint(ctx, e.key))
			must[Note](t)(e.s.AddNote(ctx, e.invA, e.caseA.ID, 0, "after the last checkpoint"))
			anchors := must[[]Checkpoint](t)(ReadAnchors(bytes.NewReader(anchorFile(t, e))))
			if len(anchors) != 2 {
				t.Fatalf("%d anchors", len(anchors))
			}
			return e, n, anchors
		}
		verifyWith := func(t *testing.T, e *env, v Verifier) *VerifyReport {
			t.Helper()
			return must[*VerifyReport](t)(e.s.Verify(ctx, v))
		}
		full := func(anchors []Checkpoint) Verifier {
			return Verifier{SigningKeys: []ed25519.PublicKey{pub}, VerifyToken: verifyStamp, Anchors: anchors}
		}

		t.Run("intact", func(t *testing.T) {
			t.Parallel()
			e, _, anchors := setup(t)
			rep := verifyWith(t, e, full(anchors))
			if !rep.OK() || rep.Anchors != 2 || rep.Anchored != anchors[1].Seq {
				t.Fatalf("report %+v", rep)
			}
			want := fmt.Sprintf("records %d–%d are not anchored yet", anchors[1].Seq+1, rep.HeadSeq)
			if !slices.Contains(rep.Unchecked, want) {
				t.Fatalf("unchecked %q, want %q", rep.Unchecked, want)
			}
		})

		t.Run("rewritten log", func(t *testing.T) {
			t.Parallel()
			e, n, anchors := setup(t)
			// Edit the note, rewrite its records' object hashes, drop the
			// checkpoints and their records, recompute the whole chain.
			e.exec(t, `UPDATE notes SET text = ? WHERE id = ?`, "The victim paid 5 BTC.", n.ID)
			r := must[[]row](t)(e.s.listRows(ctx, e.s.db, tNotes, "id = ?", n.ID))[0]
			h := must[string](t)(rowHash(tNotes, r))
			rewriteLog(t, e, func(r AuditRecord) bool { return r.ObjectType != "checkpoint" }, func(r *AuditRecord) {
				if r.ObjectType == "note" && r.ObjectID == n.ID && r.Action != ActionDelete {
					r.ObjectHash = h
				}
			})
			// Without anchors the rewrite passes: what anchors are for.
			if rep := e.verify(t); !rep.OK() || rep.Checkpoints != 0 {
				t.Fatalf("the rewritten store without anchors: %q", rep.Problems)
			}
			rep := verifyWith(t, e, full(anchors))
			if rep.OK() {
				t.Fatal("Verify with anchors found nothing")
			}
			seq := anchors[0].Seq
			var logHash string
			for _, r := range e.auditOf(t) {
				if r.Seq == seq {
					logHash = r.Hash
				}
			}
			want := fmt.Sprintf("checkpoint anchor of record %d: the log's record %d has hash %.12s…, the anchor says %.12s… (the log was rewritten)",
				seq, seq, logHash, anchors[0].HeadHash)
			if rep.First() != want {
				t.Fatalf("first problem\n%q\nwant\n%q\nall: %q", rep.First(), want, rep.Problems)
			}
			wantMissing := fmt.Sprintf("checkpoint anchor of record %d: its checkpoint (id %d) is missing from the database", seq, anchors[0].ID)
			if !slices.Contains(rep.Problems, wantMissing) || rep.Anchored != 0 {
				t.Fatalf("problems %q, anchored %d", rep.Problems, rep.Anchored)
			}
		})

		t.Run("truncated log", func(t *testing.T) {
			t.Parallel()
			e, _, anchors := setup(t)
			// Cut the log back to before the last anchor (and its checkpoint).
			cut := anchors[1].Seq - 1
			rewriteLog(t, e, func(r AuditRecord) bool { return r.Seq <= cut && r.ObjectType != "checkpoint" }, func(*AuditRecord) {})
			e.exec(t, `DELETE FROM notes`)
			rep := verifyWith(t, e, full(anchors))
			want := fmt.Sprintf("checkpoint anchor of record %d: the log ends at record", anchors[1].Seq)
			found := false
			for _, p := range rep.Problems {
				found = found || strings.HasPrefix(p, want)
			}
			if !found {
				t.Fatalf("problems %q, want one starting %q", rep.Problems, want)
			}
		})

		t.Run("deleted checkpoint row", func(t *testing.T) {
			t.Parallel()
			e, _, anchors := setup(t)
			e.exec(t, `DELETE FROM checkpoints WHERE id = ?`, anchors[0].ID)
			rep := verifyWith(t, e, full(anchors))
			want := fmt.Sprintf("checkpoint anchor of record %d: its checkpoint (id %d) is missing from the database", anchors[0].Seq, anchors[0].ID)
			if !slices.Contains(rep.Problems, want) {
				t.Fatalf("problems %q", rep.Problems)
			}
		})

		t.Run("untrusted and forged anchors", func(t *testing.T) {
			t.Parallel()
			e, _, anchors := setup(t)
			other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
			forged := anchors[0]
			digest := must[[]byte](t)(CheckpointDigest(forged.Seq, forged.HeadHash))
			forged.PublicKey = other.Public().(ed25519.PublicKey)
			forged.KeyID = KeyID(forged.PublicKey)
			forged.Signature = ed25519.Sign(other, digest)
			badSig := anchors[1]
			badSig.Signature = slices.Clone(badSig.Signature)
			badSig.Signature[5] ^= 1
			badTok := anchors[1]
			badTok.TSAToken = []byte("tst:00")
			rep := verifyWith(t, e, full([]Checkpoint{forged, badSig, badTok}))
			for _, want := range []string{
				fmt.Sprintf("checkpoint anchor of record %d: signed by key %.12s…, which is not a trusted signing key", forged.Seq, forged.KeyID),
				fmt.Sprintf("checkpoint anchor of record %d: signature does not verify", badSig.Seq),
				fmt.Sprintf("checkpoint anchor of record %d: time-stamp token does not verify: token does not cover the digest", badTok.Seq),
			} {
				if !slices.Contains(rep.Problems, want) {
					t.Errorf("no problem %q in %q", want, rep.Problems)
				}
			}
			// Without any trusted key an anchor vouches for nothing.
			rep = verifyWith(t, e, Verifier{Anchors: anchors[:1]})
			if rep.OK() || !strings.Contains(rep.First(), "no trusted signing key given") {
				t.Fatalf("anchors without keys: %q", rep.Problems)
			}
		})
	})
}

// e0key is the installation key of newEnv.
func e0key() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("installation key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func TestAnchorFile(t *testing.T) {
	key := e0key()
	head := strings.Repeat("ab", 32)
	digest := must[[]byte](t)(CheckpointDigest(17, head))
	pub := key.Public().(ed25519.PublicKey)
	cp := Checkpoint{ID: 3, Seq: 17, HeadHash: head, KeyID: KeyID(pub), PublicKey: pub, Signature: ed25519.Sign(key, digest),
		TSAToken: []byte("token"), CreatedAt: time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)}
	var b bytes.Buffer
	if err := AppendAnchor(&b, cp); err != nil {
		t.Fatal(err)
	}
	cp2 := cp
	cp2.ID, cp2.TSAToken = 4, nil
	if err := AppendAnchor(&b, cp2); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b.Bytes(), []byte("\n")) != 2 {
		t.Fatalf("anchor file %q", b.String())
	}
	got := must[[]Checkpoint](t)(ReadAnchors(bytes.NewReader(append([]byte("\n"), b.Bytes()...))))
	if len(got) != 2 || !got[0].CreatedAt.Equal(cp.CreatedAt) || !bytes.Equal(got[0].Signature, cp.Signature) ||
		string(got[0].TSAToken) != "token" || got[1].ID != 4 || got[1].TSAToken != nil {
		t.Fatalf("read back %+v", got)
	}
	if l := must[[]Checkpoint](t)(ReadAnchors(strings.NewReader(""))); len(l) != 0 {
		t.Fatalf("empty file: %v", l)
	}
	line := strings.SplitAfter(b.String(), "\n")[0]
	for name, tc := range map[string]struct {
		file, want string
	}{
		"cut short":     {line + line[:40], "anchor file line 2: not a checkpoint"},
		"unknown field": {line + `{"seq":1,"extra":true}` + "\n", "anchor file line 2: not a checkpoint: json: unknown field"},
		"two values":    {strings.TrimSuffix(line, "\n") + " {}\n", "anchor file line 1: data after the checkpoint"},
		"short key":     {strings.Replace(line, `"public_key":"`, `"public_key":"AAAA`, 1), "anchor file line 1:"},
		"upper hex":     {strings.Replace(line, head, strings.ToUpper(head), 1), "is not 32 bytes of lower-case hex"},
		"key id":        {strings.Replace(line, cp.KeyID, strings.Repeat("0", 64), 1), "is not the id of its public key"},
		"negative":      {strings.Replace(line, `"seq":17`, `"seq":-1`, 1), "seq -1 is negative"},
		"not json":      {"hello\n", "anchor file line 1: not a checkpoint"},
	} {
		_, err := ReadAnchors(strings.NewReader(tc.file))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid with %q", name, err, tc.want)
		}
	}
	bad := cp
	bad.Signature = bad.Signature[:10]
	var w bytes.Buffer
	if err := AppendAnchor(&w, bad); !errors.Is(err, ErrInvalid) || w.Len() != 0 {
		t.Fatalf("AppendAnchor of a bad checkpoint: %v, wrote %d bytes", err, w.Len())
	}
}

func FuzzReadAnchors(f *testing.F) {
	key := e0key()
	pub := key.Public().(ed25519.PublicKey)
	head := strings.Repeat("cd", 32)
	digest, _ := CheckpointDigest(5, head)
	var b bytes.Buffer
	_ = AppendAnchor(&b, Checkpoint{ID: 1, Seq: 5, HeadHash: head, KeyID: KeyID(pub), PublicKey: pub,
		Signature: ed25519.Sign(key, digest), TSAToken: []byte{1, 2, 3}})
	f.Add(b.Bytes())
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"seq":1,"head_hash":"00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		anchors, err := ReadAnchors(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		// What was read writes back and reads again the same.
		var w bytes.Buffer
		for _, a := range anchors {
			if err := AppendAnchor(&w, a); err != nil {
				t.Fatalf("an anchor read is refused: %v", err)
			}
		}
		again, err := ReadAnchors(&w)
		if err != nil || len(again) != len(anchors) {
			t.Fatalf("read back: %d anchors, %v", len(again), err)
		}
		for i := range anchors {
			if anchorKey(anchors[i]) != anchorKey(again[i]) {
				t.Fatalf("anchor %d changed", i)
			}
		}
	})
}

// sessionRecords are the audit records of sessions.
func sessionRecords(t *testing.T, e *env) []AuditRecord {
	var out []AuditRecord
	for _, r := range e.auditOf(t) {
		if r.ObjectType == "session" {
			out = append(out, r)
		}
	}
	return out
}

func detailOf(t *testing.T, r AuditRecord) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSessionsAudited(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		t.Run("lifecycle", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			sec, _, _ := must3(t)(e.s.CreateSession(ctx, e.invA, time.Hour))
			recs := sessionRecords(t, e)
			if len(recs) != 1 || recs[0].Action != ActionCreate || recs[0].ActorID != e.invA.UserID || recs[0].ObjectHash == "" {
				t.Fatalf("records of a new session %+v", recs)
			}
			id := recs[0].ObjectID
			r := must[[]row](t)(e.s.listRows(ctx, e.s.db, tSessions, "id = ?", id))[0]
			if h := must[string](t)(rowHash(tSessions, r)); h != recs[0].ObjectHash {
				t.Fatalf("object hash %s, the row hashes to %s", recs[0].ObjectHash, h)
			}
			if strings.Contains(recs[0].Detail, sec) {
				t.Fatal("the secret is in the audit log")
			}
			e.mustVerify(t)
			must[struct{}](t)(struct{}{}, e.s.DeleteSession(ctx, sec))
			// Expiry: ended by the system when used, and by the clean-up.
			sec2, _, _ := must3(t)(e.s.CreateSession(ctx, e.revA, time.Minute))
			must3(t)(e.s.CreateSession(ctx, e.roA, time.Minute))
			e.clk.Advance(2 * time.Minute)
			_, _, err := e.s.Session(ctx, sec2)
			wantErr(t, err, ErrUnauthorized)
			must3(t)(e.s.CreateSession(ctx, e.adminA, time.Hour)) // ends roA's expired session
			var got []string
			for _, r := range sessionRecords(t, e) {
				d := detailOf(t, r)
				got = append(got, fmt.Sprintf("%s %d by %s: %v", r.Action, int64(d["user_id"].(float64)), r.Actor, d["reason"]))
			}
			want := []string{
				fmt.Sprintf("create %d by %s: <nil>", e.invA.UserID, e.invA.Username),
				fmt.Sprintf("delete %d by %s: logout", e.invA.UserID, e.invA.Username),
				fmt.Sprintf("create %d by %s: <nil>", e.revA.UserID, e.revA.Username),
				fmt.Sprintf("create %d by %s: <nil>", e.roA.UserID, e.roA.Username),
				fmt.Sprintf("delete %d by system: expired", e.revA.UserID),
				fmt.Sprintf("delete %d by system: expired", e.roA.UserID),
				fmt.Sprintf("create %d by %s: <nil>", e.adminA.UserID, e.adminA.Username),
			}
			if !slices.Equal(got, want) {
				t.Fatalf("session records\n%q\nwant\n%q", got, want)
			}
			// Records by the system carry the agency of the session's user.
			for _, r := range sessionRecords(t, e) {
				if r.AgencyID != e.agA.ID {
					t.Errorf("session record %d in agency %d", r.Seq, r.AgencyID)
				}
			}
			// An unknown secret writes nothing.
			n := len(e.auditOf(t))
			must[struct{}](t)(struct{}{}, e.s.DeleteSession(ctx, "no-such-session"))
			if len(e.auditOf(t)) != n {
				t.Fatal("logging out an unknown session wrote to the log")
			}
			e.mustVerify(t)
		})

		t.Run("inserted session", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			const secret = "planted-session-secret"
			e.exec(t, `INSERT INTO sessions (user_id, secret_sha256, csrf, created_at, expires_at) VALUES (?, ?, 'x', 1, ?)`,
				e.adminA.UserID, secretHash(secret), micros(e.clk.t.Add(time.Hour)))
			_, _, err := e.s.Session(ctx, secret)
			wantErr(t, err, ErrUnauthorized)
			var id int64
			if err := e.raw(t).QueryRow(`SELECT id FROM sessions`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			last := e.auditOf(t)[len(e.auditOf(t))-1]
			if last.Action != ActionLoginFailed || last.ObjectType != "session" || last.ObjectID != id ||
				!strings.Contains(last.Detail, "not in the audit log") {
				t.Fatalf("the refusal is not audited: %+v", last)
			}
			rep := e.verify(t)
			want := fmt.Sprintf("session %d: not in the audit log (inserted behind Vestigo's back)", id)
			if rep.First() != want {
				t.Fatalf("first problem %q, want %q", rep.First(), want)
			}
		})

		t.Run("edited session", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			sec, _, _ := must3(t)(e.s.CreateSession(ctx, e.roA, time.Hour))
			e.exec(t, `UPDATE sessions SET user_id = ?`, e.adminA.UserID)
			_, _, err := e.s.Session(ctx, sec)
			wantErr(t, err, ErrUnauthorized)
			id := sessionRecords(t, e)[0].ObjectID
			rep := e.verify(t)
			want := fmt.Sprintf("session %d: stored content differs from audit record %d", id, sessionRecords(t, e)[0].Seq)
			if rep.First() != want {
				t.Fatalf("first problem %q, want %q", rep.First(), want)
			}
		})

		t.Run("edited credentials", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			tok, _ := must2[string, int64](t)(e.s.CreateToken(ctx, e.roA, e.roA.UserID, "mine"))
			sec, _, _ := must3(t)(e.s.CreateSession(ctx, e.roA, time.Hour))
			// Promoted behind the store's back: no login, token or session works.
			e.exec(t, `UPDATE users SET role = 'admin' WHERE id = ?`, e.roA.UserID)
			_, err := e.s.AuthenticatePassword(ctx, e.roA.Username, pw)
			wantErr(t, err, ErrUnauthorized)
			_, err = e.s.AuthenticateToken(ctx, tok)
			wantErr(t, err, ErrUnauthorized)
			_, _, err = e.s.Session(ctx, sec)
			wantErr(t, err, ErrUnauthorized)
			n := 0
			for _, r := range e.auditOf(t) {
				if r.Action == ActionLoginFailed && r.ObjectType == "user" && strings.Contains(r.Detail, "differs from its audit record") {
					n++
				}
			}
			if n != 3 {
				t.Fatalf("%d audited refusals, want 3", n)
			}
		})
	})
}

func must2[A, B any](t *testing.T) func(A, B, error) (A, B) {
	return func(a A, b B, err error) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func must3(t *testing.T) func(string, string, time.Time, error) (string, string, time.Time) {
	return func(a, b string, c time.Time, err error) (string, string, time.Time) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b, c
	}
}

func TestCredentialChangesEndSessions(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s := e.s
		live := func(sec string) bool {
			_, _, err := s.Session(ctx, sec)
			return err == nil
		}
		reasons := func() []string {
			var out []string
			for _, r := range sessionRecords(t, e) {
				if r.Action == ActionDelete {
					out = append(out, fmt.Sprintf("%s by %s", detailOf(t, r)["reason"], r.Actor))
				}
			}
			return out
		}
		// Changing one's own password ends every session of one's own.
		a1, _, _ := must3(t)(s.CreateSession(ctx, e.invA, time.Hour))
		a2, _, _ := must3(t)(s.CreateSession(ctx, e.invA, time.Hour))
		other, _, _ := must3(t)(s.CreateSession(ctx, e.revA, time.Hour))
		must[struct{}](t)(struct{}{}, s.SetPassword(ctx, e.invA, e.invA.UserID, "a new long password"))
		if live(a1) || live(a2) || !live(other) {
			t.Fatalf("after a password change: %v %v %v", live(a1), live(a2), live(other))
		}
		// A reset by an admin, and disabling a user, too.
		r1, _, _ := must3(t)(s.CreateSession(ctx, e.roA, time.Hour))
		must[struct{}](t)(struct{}{}, s.SetPassword(ctx, e.adminA, e.roA.UserID, "reset by the admin"))
		if live(r1) {
			t.Fatal("a session outlived a password reset")
		}
		must[struct{}](t)(struct{}{}, s.DisableUser(ctx, e.adminA, e.revA.UserID))
		if live(other) {
			t.Fatal("a session outlived disabling its user")
		}
		want := []string{"password changed by ivan.investigator", "password changed by ivan.investigator",
			"password changed by alice.admin", "user disabled by alice.admin"}
		if got := reasons(); !slices.Equal(got, want) {
			t.Fatalf("session ends %q, want %q", got, want)
		}

		// Every token of a user, by an admin.
		t1, _ := must2[string, int64](t)(s.CreateToken(ctx, e.invA, e.invA.UserID, "one"))
		t2, _ := must2[string, int64](t)(s.CreateToken(ctx, e.invA, e.invA.UserID, "two"))
		_, id3 := must2[string, int64](t)(s.CreateToken(ctx, e.invA, e.invA.UserID, "three"))
		must[struct{}](t)(struct{}{}, s.RevokeToken(ctx, e.invA, id3))
		_, err := s.RevokeUserTokens(ctx, e.invA, e.invA.UserID)
		wantErr(t, err, ErrForbidden)
		_, err = s.RevokeUserTokens(ctx, e.adminB, e.invA.UserID)
		wantErr(t, err, ErrNotFound)
		if n := must[int](t)(s.RevokeUserTokens(ctx, e.adminA, e.invA.UserID)); n != 2 {
			t.Fatalf("revoked %d tokens, want 2", n)
		}
		for _, tok := range []string{t1, t2} {
			_, err := s.AuthenticateToken(ctx, tok)
			wantErr(t, err, ErrUnauthorized)
		}
		e.mustVerify(t)
	})
}

func TestAuditAndExportPermissions(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s := e.s
		for _, p := range []Principal{e.roA, e.invA} {
			_, err := s.ListAudit(ctx, p, AuditFilter{})
			wantErr(t, err, ErrForbidden)
			_, err = s.ListAudit(ctx, p, AuditFilter{CaseID: e.caseA.ID})
			wantErr(t, err, ErrForbidden)
		}
		for _, p := range []Principal{e.roA, e.revA} {
			_, err := s.ExportCase(ctx, p, e.caseA.ID)
			wantErr(t, err, ErrForbidden)
		}
		must[[]AuditRecord](t)(s.ListAudit(ctx, e.revA, AuditFilter{}))
		must[[]AuditRecord](t)(s.ListAudit(ctx, e.adminA, AuditFilter{CaseID: e.caseA.ID}))
		must[*CaseRecords](t)(s.ExportCase(ctx, e.invA, e.caseA.ID))
		// Every refusal is audited.
		var denied []string
		for _, r := range e.auditOf(t) {
			if r.Action == ActionDenied {
				denied = append(denied, fmt.Sprintf("%s: %s", r.Actor, detailOf(t, r)["attempted"]))
			}
		}
		c := e.caseA.ID
		want := []string{"olga.readonly: read the audit log", "olga.readonly: read the audit log of a case",
			"ivan.investigator: read the audit log", "ivan.investigator: read the audit log of a case",
			fmt.Sprintf("olga.readonly: export case %d", c), fmt.Sprintf("rita.reviewer: export case %d", c)}
		if !slices.Equal(denied, want) {
			t.Fatalf("denials\n%q\nwant\n%q", denied, want)
		}
		e.mustVerify(t)
	})
}

func TestFailedLoginsAggregated(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s := e.s
		failures := func(key, value string) (records int, attempts int64) {
			for _, r := range e.auditOf(t) {
				if r.Action != ActionLoginFailed {
					continue
				}
				d := detailOf(t, r)
				if d[key] == value {
					records++
					attempts += int64(d["attempts"].(float64))
				}
			}
			return records, attempts
		}
		prefix := "vgt_AAAAAAAA"
		try := func(n int, suffix string) {
			for i := range n {
				_, err := s.AuthenticateToken(ctx, fmt.Sprintf("%s%s%d", prefix, suffix, i))
				wantErr(t, err, ErrUnauthorized)
			}
		}
		try(50, "x")
		if r, a := failures("prefix", prefix); r != 1 || a != 1 {
			t.Fatalf("50 failures in a minute: %d records of %d attempts, want 1 of 1", r, a)
		}
		e.clk.Advance(61 * time.Second)
		try(1, "y")
		if r, a := failures("prefix", prefix); r != 2 || a != 51 {
			t.Fatalf("after the minute: %d records of %d attempts, want 2 of 51", r, a)
		}
		try(3, "z")
		must[struct{}](t)(struct{}{}, s.FlushAuthFailures(ctx))
		if r, a := failures("prefix", prefix); r != 3 || a != 54 {
			t.Fatalf("after the flush: %d records of %d attempts, want 3 of 54", r, a)
		}
		// Passwords, per username.
		for range 10 {
			_, err := s.AuthenticatePassword(ctx, e.invA.Username, "wrong password!")
			wantErr(t, err, ErrUnauthorized)
		}
		if r, _ := failures("username", e.invA.Username); r != 1 {
			t.Fatalf("10 wrong passwords: %d records", r)
		}
		// Many distinct prefixes in one minute share one record beyond the limit.
		e.clk.Advance(2 * time.Minute)
		before := len(e.auditOf(t))
		for i := range 150 {
			_, err := s.AuthenticateToken(ctx, fmt.Sprintf("vgt_%08d-secret", i))
			wantErr(t, err, ErrUnauthorized)
		}
		must[struct{}](t)(struct{}{}, s.FlushAuthFailures(ctx)) // also the 9 held for invA
		var recs, attempts int64
		for _, r := range e.auditOf(t)[before:] {
			if d := detailOf(t, r); d["method"] == "token" {
				recs++
				attempts += int64(d["attempts"].(float64))
			}
		}
		// failLimit keys, then one shared record at once and one by the flush.
		if recs != failLimit+2 || attempts != 150 {
			t.Fatalf("150 prefixes: %d records of %d attempts, want %d of 150", recs, attempts, failLimit+2)
		}
		if r, a := failures("username", e.invA.Username); r != 2 || a != 10 {
			t.Fatalf("wrong passwords after the flush: %d records of %d attempts", r, a)
		}
		// Close writes what is still held.
		e.clk.Advance(2 * time.Minute)
		try(1, "again")
		try(2, "again")
		must[struct{}](t)(struct{}{}, s.Close())
		e.s = open(t, e.dsn, e.opt)
		if r, a := failures("prefix", prefix); r != 5 || a != 57 {
			t.Fatalf("after Close: %d records of %d attempts, want 5 of 57", r, a)
		}
		e.mustVerify(t)
	})
}

func TestDumpWithoutSessions(t *testing.T) {
	ctx := context.Background()
	for _, from := range backends {
		for _, to := range backends {
			t.Run(from.name+"_to_"+to.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, from)
				live, _, _ := must3(t)(e.s.CreateSession(ctx, e.invA, time.Hour))
				gone, _, _ := must3(t)(e.s.CreateSession(ctx, e.revA, time.Hour))
				must[struct{}](t)(struct{}{}, e.s.DeleteSession(ctx, gone))
				must3(t)(e.s.CreateSession(ctx, e.roA, time.Hour))
				// The note of the highest id is deleted: its id is never given again.
				n := must[Note](t)(e.s.AddNote(ctx, e.invA, e.caseA.ID, 0, "deleted later"))
				must[struct{}](t)(struct{}{}, e.s.DeleteNote(ctx, e.invA, n.ID))
				must[Checkpoint](t)(e.s.Checkpoint(ctx, e.key))
				anchors := must[[]Checkpoint](t)(ReadAnchors(bytes.NewReader(anchorFile(t, e))))
				var dump bytes.Buffer
				if err := e.s.Dump(ctx, &dump); err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(dump.Bytes(), []byte(`"table":"sessions"`)) || bytes.Contains(dump.Bytes(), []byte(`"sessions":`)) {
					t.Fatal("the dump holds sessions")
				}
				orig := e.auditOf(t)

				dst := open(t, to.dsn(t), e.opt)
				if err := dst.Load(ctx, bytes.NewReader(dump.Bytes())); err != nil {
					t.Fatal(err)
				}
				e2 := *e
				e2.s = dst
				// The log is kept, and ends the two open sessions.
				got := e2.auditOf(t)
				if len(got) != len(orig)+2 || got[len(orig)-1].Hash != orig[len(orig)-1].Hash {
					t.Fatalf("restored log: %d records, the original %d", len(got), len(orig))
				}
				for _, r := range got[len(orig):] {
					if r.Action != ActionDelete || r.ObjectType != "session" || r.Actor != "system" || r.AgencyID != e.agA.ID ||
						!strings.Contains(r.Detail, "not restored") {
						t.Fatalf("record after the restore %+v", r)
					}
				}
				rep := must[*VerifyReport](t)(dst.Verify(ctx, Verifier{SigningKeys: []ed25519.PublicKey{e.key.Public().(ed25519.PublicKey)},
					VerifyToken: verifyStamp, Anchors: anchors}))
				if !rep.OK() || rep.Anchored != anchors[0].Seq {
					t.Fatalf("restored store: %q, anchored %d", rep.Problems, rep.Anchored)
				}
				_, _, err := dst.Session(ctx, live)
				wantErr(t, err, ErrUnauthorized)
				// New ids follow every id the log has named.
				must3(t)(dst.CreateSession(ctx, e.invA, time.Hour))
				recs := sessionRecords(t, &e2)
				if id := recs[len(recs)-1].ObjectID; id != 4 {
					t.Errorf("new session id %d, want 4", id)
				}
				if n2 := must[Note](t)(dst.AddNote(ctx, e.invA, e.caseA.ID, 0, "after restore")); n2.ID <= n.ID {
					t.Errorf("new note id %d reuses the id of deleted note %d", n2.ID, n.ID)
				}
				e2.mustVerify(t)
			})
		}
	}
	t.Run("old dump with sessions", func(t *testing.T) {
		e := newEnv(t, backends[0])
		var dump bytes.Buffer
		if err := e.s.Dump(ctx, &dump); err != nil {
			t.Fatal(err)
		}
		withSessions := bytes.Replace(dump.Bytes(), []byte(`"counts":{`), []byte(`"counts":{"sessions":0,`), 1)
		dst := open(t, filepath.Join(t.TempDir(), "r.db"), e.opt)
		wantErr(t, dst.Load(ctx, bytes.NewReader(withSessions)), ErrInvalid)
	})
}

func TestLoadVerified(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		n, _ := populate(t, e)
		var dump bytes.Buffer
		if err := e.s.Dump(ctx, &dump); err != nil {
			t.Fatal(err)
		}
		v := Verifier{SigningKeys: []ed25519.PublicKey{e.key.Public().(ed25519.PublicKey)}, VerifyToken: verifyStamp}
		copyFiles := func(t *testing.T, dir string) {
			for _, f := range must[[]ExhibitFile](t)(e.s.ExhibitFiles(ctx)) {
				copyFile(t, f.Path, filepath.Join(dir, f.Rel))
			}
		}
		// A sound dump loads and verifies.
		opt := e.opt
		opt.ExhibitDir = t.TempDir()
		copyFiles(t, opt.ExhibitDir)
		good := open(t, b.dsn(t), opt)
		rep := must[*VerifyReport](t)(good.LoadVerified(ctx, bytes.NewReader(dump.Bytes()), v))
		if !rep.OK() || rep.Checkpoints != 1 {
			t.Fatalf("report %+v", rep)
		}
		// A dump whose note was edited does not load.
		bad := bytes.Replace(dump.Bytes(), []byte("The victim paid 0.5 BTC."), []byte("The victim paid 5.0 BTC."), 1)
		if bytes.Equal(bad, dump.Bytes()) {
			t.Fatal("the note is not in the dump")
		}
		opt.ExhibitDir = t.TempDir()
		copyFiles(t, opt.ExhibitDir)
		dst := open(t, b.dsn(t), opt)
		rep, err := dst.LoadVerified(ctx, bytes.NewReader(bad), v)
		wantErr(t, err, ErrVerification)
		want := fmt.Sprintf("note %d: stored content differs from audit record %d", n.ID, lastRecordOf(e, "note", n.ID))
		if rep == nil || rep.First() != want || !strings.Contains(err.Error(), want) {
			t.Fatalf("report %+v, error %v", rep, err)
		}
		if empty := must[bool](t)(dst.Empty(ctx)); !empty {
			t.Fatal("a load that does not verify left rows behind")
		}
		// Plain Load takes it (and Verify finds the edit).
		if err := dst.Load(ctx, bytes.NewReader(bad)); err != nil {
			t.Fatal(err)
		}
		if rep := must[*VerifyReport](t)(dst.Verify(ctx, v)); rep.First() != want {
			t.Fatalf("first problem %q", rep.First())
		}
	})
}

func TestCheckImport(t *testing.T) {
	base := func() *CaseRecords {
		return &CaseRecords{Case: Case{Reference: "R/1", Title: "t"},
			Items: []Item{{ID: 7, Kind: ItemAddress, Chain: "btc", Network: "mainnet", Ref: "bc1q"}},
			Notes: []Note{{ItemID: 7, Text: "on the item"}, {Text: "on the case"}},
			Tags:  []ItemTag{{ItemID: 7, Label: "suspect"}},
			Exhibits: []Exhibit{{Name: "a.txt", MediaType: "text/plain", Size: 1,
				SHA256: strings.Repeat("0a", 32)}}}
	}
	origin := Origin{Agency: "KOS-PD"}
	if err := CheckImport(base(), origin); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit func(r *CaseRecords)
		want string
	}{
		"note on a missing item": {func(r *CaseRecords) { r.Notes[0].ItemID = 8 }, "notes[0].item_id: item 8 is not in the case"},
		"tag on a missing item":  {func(r *CaseRecords) { r.Tags[0].ItemID = 0 }, "tags[0].item_id: item 0 is not in the case"},
		"item twice":             {func(r *CaseRecords) { r.Items = append(r.Items, r.Items[0]) }, "items[1].id: 7 is given twice"},
		"empty note":             {func(r *CaseRecords) { r.Notes[1].Text = "" }, "notes[1].text: empty"},
		"exhibit hash":           {func(r *CaseRecords) { r.Exhibits[0].SHA256 = "../../etc/passwd" }, "exhibits[0].sha256"},
		"upper-case hash": {func(r *CaseRecords) { r.Exhibits[0].SHA256 = strings.ToUpper(r.Exhibits[0].SHA256) },
			"exhibits[0].sha256"},
		"no title": {func(r *CaseRecords) { r.Case.Title = "" }, "invalid title: empty"},
	} {
		r := base()
		tc.edit(r)
		err := CheckImport(r, origin)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	wantErr(t, CheckImport(nil, origin), ErrInvalid)
	wantErr(t, CheckImport(base(), Origin{}), ErrInvalid)
}

func TestRemoveUnusedExhibitFile(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backends[0])
	used := must[Exhibit](t)(e.s.AddExhibit(ctx, e.invA, e.caseA.ID, "a.txt", "text/plain", strings.NewReader("used")))
	f := must[StoredFile](t)(e.s.StoreExhibitContent(ctx, e.invA, strings.NewReader("orphan")))
	if !f.New || f.Size != 6 {
		t.Fatalf("stored %+v", f)
	}
	if again := must[StoredFile](t)(e.s.StoreExhibitContent(ctx, e.invA, strings.NewReader("orphan"))); again.New {
		t.Fatal("content stored twice is new twice")
	}
	if !must[bool](t)(e.s.RemoveUnusedExhibitFile(ctx, f.SHA256)) {
		t.Fatal("an unused file was not removed")
	}
	if _, err := os.Stat(filepath.Join(e.opt.ExhibitDir, exhibitRel(f.SHA256))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file is still there: %v", err)
	}
	if must[bool](t)(e.s.RemoveUnusedExhibitFile(ctx, f.SHA256)) {
		t.Fatal("a missing file removed")
	}
	if must[bool](t)(e.s.RemoveUnusedExhibitFile(ctx, used.SHA256)) {
		t.Fatal("a file in use removed")
	}
	_, err := e.s.RemoveUnusedExhibitFile(ctx, "../x")
	wantErr(t, err, ErrInvalid)
	_, err = e.s.StoreExhibitContent(ctx, e.roA, strings.NewReader("x"))
	wantErr(t, err, ErrForbidden)
	e.mustVerify(t)
}

func TestObjectHash(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		s, p := e.s, e.invA
		it := must[Item](t)(s.AddItem(ctx, p, e.caseA.ID, Item{Kind: ItemAddress, Chain: "btc", Network: "mainnet",
			Ref: "bc1qobjecthash", Label: "ransom <b>\"x\"</b> & co", Provenance: prov("btcd <rpc>")}))
		must[Note](t)(s.AddNote(ctx, p, e.caseA.ID, it.ID, "ünïcode\nnote"))
		must[ItemTag](t)(s.TagItem(ctx, p, it.ID, "suspect", "ransomware"))
		must[Finding](t)(s.AddFinding(ctx, p, e.caseA.ID, Finding{Kind: FindingRisk, Title: "risk",
			Params: []byte(`{ "a" : [1, 2] , "b":"<x>"}`), Result: []byte(` {"score": 80} `), Provenance: prov("x")}))
		must[Exhibit](t)(s.AddExhibit(ctx, p, e.caseA.ID, "k.txt", "text/plain", strings.NewReader("KYC")))
		must[Task](t)(s.CreateTask(ctx, p, e.caseA.ID, Task{Title: "t", AssigneeID: p.UserID, Due: e.clk.t.Add(time.Hour)}))
		must[Subject](t)(s.CreateSubject(ctx, p, e.caseA.ID, Subject{Name: "X", Kind: SubjectPerson, Notes: "n"}))
		rec := must[*CaseRecords](t)(s.ExportCase(ctx, p, e.caseA.ID))
		// Through JSON, as a package carries it (indented, HTML left as it is).
		var blob bytes.Buffer
		enc := json.NewEncoder(&blob)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
		var back CaseRecords
		if err := json.Unmarshal(blob.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		latest := map[string]string{}
		for _, r := range back.Audit {
			if stateActions[r.Action] {
				latest[fmt.Sprintf("%s %d", r.ObjectType, r.ObjectID)] = r.ObjectHash
			}
		}
		objs := map[string]any{fmt.Sprintf("case %d", back.Case.ID): back.Case}
		add := func(typ string, id int64, v any) { objs[fmt.Sprintf("%s %d", typ, id)] = v }
		for _, v := range back.Subjects {
			add("subject", v.ID, v)
		}
		for _, v := range back.Items {
			add("item", v.ID, v)
		}
		for _, v := range back.Notes {
			add("note", v.ID, v)
		}
		for _, v := range back.Tags {
			add("tag", v.ID, v)
		}
		for _, v := range back.Findings {
			add("finding", v.ID, v)
		}
		for _, v := range back.Exhibits {
			add("exhibit", v.ID, v)
		}
		for _, v := range back.Tasks {
			add("task", v.ID, v)
		}
		if len(objs) != 8 {
			t.Fatalf("%d objects", len(objs))
		}
		for k, v := range objs {
			if h := must[string](t)(ObjectHash(v)); h != latest[k] || h == "" {
				t.Errorf("%s: ObjectHash %s, its audit record %s", k, h, latest[k])
			}
		}
		_, err := ObjectHash(e.adminA)
		wantErr(t, err, ErrInvalid)
		// Any change of a field changes the hash.
		changed := back.Items[0]
		changed.Label += "!"
		if must[string](t)(ObjectHash(changed)) == latest[fmt.Sprintf("item %d", changed.ID)] {
			t.Fatal("the hash does not depend on the label")
		}
	})
}

func TestFailedLoginsConcurrent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, backends[0])
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := e.s.AuthenticateToken(ctx, fmt.Sprintf("vgt_BBBBBBBB%d", i))
			errs <- err
		}()
	}
	for range n {
		wantErr(t, <-errs, ErrUnauthorized)
	}
	must[struct{}](t)(struct{}{}, e.s.FlushAuthFailures(ctx))
	var recs, attempts int64
	for _, r := range e.auditOf(t) {
		if d := detailOf(t, r); r.Action == ActionLoginFailed && d["prefix"] == "vgt_BBBBBBBB" {
			recs++
			attempts += int64(d["attempts"].(float64))
		}
	}
	if recs != 2 || attempts != n {
		t.Fatalf("%d concurrent failures: %d records of %d attempts, want 2 of %d", n, recs, attempts, n)
	}
	e.mustVerify(t)
}
