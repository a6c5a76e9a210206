package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/blockfile"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/ingest"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
	"github.com/vestigo-forensics/vestigo/internal/tags"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// The tests run the server as deployed: a real data directory with the
// generated ransomware case imported, clustered and tagged (opened
// read-only, as vestigo serve opens it), a real case store on SQLite per
// test, and HTTP over a real listener (httptest).

const seed = 13

var shared struct {
	once  sync.Once
	dir   string
	ws    *workspace.Workspace
	truth *scenario.Truth
	hot   string // a hot-wallet address of the exchange, tagged "exchange"
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.ws != nil {
		shared.ws.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	fixture.Cleanup()
	os.Exit(code)
}

// dataDir builds, once per test binary, the data directory of the
// generated case and opens it read-only.
func dataDir(t *testing.T) (*workspace.Workspace, *scenario.Truth) {
	t.Helper()
	shared.once.Do(func() {
		c := fixture.Ransomware(t, seed)
		shared.truth = c.Truth
		shared.dir, shared.err = os.MkdirTemp("", "vestigo-api-test-")
		if shared.err != nil {
			return
		}
		for _, w := range c.Truth.Wallets {
			if w.Kind == "exchange" {
				shared.hot = w.HotWallet[0]
			}
		}
		shared.err = buildData(shared.dir, c, shared.hot)
		if shared.err == nil {
			shared.ws, shared.err = workspace.Open(shared.dir, workspace.Options{ReadOnly: true})
		}
	})
	if shared.err != nil {
		t.Fatalf("build the data directory: %v", shared.err)
	}
	return shared.ws, shared.truth
}

func buildData(dir string, c *fixture.Case, hot string) error {
	ctx := context.Background()
	ws, err := workspace.Open(dir, workspace.Options{})
	if err != nil {
		return err
	}
	defer ws.Close()
	l := c.Params.Ledger()
	ix, err := ws.Index(l, true)
	if err != nil {
		return err
	}
	r, err := blockfile.Open(ctx, c.Blocks, blockfile.Options{Network: c.Params, MaxHeight: -1})
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := ingest.Import(ctx, ix, r, ingest.Options{}); err != nil {
		return err
	}
	cs, err := ws.Clusters(l, cluster.Options{})
	if err != nil {
		return err
	}
	if _, err := cs.Update(ctx, ix, nil); err != nil {
		return err
	}
	st, err := ws.Tags()
	if err != nil {
		return err
	}
	csv := filepath.Join(dir, "tags.csv")
	rw := c.Truth.Ransomware
	body := "address,label,category,source\n" + hot + ",Exchange X hot wallet,exchange,court order 1\n" +
		rw.RansomAddresses[0] + ",Ransom address,ransomware,victim report\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		return err
	}
	_, err = st.Import(ctx, csv, tags.FormatCSV, time.Unix(0, 0).UTC())
	return err
}

// clock is the injected clock of a test: it moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one server with its own case store: agency A (users admin-a,
// inv-a, rev-a, ro-a) and agency B (admin-b, inv-b), password pw(name).
type env struct {
	t     *testing.T
	url   string
	srv   *Server
	store *casestore.Store
	clock *clock
	ws    *workspace.Workspace
	truth *scenario.Truth
	users map[string]casestore.Principal
	// exhibits is the store's exhibit directory.
	exhibits string
}

func pw(user string) string { return "secret-of-" + user }

const testMaxBody = 64 << 10
const testMaxExhibit = 256 << 10

