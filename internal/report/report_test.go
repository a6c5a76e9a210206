package report

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hostile are labels an attacker could plant in a tag file or a title.
var hostile = []string{`<script>alert(1)</script>`, `=HYPERLINK("http://x")`, `+cmd`, `-2+3`, `@SUM(A1)`}

const (
	ransomTx   = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
	peelTx     = "9b0fc92260312ce44e74ef369f5c66bbb85848f2eddd5a7a1cde251e54ccfdd5"
	depositBTC = "bcrt1qdeposit7x9l5m0ctq3w8xkz0y7uhv4rq6t2yd"
	exchangeHW = "bcrt1qexchangehotwallet0000000000000000000000"
	victim     = "bcrt1qvictimxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	exhibitSHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	exportSHA  = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	tipHash    = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// richModel fills every section of a report, with fiat values, a diagram
// with and one without positions, and hostile labels.
func richModel(t testing.TB) *Model {
	t.Helper()
	m := &Model{
		Format: FormatVersion, Lang: "en", Created: ts("2025-03-14T09:26:53Z"), Vestigo: "v0.8.0-test",
		Case: CaseInfo{ID: 7, Ref: "CASE-2025-0042", Title: "Ransomware payments " + hostile[0], Agency: "Cyber Crime Unit", AgencyCode: "CCU",
			Author: "Ana Hetuese", LegalBasis: "Court order 12/2025", Status: "open", Opened: ts("2025-01-02T08:00:00Z")},
		Summary: Summary{
			Flows: []Flow{{FindingID: 1, From: []string{victim}, To: depositBTC, ToLabel: "ExampleExchange deposit", Category: "exchange",
				Amount: Amount{Base: "150000000", Units: "1.50000000", Symbol: "BTC", Fiat: map[string]string{"EUR": "61234.50", "USD": "66500.00"}},
				Hops:   4, Model: "haircut", Direction: "forward", Patterns: []string{"peel_chain", "coinjoin_participation"}},
				{FindingID: 2, From: []string{"entity:12"}, To: "bcrt1qunlabelled00000000000000000000000000", Amount: Amount{Base: "2000", Units: "0.00002000", Symbol: "BTC"},
					Hops: 1, Model: "poison", Direction: "backward"}},
			Rest: []FlowRest{{FindingID: 2, Destinations: 17, Amount: Amount{Base: "123456", Units: "0.00123456", Symbol: "BTC"}}},
			Services: []Service{{Name: "ExampleExchange " + hostile[1], Category: "exchange", Address: exchangeHW, Chain: "btc-regtest",
				Amount:   Amount{Base: "149000000", Units: "1.49000000", Symbol: "BTC", Fiat: map[string]string{"EUR": "60826.27"}},
				Deposits: []string{depositBTC}, Source: "tagpack exchanges.yaml:12"}},
			Patterns: []PatternCount{{Type: "peel_chain", Count: 3, Example: "peel chain of 5 hops, peeling 0.1 BTC each", Txs: []string{peelTx}},
				{Type: "mixer_use", Count: 1, Example: hostile[2], Txs: nil}},
			Items: 5, FindingsCount: 2, Exhibits: 2,
		},
		Diagrams: []Diagram{
			{Title: "Trace of the ransom " + hostile[3], Source: "finding 1", Nodes: []Node{
				{ID: "a", Label: victim, Kind: "address", Category: "victim"},
				{ID: "t", Label: ransomTx, Kind: "tx"},
				{ID: "r", Label: "bcrt1qransomcollector0000000000000000000000", Kind: "address", Category: "ransomware"},
				{ID: "m", Label: "Mixer " + hostile[0], Kind: "address", Category: "mixing_service"},
				{ID: "d", Label: depositBTC, Kind: "address", Category: "exchange"},
				{ID: "s", Label: "OFAC listed", Kind: "address", Category: "sanction"},
				{ID: "u", Label: "bcrt1qunlabelled00000000000000000000000000", Kind: "address"}},
				Edges: []Edge{{From: "a", To: "t", Amount: "1.5 BTC", When: "2025-01-05"}, {From: "t", To: "r", Amount: "1.5 BTC"},
					{From: "r", To: "m", Amount: "0.4 BTC"}, {From: "r", To: "d", Amount: "1.09 BTC"}, {From: "r", To: "d", Amount: "0.01 BTC"},
					{From: "m", To: "s", Amount: hostile[4]}, {From: "r", To: "u", Amount: "0.00002 BTC"}, {From: "u", To: "u", Amount: "loop"}}},
			{Title: "Saved graph", Source: "exhibit 1 (sha256 " + exhibitSHA[:12] + "…)", HasPos: true, Nodes: []Node{
				{ID: "x", Label: victim, Category: "", X: -200, Y: 40},
				{ID: "y", Label: "Exchange", Category: "exchange", X: 150, Y: -80},
				{ID: "z", Label: hostile[1], Category: "scam", X: 400, Y: 300}},
				Edges: []Edge{{From: "x", To: "y", Amount: "1 BTC"}, {From: "y", To: "z"}, {From: "x", To: "z", Amount: "2 BTC", When: "2025-02-01"}}},
		},
		Findings: []Finding{
			{ID: 1, Title: "Forward trace from the victim " + hostile[1], Kind: "trace", Created: ts("2025-02-01T10:00:00Z"),
				Params: []Param{{Name: "model", Value: "haircut"}, {Name: "hops", Value: "6"}, {Name: "note", Value: hostile[3]}},
				Rows: []TxRow{
					{Height: 301, Time: ts("2025-01-05T12:00:00Z"), Tx: ransomTx, From: victim, To: "bcrt1qransomcollector0000000000000000000000",
						Amount: Amount{Base: "150000000", Units: "1.50000000", Symbol: "BTC", Fiat: map[string]string{"EUR": "61234.50", "USD": "66500.00"}}, Hop: 0},
					{Height: 305, Time: ts("2025-01-06T03:14:15Z"), Tx: peelTx, From: "bcrt1qransomcollector0000000000000000000000", To: depositBTC,
						Amount: Amount{Base: "109000000", Units: "1.09000000", Symbol: "BTC", Fiat: map[string]string{"EUR": "44497.40"}}, Hop: 1},
				},
				Notes:  []string{"stopped at the exchange " + hostile[2], "mixer reached " + hostile[4]},
				Source: "btc-regtest tip 312 " + tipHash},
			{ID: 2, Title: "Risk of the deposit address", Kind: "risk", Created: ts("2025-02-02T10:00:00Z"),
				Notes: []string{"score 0.85 = 0.6 × exposure:ransomware + 0.25 × typology:peel_chain"}, Source: "btc-regtest tip 312"},
		},
		Addresses: []AddressTag{
			{Address: depositBTC, Chain: "btc-regtest", Tags: []Tag{{Label: "ExampleExchange deposit", Category: "exchange", Source: "https://example.org/exchange", Confidence: 50, Pack: "exchanges.yaml"}}},
			{Address: exchangeHW, Chain: "btc-regtest", Tags: []Tag{
				{Label: hostile[0], Category: "exchange", Source: "analyst", Confidence: 10, Pack: "user"},
				{Label: hostile[1], Category: "scam", Source: hostile[2], Confidence: 5, Pack: hostile[3]},
				{Label: hostile[4], Category: "sanction", Source: "https://sanctionssearch.ofac.treas.gov/", Confidence: 60, Pack: "sdn_advanced.xml", Sanctioned: true}}},
			{Address: victim, Chain: "btc-regtest"},
		},
		Methodology: []Method{
			{ID: "cospend", Params: []Param{{Name: "exclude", Value: "coinjoin"}}, Figures: []Figure{{Name: "co-spend", Precision: 0.9873, Recall: 0.6421, Support: 1234,
				MeasuredOn: "generated ransomware scenario, seed 7, regtest, tip 312 " + tipHash}}},
			{ID: "change", Figures: []Figure{{Name: "consensus", Precision: 0.9312, Recall: 0.5517, Support: 870, MeasuredOn: "generated ransomware scenario, seed 7"}}},
			{ID: "coinjoin", Figures: []Figure{{Name: "coinjoin", Precision: 1, Recall: 0.9876, Support: 81, MeasuredOn: "generated ransomware scenario, seed 7"}}},
			{ID: "taint.haircut", Params: []Param{{Name: "hops", Value: "6"}}},
			{ID: "taint.fifo"}, {ID: "taint.poison"}, {ID: "path"}, {ID: "patterns"}, {ID: "deposit"}, {ID: "exposure"}, {ID: "risk"}, {ID: "screen"}, {ID: "attribution"},
		},
		Provenance: Provenance{Sources: []DataSource{{Ledger: "btc-regtest", Source: "btcd RPC 127.0.0.1:18443", NodeVersion: "btcd 0.26.2",
			Genesis: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206", TipHeight: 312, TipHash: tipHash}},
			Commands: []string{"vestigo trace --forward --model haircut --hops 6 " + victim, "vestigo risk " + depositBTC}},
		Prices: []PriceSeries{{Asset: "BTC", Currency: "EUR", File: "btc-eur.csv", SHA256: exportSHA, From: "2025-01-01", To: "2025-03-01", Days: 60},
			{Asset: "BTC", Currency: "USD", File: "btc-usd.csv", SHA256: exhibitSHA, From: "2025-01-01", To: "2025-03-01", Days: 60}},
		Manifest: []ManifestEntry{
			{ID: 1, Name: "graph.json", MediaType: "application/vnd.vestigo.graph+json", Size: 2048, SHA256: exhibitSHA, Added: ts("2025-02-03T11:00:00Z"),
				Stamped: ts("2025-02-03T11:00:02Z"), TSA: "CN=Test TSA"},
			{ID: 2, Name: "trace " + hostile[4] + ".csv", MediaType: "text/csv", Size: 777, SHA256: exportSHA, Added: ts("2025-02-04T11:00:00Z")},
		},
		Checkpoint: &Checkpoint{ID: 3, Seq: 99, HeadHash: tipHash, KeyID: "ed25519:4f2a", Signature: strings.Repeat("ab01", 32),
			Created: ts("2025-03-14T09:26:50Z"), Stamped: ts("2025-03-14T09:26:51Z")},
	}
	if err := Seal(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestHTML(t *testing.T) {
	m := richModel(t)
	out, err := RenderHTML(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := RenderHTML(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) {
		t.Fatal("two renders differ")
	}
	strictWalk(t, out)
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	text := textOf(doc)
	for _, h := range hostile {
		if !strings.Contains(text, h) {
			t.Errorf("the hostile label %q is not shown as text", h)
		}
	}
	for _, want := range []string{m.Case.Ref, m.Digest, ransomTx, peelTx, depositBTC, exhibitSHA, exportSHA, "0.9873", "0.6421", "61234.50",
		"EUR at the time", "USD at the time", "CoinJoins and other collaborative transactions", "Haircut is a convention, not a fact", "page"} {
		if want == "page" {
			continue
		}
		if !strings.Contains(text, want) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
	// Diagrams: one SVG each, with every edge and node.
	if n := bytes.Count(out, []byte("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox")); n != 2 {
		t.Errorf("%d diagrams, want 2", n)
	}
	// 10 nodes, and the 6 legend entries of each diagram.
	if n := bytes.Count(out, []byte("<rect x=")); n != 10+2*6 {
		t.Errorf("%d rectangles, want 22", n)
	}
	golden := filepath.Join("testdata", "report-en.html")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("the HTML differs from %s (run with -update after checking the change)", golden)
	}
}

// strictWalk checks that the HTML is well formed: every element closed in
// order, no script, no event handler, no external resource, no style
// attribute carrying data.
func strictWalk(t *testing.T, b []byte) {
	t.Helper()
	void := map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "link": true, "input": true}
	svgSelf := map[string]bool{"path": true, "polygon": true, "rect": true}
	z := html.NewTokenizer(bytes.NewReader(b))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatal(z.Err())
			}
			if len(stack) != 0 {
				t.Fatalf("unclosed elements %v", stack)
			}
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			name := tok.Data
			if name == "script" || name == "iframe" || name == "object" || name == "embed" || name == "link" || name == "img" {
				t.Fatalf("element <%s> in the report", name)
			}
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Key)
				if strings.HasPrefix(k, "on") || k == "src" || k == "href" || k == "style" {
					t.Fatalf("attribute %s=%q on <%s>", a.Key, a.Val, name)
				}
			}
			if tt == html.SelfClosingTagToken {
				if !svgSelf[name] {
					t.Fatalf("self-closing <%s/>", name)
				}
				continue
			}
			if !void[name] {
				stack = append(stack, name)
			}
		case html.EndTagToken:
			name := z.Token().Data
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Fatalf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "style" {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteString("\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func TestPDF(t *testing.T) {
	m := richModel(t)
	a, err := RenderPDF(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RenderPDF(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same model differ")
	}
	if bytes.Contains(a, []byte("/ID")) {
		t.Error("the PDF has a document /ID")
	}
	m2 := richModel(t)
	m2.Created = m2.Created.Add(time.Hour)
	c, err := RenderPDF(m2)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Error("a different creation time gives the same bytes")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(file, a, 0o644); err != nil {
		t.Fatal(err)
	}
	text := pdftotext(t, file)
	for _, want := range []string{m.Case.Ref, m.Digest, ransomTx, peelTx, depositBTC, exhibitSHA, exportSHA, tipHash, "0.9873", "0.6421", "0.9312",
		"61234.50", "Methodology", "Precision", "CoinJoins and other collaborative transactions", "Haircut is a convention, not a fact",
		"Deposit addresses at ExampleExchange", strings.Repeat("ab01", 32)[:64]} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext lacks %q", want)
		}
	}
	for _, h := range hostile {
		if !strings.Contains(text, h) {
			t.Errorf("pdftotext lacks the hostile label %q as text", h)
		}
	}
	pages := strings.Count(text, "\f")
	if !strings.Contains(text, "page 1 of ") || !strings.Contains(text, "page 2 of ") {
		t.Errorf("no page numbers in %d pages", pages)
	}
	if !strings.Contains(text, "of "+itoa(pages)) {
		t.Errorf("the page count %d is not in the footers", pages)
	}
	checkFonts(t, file)
	// Page 1 as PNG: a test artefact.
	art := filepath.Join("..", "..", ".artifacts", "report")
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(art, "report-en.pdf"), a, 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(art, "report-en-*.png"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	ppm := exec.Command("pdftoppm", "-png", "-r", "80", file, filepath.Join(art, "report-en"))
	if out, err := ppm.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	pngs, _ := filepath.Glob(filepath.Join(art, "report-en-*.png"))
	if len(pngs) != pages {
		t.Errorf("pdftoppm made %d pages, pdftotext saw %d", len(pngs), pages)
	}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + formatInt(n)) }

func formatInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func pdftotext(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils; scripts/tools.sh installs it): %v", err)
	}
	return string(out)
}

// checkFonts runs pdffonts: every font embedded, as a subset, Unicode
// mapped.
func checkFonts(t *testing.T, file string) {
	t.Helper()
	out, err := exec.Command("pdffonts", file).Output()
	if err != nil {
		t.Fatalf("pdffonts (poppler-utils): %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no font:\n%s", out)
	}
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		// name type... emb sub uni object ID: the last five columns.
		if len(f) < 7 {
			t.Fatalf("pdffonts line %q", l)
		}
		emb, uni := f[len(f)-5], f[len(f)-3]
		if emb != "yes" || uni != "yes" {
			t.Errorf("font not embedded with a Unicode map: %q", l)
		}
		if !strings.HasPrefix(f[0], "utf8go") {
			t.Errorf("font %q is not a Go font", f[0])
		}
	}
}

