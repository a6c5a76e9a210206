package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

// TestAttributionCommands runs the attribution commands on the generated
// ransomware case as an analyst would: import (which clusters), tags,
// cluster, explain, screen, tx annotations and the heuristics' evaluation,
// checking the JSON contract and the facts of the case.
func TestAttributionCommands(t *testing.T) {
	dir := t.TempDir()
	blocks := filepath.Join(dir, "case")
	data := filepath.Join(dir, "data")
	ok(t, "generate", "btc", "--out", blocks, "--seed", "5", "--scenario", "ransomware")
	truth, err := scenario.LoadTruth(filepath.Join(blocks, scenario.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	rw := truth.Ransomware
	out := ok(t, "--data", data, "import", "btc", "--blocks", blocks)
	if !strings.Contains(out.stdout, "clustered blocks 0–") {
		t.Fatalf("import did not cluster:\n%s", out.stdout)
	}

	// Before any tag import: no tags, cluster answers.
	if len(rw.RansomAddresses) < 3 {
		t.Fatalf("the case has %d ransom addresses; the test needs 3", len(rw.RansomAddresses))
	}
	ransom0, ransomN := rw.RansomAddresses[0], rw.RansomAddresses[len(rw.RansomAddresses)-1]
	var ts []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "--data", data, "tags", ransom0, "--json").stdout), &ts); err != nil || len(ts) != 0 {
		t.Fatalf("tags before import: %v %v", ts, err)
	}

	// Tags: a CSV naming one ransom address; a TagPack that puts another
	// address on the OFAC list; a CSV with a bad address at line 3.
	tagsCSV := filepath.Join(dir, "case-tags.csv")
	write(t, tagsCSV, "address,label,category,source,confidence\n"+
		ransomN+",Ransom wallet,ransomware,Case 2026/117 victim report,forensic\n")
	pack := filepath.Join(dir, "sanctions.yaml")
	write(t, pack, fmt.Sprintf(`title: Test sanctions
creator: Test
lastmod: 2026-11-01
label: Asset listed under US Treasury OFAC Sanctions List
category: user
source: https://www.treasury.gov/ofac/downloads/sdnlist.txt
tags:
- address: %s
  currency: BTC
`, rw.RansomAddresses[1]))
	txPack := filepath.Join(dir, "tx-tags.yaml")
	write(t, txPack, fmt.Sprintf(`title: Case notes
creator: Inv. A
lastmod: 2026-11-02
abuse: ransomware
source: Case 2026/117
tags:
- tx_hash: %s
  currency: BTC
  label: Consolidation of the ransoms
`, rw.ConsolidationTxid))
	ok(t, "--data", data, "tags", "import", tagsCSV)
	ok(t, "--data", data, "tags", "import", pack)
	ok(t, "--data", data, "tags", "import", txPack)
	cons := jsonOf(t, ok(t, "--data", data, "tx", rw.ConsolidationTxid, "--json"))
	if tt := cons["tags"].([]any); len(tt) != 1 || tt[0].(map[string]any)["label"] != "Consolidation of the ransoms" {
		t.Fatalf("tags of the consolidation: %v", cons["tags"])
	}
	bad := filepath.Join(dir, "bad.csv")
	write(t, bad, "address,label,category,source\n"+ransom0+",x,ransomware,s\nnot-an-address,y,ransomware,s\n")
	fails(t, 2, "bad.csv:3", "--data", data, "tags", "import", bad)

	if err := json.Unmarshal([]byte(ok(t, "--data", data, "tags", ransom0, "--json").stdout), &ts); err != nil {
		t.Fatal(err)
	}
	origins := map[string]int{}
	for _, tg := range ts {
		for _, k := range []string{"label", "category", "source", "confidence", "origin", "pack"} {
			if _, ok := tg[k]; !ok {
				t.Fatalf("tag without %q: %v", k, tg)
			}
		}
		origins[tg["origin"].(string)]++
		if tg["label"] == "x" {
			t.Fatal("a tag of the failed file was stored")
		}
	}
	if origins["direct"] != 0 || origins["cluster"] != 2 {
		t.Fatalf("tags of %s: %v (want the two tags of its cluster, none direct)", ransom0, ts)
	}

	// Entity.
	e := jsonOf(t, ok(t, "--data", data, "cluster", ransom0, "--json", "--limit", "3"))
	for _, k := range []string{"cluster_id", "size", "addresses", "tags", "total_received", "total_sent", "balance", "first_seen_height", "last_seen_height"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("cluster JSON without %q: %v", k, e)
		}
	}
	if e["size"].(float64) < float64(len(rw.RansomAddresses)) || len(e["addresses"].([]any)) != 3 || e["sanctioned"] != true {
		t.Fatalf("entity of %s: size %v, %d addresses, sanctioned %v", ransom0, e["size"], len(e["addresses"].([]any)), e["sanctioned"])
	}

	// Explain: linked through the consolidation; not linked to the CoinJoin's other participants.
	ex := jsonOf(t, ok(t, "--data", data, "cluster", "explain", ransom0, ransomN, "--json"))
	path := ex["path"].([]any)
	if ex["linked"] != true || len(path) == 0 {
		t.Fatalf("explain: %v", ex)
	}
	first := path[0].(map[string]any)
	if first["txid"] != rw.ConsolidationTxid || first["address_from"] != ransom0 {
		t.Fatalf("explain path starts with %v, not the consolidation from %s", first, ransom0)
	}
	var other string
	for _, w := range truth.Wallets {
		if w.ID == rw.CoinJoin.Wallets[len(rw.CoinJoin.Wallets)-1] && w.ID != rw.Attacker && len(w.Addresses) > 0 {
			other = w.Addresses[0]
		}
	}
	if other == "" {
		t.Fatal("no other CoinJoin participant in the truth")
	}
	ex = jsonOf(t, ok(t, "--data", data, "cluster", "explain", ransom0, other, "--json"))
	if ex["linked"] != false || len(ex["path"].([]any)) != 0 {
		t.Fatalf("the attacker is linked to CoinJoin participant %s: %v", other, ex)
	}
	fails(t, 2, "not a Bitcoin address", "--data", data, "cluster", "explain", ransom0, "xyz")

	// tx: the CoinJoin verdict, and change verdicts per output elsewhere.
	cj := jsonOf(t, ok(t, "--data", data, "tx", rw.CoinJoin.Txid, "--json"))
	if v := cj["coinjoin"].(map[string]any); v["is_coinjoin"] != true || len(v["detectors"].([]any)) == 0 {
		t.Fatalf("CoinJoin verdict: %v", v)
	}
	peel := jsonOf(t, ok(t, "--data", data, "tx", rw.PeelChain[0].Txid, "--json"))
	outs := peel["outputs"].([]any)
	ch, has := outs[0].(map[string]any)["change"].(map[string]any)
	if !has || ch["verdict"] == nil || ch["heuristics"] == nil {
		t.Fatalf("peel output without a change verdict: %v", outs[0])
	}
	if peel["coinjoin"].(map[string]any)["is_coinjoin"] != false {
		t.Fatalf("the peel is called a CoinJoin: %v", peel["coinjoin"])
	}

	// Screening: a list with a sanctioned cluster, an untagged address and junk.
	list := filepath.Join(dir, "bank-report.txt")
	untagged := ""
	for _, w := range truth.Wallets {
		if w.Kind == "user" && len(w.Addresses) > 0 && untagged == "" {
			untagged = w.Addresses[0]
		}
	}
	write(t, list, "# from the bank\naddress\n"+ransom0+"\n"+untagged+"\n\nnonsense\n")
	scr := ok(t, "--data", data, "screen", "--file", list, "--json")
	var sres struct {
		Results []map[string]any `json:"results"`
		Summary map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal([]byte(scr.stdout), &sres); err != nil {
		t.Fatal(err)
	}
	if len(sres.Results) != 3 || sres.Summary["sanctioned"].(float64) != 1 || sres.Summary["invalid"].(float64) != 1 ||
		sres.Results[0]["sanctioned"] != true || sres.Results[0]["sanctioned_via"] != "cluster" || sres.Results[1]["sanctioned"] != false {
		t.Fatalf("screening: %s", scr.stdout)
	}
	if !strings.Contains(scr.stderr, "screened 3 addresses") {
		t.Fatalf("no summary line: %q", scr.stderr)
	}
	csvOut := ok(t, "--data", data, "screen", ransom0, untagged, "--csv")
	recs, err := csv.NewReader(strings.NewReader(csvOut.stdout)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "input" || recs[1][7] != "true" {
		t.Fatalf("screen CSV: %v %v", recs, err)
	}

	// Export of user tags round-trips through import.
	ok(t, "--data", data, "tags", "add", untagged, "--label", "Suspect's wallet", "--category", "user", "--source", "seized phone", "--creator", "Inv. A")
	exp := filepath.Join(dir, "export.yaml")
	ok(t, "--data", data, "tags", "export", "--creator", "Inv. A", "--out", exp)
	other2 := filepath.Join(t.TempDir(), "data2")
	ok(t, "--data", other2, "tags", "import", exp)

	// Error rates: deterministic and in the contract's shape.
	ev := ok(t, "--data", data, "heuristics", "evaluate", "--ground-truth", filepath.Join(blocks, scenario.TruthFile), "--json")
	ev2 := ok(t, "--data", data, "heuristics", "evaluate", "--ground-truth", filepath.Join(blocks, scenario.TruthFile), "--json")
	if ev.stdout != ev2.stdout {
		t.Fatal("heuristics evaluate is not deterministic")
	}
	rep := jsonOf(t, ev)
	if len(rep["change"].([]any)) < 10 || len(rep["clustering"].([]any)) != 2 {
		t.Fatalf("evaluation: %s", ev.stdout)
	}

	// Trace: forward from the ransom payments' consolidation output, in the
	// contract's shape; it stops at the exchange (a hot wallet tag covers
	// the deposits through the cluster) with the deposits' values.
	tr := jsonOf(t, ok(t, "--data", data, "trace", rw.ConsolidationTxid+":0", "--hops", "20", "--model", "fifo", "--json"))
	for _, k := range []string{"params", "index_tip", "destinations", "edges", "stopped_at"} {
		if _, ok := tr[k]; !ok {
			t.Fatalf("trace JSON without %q", k)
		}
	}
	for _, d := range tr["destinations"].([]any) {
		for _, k := range []string{"address", "entity_id", "labels", "category", "amount", "share", "hops"} {
			if _, ok := d.(map[string]any)[k]; !ok {
				t.Fatalf("trace destination without %q: %v", k, d)
			}
		}
	}
	fails(t, 2, "model", "--data", data, "trace", ransom0, "--model", "magic")
	fails(t, 2, "not a GraphSense category", "--data", data, "trace", ransom0, "--stop-at", "banks")
	ok(t, "--data", data, "trace", ransom0, "--direction", "backward", "--since", "2000-01-01", "--csv")

	// Path: from a ransom address to the first peel's address, through
	// the consolidation and the first hop.
	pth := jsonOf(t, ok(t, "--data", data, "path", ransom0, rw.PeelChain[0].PeelAddress, "--json"))
	paths := pth["paths"].([]any)
	if len(paths) == 0 {
		t.Fatalf("no path from a ransom address to the first peel: %v", pth)
	}
	p0 := paths[0].(map[string]any)
	if p0["hops"].(float64) != 2 || p0["txids"].([]any)[0] != rw.ConsolidationTxid || p0["txids"].([]any)[1] != rw.PeelChain[0].Txid ||
		p0["amounts"].([]any)[1].(float64) != float64(rw.PeelChain[0].PeelValue) {
		t.Fatalf("path: %v", p0)
	}

	var pats []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "--data", data, "patterns", rw.ConsolidationAddress, "--json").stdout), &pats); err != nil {
		t.Fatal(err)
	}
	peelFound := false
	for _, p := range pats {
		for _, k := range []string{"type", "txids", "addresses", "params", "confidence", "explanation"} {
			if _, ok := p[k]; !ok {
				t.Fatalf("pattern without %q: %v", k, p)
			}
		}
		if p["type"] == "peel_chain" && p["txids"].([]any)[0] == rw.PeelChain[0].Txid && len(p["txids"].([]any)) == len(rw.PeelChain) {
			peelFound = true
		}
	}
	if !peelFound {
		t.Fatalf("patterns of the consolidation address lack the peel chain: %v", pats)
	}
	ok(t, "--data", data, "patterns", "--from-height", "100", "--json")
	fails(t, 2, "not both", "--data", data, "patterns", ransom0, "--from-height", "3")

	// Risk: the attacker's address is sanctioned through its cluster and
	// took part in the CoinJoin; every factor has its evidence; a bad
	// weights file is refused.
	risk := jsonOf(t, ok(t, "--data", data, "risk", ransom0, "--json"))
	names := map[string]bool{}
	var sum float64
	for _, f := range risk["factors"].([]any) {
		fm := f.(map[string]any)
		names[fm["name"].(string)] = true
		sum += fm["contribution"].(float64)
		if len(fm["evidence"].([]any)) == 0 {
			t.Fatalf("factor without evidence: %v", fm)
		}
	}
	if !names["sanctioned"] || risk["score"].(float64) < 100 || math.Abs(sum-risk["score"].(float64)) > 1e-6 {
		t.Fatalf("risk: %v", risk)
	}
	badW := filepath.Join(dir, "weights.json")
	write(t, badW, `{"hops": 4, "sanctioned": 1, "categories": {"banks": 5}, "typologies": {}}`)
	fails(t, 2, "banks", "--data", data, "risk", ransom0, "--weights", badW)
	if w := ok(t, "risk", "--print-weights").stdout; !strings.Contains(w, `"typologies"`) {
		t.Fatalf("default weights: %s", w)
	}

	expo := jsonOf(t, ok(t, "--data", data, "exposure", ransomN, "--json"))
	if _, ok := expo["incoming"].(map[string]any); !ok {
		t.Fatalf("exposure: %v", expo)
	}
	if _, ok := expo["outgoing"].(map[string]any); !ok {
		t.Fatalf("exposure: %v", expo)
	}

	// Cluster build again: nothing to do; export-edges writes pairs.
	if b := ok(t, "--data", data, "cluster", "build"); !strings.Contains(b.stdout, "up to date") {
		t.Fatalf("second build: %s", b.stdout)
	}
	edges := ok(t, "--data", data, "cluster", "export-edges")
	lines := strings.Split(strings.TrimSpace(edges.stdout), "\n")
	if len(lines) < 10 || len(strings.Fields(lines[0])) != 2 {
		t.Fatalf("edges: %q", edges.stdout[:min(200, len(edges.stdout))])
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