func newEnv(t *testing.T) *env {
	t.Helper()
	ws, truth := dataDir(t)
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	store, err := casestore.Open(ctx, filepath.Join(dir, "cases.db"), casestore.Options{
		Clock: clk.now, ExhibitDir: filepath.Join(dir, "exhibits"), MaxExhibit: testMaxExhibit,
		Argon2: casestore.Argon2Params{Memory: 64, Time: 1, Threads: 1}, // fast; the algorithm is the same
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{t: t, store: store, clock: clk, ws: ws, truth: truth, users: map[string]casestore.Principal{},
		exhibits: filepath.Join(dir, "exhibits")}
	for _, ag := range []struct {
		code   string
		admin  string
		others map[string]casestore.Role
	}{
		{"A-PD", "admin-a", map[string]casestore.Role{"inv-a": casestore.RoleInvestigator, "rev-a": casestore.RoleReviewer, "ro-a": casestore.RoleReadOnly}},
		{"B-FIU", "admin-b", map[string]casestore.Role{"inv-b": casestore.RoleInvestigator}},
	} {
		a, err := store.CreateAgency(ctx, ag.code, "Agency "+ag.code)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.BootstrapAdmin(ctx, a.ID, ag.admin, pw(ag.admin)); err != nil {
			t.Fatal(err)
		}
		admin, err := store.AuthenticatePassword(ctx, ag.admin, pw(ag.admin))
		if err != nil {
			t.Fatal(err)
		}
		e.users[ag.admin] = admin
		for name, role := range ag.others {
			if _, err := store.CreateUser(ctx, admin, name, role, pw(name)); err != nil {
				t.Fatal(err)
			}
			p, err := store.AuthenticatePassword(ctx, name, pw(name))
			if err != nil {
				t.Fatal(err)
			}
			e.users[name] = p
		}
	}
	// The server's log: an error in it (a 500, a route answering another
	// status than it declares) fails the test.
	logs := &logBuffer{}
	t.Cleanup(func() {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "level=ERROR") && !strings.Contains(line, "exhibit download aborted") {
				t.Errorf("the server logged an error: %s", line)
			}
		}
	})
	srv, err := New(Config{Workspace: ws, Store: store, Clock: clk.now, Version: "v0.0.0-test",
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MaxBody: testMaxBody, MaxExhibit: testMaxExhibit, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e.srv, e.url = srv, hs.URL
	return e
}

// logBuffer collects the server's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// cred is how a request authenticates.
type cred struct {
	bearer string
	cookie string // session secret
	csrf   string // sent as X-CSRF-Token when set
}

var anonymous = cred{}

// token returns a bearer credential of user, made through the store.
func (e *env) token(user string) cred {
	e.t.Helper()
	p := e.users[user]
	secret, _, err := e.store.CreateToken(context.Background(), p, p.UserID, "test token")
	if err != nil {
		e.t.Fatal(err)
	}
	return cred{bearer: secret}
}

// login logs user in through the API and returns the session credential.
func (e *env) login(user string) cred {
	e.t.Helper()
	res := e.do("POST", "/api/v1/login", anonymous, map[string]string{"username": user, "password": pw(user)})
	res.want(200)
	var ans loginAnswer
	res.decode(&ans)
	var secret string
	for _, c := range res.resp.Cookies() {
		if c.Name == sessionCookie {
			secret = c.Value
		}
	}
	if secret == "" || ans.CSRFToken == "" || ans.Principal.Username != user {
		e.t.Fatalf("login of %s: cookie %q, answer %+v", user, secret, ans)
	}
	return cred{cookie: secret, csrf: ans.CSRFToken}
}

type result struct {
	t    *testing.T
	resp *http.Response
	body []byte
	what string
}

func (r result) want(status int) result {
	r.t.Helper()
	if r.resp.StatusCode != status {
		r.t.Fatalf("%s: status %d, want %d: %s", r.what, r.resp.StatusCode, status, r.body)
	}
	return r
}

func (r result) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("%s: not the expected JSON: %v\n%s", r.what, err, r.body)
	}
}

// errorText is the error message of a JSON error body.
func (r result) errorText() string {
	r.t.Helper()
	var b errorBody
	r.decode(&b)
	if b.Error == "" {
		r.t.Fatalf("%s: error body without a message: %s", r.what, r.body)
	}
	return b.Error
}

// do sends a request; body is JSON-encoded unless it is []byte or nil.
func (e *env) do(method, path string, c cred, body any, headers ...string) result {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.cookie})
	}
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read the body: %v", method, path, err)
	}
	return result{t: e.t, resp: resp, body: b, what: method + " " + path}
}

// createCase opens a case as user and returns it.
func (e *env) createCase(c cred, ref, title string) casestore.Case {
	e.t.Helper()
	var cs casestore.Case
	e.do("POST", "/api/v1/cases", c, map[string]any{"reference": ref, "title": title}).want(201).decode(&cs)
	return cs
}

// audit returns the agency's audit records as its admin sees them.
func (e *env) audit(admin string) []casestore.AuditRecord {
	e.t.Helper()
	recs, err := e.store.ListAudit(context.Background(), e.users[admin], casestore.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// denials returns the "denied" records of the agency naming user.
func (e *env) denials(admin, user string) []casestore.AuditRecord {
	var out []casestore.AuditRecord
	for _, r := range e.audit(admin) {
		if r.Action == casestore.ActionDenied && r.Actor == user {
			out = append(out, r)
		}
	}
	return out
}

// compactJSON is v as encoding/json writes it, for comparisons.
func compactJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func compactBody(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return buf.String()
}

// concrete turns a route path into a request path: every {param} gets
// value.
func concrete(path, value string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return b.String()
		}
		j := strings.IndexByte(path[i:], '}')
		b.WriteString(path[:i] + value)
		path = path[i+j+1:]
	}
}

func TestConcrete(t *testing.T) {
	if got := concrete("/api/v1/cases/{case}/notes/{note}", "7"); got != "/api/v1/cases/7/notes/7" {
		t.Fatal(got)
	}
	if got := fmt.Sprint(concrete("/healthz", "x")); got != "/healthz" {
		t.Fatal(got)
	}
}
