package pgtest

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestSharedCluster(t *testing.T) {
	s := Shared(t)
	if Shared(t) != s {
		t.Fatal("Shared started a second cluster")
	}
	a, b := s.CreateDB(t, t.Name()), s.CreateDB(t, t.Name())
	if a == b {
		t.Fatalf("CreateDB gave the same database twice: %s", a)
	}
	for _, dsn := range []string{a, b} {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := db.QueryRowContext(context.Background(), `SHOW server_version`).Scan(&v); err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		var fsync string
		if err := db.QueryRowContext(context.Background(), `SHOW fsync`).Scan(&fsync); err != nil || fsync != "off" {
			t.Errorf("fsync = %q, %v; want off", fsync, err)
		}
		db.Close()
		t.Logf("%s: PostgreSQL %s", dsn, v)
	}
}

func TestStartStop(t *testing.T) {
	s := Start(t)
	pid := s.PID()
	if pid == 0 {
		t.Fatal("no postmaster pid")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("directory %s left behind: %v", s.Dir, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestMissingPostgreSQL(t *testing.T) {
	t.Setenv("VESTIGO_PGBIN", t.TempDir())
	_, err := start()
	if err == nil || !strings.Contains(err.Error(), "run scripts/tools.sh (installs postgresql-15)") {
		t.Fatalf("start without PostgreSQL: %v", err)
	}
}
