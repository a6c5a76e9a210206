package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/entity"
)

const (
	script = `<script>alert(1)</script>`
	sqli   = `'; DROP TABLE cases; --`
)

// TestHostileText: markup and SQL in a title and a note are stored and
// answered as the same strings, JSON-escaped: no raw <script> in a body.
func TestHostileText(t *testing.T) {
	e := newEnv(t)
	tok := e.token("inv-a")
	title := script + " " + sqli
	cs := e.createCase(tok, "A/<b>1</b>", title)
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/notes", cs.ID), tok, map[string]any{"text": sqli + "\n" + script}).want(201)
	for _, path := range []string{fmt.Sprintf("/api/v1/cases/%d", cs.ID), "/api/v1/cases", fmt.Sprintf("/api/v1/cases/%d/notes", cs.ID)} {
		res := e.do("GET", path, tok, nil).want(200)
		if bytes.Contains(res.body, []byte("<script")) || bytes.Contains(res.body, []byte("<b>")) {
			t.Fatalf("%s: raw markup in the body:\n%s", path, res.body)
		}
		if !bytes.Contains(res.body, []byte(`\u003cscript\u003ealert(1)\u003c/script\u003e`)) {
			t.Fatalf("%s: the title is not there JSON-escaped:\n%s", path, res.body)
		}
	}
	var got casestore.Case
	e.do("GET", fmt.Sprintf("/api/v1/cases/%d", cs.ID), tok, nil).want(200).decode(&got)
	var notes []casestore.Note
	e.do("GET", fmt.Sprintf("/api/v1/cases/%d/notes", cs.ID), tok, nil).want(200).decode(&notes)
	if got.Title != title || got.Reference != "A/<b>1</b>" || len(notes) != 1 || notes[0].Text != sqli+"\n"+script {
		t.Fatalf("stored %+v %+v", got, notes)
	}
	// The cases table is still there.
	var all []casestore.Case
	e.do("GET", "/api/v1/cases", tok, nil).want(200).decode(&all)
	if len(all) != 1 {
		t.Fatalf("cases %+v", all)
	}
	// Hostile text in an error message is escaped too.
	res := e.do("GET", "/api/v1/tx/"+url.PathEscape(script), tok, nil).want(400)
	if bytes.Contains(res.body, []byte("<script")) || !bytes.Contains(res.body, []byte(`\u003cscript`)) {
		t.Fatalf("raw markup in an error: %s", res.body)
	}
}

// TestBodyLimits: JSON bodies beyond MaxBody and uploads beyond MaxExhibit
// are 413, with or without a Content-Length.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	tok := e.token("inv-a")
	big := []byte(`{"reference":"A/1","title":"` + strings.Repeat("x", testMaxBody) + `"}`)
	e.do("POST", "/api/v1/cases", tok, big, "Content-Type", "application/json").want(http.StatusRequestEntityTooLarge).errorText()
	// Chunked: no Content-Length to refuse up front.
	req, _ := http.NewRequest("POST", e.url+"/api/v1/cases", io.MultiReader(bytes.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked oversized body: %d", resp.StatusCode)
	}
	cs := e.createCase(tok, "A/2", "Limits")
	file := make([]byte, testMaxExhibit+1)
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exhibits?name=big.bin", cs.ID), tok, file, "Content-Type", "application/octet-stream").
		want(http.StatusRequestEntityTooLarge).errorText()
	body, ct := multipartBody(t, "big.bin", "application/octet-stream", file)
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exhibits", cs.ID), tok, body, "Content-Type", ct).want(http.StatusRequestEntityTooLarge)
	var exs []casestore.Exhibit
	e.do("GET", fmt.Sprintf("/api/v1/cases/%d/exhibits", cs.ID), tok, nil).want(200).decode(&exs)
	if len(exs) != 0 {
		t.Fatalf("an oversized upload left %+v", exs)
	}
	// A route without a body refuses one.
	e.do("GET", "/api/v1/me", tok, []byte("x")).want(400)
}

