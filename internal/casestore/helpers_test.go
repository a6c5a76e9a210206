package casestore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fastArgon2 keeps tests fast; DefaultArgon2 has its own test.
var fastArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

// backend opens fresh stores of one kind.
type backend struct {
	name string
	dsn  func(t *testing.T) string // a new, empty store
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "cases.db") }},
	{"postgresql", func(t *testing.T) string { return pgtest.Shared(t).CreateDB(t, t.Name()) }},
}

// both runs fn against SQLite and a real PostgreSQL.
func both(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond) // distinct times, in order
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stamper is a stand-in time-stamping authority: its "token" binds the
// digest, so a test sees which digest was stamped (the RFC 3161 client
// and a real TSA are tested in internal/tsa).
type stamper struct{}

func (stamper) Timestamp(_ context.Context, digest []byte) ([]byte, error) {
	return []byte("tst:" + hex.EncodeToString(digest)), nil
}

func verifyStamp(token, digest []byte) error {
	if string(token) != "tst:"+hex.EncodeToString(digest) {
		return errors.New("token does not cover the digest")
	}
	return nil
}

// env is a store with two agencies and users of every role.
type env struct {
	s       *Store
	dsn     string
	clk     *clock
	opt     Options
	key     ed25519.PrivateKey
	agA     Agency
	agB     Agency
	adminA  Principal
	invA    Principal
	revA    Principal
	roA     Principal
	adminB  Principal
	invB    Principal
	caseA   Case
	backend backend
}

const pw = "correct horse battery staple"

func open(t *testing.T, dsn string, opt Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newEnv(t *testing.T, b backend) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)}
	e := &env{clk: clk, dsn: b.dsn(t), backend: b}
	e.opt = Options{Clock: clk.Now, ExhibitDir: t.TempDir(), Argon2: fastArgon2, Timestamper: stamper{}}
	e.s = open(t, e.dsn, e.opt)
	seed := sha256.Sum256([]byte("installation key"))
	e.key = ed25519.NewKeyFromSeed(seed[:])
	var err error
	if e.agA, err = e.s.CreateAgency(ctx, "KOS-PD", "Kosovo Police, Cybercrime Unit"); err != nil {
		t.Fatal(err)
	}
	if e.agB, err = e.s.CreateAgency(ctx, "FIU-B", "Financial Intelligence Unit B"); err != nil {
		t.Fatal(err)
	}
	login := func(ag Agency, name string, role Role, admin Principal) Principal {
		t.Helper()
		if role == RoleAdmin {
			if _, err := e.s.BootstrapAdmin(ctx, ag.ID, name, pw); err != nil {
				t.Fatal(err)
			}
		} else if _, err := e.s.CreateUser(ctx, admin, name, role, pw); err != nil {
			t.Fatal(err)
		}
		p, err := e.s.AuthenticatePassword(ctx, name, pw)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.adminA = login(e.agA, "alice.admin", RoleAdmin, Principal{})
	e.invA = login(e.agA, "ivan.investigator", RoleInvestigator, e.adminA)
	e.revA = login(e.agA, "rita.reviewer", RoleReviewer, e.adminA)
	e.roA = login(e.agA, "olga.readonly", RoleReadOnly, e.adminA)
	e.adminB = login(e.agB, "bob.admin", RoleAdmin, Principal{})
	e.invB = login(e.agB, "bea.investigator", RoleInvestigator, e.adminB)
	if e.caseA, err = e.s.CreateCase(ctx, e.invA, Case{Reference: "2025/0001", Title: "Ransomware payments",
		LegalBasis: "Art. 95 CPC, order of 2025-03-01", LeadUserID: e.invA.UserID}); err != nil {
		t.Fatal(err)
	}
	return e
}

// raw opens the store's database directly, behind the store's back.
func (e *env) raw(t *testing.T) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", e.dsn
	if e.s.d.postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// exec runs raw SQL with ? placeholders.
func (e *env) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := e.raw(t).Exec(e.s.d.q(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (e *env) verify(t *testing.T) *VerifyReport {
	t.Helper()
	rep, err := e.s.Verify(context.Background(), Verifier{SigningKeys: []ed25519.PublicKey{e.key.Public().(ed25519.PublicKey)},
		VerifyToken: verifyStamp})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func (e *env) mustVerify(t *testing.T) *VerifyReport {
	t.Helper()
	rep := e.verify(t)
	if !rep.OK() {
		t.Fatalf("Verify found problems:\n%s", strings.Join(rep.Problems, "\n"))
	}
	return rep
}

// auditOf returns every record of the log.
func (e *env) auditOf(t *testing.T) []AuditRecord {
	t.Helper()
	rows, err := e.s.listRows(context.Background(), e.s.db, tAudit, "")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = auditFromRow(r)
	}
	return out
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func prov(src string) Provenance {
	return Provenance{Source: src, SourceIdentity: SourceIdentity{NodeVersion: "btcd 0.26.2",
		GenesisHash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
		Chain: "btc", Network: "mainnet", BlockHash: "00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054",
		Height: 840000, IndexTip: 840010, VestigoVersion: "0.9.0", Params: []byte(`{"hops": 4, "model":"haircut"}`)}
}

func bytesReader(s string) *bytes.Reader { return bytes.NewReader([]byte(s)) }