func TestPDFLanguages(t *testing.T) {
	want := map[string][]string{
		"sq":      {"Përmbledhje e gjetjeve", "Shkallët e matura të gabimit", "Këmbimore", "çdo", "faqja 1 nga"},
		"mk":      {"Резиме на наодите", "плаќања", "меѓу", "Ѕвезда", "џебни", "ѓубре", "следење", "Оценка на ризик", "страница 1 од"},
		"sr":      {"Резиме налаза", "Љ", "њихове", "ђ", "ћ", "џ", "страна 1 од"},
		"sr-Latn": {"Rezime nalaza", "njihove", "ljuštenja", "međusobno", "plaćanja", "Ključ", "strana 1 od"},
	}
	for lang, words := range want {
		t.Run(lang, func(t *testing.T) {
			m := richModel(t)
			m.Lang = lang
			if lang == "mk" {
				m.Case.Title = "Ѕвезда, џебни пари, ѓубре" // data in Macedonian Cyrillic, too
			}
			if lang == "sr" {
				m.Case.Title = "Љубав, ђак, ћерка, џемпер"
			}
			if err := Seal(m); err != nil {
				t.Fatal(err)
			}
			a, err := RenderPDF(m)
			if err != nil {
				t.Fatal(err)
			}
			b, err := RenderPDF(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatal("two renders differ")
			}
			file := filepath.Join(t.TempDir(), "r.pdf")
			if err := os.WriteFile(file, a, 0o644); err != nil {
				t.Fatal(err)
			}
			text := pdftotext(t, file)
			for _, w := range words {
				if !strings.Contains(text, w) {
					t.Errorf("pdftotext lacks %q", w)
				}
			}
			if !strings.Contains(text, ransomTx) {
				t.Error("pdftotext lacks the txid")
			}
			checkFonts(t, file)
			h, err := RenderHTML(m)
			if err != nil {
				t.Fatal(err)
			}
			strictWalk(t, h)
			htmlLang := []byte(`<html lang="` + lang + `">`)
			if !bytes.Contains(h, htmlLang) {
				t.Errorf("the HTML does not declare %s", htmlLang)
			}
			art := filepath.Join("..", "..", ".artifacts", "report")
			if err := os.MkdirAll(art, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", file, filepath.Join(art, "report-"+lang)).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v: %s", err, out)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	m := richModel(t)
	d0, err := ContentDigest(m)
	if err != nil {
		t.Fatal(err)
	}
	if d0 != m.Digest || len(d0) != 64 {
		t.Fatalf("digest %q, sealed %q", d0, m.Digest)
	}
	m.Created = m.Created.Add(24 * time.Hour)
	m.Digest = "something else"
	if d, _ := ContentDigest(m); d != d0 {
		t.Fatal("the digest depends on Created or Digest")
	}
	// Every other leaf of the Model changes it.
	n := 0
	var walk func(v reflect.Value, path string)
	check := func(path string) {
		n++
		d, err := ContentDigest(m)
		if err != nil {
			t.Fatal(err)
		}
		if d == d0 {
			t.Errorf("changing %s leaves the digest unchanged", path)
		}
	}
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				old := v.Interface().(time.Time)
				v.Set(reflect.ValueOf(old.Add(time.Second)))
				check(path)
				v.Set(reflect.ValueOf(old))
				return
			}
			for i := 0; i < v.NumField(); i++ {
				name := v.Type().Field(i).Name
				if path == "" && (name == "Created" || name == "Digest") {
					continue
				}
				walk(v.Field(i), path+"."+name)
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), path+"["+formatInt(i)+"]")
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				old := v.MapIndex(k)
				v.SetMapIndex(k, reflect.ValueOf(old.String()+"1"))
				check(path + "[" + k.String() + "]")
				v.SetMapIndex(k, old)
			}
		case reflect.String:
			old := v.String()
			v.SetString(old + "x")
			check(path)
			v.SetString(old)
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
			check(path)
			v.SetInt(v.Int() - 1)
		case reflect.Uint64:
			v.SetUint(v.Uint() + 1)
			check(path)
			v.SetUint(v.Uint() - 1)
		case reflect.Float64:
			old := v.Float()
			v.SetFloat(old + 0.5)
			check(path)
			v.SetFloat(old)
		case reflect.Bool:
			v.SetBool(!v.Bool())
			check(path)
			v.SetBool(!v.Bool())
		default:
			t.Fatalf("%s: kind %s not covered", path, v.Kind())
		}
	}
	walk(reflect.ValueOf(m), "")
	if n < 200 {
		t.Errorf("only %d leaves changed", n)
	}
	if d, _ := ContentDigest(m); d != d0 {
		t.Fatal("the walk did not restore the model")
	}
}

func TestInvalidModels(t *testing.T) {
	cases := map[string]func(m *Model){
		"format":    func(m *Model) { m.Format = "vestigo-report/0" },
		"created":   func(m *Model) { m.Created = time.Time{} },
		"method":    func(m *Model) { m.Methodology = append(m.Methodology, Method{ID: "astrology"}) },
		"edge":      func(m *Model) { m.Diagrams[0].Edges = append(m.Diagrams[0].Edges, Edge{From: "a", To: "nowhere"}) },
		"duplicate": func(m *Model) { m.Diagrams[1].Nodes = append(m.Diagrams[1].Nodes, Node{ID: "x"}) },
	}
	for name, mutate := range cases {
		m := richModel(t)
		mutate(m)
		if _, err := RenderHTML(m); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%s: HTML: %v, want ErrInvalid", name, err)
		}
		if _, err := RenderPDF(m); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%s: PDF: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := RenderPDF(nil); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("nil model: %v", err)
	}
}
