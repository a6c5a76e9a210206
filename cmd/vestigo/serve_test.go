package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

// serveBuffer is a stderr the server's goroutines write to.
type serveBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var serveLine = regexp.MustCompile(`^serving on (http://127\.0\.0\.1:\d+) \(workspace /, api /api/v1/, health /healthz\)\n$`)

// TestServe runs vestigo serve on a data directory with an imported case
// and a case store holding one admin: it prints its one line, answers
// /healthz without credentials and nothing else, logs in, answers the
// chain questions with the bytes vestigo prints with --json, logs each
// request without secrets, and stops cleanly when its context ends (what
// SIGINT and SIGTERM do).
func TestServe(t *testing.T) {
	dir := t.TempDir()
	blocks := filepath.Join(dir, "case")
	data := filepath.Join(dir, "data")
	ok(t, "generate", "btc", "--out", blocks, "--seed", "5", "--scenario", "ransomware")
	truth, err := scenario.LoadTruth(filepath.Join(blocks, scenario.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	ok(t, "--data", data, "import", "btc", "--blocks", blocks)
	txid, ransom := truth.Ransomware.RansomPayments[0].Txid, truth.Ransomware.RansomAddresses[0]
	cliTx := ok(t, "--data", data, "tx", txid, "--json").stdout
	cliTrace := ok(t, "--data", data, "trace", ransom, "--hops", "3", "--json").stdout

	ctx := context.Background()
	st, err := casestore.Open(ctx, filepath.Join(data, "cases.db"), casestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ag, err := st.CreateAgency(ctx, "T-PD", "Test police")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BootstrapAdmin(ctx, ag.ID, "admin", "admin-password"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	pr, pw := io.Pipe()
	stderr := &serveBuffer{}
	a := &app{stdin: strings.NewReader(""), stdout: pw, stderr: stderr, dataDir: data}
	cmd := a.serveCommand()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0"})
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		err := cmd.ExecuteContext(runCtx)
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no line from serve: %v\n%s", err, stderr)
	}
	m := serveLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("serve printed %q", line)
	}
	base := m[1]
	get := func(path string, c *http.Cookie) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if c != nil {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, body := get("/healthz", nil); code != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if code, _ := get("/api/v1/tx/"+txid, nil); code != http.StatusUnauthorized {
		t.Fatalf("tx without credentials: %d", code)
	}
	resp, err := http.Post(base+"/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"admin-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d %v", resp.StatusCode, resp.Cookies())
	}
	session := resp.Cookies()[0]
	if code, body := get("/api/v1/tx/"+txid, session); code != 200 || string(body) != cliTx {
		t.Fatalf("tx: %d, the body differs from vestigo tx --json:\n%s\n%s", code, body, cliTx)
	}
	if code, body := get("/api/v1/trace/"+ransom+"?hops=3", session); code != 200 || string(body) != cliTrace {
		t.Fatalf("trace: %d, the body differs from vestigo trace --json:\n%s\n%s", code, body, cliTrace)
	}
	var status struct {
		Networks []struct {
			Network   string `json:"network"`
			TipHeight int64  `json:"tip_height"`
			Clustered bool   `json:"clustered"`
		} `json:"networks"`
	}
	if code, body := get("/api/v1/status", session); code != 200 || json.Unmarshal(body, &status) != nil || len(status.Networks) != 1 ||
		status.Networks[0].TipHeight != truth.TipHeight || !status.Networks[0].Clustered || strings.Contains(string(body), data) {
		t.Fatalf("status: %d %s", code, body)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve ended with %v\n%s", err, stderr)
	}
	if a.ws != nil {
		a.ws.Close()
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the server still answers after it stopped")
	}
	log := stderr.String()
	for _, want := range []string{"path=/healthz status=200", "path=/api/v1/tx/" + txid + " status=401", "status=200", "user=admin", "duration="} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "admin-password") || strings.Contains(log, session.Value) {
		t.Fatalf("the log holds a secret:\n%s", log)
	}
}

// TestServeBadFlags: flag values are usage errors (exit code 2), an
// unusable address a failure.
func TestServeBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--max-exhibit", "0"}, exitUsage},
		{[]string{"--session-ttl", "0s"}, exitUsage},
		{[]string{"extra"}, exitUsage},
		{[]string{"--addr", "256.0.0.1:http"}, exitFailure},
	} {
		a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, dataDir: t.TempDir()}
		cmd := a.serveCommand()
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs(tc.args)
		err := cmd.ExecuteContext(context.Background())
		if a.ws != nil {
			a.ws.Close()
		}
		if code := exitCode(err); code != tc.code {
			t.Errorf("serve %v: exit %d (%v), want %d", tc.args, code, err, tc.code)
		}
	}
}
