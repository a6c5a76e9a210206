package casestore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// populate fills a store with a bit of everything and a checkpoint.
func populate(t *testing.T, e *env) (Note, Exhibit) {
	t.Helper()
	ctx := context.Background()
	s, p := e.s, e.invA
	it := must[Item](t)(s.AddItem(ctx, p, e.caseA.ID, Item{Kind: ItemAddress, Chain: "btc", Network: "mainnet",
		Ref: "bc1qtamper", Provenance: prov("btcd rpc")}))
	n := must[Note](t)(s.AddNote(ctx, p, e.caseA.ID, it.ID, "The victim paid 0.5 BTC."))
	must[Finding](t)(s.AddFinding(ctx, p, e.caseA.ID, Finding{Kind: FindingRisk, Title: "risk", Result: []byte(`{"score":80}`)}))
	ex := must[Exhibit](t)(s.AddExhibit(ctx, p, e.caseA.ID, "kyc.txt", "text/plain", strings.NewReader("KYC: Jane Doe")))
	must[Task](t)(s.CreateTask(ctx, e.revA, e.caseA.ID, Task{Title: "review"}))
	must[Checkpoint](t)(s.Checkpoint(ctx, e.key))
	must[Case](t)(s.GetCase(ctx, e.roA, e.caseA.ID))
	return n, ex
}

func TestTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, e *env, n Note, ex Exhibit)
		want   func(e *env, n Note, ex Exhibit) string // the first problem, exactly
	}{
		{"edited note",
			func(t *testing.T, e *env, n Note, _ Exhibit) {
				e.exec(t, `UPDATE notes SET text = ? WHERE id = ?`, "The victim paid 5 BTC.", n.ID)
			},
			func(e *env, n Note, _ Exhibit) string {
				return fmt.Sprintf("note %d: stored content differs from audit record %d", n.ID, lastRecordOf(e, "note", n.ID))
			}},
		{"deleted audit record",
			func(t *testing.T, e *env, _ Note, _ Exhibit) { e.exec(t, `DELETE FROM audit_log WHERE seq = 9`) },
			func(*env, Note, Exhibit) string { return "audit record 9 is missing (seq jumps from 8 to 10)" }},
		{"edited audit record",
			func(t *testing.T, e *env, _ Note, _ Exhibit) {
				e.exec(t, `UPDATE audit_log SET actor = ? WHERE seq = 17`, "somebody.else")
			},
			func(*env, Note, Exhibit) string { return "audit record 17: hash does not match its content" }},
		{"rehashed audit record",
			// An editor who recomputes the record's hash breaks the next link.
			func(t *testing.T, e *env, _ Note, _ Exhibit) {
				r := e.auditOf(t)[11]
				r.Actor = "somebody.else"
				h, _ := recordHash(&r)
				e.exec(t, `UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 12`, r.Actor, h)
			},
			func(*env, Note, Exhibit) string {
				return "audit record 13: prev_hash does not match the hash of record 12"
			}},
		{"truncated log",
			func(t *testing.T, e *env, _ Note, _ Exhibit) {
				e.exec(t, `DELETE FROM audit_log WHERE seq > (SELECT seq FROM audit_head) - 2`)
			},
			func(e *env, _ Note, _ Exhibit) string {
				h := e.auditOf(t)
				head := h[len(h)-1].Seq
				return fmt.Sprintf("audit log ends at record %d but its head says %d (records %d to %d are missing)", head-2, head, head-1, head)
			}},
		{"swapped exhibit",
			func(t *testing.T, e *env, _ Note, ex Exhibit) {
				path := filepath.Join(e.opt.ExhibitDir, "sha256", ex.SHA256[:2], ex.SHA256)
				if err := os.WriteFile(path, []byte("KYC: John Smith"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			func(_ *env, _ Note, ex Exhibit) string {
				return fmt.Sprintf("exhibit %d (sha256 %s…): file content differs", ex.ID, ex.SHA256[:12])
			}},
		{"edited checkpoint signature",
			func(t *testing.T, e *env, _ Note, _ Exhibit) {
				cp := must[[]Checkpoint](t)(e.s.ListCheckpoints(context.Background()))[0]
				sig := append([]byte(nil), cp.Signature...)
				sig[0] ^= 1
				e.exec(t, `UPDATE checkpoints SET signature = ? WHERE id = ?`, hex.EncodeToString(sig), cp.ID)
			},
			func(e *env, _ Note, _ Exhibit) string {
				cp := must[[]Checkpoint](t)(e.s.ListCheckpoints(context.Background()))[0]
				return fmt.Sprintf("checkpoint %d (seq %d): signature does not verify", cp.ID, cp.Seq)
			}},
		{"inserted note",
			func(t *testing.T, e *env, n Note, _ Exhibit) {
				e.exec(t, `INSERT INTO notes (case_id, item_id, text, version, created_by, created_at, updated_at) VALUES (?, 0, ?, 1, ?, 1, 1)`,
					n.CaseID, "planted", n.CreatedBy)
			},
			func(_ *env, n Note, _ Exhibit) string {
				return fmt.Sprintf("note %d: not in the audit log (inserted behind Vestigo's back)", n.ID+1)
			}},
		{"deleted note",
			func(t *testing.T, e *env, n Note, _ Exhibit) { e.exec(t, `DELETE FROM notes WHERE id = ?`, n.ID) },
			func(e *env, n Note, _ Exhibit) string {
				return fmt.Sprintf("note %d: missing (audit record %d says it exists: deleted behind Vestigo's back)", n.ID, lastRecordOf(e, "note", n.ID))
			}},
		{"promoted user",
			func(t *testing.T, e *env, _ Note, _ Exhibit) {
				e.exec(t, `UPDATE users SET role = 'admin' WHERE id = ?`, e.roA.UserID)
			},
			func(e *env, _ Note, _ Exhibit) string {
				return fmt.Sprintf("user %d: stored content differs from audit record %d", e.roA.UserID, lastRecordOf(e, "user", e.roA.UserID))
			}},
	}
	both(t, func(t *testing.T, b backend) {
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, b)
				n, ex := populate(t, e)
				e.mustVerify(t)
				want := tc.want(e, n, ex)
				tc.tamper(t, e, n, ex)
				rep := e.verify(t)
				if rep.OK() {
					t.Fatal("Verify found nothing")
				}
				if rep.First() != want {
					t.Fatalf("first problem\n%q\nwant\n%q\nall:\n%s", rep.First(), want, strings.Join(rep.Problems, "\n"))
				}
			})
		}
	})
}

