package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/trace"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// TestQueriesMatchTheLibrary: each chain and analysis route answers the
// JSON of the index and entity calls the command line prints with --json,
// for addresses and transactions of the generated case.
func TestQueriesMatchTheLibrary(t *testing.T) {
	e := newEnv(t)
	tok := e.token("ro-a")
	ctx := context.Background()
	rw := e.truth.Ransomware
	ransom, ransom2 := rw.RansomAddresses[0], rw.RansomAddresses[1]
	deposit := rw.ExchangeDeposits[0].Address
	ix, addr, err := e.ws.Address(ransom, workspace.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := e.ws.Attribution(ix)
	if err != nil {
		t.Fatal(err)
	}
	check := func(method, path string, body any, want any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: the library call failed: %v", path, err)
		}
		got := e.do(method, path, tok, body).want(http.StatusOK)
		if g, w := compactBody(t, got.body), compactJSON(t, want); g != w {
			t.Errorf("%s %s:\n got %s\nwant %s", method, path, clipLong(g), clipLong(w))
		}
	}

	// vestigo tx
	txid := rw.RansomPayments[0].Txid
	h, _ := chainhash.NewHashFromStr(txid)
	tx, err := ix.Tx(*h)
	if err != nil {
		t.Fatal(err)
	}
	attr, err := svc.AnalyzeTx(ctx, *h)
	check("GET", "/api/v1/tx/"+txid, nil, entity.ViewTx(tx, attr), err)

	// vestigo address, paged, newest first, with unspent outputs
	sum, err := ix.AddressSummary(addr, 0, 50, index.Oldest)
	check("GET", "/api/v1/address/"+ransom, nil, sum, err)
	sum, err = ix.AddressSummary(addr, 1, 1, index.Newest)
	check("GET", "/api/v1/address/"+ransom+"?offset=1&limit=1&newest_first=true", nil, sum, err)
	sum, _ = ix.AddressSummary(addr, 0, 50, index.Oldest)
	utxos, err := ix.Unspent(addr)
	check("GET", "/api/v1/address/"+ransom+"?unspent=true", nil, struct {
		*chain.AddressSummary
		Unspent []chain.Unspent `json:"unspent"`
	}{sum, utxos}, err)

	// vestigo block, by height and by hash
	b, err := ix.Block(rw.RansomPayments[0].Height, true)
	check("GET", fmt.Sprintf("/api/v1/block/%d?txids=true", b.Height), nil, b, err)
	b, err = ix.Block(b.Height, false)
	check("GET", "/api/v1/block/"+b.Hash, nil, b, err)

	// vestigo cluster, cluster explain, tags, screen
	ent, err := svc.Entity(ctx, addr, 0, 100)
	check("GET", "/api/v1/cluster/"+ransom, nil, ent, err)
	ent, err = svc.Entity(ctx, addr, 1, 2)
	check("GET", "/api/v1/cluster/"+ransom+"?offset=1&limit=2", nil, ent, err)
	addr2, _ := ix.Params().DecodeAddr(ransom2)
	ex, err := svc.Explain(addr, addr2)
	check("GET", "/api/v1/explain/"+ransom+"/"+ransom2, nil, ex, err)
	if !ex.Linked {
		t.Fatal("the ransom addresses are not linked: the case is not what the test expects")
	}
	ts, err := svc.TagsOf(ctx, addr)
	check("GET", "/api/v1/tags/"+ransom, nil, ts, err)
	inputs := []string{ransom, deposit, "nonsense", shared.hot}
	res, ssum, err := svc.Screen(ctx, inputs)
	check("POST", "/api/v1/screen", map[string]any{"addresses": inputs}, screenAnswer{res, ssum}, err)

	// vestigo trace, with the command line's defaults and with flags
	req := entity.TraceRequest{Params: trace.Params{Direction: trace.Forward, Model: trace.Haircut, Hops: 6, MaxFrontier: 10_000},
		StopAt: entity.DefaultStopAt, Level: "address"}
	rep, err := svc.TraceAddress(ctx, addr, req)
	check("GET", "/api/v1/trace/"+ransom, nil, rep, err)
	req = entity.TraceRequest{Params: trace.Params{Direction: trace.Forward, Model: trace.FIFO, Hops: 3, MinValue: 1000, MaxFrontier: 10_000},
		StopAt: nil, Level: "entity"}
	rep, err = svc.TraceAddress(ctx, addr, req)
	check("GET", "/api/v1/trace/"+ransom+"?model=fifo&hops=3&min_value=1000&stop_at=none&level=entity", nil, rep, err)
	check("POST", "/api/v1/trace", map[string]any{"from": ransom, "model": "fifo", "hops": 3, "min_value": 1000, "stop_at": "none", "level": "entity"}, rep, err)
	req = entity.TraceRequest{Params: trace.Params{Direction: trace.Backward, Model: trace.Poison, Hops: 2, MaxFrontier: 10_000},
		StopAt: []string{"exchange"}, Level: "address"}
	rec, err := ix.Record(*h)
	if err != nil {
		t.Fatal(err)
	}
	vout := rw.RansomPayments[0].Vout
	rep, err = svc.TraceOutputs(ctx, fmt.Sprintf("%s:%d", txid, vout), []trace.Outpoint{{Tx: rec.Key, Vout: vout}}, req)
	check("GET", fmt.Sprintf("/api/v1/trace/%s:%d?direction=backward&model=poison&hops=2&stop_at=exchange", txid, vout), nil, rep, err)

	// vestigo path, exposure, patterns, risk
	dep, _ := ix.Params().DecodeAddr(deposit)
	pr, err := svc.Paths(addr, dep, trace.PathParams{Hops: 8, K: 2, MaxFanout: 1000})
	check("GET", "/api/v1/path/"+ransom+"/"+deposit+"?hops=8&k=2", nil, pr, err)
	// Entities as trace starts and path ends; following change.
	endpoint, err := svc.EntityOf(addr)
	if err != nil {
		t.Fatal(err)
	}
	depEnd, err := svc.AddressEndpoint(dep)
	if err != nil {
		t.Fatal(err)
	}
	pr, err = svc.PathsBetween(endpoint, depEnd, trace.PathParams{Hops: 8, K: 2, MaxFanout: 1000})
	check("GET", "/api/v1/path/entity:"+ransom+"/"+deposit+"?hops=8&k=2", nil, pr, err)
	req = entity.TraceRequest{Params: trace.Params{Direction: trace.Forward, Model: trace.Haircut, Hops: 5, MaxFrontier: 10_000},
		StopAt: entity.DefaultStopAt, Level: "address", FollowChange: true, MinChangeConfidence: 0.8}
	rep, err = svc.TraceEndpoint(ctx, endpoint, req)
	check("GET", "/api/v1/trace/entity:"+ransom+"?hops=5&follow_change=true&change_confidence=0.8", nil, rep, err)
	check("POST", "/api/v1/trace", map[string]any{"from": "entity:" + ransom, "hops": 5, "follow_change": true, "change_confidence": 0.8}, rep, err)
	exp, err := svc.Exposure(ctx, addr, 4)
	check("GET", "/api/v1/exposure/"+ransom, nil, exp, err)
	cons, _ := ix.Params().DecodeAddr(rw.ConsolidationAddress)
	id, err := ix.AddrIDOf(cons)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := detect.Address(ix, id, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.Patterns(fs)
	check("GET", "/api/v1/patterns?address="+rw.ConsolidationAddress, nil, ps, err)
	if len(ps) == 0 {
		t.Fatal("no pattern in the consolidation address's transactions")
	}
	fs, err = detect.Range(ix, 0, ix.Tip().Height, detect.Options{MinFanOut: 5})
	if err != nil {
		t.Fatal(err)
	}
	ps, err = svc.Patterns(fs)
	check("GET", fmt.Sprintf("/api/v1/patterns?from_height=0&to_height=%d&min_fan_out=5", ix.Tip().Height), nil, ps, err)
	w, err := entity.ParseWeights(entity.DefaultWeights())
	if err != nil {
		t.Fatal(err)
	}
	risk, err := svc.Risk(ctx, addr, w)
	check("GET", "/api/v1/risk/"+ransom, nil, risk, err)
	check("POST", "/api/v1/risk", map[string]any{"address": ransom}, risk, err)
	w.Sanctioned = 77
	risk, err = svc.Risk(ctx, addr, w)
	check("POST", "/api/v1/risk", map[string]any{"address": ransom, "weights": w}, risk, err)
}

func clipLong(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// TestQueryInput: bounds and bad input are 400, unknown things 404, both
// with a message and without internal detail.
func TestQueryInput(t *testing.T) {
	e := newEnv(t)
	tok := e.token("ro-a")
	ransom := e.truth.Ransomware.RansomAddresses[0]
	for _, tc := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/api/v1/trace/" + ransom + "?hops=65", 400, "out of range"},
		{"/api/v1/trace/" + ransom + "?hops=0", 400, "out of range"},
		{"/api/v1/trace/" + ransom + "?model=magic", 400, "not one of"},
		{"/api/v1/trace/" + ransom + "?since=yesterday", 400, "not a time"},
		{"/api/v1/trace/" + ransom + "?max_frontier=10001", 400, "out of range"},
		{"/api/v1/trace/" + ransom + "?hops=1&hops=2", 400, "given 2 times"},
		{"/api/v1/trace/" + ransom + "?hopz=2", 400, "unknown query parameter"},
		{"/api/v1/trace/" + ransom + "?follow_change=true&direction=backward", 400, "follow_change"},
		{"/api/v1/trace/" + ransom + "?change_confidence=2", 400, "change_confidence"},
		{"/api/v1/path/" + ransom + "/" + ransom + "?hops=17", 400, "out of range"},
		{"/api/v1/path/" + ransom + "/" + ransom + "?k=101", 400, "out of range"},
		{"/api/v1/address/" + ransom + "?limit=1001", 400, "out of range"},
		{"/api/v1/address/" + ransom + "?limit=x", 400, "not an integer"},
		{"/api/v1/address/" + ransom + "?unspent=maybe", 400, "not true or false"},
		{"/api/v1/cluster/" + ransom + "?limit=0", 400, "out of range"},
		{"/api/v1/exposure/" + ransom + "?hops=65", 400, "out of range"},
		{"/api/v1/patterns", 400, "give an address or from_height"},
		{"/api/v1/patterns?from_height=0", 400, "to_height is required"},
		{"/api/v1/patterns?from_height=0&to_height=10000", 400, "a range of 1 to 10000 blocks"},
		{"/api/v1/patterns?address=" + ransom + "&from_height=1", 400, "not both"},
		{"/api/v1/tx/abc", 400, "not a hash"},
		{"/api/v1/tx/" + strings.Repeat("0", 64), 404, "not found"},
		{"/api/v1/tx/" + strings.Repeat("0", 64) + "?network=regtest", 404, "not found"},
		{"/api/v1/tx/" + strings.Repeat("0", 64) + "?network=moon", 400, "not one of"},
		{"/api/v1/block/99999", 404, "not found"},
		{"/api/v1/block/-1", 400, "neither a block height nor a block hash"},
		{"/api/v1/address/not-an-address", 400, "not a Bitcoin address"},
		{"/api/v1/address/bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqs3j7vd", 400, ""},
		{"/api/v1/address/" + url.PathEscape(strings.Repeat("1", 2000)), 400, "too long"},
	} {
		res := e.do("GET", tc.path, tok, nil).want(tc.status)
		msg := res.errorText()
		if !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %q does not say %q", tc.path, msg, tc.msg)
		}
		if strings.Contains(msg, shared.dir) || strings.Contains(msg, "workspace:") || strings.Contains(msg, "index:") {
			t.Errorf("%s: %q shows internal detail", tc.path, msg)
		}
	}
	for _, body := range []string{`{"addresses":[]}`, `{"addresses":"x"}`, `{"addresses":["a"],"extra":1}`} {
		e.do("POST", "/api/v1/screen", tok, []byte(body), "Content-Type", "application/json").want(400).errorText()
	}
	e.do("POST", "/api/v1/risk", tok, map[string]any{"address": ransom, "weights": map[string]any{"hops": 99}}).want(400)
	e.do("POST", "/api/v1/trace", tok, map[string]any{"from": ransom, "hops": 65}).want(400)
}
