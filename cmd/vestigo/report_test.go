package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/scenario"
	"github.com/vestigo-forensics/vestigo/internal/tsatest"
)

// Hostile labels for the report: markup and spreadsheet formula prefixes.
var reportHostile = []string{`<script>alert(1)</script>`, `=HYPERLINK("http://x")`, `+cmd`, `-2+3`, `@SUM(A1)`}

// popplerTools finds poppler-utils; a missing one fails the test (never a
// skip): scripts/tools.sh poppler installs Debian's package.
func popplerTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdffonts", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: run scripts/tools.sh poppler (Debian's poppler-utils)", tool)
		}
	}
}

func pdfText(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext %s: %v\n%s", file, err, out)
	}
	return string(out)
}

// squeeze drops white space, so that hashes a PDF wraps are found whole.
func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

// TestReport renders the demo case's report as an investigator would: the
// ransomware scenario imported with its known tags and hostile labels, the
// heuristics evaluated and saved, a case with the ransom addresses, trace
// findings (through the API) back to the victims' payments and forward to
// the exchange, a saved graph exhibit, a TSA and the installation keys.
func TestReport(t *testing.T) {
	popplerTools(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(root, ".artifacts", "report")
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ts := tsatest.Start(t)
	blocks := filepath.Join(dir, "chain")
	ok(t, "generate", "btc", "--out", blocks, "--seed", "7", "--scenario", "ransomware")
	truth, err := scenario.LoadTruth(filepath.Join(blocks, scenario.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	rw := truth.Ransomware
	in := install{data: filepath.Join(dir, "data"), env: []string{"VESTIGO_PASSPHRASE=report passphrase",
		"VESTIGO_TSA_URL=" + ts.URL, "VESTIGO_TSA_CA=" + ts.CAFile}}
	in.ok(t, nil, "import", "btc", "--blocks", blocks)
	in.ok(t, nil, "tags", "import", filepath.Join(blocks, scenario.KnownTagsFile))
	var csvBuf strings.Builder
	w := csv.NewWriter(&csvBuf)
	w.Write([]string{"address", "label", "category", "source"})
	for _, h := range reportHostile {
		w.Write([]string{rw.ConsolidationAddress, h, "", "https://example.org/<b>" + h + "</b>"})
	}
	w.Flush()
	write(t, filepath.Join(dir, "hostile.csv"), csvBuf.String())
	in.ok(t, nil, "tags", "import", filepath.Join(dir, "hostile.csv"))

	// A BTC price series in EUR and USD over the chain's days (made up:
	// a fixed price each day, so the report's fiat values can be checked).
	var st struct {
		Networks []struct {
			TipTime time.Time `json:"tip_time"`
		} `json:"networks"`
	}
	if err := json.Unmarshal([]byte(in.ok(t, nil, "status", "--json").stdout), &st); err != nil || len(st.Networks) != 1 {
		t.Fatalf("status: %v", err)
	}
	var first struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal([]byte(in.ok(t, nil, "block", "0", "--json").stdout), &first); err != nil {
		t.Fatal(err)
	}
	var priceCSV strings.Builder
	priceCSV.WriteString("date,currency,price\n")
	for d := first.Time.UTC().Truncate(24 * time.Hour); !d.After(st.Networks[0].TipTime); d = d.AddDate(0, 0, 1) {
		fmt.Fprintf(&priceCSV, "%s,EUR,30000.50\n%s,USD,32000.25\n", d.Format(time.DateOnly), d.Format(time.DateOnly))
	}
	write(t, filepath.Join(dir, "btc-prices.csv"), priceCSV.String())
	in.ok(t, nil, "prices", "import", filepath.Join(dir, "btc-prices.csv"), "--asset", "BTC")
	priceSum := sha256.Sum256([]byte(priceCSV.String()))
	eval := in.ok(t, nil, "heuristics", "evaluate", "--ground-truth", filepath.Join(blocks, scenario.TruthFile), "--json").stdout
	var evalRep struct {
		Clustering []struct {
			Mode      string  `json:"mode"`
			Precision float64 `json:"precision"`
			Recall    float64 `json:"recall"`
		} `json:"clustering"`
	}
	if err := json.Unmarshal([]byte(eval), &evalRep); err != nil || len(evalRep.Clustering) == 0 {
		t.Fatalf("heuristics evaluate: %v\n%s", err, eval)
	}
	saved, err := os.ReadFile(filepath.Join(in.data, "evaluations", "ransomware-7-regtest.json"))
	if err != nil || !bytes.Contains(saved, []byte(`"clustering"`)) {
		t.Fatalf("the evaluation was not saved: %v", err)
	}

	const user, password = "investigator", "investigator's report password"
	admin := []string{"VESTIGO_USER=admin", "VESTIGO_PASSWORD=admin's report password"}
	in.ok(t, []string{"VESTIGO_NEW_PASSWORD=admin's report password"}, "agency", "add", "DEMO", "Demo agency", "--admin", "admin")
	in.ok(t, append(admin, "VESTIGO_NEW_PASSWORD="+password), "user", "add", user, "--role", "investigator")
	in.ok(t, nil, "keys", "init", "--agency", "Demo agency")
	inv := []string{"VESTIGO_USER=" + user, "VESTIGO_PASSWORD=" + password}
	in.ok(t, inv, "case", "create", "--ref", "DEMO-1", "--title", "Ransomware wave (generated)", "--legal-basis", "demo")
	for _, a := range rw.RansomAddresses {
		in.ok(t, inv, "case", "add", "DEMO-1", a, "--label", "ransom address from a victim's report")
	}
	in.ok(t, inv, "case", "add", "DEMO-1", rw.ConsolidationAddress, "--label", reportHostile[1])
	// A saved graph: the first ransom address, the consolidation and the
	// first exchange deposit, with positions.
	dep := rw.ExchangeDeposits[0]
	// The document is the web workspace's (vestigo-graph v1): node ids
	// a:ADDRESS, edge ids kind|source|target|txid, amounts in satoshis.
	ransomID, consID, depID := "a:"+rw.RansomAddresses[0], "a:"+rw.ConsolidationAddress, "a:"+dep.Address
	graph := map[string]any{"format": "vestigo-graph", "version": 1, "created": "2026-01-02T03:04:05.000Z", "case": 1, "group": false,
		"filters": map[string]string{"from": "", "to": "", "min": ""}, "trace": nil,
		"nodes": []map[string]any{
			{"id": ransomID, "kind": "address", "ref": rw.RansomAddresses[0], "network": "regtest", "label": "ransom", "category": "ransomware", "x": 0.0, "y": 0.0},
			{"id": consID, "kind": "address", "ref": rw.ConsolidationAddress, "network": "regtest", "label": reportHostile[0], "category": "", "x": 200.0, "y": 40.0},
			{"id": depID, "kind": "address", "ref": dep.Address, "network": "regtest", "label": "deposit", "category": "exchange", "x": 400.0, "y": 0.0},
		},
		"edges": []map[string]any{
			{"id": "flow|" + ransomID + "|" + consID + "|" + rw.ConsolidationTxid, "kind": "flow", "source": ransomID, "target": consID,
				"amount": 50000000, "time": "", "txid": rw.ConsolidationTxid, "hop": 1},
			{"id": "flow|" + consID + "|" + depID + "|" + dep.Txid, "kind": "flow", "source": consID, "target": depID,
				"amount": 10000000, "time": "", "txid": dep.Txid, "hop": 2},
		}}
	gj, _ := json.Marshal(graph)
	write(t, filepath.Join(dir, "graph.json"), string(gj))
	in.ok(t, inv, "case", "exhibit", "DEMO-1", filepath.Join(dir, "graph.json"), "--name", "fund flow.json", "--media-type", "application/vnd.vestigo.graph+json")
	token := strings.TrimSpace(in.ok(t, inv, "token", "create", "report-test").stdout)

	// A finding kept from the command line (before serve holds the index).
	if r := in.ok(t, inv, "trace", "entity:"+rw.RansomAddresses[0], "--hops", "2", "--case", "DEMO-1", "--title", "Two hops (CLI)"); !strings.Contains(r.stderr, "kept as finding 1") {
		t.Fatalf("trace --case: %s", r.stderr)
	}
	// Findings through the API: where the ransoms came from and where they went.
	base, stop := startServe(t, in)
	api := func(method, path, ctype string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, f := range []string{
		fmt.Sprintf(`{"analysis":"trace","title":"Where the ransoms came from","params":{"from":"entity:%s","direction":"backward","hops":1,"stop_at":"none"}}`, rw.RansomAddresses[0]),
		fmt.Sprintf(`{"analysis":"trace","title":"Ransom to the exchange","params":{"from":"entity:%s","hops":12}}`, rw.RansomAddresses[0]),
	} {
		if code, b := api("POST", "/api/v1/cases/1/findings", "application/json", []byte(f)); code != http.StatusCreated {
			t.Fatalf("finding: %d %s", code, b)
		}
	}
	// The API renders (Albanian HTML) and verifies what it recorded.
	code, b := api("POST", "/api/v1/cases/1/report", "application/json", []byte(`{"format":"html","lang":"sq"}`))
	if code != http.StatusCreated {
		t.Fatalf("POST report: %d %s", code, b)
	}
	var rendered struct {
		Exhibit struct {
			ID     int64  `json:"id"`
			SHA256 string `json:"sha256"`
		} `json:"exhibit"`
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(b, &rendered); err != nil || rendered.Exhibit.ID == 0 || len(rendered.Digest) != 64 {
		t.Fatalf("POST report: %v %s", err, b)
	}
	code, html := api("GET", fmt.Sprintf("/api/v1/cases/1/exhibits/%d/content", rendered.Exhibit.ID), "", nil)
	if code != http.StatusOK || !bytes.Contains(html, []byte("<html")) {
		t.Fatalf("download the report: %d %.200s", code, html)
	}
	var verified struct {
		OK       bool     `json:"ok"`
		Found    bool     `json:"found"`
		Problems []string `json:"problems"`
	}
	// Found; no checkpoint covers it yet (serve signs none in this test).
	code, b = api("POST", "/api/v1/reports/verify", "application/octet-stream", html)
	if err := json.Unmarshal(b, &verified); code != http.StatusOK || err != nil || !verified.Found || verified.OK ||
		len(verified.Problems) != 1 || !strings.Contains(verified.Problems[0], "no checkpoint covers") {
		t.Fatalf("verify through the API: %d %s", code, b)
	}
	html[len(html)/2] ^= 1
	verified.Found, verified.Problems = false, nil
	code, b = api("POST", "/api/v1/reports/verify", "application/octet-stream", html)
	if err := json.Unmarshal(b, &verified); code != http.StatusOK || err != nil || verified.OK || verified.Found ||
		!strings.Contains(verified.Problems[0], "not a report Vestigo recorded") {
		t.Fatalf("verify of an edited report through the API: %d %s", code, b)
	}
	stop()

	// The CLI: PDF twice with the same recorded time, byte for byte equal.
	created := "2026-03-01T10:00:00Z"
	pdf1, pdf2 := filepath.Join(dir, "report1.pdf"), filepath.Join(dir, "report2.pdf")
	out := in.ok(t, inv, "report", "DEMO-1", "-o", pdf1, "--created", created).stdout
	if !strings.Contains(out, "time-stamped") || !strings.Contains(out, "checkpoint") {
		t.Fatalf("report:\n%s", out)
	}
	in.ok(t, inv, "report", "DEMO-1", "-o", pdf2, "--created", created)
	a1, _ := os.ReadFile(pdf1)
	a2, _ := os.ReadFile(pdf2)
	if !bytes.HasPrefix(a1, []byte("%PDF")) || !bytes.Equal(a1, a2) {
		t.Fatalf("two renderings of the same case state differ (%d and %d bytes)", len(a1), len(a2))
	}
	htm1, htm2 := filepath.Join(dir, "report1.html"), filepath.Join(dir, "report2.html")
	in.ok(t, inv, "report", "DEMO-1", "--format", "html", "-o", htm1, "--created", created)
	in.ok(t, inv, "report", "DEMO-1", "--format", "html", "-o", htm2, "--created", created)
	h1, _ := os.ReadFile(htm1)
	h2, _ := os.ReadFile(htm2)
	if !bytes.Equal(h1, h2) {
		t.Fatal("two HTML renderings of the same case state differ")
	}

	text := pdfText(t, pdf1)
	flat := squeeze(text)
	var missing []string
	for _, p := range rw.RansomPayments {
		if !strings.Contains(flat, p.Txid) {
			missing = append(missing, "ransom txid "+p.Txid)
		}
	}
	for _, d := range rw.ExchangeDeposits {
		if !strings.Contains(flat, d.Address) {
			missing = append(missing, "exchange deposit address "+d.Address)
		}
	}
	for _, h := range reportHostile {
		if !strings.Contains(text, h) {
			missing = append(missing, "hostile label "+h)
		}
	}
	// The manifest: the saved graph's SHA-256 (exhibits listed by case show).
	var shown struct {
		Exhibits []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"exhibits"`
	}
	if err := json.Unmarshal([]byte(in.ok(t, inv, "case", "show", "DEMO-1", "--json").stdout), &shown); err != nil {
		t.Fatal(err)
	}
	for _, ex := range shown.Exhibits {
		if !strings.HasPrefix(ex.Name, "report-") && !strings.Contains(flat, ex.SHA256) {
			missing = append(missing, "manifest hash "+ex.SHA256)
		}
	}
	if !strings.Contains(text, "Two hops (CLI)") {
		missing = append(missing, "the finding kept by trace --case")
	}
	// The saved graph's diagram, its amounts read from satoshis.
	if !strings.Contains(text, "0.5 BTC") || !strings.Contains(text, "0.1 BTC") {
		missing = append(missing, "the saved graph's edge amounts")
	}
	// Fiat values at the time, and the series they came from.
	if !strings.Contains(text, "EUR") || !strings.Contains(text, "USD") || !strings.Contains(flat, hex.EncodeToString(priceSum[:])) {
		missing = append(missing, "the EUR and USD values and their price series")
	}
	// The methodology with the measured figures and the chain they were
	// measured on.
	// (the renderer writes ratios with four decimals or as percentages).
	if !strings.Contains(text, "seed 7") {
		missing = append(missing, "the chain the figures were measured on")
	}
	for _, c := range evalRep.Clustering {
		r := c.Recall
		if !strings.Contains(flat, strconv.FormatFloat(r, 'f', 4, 64)) && !strings.Contains(flat, strconv.FormatFloat(100*r, 'f', 2, 64)+"%") {
			missing = append(missing, fmt.Sprintf("the measured recall %v of clustering %s", r, c.Mode))
		}
	}
	if len(missing) > 0 {
		write(t, filepath.Join(artifacts, "report-en.txt"), text)
		t.Fatalf("the PDF's text lacks %s (text in %s)", strings.Join(missing, "; "), artifacts)
	}
	// HTML: the hostile labels escaped.
	for _, h := range []string{"<script>alert(1)</script>", "<b>"} {
		if bytes.Contains(h1, []byte(h)) {
			t.Fatalf("the HTML report holds %q unescaped", h)
		}
	}
	if !bytes.Contains(h1, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) || !bytes.Contains(h1, []byte("=HYPERLINK(")) {
		t.Fatal("the HTML report lacks the hostile labels as text")
	}
	// Pages as PNG, kept as test artefacts.
	if out, err := exec.Command("pdftoppm", "-png", "-r", "60", pdf1, filepath.Join(artifacts, "report-en")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	if pngs, _ := filepath.Glob(filepath.Join(artifacts, "report-en-*.png")); len(pngs) == 0 {
		t.Fatal("pdftoppm wrote no page")
	}

	// Verification: the file passes; one changed byte fails with exit 4.
	if out := in.ok(t, inv, "report", "verify", pdf1).stdout; !strings.Contains(out, "OK:") {
		t.Fatalf("report verify:\n%s", out)
	}
	edited := filepath.Join(dir, "edited.pdf")
	e := bytes.Clone(a1)
	e[len(e)/2] ^= 0x20
	if err := os.WriteFile(edited, e, 0o600); err != nil {
		t.Fatal(err)
	}
	in.fails(t, 4, "not a report Vestigo recorded", inv, "report", "verify", edited)

	// Albanian, Macedonian and Serbian: fonts embedded, their letters in
	// the text.
	letters := map[string]*regexp.Regexp{
		"sq":      regexp.MustCompile(`[ëçË]`),
		"mk":      regexp.MustCompile(`[ѓќѕџљњјЃЌЅЏЉЊЈ]`),
		"sr":      regexp.MustCompile(`[ђћџљњјЂЋЏЉЊЈ]`),
		"sr-Latn": regexp.MustCompile(`[čćžšđČĆŽŠĐ]`),
	}
	for _, lang := range []string{"sq", "mk", "sr", "sr-Latn"} {
		file := filepath.Join(dir, "report-"+lang+".pdf")
		in.ok(t, inv, "report", "DEMO-1", "--lang", lang, "-o", file, "--created", created)
		fonts, err := exec.Command("pdffonts", file).CombinedOutput()
		if err != nil {
			t.Fatalf("pdffonts %s: %v\n%s", lang, err, fonts)
		}
		lines := strings.Split(strings.TrimSpace(string(fonts)), "\n")
		if len(lines) < 3 {
			t.Fatalf("%s: no fonts:\n%s", lang, fonts)
		}
		for _, l := range lines[2:] {
			if f := strings.Fields(l); len(f) < 6 || f[len(f)-5] != "yes" {
				t.Fatalf("%s: a font is not embedded:\n%s", lang, fonts)
			}
		}
		txt := pdfText(t, file)
		if !letters[lang].MatchString(txt) {
			t.Fatalf("%s: the text has none of the language's letters:\n%.2000s", lang, txt)
		}
		if out, err := exec.Command("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", file, filepath.Join(artifacts, "report-"+lang)).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm %s: %v\n%s", lang, err, out)
		}
	}
	if out := in.ok(t, admin, "audit", "verify").stdout; !strings.Contains(out, "OK:") {
		t.Fatalf("audit verify after the reports:\n%s", out)
	}
}
