// Package pgtest starts a real, throwaway PostgreSQL cluster for tests: the
// Debian package's initdb and pg_ctl (postgresql-15, installed by
// scripts/tools.sh) on 127.0.0.1 at a free port, with its data directory
// and Unix socket in a fresh directory under /tmp, fsync off, trust
// authentication for the user "postgres".
//
// Start gives a test its own cluster, stopped when the test ends. Shared
// gives every test of a binary one cluster, started on first use and
// stopped by Main, which a package using Shared calls from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Each test then takes a database of its own with CreateDB. As root
// (CI and the development machines), initdb and pg_ctl run as the
// "postgres" user through runuser, which is why the directory is under
// /tmp (every parent traversable) and owned by postgres.
//
// The newest /usr/lib/postgresql/*/bin is used (15 preferred);
// VESTIGO_PGBIN names another directory holding initdb and pg_ctl.
//
// Errors: a missing PostgreSQL is a test failure that says to run
// scripts/tools.sh, never a skip; a cluster that does not start fails the
// test with the end of the server's log.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

const (
	// Glob locates the server programs of Debian's packages.
	Glob = "/usr/lib/postgresql/*/bin"
	// Superuser is the cluster's superuser; authentication is trust.
	Superuser   = "postgres"
	startWait   = 30 // seconds pg_ctl waits for the server
	logTail     = 4096
	missingHint = "run scripts/tools.sh (installs postgresql-15)"
)

// Server is a running PostgreSQL cluster.
type Server struct {
	Host    string // 127.0.0.1
	Port    int
	Dir     string // the temporary directory: data/, the socket, server.log
	BinDir  string // where initdb and pg_ctl were found
	Version string // e.g. "15"

	asRoot  bool
	stopped atomic.Bool
	stopMu  sync.Mutex
	dbs     atomic.Int64
}

// Start starts a cluster for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
	inMain     atomic.Bool
)

// Main runs the tests of a package that uses Shared, then stops the shared
// cluster. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	inMain.Store(true)
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Shared returns the test binary's one cluster, starting it on first use.
// The package's TestMain must call Main (which stops it).
func Shared(t testing.TB) *Server {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("pgtest: Shared needs TestMain to run the tests through pgtest.Main (which stops the cluster)")
	}
	sharedOnce.Do(func() { shared, sharedErr = start() })
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	return shared
}

// DSN is the URL of database db as the superuser.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", Superuser, s.Host, s.Port, db)
}

var dbName = regexp.MustCompile(`[^a-z0-9_]+`)

// CreateDB creates a new empty database and returns its DSN. The name is
// made from name (may be "", e.g. t.Name()) and a counter, so every call
// gets a database of its own.
func (s *Server) CreateDB(t testing.TB, name string) string {
	t.Helper()
	n := dbName.ReplaceAllString(strings.ToLower(name), "_")
	if len(n) > 40 {
		n = n[:40]
	}
	n = fmt.Sprintf("t%d_%s", s.dbs.Add(1), strings.Trim(n, "_"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	// n is [a-z0-9_] only: safe as an identifier.
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+n+`"`); err != nil {
		t.Fatalf("pgtest: create database %s: %v", n, err)
	}
	return s.DSN(n)
}

// findBin returns the bin directory of the newest installed PostgreSQL,
// preferring 15 (the version the project pins), or $VESTIGO_PGBIN.
func findBin() (dir, version string, err error) {
	if d := os.Getenv("VESTIGO_PGBIN"); d != "" {
		if !fileExists(filepath.Join(d, "initdb")) || !fileExists(filepath.Join(d, "pg_ctl")) {
			return "", "", fmt.Errorf("VESTIGO_PGBIN=%s holds no initdb and pg_ctl: %s", d, missingHint)
		}
		return d, filepath.Base(filepath.Dir(d)), nil
	}
	dirs, _ := filepath.Glob(Glob)
	type cand struct {
		dir string
		v   int
	}
	var cs []cand
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "pg_ctl")) {
			cs = append(cs, cand{d, v})
		}
	}
	if len(cs) == 0 {
		return "", "", fmt.Errorf("PostgreSQL's initdb and pg_ctl are not under %s: %s", Glob, missingHint)
	}
	sort.Slice(cs, func(i, j int) bool {
		if (cs[i].v == 15) != (cs[j].v == 15) {
			return cs[i].v == 15
		}
		return cs[i].v > cs[j].v
	})
	return cs[0].dir, strconv.Itoa(cs[0].v), nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start() (*Server, error) {
	bin, version, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", BinDir: bin, Version: version, asRoot: os.Geteuid() == 0}
	var uid, gid int
	if s.asRoot {
		if _, err := exec.LookPath("runuser"); err != nil {
			return nil, fmt.Errorf("runuser is missing (util-linux), needed to run PostgreSQL as root: %w", err)
		}
		u, err := user.Lookup(Superuser)
		if err != nil {
			return nil, fmt.Errorf("no %q system user to run PostgreSQL as (%v): %s", Superuser, err, missingHint)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	// Not t.TempDir: its parents may not be traversable by postgres.
	if s.Dir, err = os.MkdirTemp("/tmp", "vestigo-pgtest-"); err != nil {
		return nil, err
	}
	if s.asRoot {
		if err := os.Chown(s.Dir, uid, gid); err != nil {
			os.RemoveAll(s.Dir)
			return nil, err
		}
	}
	data := filepath.Join(s.Dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(s.Dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A free port may be taken between the check and the bind: try again.
	for attempt := 1; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			os.RemoveAll(s.Dir)
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c max_connections=200", s.Port, s.Dir)
		out, err := s.run("pg_ctl", "-D", data, "-l", filepath.Join(s.Dir, "server.log"), "-w",
			"-t", strconv.Itoa(startWait), "-o", opts, "start")
		if err == nil {
			return s, nil
		}
		log := s.logTail()
		if attempt < 3 && strings.Contains(log, "could not bind") {
			continue
		}
		s.Stop()
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\nserver.log:\n%s", err, out, log)
	}
}

// run runs a PostgreSQL program, as the postgres user when we are root.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.BinDir, prog)
	var cmd *exec.Cmd
	if s.asRoot {
		cmd = exec.Command("runuser", append([]string{"-u", Superuser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	if len(b) > logTail {
		b = b[len(b)-logTail:]
	}
	return string(b)
}

// PID is the postmaster's process id (0 when it is not running).
func (s *Server) PID() int {
	b, err := os.ReadFile(filepath.Join(s.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// Stop stops the cluster (pg_ctl stop -m immediate; failing that, SIGQUIT
// to the postmaster) and removes its directory. A second call does
// nothing.
func (s *Server) Stop() error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped.Swap(true) {
		return nil
	}
	var errs []error
	if pid := s.PID(); pid > 0 {
		out, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "-t", "10", "stop")
		if err != nil {
			if kerr := syscall.Kill(pid, syscall.SIGQUIT); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("stop postmaster %d: %v (%s); kill: %v", pid, err, out, kerr))
			}
		}
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
