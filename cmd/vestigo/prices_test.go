package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// mustIn runs a command that must succeed; failsIn one that must fail with
// code and one line on stderr containing want.
func mustIn(t *testing.T, args ...string) result {
	t.Helper()
	return ok(t, args...)
}

func failsIn(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	fails(t, code, want, args...)
}

func clearEnv(t *testing.T) {
	for _, k := range []string{"VESTIGO_DATA", "VESTIGO_DB", "VESTIGO_USER", "VESTIGO_PASSWORD", "VESTIGO_TOKEN", "VESTIGO_PASSPHRASE",
		"VESTIGO_TSA_URL", "VESTIGO_TSA_CA", "VESTIGO_NEW_PASSWORD"} {
		t.Setenv(k, "")
	}
}

// TestPricesCommands imports a price file, lists and reads it, and
// refuses bad files with FILE:LINE leaving the store as it was.
func TestPricesCommands(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "btc-fiat.csv")
	var b strings.Builder
	b.WriteString("date,currency,price\n")
	for d := 1; d <= 28; d++ {
		fmt.Fprintf(&b, "2024-02-%02d,EUR,%d.%02d\n2024-02-%02d,USD,%d.%06d\n", d, 39000+d*137, d*3, d, 42100+d*151, d*12345)
	}
	os.WriteFile(file, []byte(b.String()), 0o644)
	out := mustIn(t, "--data", data, "prices", "import", file, "--asset", "btc").stdout
	if !strings.Contains(out, "btc-fiat.csv: imported (BTC, sha256 ") || !strings.Contains(out, "2024-02-01") || strings.Count(out, "btc-fiat.csv") != 3 {
		t.Fatalf("import:\n%s", out)
	}
	var res map[string]any
	json.Unmarshal([]byte(mustIn(t, "--data", data, "prices", "import", file, "--asset", "BTC", "--json").stdout), &res)
	if res["status"] != "unchanged" || len(res["series"].([]any)) != 2 {
		t.Fatalf("re-import: %v", res)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(mustIn(t, "--data", data, "prices", "list", "--json").stdout), &list); err != nil || len(list) != 2 ||
		list[1]["currency"] != "USD" || list[1]["days"] != 28.0 || list[1]["last"] != "2024-02-28" {
		t.Fatalf("list: %v %v", list, err)
	}
	if out := mustIn(t, "--data", data, "prices", "get", "BTC", "USD", "2024-02-10").stdout; !strings.HasPrefix(out, "2024-02-10 BTC 43610.123450 USD (btc-fiat.csv line 21, sha256 ") {
		t.Fatalf("get: %s", out)
	}
	var q map[string]any
	json.Unmarshal([]byte(mustIn(t, "--data", data, "prices", "get", "btc", "EUR", "2024-02-28", "--json").stdout), &q)
	if q["price"] != "42836.84" || q["line"] != 56.0 {
		t.Fatalf("get --json: %v", q)
	}
	failsIn(t, exitNotFound, "no EUR price of BTC on 2024-03-01", "--data", data, "prices", "get", "BTC", "EUR", "2024-03-01")
	failsIn(t, exitUsage, "not YYYY-MM-DD", "--data", data, "prices", "get", "BTC", "EUR", "1.3.2024")
	failsIn(t, exitUsage, "--asset is required", "--data", data, "prices", "import", file)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("2024-02-01,EUR,1\n2024-02-02,EUR,=1+1\n"), 0o644)
	failsIn(t, exitUsage, bad+":2: price \"=1+1\"", "--data", data, "prices", "import", bad, "--asset", "BTC")
	if out := mustIn(t, "--data", data, "prices", "list").stdout; strings.Contains(out, "bad.csv") {
		t.Fatalf("a refused file was stored:\n%s", out)
	}
	// An empty data directory has no series.
	if out := mustIn(t, "--data", filepath.Join(dir, "empty"), "prices", "list").stdout; !strings.Contains(out, "no price series") {
		t.Fatalf("empty list: %s", out)
	}
}

