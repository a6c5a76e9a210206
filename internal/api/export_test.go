package api

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/export"
)

const exportTx = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"

// savedGraph is a saved graph as the web workspace writes it, with a
// hostile label.
func savedGraph(label string) []byte {
	node := func(kind, prefix, ref, label string) map[string]any {
		return map[string]any{"id": prefix + ref, "kind": kind, "ref": ref, "network": "regtest", "label": label, "labels": []string{label},
			"category": "exchange", "marks": []string{}, "x": 1, "y": 2}
	}
	from, to := "bcrt1qsource000000000000000000000000000", "bcrt1qdestination0000000000000000000000"
	doc := map[string]any{"format": "vestigo-graph", "version": 1, "created": "2026-03-01T09:00:00.000Z", "case": nil,
		"nodes": []any{node("address", "a:", from, label), node("tx", "t:", exportTx, ""), node("address", "a:", to, "")},
		"edges": []any{
			map[string]any{"id": "in|a:" + from + "|t:" + exportTx + "|" + exportTx, "kind": "in", "source": "a:" + from, "target": "t:" + exportTx, "amount": 250000000, "txid": exportTx, "time": "2026-01-05T10:00:00Z"},
			map[string]any{"id": "out|t:" + exportTx + "|a:" + to + "|" + exportTx, "kind": "out", "source": "t:" + exportTx, "target": "a:" + to, "amount": 249990000, "txid": exportTx, "time": "2026-01-05T10:00:00Z"},
		}, "trace": nil}
	b, _ := json.Marshal(doc)
	return b
}