func multipartBody(t *testing.T, name, media string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{mime.FormatMediaType("form-data", map[string]string{"name": uploadField, "filename": name})}
	h["Content-Type"] = []string{media}
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(content)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// TestExhibitRoundTrip uploads exhibits (multipart and raw) and downloads
// them: the same bytes, the same SHA-256, as an attachment that no browser
// renders.
func TestExhibitRoundTrip(t *testing.T) {
	e := newEnv(t)
	tok := e.token("inv-a")
	cs := e.createCase(tok, "A/3", "Exhibits")
	rng := rand.New(rand.NewPCG(seed, 1))
	content := make([]byte, 100_000)
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])

	body, ct := multipartBody(t, `bank "letter".html`, "text/html", content)
	var up casestore.Exhibit
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exhibits", cs.ID), tok, body, "Content-Type", ct).want(201).decode(&up)
	if up.SHA256 != want || up.Size != int64(len(content)) || up.Name != `bank "letter".html` || up.MediaType != "text/html" {
		t.Fatalf("uploaded %+v", up)
	}
	var raw casestore.Exhibit
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exhibits?name=answer.pdf", cs.ID), tok, content, "Content-Type", "application/pdf").want(201).decode(&raw)
	if raw.SHA256 != want || raw.Name != "answer.pdf" {
		t.Fatalf("raw upload %+v", raw)
	}
	for _, ex := range []casestore.Exhibit{up, raw} {
		res := e.do("GET", fmt.Sprintf("/api/v1/cases/%d/exhibits/%d/content", cs.ID, ex.ID), e.token("ro-a"), nil).want(200)
		got := sha256.Sum256(res.body)
		if !bytes.Equal(res.body, content) || hex.EncodeToString(got[:]) != want || res.resp.Header.Get("X-Vestigo-SHA256") != want {
			t.Fatalf("exhibit %d: %d bytes back, sha256 %x", ex.ID, len(res.body), got)
		}
		h := res.resp.Header
		disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
		if err != nil || disp != "attachment" || params["filename"] != ex.Name {
			t.Fatalf("Content-Disposition %q", h.Get("Content-Disposition"))
		}
		if h.Get("Content-Type") != "application/octet-stream" || h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("download headers %v", h)
		}
	}
	// Downloads are audited as exports.
	exports := 0
	for _, r := range e.audit("admin-a") {
		if r.Action == casestore.ActionExport && r.ObjectType == "exhibit" {
			exports++
		}
	}
	if exports != 2 {
		t.Fatalf("%d exports audited", exports)
	}
	// Malformed uploads.
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exhibits", cs.ID), tok, content, "Content-Type", "application/pdf").want(400)
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exhibits?name=a/b.pdf", cs.ID), tok, content, "Content-Type", "application/pdf").want(400)
	var two bytes.Buffer
	mw := multipart.NewWriter(&two)
	f1, _ := mw.CreateFormFile(uploadField, "one.txt")
	f1.Write([]byte("one"))
	f2, _ := mw.CreateFormFile(uploadField, "two.txt")
	f2.Write([]byte("two"))
	mw.Close()
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/exhibits", cs.ID), tok, two.Bytes(), "Content-Type", mw.FormDataContentType()).want(400)
	var exs []casestore.Exhibit
	e.do("GET", fmt.Sprintf("/api/v1/cases/%d/exhibits", cs.ID), tok, nil).want(200).decode(&exs)
	if len(exs) != 2 {
		t.Fatalf("exhibits after refused uploads: %+v", exs)
	}
	// A file altered on disk is never delivered whole: the response is cut
	// off before its end.
	file := filepath.Join(e.exhibits, "sha256", want[:2], want)
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	altered := bytes.Clone(content)
	altered[len(altered)/2] ^= 1
	if err := os.WriteFile(file, altered, 0o600); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/cases/%d/exhibits/%d/content", e.url, cs.ID, raw.ID), nil)
	req.Header.Set("Authorization", "Bearer "+tok.bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(got) == len(content) {
		t.Fatalf("an altered exhibit was delivered: %d bytes, %v", len(got), err)
	}

	// Another case's exhibit is not found under this case.
	other := e.createCase(tok, "A/4", "Other")
	e.do("GET", fmt.Sprintf("/api/v1/cases/%d/exhibits/%d/content", other.ID, up.ID), tok, nil).want(404)
}