// lastRecordOf is the seq of the latest state record of an object.
func lastRecordOf(e *env, typ string, id int64) int64 {
	var seq int64
	err := e.s.db.QueryRow(e.s.d.q(`SELECT MAX(seq) FROM audit_log WHERE object_type = ? AND object_id = ? AND action IN ('create', 'change', 'import')`),
		typ, id).Scan(&seq)
	if err != nil {
		panic(err)
	}
	return seq
}

func TestVerifyKeysAndTokens(t *testing.T) {
	e := newEnv(t, backends[0])
	populate(t, e)
	ctx := context.Background()
	// Another installation's key is not trusted.
	other := must[*VerifyReport](t)(e.s.Verify(ctx, Verifier{SigningKeys: nil}))
	if !other.OK() || len(other.Unchecked) != 3 {
		t.Fatalf("without keys and verifier: %+v", other)
	}
	wrongKey := make([]byte, 32)
	rep := must[*VerifyReport](t)(e.s.Verify(ctx, Verifier{SigningKeys: []ed25519.PublicKey{wrongKey}, VerifyToken: verifyStamp}))
	if rep.OK() || !strings.Contains(rep.First(), "which is not a trusted signing key") {
		t.Fatalf("untrusted key: %+v", rep.Problems)
	}
	// A token that does not cover the digest.
	e.exec(t, `UPDATE checkpoints SET tsa_token = ?`, hex.EncodeToString([]byte("tst:00")))
	rep = e.verify(t)
	if rep.OK() || !strings.Contains(rep.First(), "time-stamp token does not verify") {
		t.Fatalf("bad token: %+v", rep.Problems)
	}
}