// TestCaseExportCommands exports a finding and a saved graph of a case
// from the command line: the file written, the exhibit stored with its
// provenance, the refusals.
func TestCaseExportCommands(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	t.Setenv("VESTIGO_NEW_PASSWORD", "admin password")
	mustIn(t, "--data", data, "agency", "add", "KOS-PD", "Kosovo Police", "--admin", "alice")
	t.Setenv("VESTIGO_NEW_PASSWORD", "reader password")
	as := []string{"--data", data, "--user", "alice"}
	t.Setenv("VESTIGO_PASSWORD", "admin password")
	mustIn(t, append(as, "user", "add", "rita", "--role", "read-only")...)
	mustIn(t, append(as, "case", "create", "--ref", "2026/77", "--title", "Exports")...)
	graphFile := filepath.Join(dir, "flow.json")
	os.WriteFile(graphFile, savedGraphDoc(`=cmd|' /C calc'!A0 <img src=x>`), 0o644)
	var gex casestore.Exhibit
	json.Unmarshal([]byte(mustIn(t, append(as, "case", "exhibit", "2026/77", graphFile, "--json")...).stdout), &gex)

	// A finding, stored as the analyses store theirs.
	ws, err := workspace.Open(data, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ws.Cases(context.Background(), workspace.CaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.AuthenticatePassword(context.Background(), "alice", "admin password")
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.AddFinding(context.Background(), p, gex.CaseID, casestore.Finding{Kind: casestore.FindingOther, Title: "@risk",
		Params: json.RawMessage(`{"hops":4}`), Result: json.RawMessage(`{"score":"+87","labels":["=SUM(1)","ok"]}`)})
	st.Close()
	ws.Close()
	if err != nil {
		t.Fatal(err)
	}
	fid, gid := fmt.Sprint(f.ID), fmt.Sprint(gex.ID)

	jsonOut := filepath.Join(dir, "finding.json")
	out := mustIn(t, append(as, "case", "export-finding", "2026/77", fid, "--format", "json", "-o", jsonOut)...).stdout
	content, _ := os.ReadFile(jsonOut)
	if !strings.Contains(out, "finding-"+fid+".json") || !strings.Contains(out, "written to "+jsonOut) || !bytes.Contains(content, []byte(`"=SUM(1)"`)) {
		t.Fatalf("export-finding json: %s\n%s", out, content)
	}
	var back map[string]any
	if err := json.Unmarshal(content, &back); err != nil || back["title"] != "@risk" {
		t.Fatalf("finding.json: %v %v", back, err)
	}
	csvOut := filepath.Join(dir, "finding.csv")
	mustIn(t, append(as, "case", "export-finding", "2026/77", fid, "--format", "csv", "-o", csvOut)...)
	content, _ = os.ReadFile(csvOut)
	for _, w := range []string{"result.labels[0],'=SUM(1)", "result.score,'+87", "title,'@risk"} {
		if !bytes.Contains(content, []byte(w)) {
			t.Fatalf("finding.csv lacks %q:\n%s", w, content)
		}
	}
	xlsxOut := filepath.Join(dir, "finding.xlsx")
	mustIn(t, append(as, "case", "export-finding", "2026/77", fid, "--format", "xlsx", "-o", xlsxOut)...)
	content, _ = os.ReadFile(xlsxOut)
	if _, err := zip.NewReader(bytes.NewReader(content), int64(len(content))); err != nil {
		t.Fatalf("finding.xlsx: %v", err)
	}
	for _, format := range []string{"graphml", "gexf"} {
		o := filepath.Join(dir, "graph."+format)
		var ex casestore.Exhibit
		json.Unmarshal([]byte(mustIn(t, append(as, "case", "export-graph", "2026/77", gid, "--format", format, "-o", o, "--json")...).stdout), &ex)
		content, _ = os.ReadFile(o)
		var root struct{ XMLName xml.Name }
		if err := xml.Unmarshal(content, &root); err != nil || root.XMLName.Local != map[string]string{"graphml": "graphml", "gexf": "gexf"}[format] ||
			!bytes.Contains(content, []byte("&lt;img src=x&gt;")) || ex.Provenance.Source != "vestigo export graph "+format || int64(len(content)) != ex.Size {
			t.Fatalf("%s: %v %+v\n%s", format, err, ex, content)
		}
	}
	// The exports are exhibits of the case.
	if out := mustIn(t, append(as, "case", "show", "2026/77")...).stdout; !strings.Contains(out, "graph-"+gid+".gexf") || !strings.Contains(out, "finding-"+fid+".xlsx") {
		t.Fatalf("case show lacks the exports:\n%s", out)
	}
	failsIn(t, exitUsage, "a graph exports as graphml or gexf", append(as, "case", "export-graph", "2026/77", gid, "--format", "csv", "-o", filepath.Join(dir, "x"))...)
	letter := filepath.Join(dir, "letter.txt")
	os.WriteFile(letter, []byte("not a graph\n"), 0o644)
	var lex casestore.Exhibit
	json.Unmarshal([]byte(mustIn(t, append(as, "case", "exhibit", "2026/77", letter, "--json")...).stdout), &lex)
	failsIn(t, exitUsage, "is not a saved graph", append(as, "case", "export-graph", "2026/77", fmt.Sprint(lex.ID), "--format", "gexf", "-o", filepath.Join(dir, "x"))...)
	failsIn(t, exitUsage, "-o FILE is required", append(as, "case", "export-finding", "2026/77", fid)...)
	failsIn(t, exitNotFound, "not found", append(as, "case", "export-finding", "2026/77", "999", "-o", filepath.Join(dir, "x"))...)
	t.Setenv("VESTIGO_PASSWORD", "reader password")
	failsIn(t, exitDenied, "", "--data", data, "--user", "rita", "case", "export-finding", "2026/77", fid, "-o", filepath.Join(dir, "x"))
}

// savedGraphDoc is a saved graph of the web workspace with a hostile label.
func savedGraphDoc(label string) []byte {
	tx := "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
	from := "bcrt1qsource000000000000000000000000000"
	doc := map[string]any{"format": "vestigo-graph", "version": 1, "created": "2026-03-01T09:00:00.000Z",
		"nodes": []any{
			map[string]any{"id": "a:" + from, "kind": "address", "ref": from, "network": "regtest", "label": label},
			map[string]any{"id": "t:" + tx, "kind": "tx", "ref": tx, "network": "regtest"},
		},
		"edges": []any{map[string]any{"id": "in|a:" + from + "|t:" + tx + "|" + tx, "kind": "in", "source": "a:" + from, "target": "t:" + tx, "amount": 5000, "txid": tx}},
	}
	b, _ := json.Marshal(doc)
	return b
}