// TestFindingIsComputedByTheServer: a finding names an analysis and its
// parameters; the server runs it and stores the result with the index tip,
// ledger, version and the parameters as they ran (defaults explicit). A
// client cannot hand in a result.
func TestFindingIsComputedByTheServer(t *testing.T) {
	e := newEnv(t)
	tok := e.token("inv-a")
	cs := e.createCase(tok, "A/5", "Ransom trail")
	ransom := e.truth.Ransomware.RansomAddresses[0]
	url := fmt.Sprintf("/api/v1/cases/%d/findings", cs.ID)
	e.do("POST", url, tok, map[string]any{"analysis": "trace", "title": "x", "params": map[string]any{"from": ransom}, "result": map[string]any{"fake": true}}).want(400)
	e.do("POST", url, tok, map[string]any{"analysis": "trace", "title": "x", "params": map[string]any{"from": ransom, "hops": 99}}).want(400)
	e.do("POST", url, tok, map[string]any{"analysis": "rumour", "title": "x", "params": map[string]any{}}).want(400)

	var f casestore.Finding
	e.do("POST", url, tok, map[string]any{"analysis": "trace", "title": "Where the ransom went",
		"params": map[string]any{"from": ransom, "hops": 4}}).want(201).decode(&f)
	pv := f.Provenance
	if f.Kind != casestore.FindingTrace || pv.IndexTip != e.truth.TipHeight || pv.Height != e.truth.TipHeight || pv.BlockHash != e.truth.TipHash ||
		pv.Chain != "btc" || pv.Network != "regtest" || pv.VestigoVersion != "v0.0.0-test" || pv.Actor != "inv-a" || pv.SourceIdentity.GenesisHash == "" {
		t.Fatalf("provenance %+v", pv)
	}
	var params map[string]any
	if err := json.Unmarshal(f.Params, &params); err != nil {
		t.Fatal(err)
	}
	if params["from"] != ransom || params["hops"] != 4.0 || params["model"] != "haircut" || params["direction"] != "forward" ||
		params["stop_at"] != strings.Join(entity.DefaultStopAt, ",") || compactBody(t, f.Params) != compactBody(t, pv.Params) {
		t.Fatalf("params %s, provenance params %s", f.Params, pv.Params)
	}
	// The result is what the query route answers for the same parameters.
	q := e.do("GET", "/api/v1/trace/"+ransom+"?hops=4", tok, nil).want(200)
	if compactBody(t, f.Result) != compactBody(t, q.body) {
		t.Fatalf("finding result differs from the query:\n%s\n%s", f.Result, q.body)
	}
	var rep entity.TraceReport
	if err := json.Unmarshal(f.Result, &rep); err != nil || rep.IndexTip.Hash != e.truth.TipHash || len(rep.Destinations) == 0 {
		t.Fatalf("result %s: %v", f.Result, err)
	}
	// Every analysis can be a finding.
	for _, tc := range []struct {
		analysis string
		params   map[string]any
	}{
		{"path", map[string]any{"from": ransom, "to": e.truth.Ransomware.ExchangeDeposits[0].Address}},
		{"exposure", map[string]any{"address": ransom}},
		{"patterns", map[string]any{"address": e.truth.Ransomware.ConsolidationAddress}},
		{"patterns", map[string]any{"from_height": 0, "to_height": e.truth.TipHeight}},
		{"risk", map[string]any{"address": ransom}},
		{"screen", map[string]any{"addresses": []string{ransom, "not an address"}}},
	} {
		var g casestore.Finding
		e.do("POST", url, tok, map[string]any{"analysis": tc.analysis, "title": tc.analysis, "params": tc.params}).want(201).decode(&g)
		if string(g.Kind) != tc.analysis || g.Provenance.IndexTip != e.truth.TipHeight || len(g.Result) < 10 {
			t.Fatalf("%s finding %+v", tc.analysis, g)
		}
	}
	var fs []casestore.Finding
	e.do("GET", url, e.token("ro-a"), nil).want(200).decode(&fs)
	if len(fs) != 7 {
		t.Fatalf("%d findings", len(fs))
	}
	// Another agency cannot have the server compute into A's case.
	e.do("POST", url, e.token("inv-b"), map[string]any{"analysis": "risk", "title": "x", "params": map[string]any{"address": ransom}}).want(404)
}

