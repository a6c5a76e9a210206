package workspace

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/evaluate"
)

func TestEvaluationsRoundTrip(t *testing.T) {
	ws, err := Open(t.TempDir(), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if evs, err := ws.Evaluations(); err != nil || evs != nil {
		t.Fatalf("none saved: %v %v", evs, err)
	}
	r := &evaluate.Report{Scenario: "ransomware", Seed: 7, Network: "regtest", TipHeight: 161, TipHash: strings.Repeat("ab", 32),
		CoinJoin:   evaluate.Metric{Name: "any", TruePositives: 3, FalseNegatives: 1, Precision: 1, Recall: 0.75},
		Clustering: []evaluate.Clustering{{Mode: "co-spend", Precision: 1, Recall: 0.2, TruePairs: 10}}}
	path, err := ws.SaveEvaluation(r)
	if err != nil || !strings.HasSuffix(path, "evaluations/ransomware-7-regtest.json") {
		t.Fatalf("save: %s %v", path, err)
	}
	evs, err := ws.Evaluations()
	if err != nil || len(evs) != 1 || !reflect.DeepEqual(evs[0], *r) {
		t.Fatalf("read back: %+v %v", evs, err)
	}
	fs := figures("coinjoin", evs)
	if len(fs) != 1 || fs[0].Support != 4 || fs[0].Recall != 0.75 || !strings.Contains(fs[0].MeasuredOn, "seed 7, regtest, tip 161") {
		t.Fatalf("figures %+v", fs)
	}
	if _, err := ws.SaveEvaluation(&evaluate.Report{Scenario: "../x", Network: "regtest"}); err == nil {
		t.Fatal("a scenario name with a path was saved")
	}
}

func TestContentSeq(t *testing.T) {
	recs := []casestore.AuditRecord{
		{Seq: 3, Action: casestore.ActionCreate, ObjectType: "case"},
		{Seq: 5, Action: casestore.ActionCreate, ObjectType: "item"},
		{Seq: 6, Action: casestore.ActionView, ObjectType: "case"},
		{Seq: 7, Action: casestore.ActionCreate, ObjectType: "exhibit", ObjectID: 2},
		{Seq: 8, Action: casestore.ActionExport, ObjectType: "case"},
		{Seq: 9, Action: casestore.ActionDenied, ObjectType: "case"},
	}
	if got := contentSeq(recs, map[int64]bool{2: true}); got != 5 {
		t.Fatalf("with exhibit 2 a report: %d, want 5", got)
	}
	if got := contentSeq(recs, nil); got != 7 {
		t.Fatalf("without reports: %d, want 7", got)
	}
}

// TestReportRecordAndVerify records a report of a case without an index
// (items given with their network), checks that the second rendering is
// the same Model, that earlier reports stay out of the manifest, and that
// verification finds the recorded file and refuses an edited one.
func TestReportRecordAndVerify(t *testing.T) {
	ctx := context.Background()
	ws, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	st, err := ws.Cases(ctx, CaseOptions{Argon2: casestore.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ag, err := st.CreateAgency(ctx, "KOS-PD", "Kosovo Police")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BootstrapAdmin(ctx, ag.ID, "alice", "alice's password"); err != nil {
		t.Fatal(err)
	}
	p, err := st.AuthenticatePassword(ctx, "alice", "alice's password")
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateCase(ctx, p, casestore.Case{Reference: "2026/7", Title: "<b>case</b>"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := ws.ResolveItem(ItemRequest{Kind: casestore.ItemAddress, Ref: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", Network: "regtest", Label: "=HYPERLINK(1)", Via: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddItem(ctx, p, c.ID, it); err != nil {
		t.Fatal(err)
	}
	// The web workspace's document: ids a:ADDRESS and kind|source|target|txid,
	// amounts in satoshis.
	txid := strings.Repeat("0", 64)
	graph := `{"format":"vestigo-graph","version":1,"created":"2026-01-01T00:00:00.000Z","nodes":[` +
		`{"id":"a:a","kind":"address","ref":"a","label":"<script>x</script>","category":"exchange","x":10,"y":20},` +
		`{"id":"a:b","kind":"address","ref":"b","label":"","category":"","hidden":false,"x":200,"y":20}],` +
		`"edges":[{"id":"flow|a:a|a:b|` + txid + `","kind":"flow","source":"a:a","target":"a:b","amount":10000000,"time":"2026-01-01T00:00:00Z","txid":"` + txid + `"}]}`
	gx, err := st.AddExhibitWithProvenance(ctx, p, c.ID, "graph.json", GraphMediaType, casestore.Provenance{Source: "upload"}, strings.NewReader(graph))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := casepack.GenerateKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	opt := ReportOptions{Version: "test", Clock: func() time.Time { return at }, Signer: keys.Sign}
	m1, err := ws.BuildReport(ctx, st, p, c.ID, "en", opt)
	if err != nil {
		t.Fatal(err)
	}
	if m1.Checkpoint == nil || len(m1.Manifest) != 1 || m1.Manifest[0].SHA256 != gx.SHA256 || len(m1.Diagrams) != 1 ||
		!m1.Diagrams[0].HasPos || m1.Diagrams[0].Edges[0].Amount != "0.1 BTC" || m1.Case.Agency != "Kosovo Police" || m1.Case.Author != "alice" {
		t.Fatalf("model: %+v", m1)
	}
	if len(m1.Addresses) != 1 || m1.Addresses[0].Tags[0].Label != "=HYPERLINK(1)" {
		t.Fatalf("addresses: %+v", m1.Addresses)
	}
	rr, err := ws.RenderReport(ctx, st, p, c.ID, "html", "en", opt)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Exhibit.Name != "report-2026-7-en.html" || rr.Checkpoint == nil || rr.Digest != m1.Digest {
		t.Fatalf("rendered: %+v", rr)
	}
	// The recorded report, a checkpoint after it and the export audits do
	// not change the next report.
	m2, err := ws.BuildReport(ctx, st, p, c.ID, "en", opt)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(m1)
	j2, _ := json.Marshal(m2)
	if !bytes.Equal(j1, j2) {
		t.Fatalf("the same case state gave two models:\n%s\n%s", j1, j2)
	}
	// New content changes it.
	if _, err := st.AddNote(ctx, p, c.ID, 0, "more"); err != nil {
		t.Fatal(err)
	}
	m3, err := ws.BuildReport(ctx, st, p, c.ID, "en", ReportOptions{Version: "test", Clock: opt.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if m3.Checkpoint != nil {
		t.Fatalf("a checkpoint before the note covers the case: %+v", m3.Checkpoint)
	}

	v, err := ws.Verifier("", nil)
	if err != nil {
		t.Fatal(err)
	}
	v.SigningKeys = []ed25519.PublicKey{keys.Sign.Public().(ed25519.PublicKey)}
	vr, err := VerifyReport(ctx, st, p, rr.Data, v)
	if err != nil {
		t.Fatal(err)
	}
	if !vr.OK() || vr.Exhibit.ID != rr.Exhibit.ID || vr.Checkpoint == nil || vr.Digest != rr.Digest || vr.CaseRef != "2026/7" {
		t.Fatalf("verify: %+v", vr)
	}
	edited := bytes.Clone(rr.Data)
	edited[len(edited)/2] ^= 1
	if vr, err = VerifyReport(ctx, st, p, edited, v); err != nil || vr.OK() || !strings.Contains(vr.Problems[0], "not a report Vestigo recorded") {
		t.Fatalf("edited: %+v %v", vr, err)
	}
	// The graph exhibit has the same kind of hash but is not a report.
	if vr, err = VerifyReport(ctx, st, p, []byte(graph), v); err != nil || vr.OK() {
		t.Fatalf("a non-report exhibit verified as a report: %+v %v", vr, err)
	}
	if _, err := ws.BuildReport(ctx, st, p, c.ID, "xx", opt); err == nil {
		t.Fatal("an unknown language was accepted")
	}
}
