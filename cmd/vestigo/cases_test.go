package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/vestigo-forensics/vestigo/internal/scenario"
	"github.com/vestigo-forensics/vestigo/internal/tsatest"
)

// install is one Vestigo installation of the test: its data directory and
// the environment its commands run with.
type install struct {
	data string
	env  []string
}

func (in install) run(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(vestigoBin, append([]string{"--data", in.data}, args...)...)
	cmd.Env = append(append(append(os.Environ(), "VESTIGO_DATA=", "VESTIGO_DB=", "VESTIGO_USER=", "VESTIGO_PASSWORD=",
		"VESTIGO_TOKEN=", "VESTIGO_PASSPHRASE=", "VESTIGO_TSA_URL=", "VESTIGO_TSA_CA="), in.env...), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run vestigo %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func (in install) ok(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	r := in.run(t, extraEnv, args...)
	if r.code != 0 {
		t.Fatalf("vestigo %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (in install) fails(t *testing.T, code int, want string, extraEnv []string, args ...string) {
	t.Helper()
	r := in.run(t, extraEnv, args...)
	if r.code != code || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("vestigo %s: exit %d (want %d), stderr %q (want one line with %q)\n%s", strings.Join(args, " "), r.code, code, r.stderr, want, r.stdout)
	}
}

// TestCaseLifecycle runs the case commands as two agencies would: users and
// tokens, a case with items, a note and a time-stamped exhibit, a signed
// checkpoint; the package round trip to a partner installation with other
// keys; deconfliction; tampering found by audit verify; backup and restore.
func TestCaseLifecycle(t *testing.T) {
	dir := t.TempDir()
	tsa := tsatest.Start(t)
	blocks := filepath.Join(dir, "chain")
	ok(t, "generate", "btc", "--out", blocks, "--seed", "21", "--scenario", "ransomware")
	truth, err := scenario.LoadTruth(filepath.Join(blocks, scenario.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	rw := truth.Ransomware
	tsaEnv := []string{"VESTIGO_TSA_URL=" + tsa.URL, "VESTIGO_TSA_CA=" + tsa.CAFile}
	a := install{data: filepath.Join(dir, "a"), env: append([]string{"VESTIGO_PASSPHRASE=alpha passphrase"}, tsaEnv...)}
	b := install{data: filepath.Join(dir, "b"), env: append([]string{"VESTIGO_PASSPHRASE=bravo passphrase"}, tsaEnv...)}
	for _, in := range []install{a, b} {
		in.ok(t, nil, "import", "btc", "--blocks", blocks)
	}

	// Agencies, users, tokens.
	newPw := func(pw string) []string { return []string{"VESTIGO_NEW_PASSWORD=" + pw} }
	as := func(user, pw string) []string { return []string{"VESTIGO_USER=" + user, "VESTIGO_PASSWORD=" + pw} }
	a.ok(t, newPw("admin password A"), "agency", "add", "KOS-PD", "Kosovo Police", "--admin", "alice")
	a.ok(t, append(as("alice", "admin password A"), newPw("investigator password")...), "user", "add", "ivan", "--role", "investigator")
	a.fails(t, 5, "unauthorised", as("alice", "wrong"), "user", "list")
	a.ok(t, append(as("alice", "admin password A"), newPw("reader password")...), "user", "add", "rita", "--role", "read-only")
	tok := strings.TrimSpace(a.ok(t, as("alice", "admin password A"), "token", "create", "script", "--for", "ivan").stdout)
	if !strings.HasPrefix(tok, "vgt_") {
		t.Fatalf("token %q", tok)
	}
	ivan := []string{"VESTIGO_TOKEN=" + tok}
	b.ok(t, newPw("admin password B"), "agency", "add", "MKD-FIU", "Financial Intelligence Office", "--admin", "boris")
	bob := as("boris", "admin password B")

	// Keys: each installation has its own; each adds the other as partner.
	a.ok(t, nil, "keys", "init", "--agency", "Kosovo Police")
	b.ok(t, nil, "keys", "init", "--agency", "Financial Intelligence Office")
	idA, idB := filepath.Join(dir, "a.identity"), filepath.Join(dir, "b.identity")
	write(t, idA, a.ok(t, nil, "keys", "show").stdout)
	write(t, idB, b.ok(t, nil, "keys", "show").stdout)
	b.ok(t, nil, "keys", "add-partner", idA)
	a.ok(t, nil, "keys", "add-partner", idB)
	a.fails(t, 5, "wrong passphrase", []string{"VESTIGO_PASSPHRASE=not it"}, "audit", "checkpoint")

	// A case with items, a note and an exhibit, as the investigator.
	a.ok(t, ivan, "case", "create", "--ref", "2026/0117", "--title", "Ransomware <b>wave</b>", "--legal-basis", "Order 44/2026")
	a.fails(t, 5, "read-only", as("rita", "reader password"), "case", "create", "--ref", "X", "--title", "no")
	for _, ref := range []string{rw.RansomAddresses[0], rw.ConsolidationTxid, "entity:" + rw.RansomAddresses[1]} {
		a.ok(t, ivan, "case", "add", "2026/0117", ref)
	}
	var item map[string]any
	if err := json.Unmarshal([]byte(a.ok(t, ivan, "case", "add", "2026/0117", rw.PeelChain[0].PeelAddress, "--label", "first peel", "--json").stdout), &item); err != nil {
		t.Fatal(err)
	}
	prov := item["provenance"].(map[string]any)
	if !strings.Contains(prov["source"].(string), "block files "+blocks) || prov["index_tip"].(float64) <= 0 || prov["network"] != "regtest" {
		t.Fatalf("item provenance %v", prov)
	}
	a.ok(t, ivan, "case", "note", "2026/0117", "'; DROP TABLE notes; -- the victims paid <script>x</script>")
	exhibit := filepath.Join(dir, "letter.txt")
	write(t, exhibit, "Exchange X confirms the deposit account of the mule.\n")
	if out := a.ok(t, ivan, "case", "exhibit", "2026/0117", exhibit).stdout; !strings.Contains(out, "time-stamped (RFC 3161)") {
		t.Fatalf("exhibit: %s", out)
	}
	a.ok(t, nil, "audit", "checkpoint")
	// Everything is checked (the TSA tokens, the signature, one anchor);
	// only the checkpoint's own record comes after what it anchors.
	out := a.ok(t, nil, "audit", "verify").stdout
	if !strings.Contains(out, "OK:") || !strings.Contains(out, "anchors outside the database: 1") ||
		strings.Count(out, "not checked") != 1 || !strings.Contains(out, "not anchored yet") {
		t.Fatalf("audit verify:\n%s", out)
	}
	var shown struct {
		Case  map[string]any   `json:"case"`
		Notes []map[string]any `json:"notes"`
	}
	if err := json.Unmarshal([]byte(a.ok(t, ivan, "case", "show", "2026/0117", "--json").stdout), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Case["title"] != "Ransomware <b>wave</b>" || len(shown.Notes) != 1 || !strings.Contains(shown.Notes[0]["text"].(string), "DROP TABLE notes") {
		t.Fatalf("case show: %+v", shown)
	}

	// The package: to B's key, readable only by B, imported with its origin.
	recipientB := ""
	for _, line := range strings.Split(b.ok(t, nil, "keys", "show").stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[1], "age1") {
			recipientB = f[1]
		}
	}
	if recipientB == "" {
		t.Fatalf("no recipient in B's identity:\n%s", b.ok(t, nil, "keys", "show").stdout)
	}
	pkg := filepath.Join(dir, "case.vpkg")
	a.ok(t, ivan, "case", "export", "2026/0117", "--to", recipientB, "-o", pkg, "--redact", "legal_basis")
	a.fails(t, 6, "not for this installation", ivan, "case", "import", pkg)
	imp := b.ok(t, bob, "case", "import", pkg).stdout
	if !strings.Contains(imp, "from Kosovo Police, a known partner") {
		t.Fatalf("import: %s", imp)
	}
	var cases []map[string]any
	if err := json.Unmarshal([]byte(b.ok(t, bob, "case", "list", "--json").stdout), &cases); err != nil || len(cases) != 1 {
		t.Fatalf("cases at B: %v %v", cases, err)
	}
	if cases[0]["origin_agency"] != "Kosovo Police" || cases[0]["legal_basis"] != "" || cases[0]["origin_package_digest"] == "" {
		t.Fatalf("imported case %v", cases[0])
	}
	// Deconfliction at B: a case of its own holding an address of the import.
	b.ok(t, bob, "case", "create", "--ref", "FIU-9", "--title", "Suspicious deposits")
	b.ok(t, bob, "case", "add", "FIU-9", rw.PeelChain[0].PeelAddress)
	if out := b.ok(t, bob, "deconflict", "FIU-9").stdout; !strings.Contains(out, rw.PeelChain[0].PeelAddress) || !strings.Contains(out, "2026/0117") {
		t.Fatalf("deconflict:\n%s", out)
	}
	// A package from an installation B does not know is refused.
	c := install{data: filepath.Join(dir, "c"), env: []string{"VESTIGO_PASSPHRASE=charlie"}}
	c.ok(t, newPw("admin password C"), "agency", "add", "SRB-P", "Police", "--admin", "cora")
	c.ok(t, nil, "keys", "init", "--agency", "Stranger")
	c.ok(t, as("cora", "admin password C"), "case", "create", "--ref", "S-1", "--title", "stranger")
	pkgC := filepath.Join(dir, "stranger.vpkg")
	c.fails(t, 2, "not the key of a partner", as("cora", "admin password C"), "case", "export", "S-1", "--to", recipientB, "-o", pkgC)
	c.ok(t, as("cora", "admin password C"), "case", "export", "S-1", "--to", recipientB, "-o", pkgC, "--to-unknown-recipient")
	b.fails(t, 6, "unknown sender", bob, "case", "import", pkgC)

	// Backup and restore into a fresh store, then verify.
	bak := filepath.Join(dir, "a.backup")
	a.ok(t, nil, "backup", "-o", bak)
	restored := filepath.Join(dir, "restored.db")
	a.ok(t, []string{"VESTIGO_DB=" + restored}, "restore", bak)
	if out := a.ok(t, []string{"VESTIGO_DB=" + restored}, "audit", "verify").stdout; !strings.Contains(out, "OK:") {
		t.Fatalf("verify after restore:\n%s", out)
	}
	a.fails(t, 6, "not empty", []string{"VESTIGO_DB=" + restored}, "restore", bak)

	// Tampering behind Vestigo's back: an edited note is named.
	db, err := sql.Open("sqlite", filepath.Join(a.data, "cases.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE notes SET text = 'nothing to see' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := a.run(t, nil, "audit", "verify")
	if r.code != 4 || !strings.Contains(r.stdout, "FIRST PROBLEM: note 1") {
		t.Fatalf("verify after tampering: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestBenchServeRuns: the load benchmark runs end to end on a small case
// (the server as a subprocess, tokens, the mix of queries and writes)
// without a single failed request. Only correctness is asserted here;
// speed is measured by make bench-serve.
func TestBenchServeRuns(t *testing.T) {
	dir := t.TempDir()
	blocks, data := filepath.Join(dir, "chain"), filepath.Join(dir, "data")
	ok(t, "generate", "btc", "--out", blocks, "--seed", "3", "--scenario", "ransomware")
	ok(t, "--data", data, "import", "btc", "--blocks", blocks)
	var r struct {
		Samples  int            `json:"samples"`
		Requests int            `json:"requests"`
		Errors   int            `json:"errors"`
		FirstErr string         `json:"first_error"`
		Counts   map[string]int `json:"counts"`
		RSS      int64          `json:"server_peak_rss_bytes"`
	}
	out := ok(t, "--data", data, "bench", "serve", "--samples", "20", "--clients", "3", "--duration", "2s", "--json")
	if err := json.Unmarshal([]byte(out.stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Samples != 20 || r.Requests == 0 || r.Errors != 0 || r.Counts["note"] == 0 || r.Counts["trace"] == 0 || r.RSS == 0 {
		t.Fatalf("bench serve: %+v", r)
	}
}
