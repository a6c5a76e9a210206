package casestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// DefaultMaxExhibit is Options.MaxExhibit when none is given.
const DefaultMaxExhibit = 256 << 20

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	stmts   []string // with the dialect's tokens still in place
}

// migrations are the embedded migrations, numbered 1, 2, … without gaps.
var migrations = mustLoadMigrations()

func mustLoadMigrations() []migration {
	ents, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		panic(err)
	}
	var out []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			panic("casestore: migration file name " + e.Name() + " is not NNNN_name.sql")
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(err)
		}
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		var stmts []string
		for _, st := range strings.Split(strings.Join(lines, "\n"), ";") {
			if st = strings.TrimSpace(st); st != "" {
				stmts = append(stmts, st)
			}
		}
		out = append(out, migration{version: v, name: e.Name(), stmts: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			panic(fmt.Sprintf("casestore: migration %s out of sequence (want number %d)", m.name, i+1))
		}
	}
	return out
}

// SchemaVersion is the schema version this build creates and reads.
func SchemaVersion() int { return len(migrations) }

// Store is the case store on SQLite or PostgreSQL. It is safe for
// concurrent use, and several processes may share one PostgreSQL database.
type Store struct {
	db  *sql.DB
	d   dialect
	opt Options
	log *slog.Logger
	wmu sync.Mutex // SQLite: one writer at a time within the process
	// fails aggregates failed authentications (authfail.go).
	fails failLog
}

// Open opens the store at dsn, creating or upgrading its schema: a
// "postgres://" or "postgresql://" URL opens PostgreSQL (pgx), anything else
// is the path of a SQLite file (created if missing; WAL, foreign keys,
// busy timeout). The migrations not yet applied are applied in one
// transaction; a store of a newer schema is refused with ErrSchemaTooNew.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.MaxExhibit <= 0 {
		opt.MaxExhibit = DefaultMaxExhibit
	}
	if opt.Argon2 == (Argon2Params{}) {
		opt.Argon2 = DefaultArgon2
	}
	if err := checkArgon2(opt.Argon2); err != nil {
		return nil, err
	}
	var (
		db   *sql.DB
		err  error
		d    dialect
		name string
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d = dialect{postgres: true}
		name = "postgresql database"
		db, err = sql.Open("pgx", dsn)
	case dsn == "":
		return nil, invalid("dsn", "empty (a postgres:// URL or a SQLite file path)")
	default:
		name = dsn
		// A SQLite URI: escape what URIs give a meaning to.
		esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(dsn)
		db, err = sql.Open("sqlite", "file:"+esc+
			"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)")
	}
	if err != nil {
		return nil, fmt.Errorf("casestore: open %s: %w", name, err)
	}
	s := &Store{db: db, d: d, opt: opt, log: opt.Logger}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("casestore: open %s: %w", name, err)
	}
	return s, nil
}

// Close writes the failed authentications still counted in memory
// (FlushAuthFailures) and closes the database.
func (s *Store) Close() error {
	ferr := s.FlushAuthFailures(context.Background())
	return errors.Join(ferr, s.db.Close())
}

// Backend names the database: "sqlite" or "postgresql".
func (s *Store) Backend() string { return s.d.String() }

func (s *Store) migrate(ctx context.Context) error {
	s.lockWriter()
	defer s.unlockWriter()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.d.lockMigrations(ctx, tx); err != nil {
		return fmt.Errorf("lock for migrations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.d.ddl(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version {{int}} PRIMARY KEY, name TEXT NOT NULL, applied_at {{int}} NOT NULL)`)); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if cur > len(migrations) {
		return fmt.Errorf("schema version %d, this build knows versions up to %d (use a newer Vestigo): %w",
			cur, len(migrations), ErrSchemaTooNew)
	}
	for _, m := range migrations[cur:] {
		for _, st := range m.stmts {
			if _, err := tx.ExecContext(ctx, s.d.ddl(st)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.version, m.name, micros(s.now())); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		s.log.Info("casestore: applied migration", "backend", s.d.String(), "migration", m.name)
	}
	return tx.Commit()
}

// now is the clock's time in UTC, to the microsecond (as stored).
func (s *Store) now() time.Time {
	return s.opt.Clock().UTC().Truncate(time.Microsecond)
}

// random reads n bytes of randomness.
func (s *Store) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.opt.Rand, b); err != nil {
		return nil, fmt.Errorf("casestore: read randomness: %w", err)
	}
	return b, nil
}

// lockWriter serialises this process's SQLite writers (PostgreSQL
// serialises on the audit head row instead, across processes).
func (s *Store) lockWriter() {
	if !s.d.postgres {
		s.wmu.Lock()
	}
}

func (s *Store) unlockWriter() {
	if !s.d.postgres {
		s.wmu.Unlock()
	}
}