func TestDumpLoad(t *testing.T) {
	ctx := context.Background()
	for _, from := range backends {
		for _, to := range backends {
			t.Run(from.name+"_to_"+to.name, func(t *testing.T) {
				e := newEnv(t, from)
				populate(t, e)
				must[Note](t)(e.s.AddNote(ctx, e.invA, e.caseA.ID, 0, "after the checkpoint: <b>'quoted'</b> & ünïcode"))
				must[Checkpoint](t)(e.s.Checkpoint(ctx, e.key))
				var dump bytes.Buffer
				if err := e.s.Dump(ctx, &dump); err != nil {
					t.Fatal(err)
				}
				var h DumpHeader
				if err := json.NewDecoder(bytes.NewReader(dump.Bytes())).Decode(&h); err != nil || h.SchemaVersion != SchemaVersion() ||
					h.Counts["notes"] != 2 || h.Counts["audit_log"] == 0 {
					t.Fatalf("header %+v, %v", h, err)
				}

				// Restore into a fresh store, with the exhibit files copied.
				opt := e.opt
				opt.ExhibitDir = t.TempDir()
				dst := open(t, to.dsn(t), opt)
				files := must[[]ExhibitFile](t)(e.s.ExhibitFiles(ctx))
				for _, f := range files {
					copyFile(t, f.Path, filepath.Join(opt.ExhibitDir, f.Rel))
				}
				if err := dst.Load(ctx, bytes.NewReader(dump.Bytes())); err != nil {
					t.Fatal(err)
				}
				e2 := *e
				e2.s = dst
				rep := e2.mustVerify(t)
				if rep.Checkpoints != 2 || rep.Exhibits != 1 {
					t.Errorf("restored report %+v", rep)
				}
				// The same rows: dumping the restored store gives the same lines.
				var again bytes.Buffer
				if err := dst.Dump(ctx, &again); err != nil {
					t.Fatal(err)
				}
				if a, b := afterHeader(dump.Bytes()), afterHeader(again.Bytes()); !bytes.Equal(a, b) {
					t.Fatalf("dump of the restored store differs")
				}
				// The restored store goes on: new ids after the old ones, a valid chain.
				n := must[Note](t)(dst.AddNote(ctx, e.invA, e.caseA.ID, 0, "after restore"))
				if n.ID <= 2 {
					t.Errorf("new note id %d reuses an id", n.ID)
				}
				must[Checkpoint](t)(dst.Checkpoint(ctx, e.key))
				e2.mustVerify(t)
				// Only into an empty store.
				wantErr(t, dst.Load(ctx, bytes.NewReader(dump.Bytes())), ErrConflict)
			})
		}
	}
	t.Run("truncated", func(t *testing.T) {
		e := newEnv(t, backends[0])
		var dump bytes.Buffer
		if err := e.s.Dump(ctx, &dump); err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(dump.Bytes(), []byte("\n"))
		cut := bytes.Join(lines[:len(lines)-3], nil)
		dst := open(t, filepath.Join(t.TempDir(), "r.db"), e.opt)
		wantErr(t, dst.Load(ctx, bytes.NewReader(cut)), ErrInvalid)
		// Nothing was loaded.
		if l := must[[]Agency](t)(dst.ListAgencies(ctx)); len(l) != 0 {
			t.Fatalf("a failed load left %d agencies", len(l))
		}
	})
}

func afterHeader(b []byte) []byte {
	_, rest, _ := bytes.Cut(b, []byte("\n"))
	return rest
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenExhibitDetectsSwap(t *testing.T) {
	e := newEnv(t, backends[0])
	_, ex := populate(t, e)
	path := filepath.Join(e.opt.ExhibitDir, "sha256", ex.SHA256[:2], ex.SHA256)
	if err := os.WriteFile(path, []byte("swapped"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, rc, err := e.s.OpenExhibit(context.Background(), e.invA, ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "file content differs") {
		t.Fatalf("reading a swapped file: %v", err)
	}
}