// TestCaseLifecycle goes through the case routes: change with the version
// read (a stale version is 409), subjects, items resolved in the index,
// tags, tasks, deconfliction, deletion.
func TestCaseLifecycle(t *testing.T) {
	e := newEnv(t)
	tok := e.token("inv-a")
	cs := e.createCase(tok, "A/6", "Lifecycle")
	base := fmt.Sprintf("/api/v1/cases/%d", cs.ID)
	var changed casestore.Case
	e.do("PATCH", base, tok, map[string]any{"version": cs.Version, "title": "Renamed", "status": "closed"}).want(200).decode(&changed)
	if changed.Title != "Renamed" || changed.Status != casestore.StatusClosed || changed.Version != cs.Version+1 || changed.Reference != "A/6" {
		t.Fatalf("changed %+v", changed)
	}
	e.do("PATCH", base, tok, map[string]any{"version": cs.Version, "title": "Stale"}).want(409).errorText()
	e.do("PATCH", base, tok, map[string]any{"title": "No version"}).want(400)
	e.do("POST", "/api/v1/cases", tok, map[string]any{"reference": "A/6", "title": "Duplicate reference"}).want(409)

	var subj casestore.Subject
	e.do("POST", base+"/subjects", tok, map[string]any{"name": "J. Doe", "kind": "person"}).want(201).decode(&subj)
	e.do("PATCH", fmt.Sprintf("%s/subjects/%d", base, subj.ID), tok, map[string]any{"version": subj.Version, "notes": "alias jd"}).want(200)

	ransom := e.truth.Ransomware.RansomAddresses[0]
	var item casestore.Item
	e.do("POST", base+"/items", tok, map[string]any{"kind": "address", "ref": ransom, "label": "ransom"}).want(201).decode(&item)
	if item.Network != "regtest" || item.Chain != "btc" || item.Provenance.IndexTip != e.truth.TipHeight || item.Provenance.BlockHash != e.truth.TipHash {
		t.Fatalf("item %+v", item)
	}
	e.do("POST", base+"/items", tok, map[string]any{"kind": "address", "ref": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}).want(400)
	e.do("POST", base+"/items", tok, map[string]any{"kind": "tx", "ref": e.truth.Ransomware.ConsolidationTxid}).want(201)
	e.do("POST", base+"/items/"+fmt.Sprint(item.ID)+"/tags", tok, map[string]any{"label": "suspect", "category": "ransomware"}).want(201)
	var tags []casestore.ItemTag
	e.do("GET", base+"/tags", tok, nil).want(200).decode(&tags)
	if len(tags) != 1 || tags[0].Label != "suspect" {
		t.Fatalf("tags %+v", tags)
	}

	var task casestore.Task
	e.do("POST", base+"/tasks", tok, map[string]any{"title": "Ask the exchange", "assignee_id": e.users["inv-a"].UserID}).want(201).decode(&task)
	e.do("PATCH", fmt.Sprintf("%s/tasks/%d", base, task.ID), tok, map[string]any{"version": task.Version, "status": "done"}).want(200)

	other := e.createCase(tok, "A/7", "Same address")
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/items", other.ID), tok, map[string]any{"kind": "address", "ref": ransom}).want(201)
	var hits []casestore.DeconflictHit
	e.do("GET", base+"/deconflict", tok, nil).want(200).decode(&hits)
	if len(hits) != 1 || len(hits[0].Others) != 1 || hits[0].Others[0].CaseID != other.ID {
		t.Fatalf("deconflict %+v", hits)
	}

	var audit []casestore.AuditRecord
	e.do("GET", fmt.Sprintf("/api/v1/audit?case=%d&limit=1000", cs.ID), e.token("admin-a"), nil).want(200).decode(&audit)
	if len(audit) < 8 {
		t.Fatalf("%d audit records of the case", len(audit))
	}
	var rep verifySummary
	e.do("GET", "/api/v1/audit/verify", e.token("admin-a"), nil).want(200).decode(&rep)
	if !rep.OK || rep.Records == 0 || rep.Problems != 0 {
		t.Fatalf("verify %+v", rep)
	}
	e.do("DELETE", base, tok, nil).want(204)
	e.do("GET", base, tok, nil).want(404)
}
