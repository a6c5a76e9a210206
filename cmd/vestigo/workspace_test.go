package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

// Hostile tag labels and sources: each would run script if a page or the
// graph put it into HTML instead of text. The end-to-end test checks that
// they show as the characters they are and that nothing ran.
const (
	hostileImg    = `<img src=x onerror="window.__xss=1">`
	hostileScript = `<script>window.__xss=2</script>`
	hostileSource = `javascript:window.__xss=3`
)

// browserTools finds what the end-to-end test drives: Node.js, the
// playwright-core package of web/package-lock.json and Debian's Chromium.
// A missing one fails the test (never a skip): scripts/tools.sh installs
// them.
func browserTools(t *testing.T, root string) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: run scripts/tools.sh (installs Node.js and the web packages)")
	}
	if _, err := os.Stat(filepath.Join(root, "web", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("web/node_modules has no playwright-core: run scripts/tools.sh web (npm ci)")
	}
	chromium = os.Getenv("VESTIGO_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s: run scripts/tools.sh chromium (Debian's chromium package)", chromium)
	}
	return node, chromium
}

// TestWorkspaceInBrowser is the end-to-end test of the web workspace: the
// demo's installation (the ransomware scenario, an agency, an investigator,
// case DEMO-1 with the ransom addresses) behind a real vestigo serve, driven
// in headless Chromium by web/e2e/workspace.mjs. Screenshots of each step
// go to .artifacts/e2e (or $VESTIGO_E2E_ARTIFACTS).
func TestWorkspaceInBrowser(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	node, chromium := browserTools(t, root)
	artifacts := os.Getenv("VESTIGO_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, ".artifacts", "e2e")
	}
	// Clear this test's artefacts of an earlier run, not the Ethereum
	// workspace test's (eth-*), which may run alongside.
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadDir(artifacts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range old {
		if !strings.HasPrefix(f.Name(), "eth-") {
			if err := os.RemoveAll(filepath.Join(artifacts, f.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}

	dir := t.TempDir()
	blocks := filepath.Join(dir, "chain")
	// The installation's keys sign the audit log's checkpoints: a report
	// rendered in the browser verifies once one covers it.
	const passphrase = "VESTIGO_PASSPHRASE=workspace e2e passphrase"
	in := install{data: filepath.Join(dir, "data"), env: []string{passphrase}}
	ok(t, "generate", "btc", "--out", blocks, "--seed", "7", "--scenario", "ransomware")
	truth, err := scenario.LoadTruth(filepath.Join(blocks, scenario.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	rw := truth.Ransomware
	in.ok(t, nil, "import", "btc", "--blocks", blocks)
	in.ok(t, nil, "tags", "import", filepath.Join(blocks, "known-tags.csv"))
	// The consolidation address is on every forward trace from the ransom
	// addresses and the first step of the graph: hostile labels there.
	hostile := filepath.Join(dir, "hostile.csv")
	var csvBuf strings.Builder
	w := csv.NewWriter(&csvBuf)
	w.WriteAll([][]string{
		{"address", "label", "category", "source"},
		{rw.ConsolidationAddress, hostileImg, "", hostileSource},
		{rw.ConsolidationAddress, hostileScript, "", "https://example.org/<b>report</b>"},
	})
	if err := os.WriteFile(hostile, []byte(csvBuf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in.ok(t, nil, "tags", "import", hostile)
	if out := in.ok(t, nil, "tags", rw.ConsolidationAddress).stdout; !strings.Contains(out, hostileImg) || !strings.Contains(out, hostileScript) {
		t.Fatalf("the hostile tags were not stored as given:\n%s", out)
	}

	const user, password = "investigator", "investigator's e2e password"
	admin := []string{"VESTIGO_USER=admin", "VESTIGO_PASSWORD=admin's e2e password"}
	in.ok(t, []string{"VESTIGO_NEW_PASSWORD=admin's e2e password"}, "agency", "add", "DEMO", "Demo agency", "--admin", "admin")
	in.ok(t, append(admin, "VESTIGO_NEW_PASSWORD="+password), "user", "add", user, "--role", "investigator")
	in.ok(t, nil, "keys", "init", "--agency", "Demo agency")
	inv := []string{"VESTIGO_USER=" + user, "VESTIGO_PASSWORD=" + password}
	in.ok(t, inv, "case", "create", "--ref", "DEMO-1", "--title", "Ransomware wave (generated)", "--legal-basis", "demo")
	for _, a := range rw.RansomAddresses {
		in.ok(t, inv, "case", "add", "DEMO-1", a, "--label", "ransom address from a victim's report")
	}
	// An item label and a note with markup, shown on the case page.
	in.ok(t, inv, "case", "add", "DEMO-1", rw.ConsolidationAddress, "--label", hostileImg)
	in.ok(t, inv, "case", "note", "DEMO-1", hostileScript)
	token := strings.TrimSpace(in.ok(t, inv, "token", "create", "e2e").stdout)

	// Checkpoints every second: the report the browser renders is covered
	// moments later, and its verification can succeed.
	base, stop := startServeWith(t, in, []string{passphrase}, "--checkpoint-every", "1s")
	defer stop()

	// A finding of the case (the forward trace from the first ransom
	// address) through the API: the browser exports it.
	finding := fmt.Sprintf(`{"analysis":"trace","title":"Ransom to the exchange","params":{"from":"entity:%s","hops":12}}`, rw.RansomAddresses[0])
	req, err := http.NewRequest("POST", base+"/api/v1/cases/1/findings", strings.NewReader(finding))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST finding: %d %s", resp.StatusCode, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("web", "e2e", "workspace.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"VESTIGO_URL="+base, "VESTIGO_USER="+user, "VESTIGO_PASSWORD="+password,
		"CHROMIUM="+chromium, "ARTIFACTS="+artifacts,
		"E2E_CASE=DEMO-1", "E2E_RANSOM="+rw.RansomAddresses[0], "E2E_EXCHANGE_LABEL=Exchange hot wallet",
		"E2E_HOSTILE_ADDRESS="+rw.ConsolidationAddress, "E2E_HOSTILE_TX="+rw.ConsolidationTxid,
		"E2E_HOSTILE_LABELS="+hostileImg+"\n"+hostileScript)
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e/workspace.mjs (screenshots in %s):\n%s", artifacts, out)
	if err != nil {
		t.Fatalf("the end-to-end run failed: %v", err)
	}
}

// startServe runs vestigo serve on a free port of 127.0.0.1, signing no
// checkpoints, and returns its URL and a function that stops it with
// SIGINT (as Ctrl-C does).
func startServe(t *testing.T, in install) (string, func()) {
	t.Helper()
	return startServeWith(t, in, nil, "--checkpoint-every", "0")
}

// startServeWith is startServe with more environment (after the cleared
// VESTIGO_* variables: a passphrase) and more serve flags.
func startServeWith(t *testing.T, in install, env []string, flags ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(vestigoBin, append([]string{"--data", in.data, "serve", "--addr", "127.0.0.1:0"}, flags...)...)
	cmd.Env = append(append(os.Environ(), "VESTIGO_DATA=", "VESTIGO_DB=", "VESTIGO_PASSPHRASE="), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &serveBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	m := serveLine.FindStringSubmatch(line)
	if err != nil || m == nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("serve printed %q (%v)\n%s", line, err, stderr)
	}
	go io.Copy(io.Discard, stdout)
	// A failed test shows what the server logged (an internal error's cause).
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("vestigo serve logged:\n%s", stderr)
		}
	})
	return m[1], func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve ended with %v\n%s", err, stderr)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Errorf("serve did not stop on SIGINT\n%s", stderr)
		}
	}
}