// TestExports exports a table, a saved graph and a finding of a case as
// exhibits: each stored with its provenance and hash, audited, downloaded
// byte for byte as written, hostile labels guarded or escaped; and the
// refusals (permissions, other agencies, bad requests).
func TestExports(t *testing.T) {
	e := newEnv(t)
	inv := e.token("inv-a")
	cs := e.createCase(inv, "EXP-1", "Exports")
	other := e.createCase(inv, "EXP-2", "Another case")
	base := fmt.Sprintf("/api/v1/cases/%d", cs.ID)
	hostile := `=HYPERLINK("http://evil.example","x") <script>alert(1)</script>`
	columns := []string{"txid", "label", "amount"}
	rows := [][]string{{exportTx, hostile, "2.5"}, {exportTx, "@SUM(A1)", "-1"}, {exportTx, "plain", "0.0001"}}

	download := func(ex casestore.Exhibit) []byte {
		t.Helper()
		r := e.do("GET", fmt.Sprintf("%s/exhibits/%d/content", base, ex.ID), inv, nil).want(200)
		sum := sha256.Sum256(r.body)
		if hex.EncodeToString(sum[:]) != ex.SHA256 || r.resp.Header.Get("X-Vestigo-SHA256") != ex.SHA256 || int64(len(r.body)) != ex.Size {
			t.Fatalf("exhibit %d: the download does not match its hash", ex.ID)
		}
		return r.body
	}
	created := func(body any, wantName, wantMedia, wantSource string) (casestore.Exhibit, []byte) {
		t.Helper()
		var ex casestore.Exhibit
		e.do("POST", base+"/exports", inv, body).want(201).decode(&ex)
		if ex.CaseID != cs.ID || ex.Name != wantName || ex.MediaType != wantMedia || ex.Provenance.Source != wantSource ||
			ex.Provenance.VestigoVersion != "v0.0.0-test" || ex.Provenance.Actor == "" || len(ex.SHA256) != 64 {
			t.Fatalf("exhibit %+v", ex)
		}
		return ex, download(ex)
	}

	// A table as CSV: the bytes of export.CSV, formulas guarded.
	ex, got := created(map[string]any{"kind": "table", "format": "csv", "name": "tx list", "columns": columns, "rows": rows},
		"tx list.csv", "text/csv; charset=utf-8", "vestigo export table csv")
	var want bytes.Buffer
	if err := export.CSV(&want, columns, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) || !bytes.Contains(got, []byte(`"'=HYPERLINK(`)) || !bytes.Contains(got, []byte("'@SUM(A1)")) {
		t.Fatalf("csv:\n%s", got)
	}
	var prm map[string]any
	if err := json.Unmarshal(ex.Provenance.Params, &prm); err != nil || prm["rows"] != 3.0 || prm["columns"] != 3.0 {
		t.Fatalf("params %s", ex.Provenance.Params)
	}
	// Audited: the record's object hash covers the exhibit's row, its
	// SHA-256 included.
	found := false
	for _, a := range e.audit("admin-a") {
		if a.ObjectType == "exhibit" && a.ObjectID == ex.ID && a.Action == casestore.ActionCreate && len(a.ObjectHash) == 64 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit record of exhibit %d with its hash", ex.ID)
	}

	// XLSX: string cells only, the same bytes at the same time.
	xl, got := created(map[string]any{"kind": "table", "format": "xlsx", "columns": columns, "rows": rows},
		"table.xlsx", export.MediaTypeXLSX, "vestigo export table xlsx")
	var again casestore.Exhibit
	e.do("POST", base+"/exports", inv, map[string]any{"kind": "table", "format": "xlsx", "columns": columns, "rows": rows}).want(201).decode(&again)
	if again.SHA256 != xl.SHA256 || again.ID == xl.ID {
		t.Fatalf("the same table at the same time gave %s and %s", xl.SHA256, again.SHA256)
	}
	zr, err := zip.NewReader(bytes.NewReader(got), int64(len(got)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		if bytes.Contains(b.Bytes(), []byte("<f>")) || bytes.Contains(b.Bytes(), []byte("<script>")) {
			t.Fatalf("%s holds a formula or markup", f.Name)
		}
		if f.Name == "xl/sharedStrings.xml" && !bytes.Contains(b.Bytes(), []byte("&#39;=HYPERLINK(")) {
			t.Fatalf("sharedStrings.xml: %s", b.Bytes())
		}
	}

	// A saved graph exhibit as GraphML and GEXF.
	var graph casestore.Exhibit
	e.do("POST", base+"/exhibits?name=flow.vestigo-graph.json", inv, savedGraph(hostile), "Content-Type", export.GraphMediaType).want(201).decode(&graph)
	for _, f := range []struct{ format, media string }{{"graphml", export.MediaTypeGraphML}, {"gexf", export.MediaTypeGEXF}} {
		ex, got := created(map[string]any{"kind": "graph", "format": f.format, "exhibit": graph.ID},
			fmt.Sprintf("graph-%d.%s", graph.ID, f.format), f.media, "vestigo export graph "+f.format)
		var root struct {
			XMLName xml.Name
		}
		if err := xml.Unmarshal(got, &root); err != nil || bytes.Contains(got, []byte("<script>")) || !bytes.Contains(got, []byte("&lt;script&gt;")) {
			t.Fatalf("%s: %v\n%s", f.format, err, got)
		}
		if err := json.Unmarshal(ex.Provenance.Params, &prm); err != nil || prm["exhibit_sha256"] != graph.SHA256 || prm["nodes"] != 3.0 {
			t.Fatalf("params %s", ex.Provenance.Params)
		}
	}

	// A finding as canonical JSON, CSV and XLSX.
	f, err := e.store.AddFinding(context.Background(), e.users["inv-a"], cs.ID, casestore.Finding{Kind: casestore.FindingOther, Title: hostile,
		Params: json.RawMessage(`{"b":2,"a":1}`), Result: json.RawMessage(`{"destinations":[{"address":"x","label":"-1+2","amount":123456789012345678901}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, got = created(map[string]any{"kind": "finding", "format": "json", "finding": f.ID}, fmt.Sprintf("finding-%d.json", f.ID), "application/json", "vestigo export finding json")
	var stored casestore.Finding
	e.do("GET", fmt.Sprintf("%s/findings/%d", base, f.ID), inv, nil).want(200).decode(&stored)
	want.Reset()
	if err := export.JSON(&want, stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) || !bytes.Contains(got, []byte("123456789012345678901")) || !bytes.Contains(got, []byte(`"a": 1,`)) {
		t.Fatalf("finding json:\n%s", got)
	}
	_, got = created(map[string]any{"kind": "finding", "format": "csv", "finding": f.ID, "name": "finding.csv"}, "finding.csv", "text/csv; charset=utf-8", "vestigo export finding csv")
	for _, w := range []string{"result.destinations[0].label,'-1+2", "result.destinations[0].amount,123456789012345678901", `title,"'=HYPERLINK(`} {
		if !bytes.Contains(got, []byte(w)) {
			t.Fatalf("finding csv lacks %q:\n%s", w, got)
		}
	}
	created(map[string]any{"kind": "finding", "format": "xlsx", "finding": f.ID}, fmt.Sprintf("finding-%d.xlsx", f.ID), export.MediaTypeXLSX, "vestigo export finding xlsx")

	// Refusals.
	table := map[string]any{"kind": "table", "format": "csv", "columns": columns, "rows": rows}
	e.do("POST", base+"/exports", e.token("ro-a"), table).want(http.StatusForbidden)
	e.do("POST", base+"/exports", e.token("rev-a"), table).want(http.StatusForbidden)
	e.do("POST", base+"/exports", e.token("inv-b"), table).want(http.StatusNotFound)
	e.do("POST", base+"/exports", anonymous, table).want(http.StatusUnauthorized)
	var text casestore.Exhibit
	e.do("POST", base+"/exhibits?name=note.txt", inv, []byte("not a graph"), "Content-Type", "text/plain").want(201).decode(&text)
	for name, c := range map[string]struct {
		body   any
		status int
		want   string
	}{
		"kind":          {map[string]any{"kind": "chart", "format": "csv"}, 400, `kind "chart"`},
		"format":        {map[string]any{"kind": "graph", "format": "csv", "exhibit": graph.ID}, 400, "a graph exports as graphml or gexf"},
		"ragged":        {map[string]any{"kind": "table", "format": "csv", "columns": columns, "rows": [][]string{{"a"}}}, 400, "row 1 has 1 cells"},
		"no columns":    {map[string]any{"kind": "table", "format": "xlsx", "rows": [][]string{}}, 400, "1 to 200 columns"},
		"control":       {map[string]any{"kind": "table", "format": "xlsx", "columns": []string{"a"}, "rows": [][]string{{"x\u0007"}}}, 400, "control character"},
		"mixed":         {map[string]any{"kind": "table", "format": "csv", "columns": columns, "rows": rows, "finding": f.ID}, 400, "not an exhibit or a finding"},
		"not a graph":   {map[string]any{"kind": "graph", "format": "gexf", "exhibit": text.ID}, 400, "is not a saved graph"},
		"unknown field": {map[string]any{"kind": "table", "format": "csv", "columns": columns, "rows": rows, "formula": true}, 400, "unknown field"},
		"no exhibit":    {map[string]any{"kind": "graph", "format": "gexf", "exhibit": 99999}, 404, "not found"},
		"no finding":    {map[string]any{"kind": "finding", "format": "json", "finding": 99999}, 404, "not found"},
	} {
		r := e.do("POST", base+"/exports", inv, c.body)
		if r.resp.StatusCode != c.status || !strings.Contains(r.errorText(), c.want) {
			t.Errorf("%s: %d %s, want %d with %q", name, r.resp.StatusCode, r.body, c.status, c.want)
		}
	}
	// An exhibit or a finding of another case is not found in this one.
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exports", other.ID), inv, map[string]any{"kind": "graph", "format": "gexf", "exhibit": graph.ID}).want(404)
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exports", other.ID), inv, map[string]any{"kind": "finding", "format": "json", "finding": f.ID}).want(404)
}
