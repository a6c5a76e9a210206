package detect_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// evmCase: a Tornado deposit and withdrawal, bridge deposits of ether and
// tokens, a V2, a V3 and a mismatched swap, a fan-out, a fan-in and a
// pass-through address.
// unitA is one TKA (9 decimals).
const unitA = 1_000_000_000

type evmCase struct {
	b    *builder
	k    map[string]evmindex.TxKey
	last uint64
}

func buildEVM(t *testing.T) *evmCase {
	t.Helper()
	b := newBuilder(t, []string{"tornado", "bridge", "pair", "pool3"}, map[string]tokenInfo{"tka": {"TKA", 9}, "tkb": {"TKB", 6}})
	c := &evmCase{b: b, k: map[string]evmindex.TxKey{}}
	// Block 1: openings.
	for _, l := range []string{"user", "user2", "trader", "fanner", "g0", "g1", "g2", "g3", "g4", "source"} {
		b.open(l, "", 10*ether)
	}
	b.open("relayer", "", ether)
	b.open("mule", "", 100*milli)
	b.open("trader", "tka", 1000*unitA)
	b.open("user2", "tka", 100*unitA)
	b.open("pair", "tkb", 5_000_000_000)
	b.open("pool3", "tkb", 5_000_000_000)
	b.next()
	// Block 2: a Tornado deposit; block 3: its withdrawal by a relayer.
	c.k["mix-in"] = b.send("user", "tornado", ether)
	b.next()
	c.k["mix-out"] = b.tx("relayer", "tornado", 0, nil, []internalMove{{"tornado", "withdrawer", 990 * milli}, {"tornado", "relayer", 10 * milli}}, nil)
	b.next()
	// Block 4: bridge deposits of ether and of tokens.
	c.k["bridge-eth"] = b.send("user2", "bridge", 2*ether)
	c.k["bridge-tka"] = b.tx("user2", "bridge", 0, []tokenMove{{"tka", "user2", "bridge", 50 * unitA}}, nil, nil)
	b.next()
	// Block 5: a V2 swap, TKA (token1) in, TKB (token0) out.
	tr, pair, pool3 := addrOf("trader"), addrOf("pair"), addrOf("pool3")
	c.k["v2"] = b.tx("trader", "pair", 0, []tokenMove{{"tka", "trader", "pair", 100 * unitA}, {"tkb", "pair", "trader", 190_000_000}}, nil,
		[]evmindex.SwapData{{Pool: pair, Version: evmindex.SwapUniswapV2, Sender: tr, Recipient: tr,
			Amounts: []evmindex.Balance{bal(false, 0), bal(false, 100*unitA), bal(false, 190_000_000), bal(false, 0)}}})
	b.next()
	// Block 6: a V3 swap: the pool pays first, then is paid; amount0 (TKB)
	// negative, amount1 (TKA) positive.
	c.k["v3"] = b.tx("trader", "pool3", 0, []tokenMove{{"tkb", "pool3", "trader", 95_000_000}, {"tka", "trader", "pool3", 50 * unitA}}, nil,
		[]evmindex.SwapData{{Pool: pool3, Version: evmindex.SwapUniswapV3, Sender: tr, Recipient: tr,
			Amounts: []evmindex.Balance{bal(true, 95_000_000), bal(false, 50*unitA)}}})
	b.next()
	// Block 7: a V2 swap whose event states another input than arrived.
	c.k["v2-odd"] = b.tx("trader", "pair", 0, []tokenMove{{"tka", "trader", "pair", 10 * unitA}, {"tkb", "pair", "trader", 18_000_000}}, nil,
		[]evmindex.SwapData{{Pool: pair, Version: evmindex.SwapUniswapV2, Sender: tr, Recipient: tr,
			Amounts: []evmindex.Balance{bal(false, 0), bal(false, 11*unitA), bal(false, 18_000_000), bal(false, 0)}}})
	b.next()
	// Blocks 8 and 9: the fanner pays five addresses.
	for i, f := range []string{"f0", "f1", "f2", "f3", "f4"} {
		if i == 3 {
			b.next()
		}
		c.k["fan-"+f] = b.send("fanner", f, 100*milli)
	}
	b.next()
	// Block 10: five addresses pay the gatherer.
	for _, g := range []string{"g0", "g1", "g2", "g3", "g4"} {
		c.k["in-"+g] = b.send(g, "gatherer", 200*milli)
	}
	b.next()
	// Blocks 11..16: the mule passes 1, 2 and 3 ether on a block later,
	// keeping 0.1 ether of the last.
	for i, v := range []uint64{ether, 2 * ether, 3 * ether} {
		c.k["mule-in-"+string(rune('0'+i))] = b.send("source", "mule", v)
		b.next()
		out := v
		if i == 2 {
			out -= 100 * milli
		}
		c.k["mule-out-"+string(rune('0'+i))] = b.send("mule", "exit", out)
		if i < 2 {
			b.next()
		}
	}
	c.last = b.height()
	b.finish()
	return c
}

func (c *evmCase) options() detect.EVMOptions {
	return detect.EVMOptions{MixerPools: c.b.ids("tornado"), Bridges: c.b.ids("bridge"), MinFanOut: 5, MinFanIn: 5, FanBlocks: 10,
		PassBlocks: 3, MinPassTransfers: 3, MaxResidualPct: 5}
}

// brief is a finding without its explanation and parameters.
type brief struct {
	typ   string
	txs   []evmindex.TxKey
	addrs []evmindex.AddrID
	asset evmindex.AssetID
	amt   chain.Amount
	conf  float64
}

func TestEVMDetectors(t *testing.T) {
	c := buildEVM(t)
	b, k := c.b, c.k
	got, err := detect.EVMRange(b.ix, 1, c.last, c.options())
	if err != nil {
		t.Fatal(err)
	}
	tka, tkb := b.asset("tka"), b.asset("tkb")
	keys := func(names ...string) []evmindex.TxKey {
		var out []evmindex.TxKey
		for _, n := range names {
			out = append(out, k[n])
		}
		return out
	}
	want := []brief{
		{detect.MixerUse, keys("mix-in"), b.ids("user", "tornado"), evmindex.Native, wei(ether), 0.95},
		{detect.MixerUse, keys("mix-out"), b.ids("withdrawer", "relayer", "tornado"), evmindex.Native, wei(ether), 0.95},
		{detect.BridgeDeposit, keys("bridge-eth"), b.ids("user2", "bridge"), evmindex.Native, wei(2 * ether), 0.8},
		{detect.BridgeDeposit, keys("bridge-tka"), b.ids("user2", "bridge"), tka, wei(50 * unitA), 0.8},
		{detect.DEXSwap, keys("v2"), b.ids("trader", "pair"), tka, wei(100 * unitA), 0.95},
		{detect.DEXSwap, keys("v3"), b.ids("trader", "pool3"), tka, wei(50 * unitA), 0.95},
		{detect.DEXSwap, keys("v2-odd"), b.ids("trader", "pair"), tka, wei(10 * unitA), 0.7},
		{detect.FanOut, keys("fan-f0", "fan-f1", "fan-f2", "fan-f3", "fan-f4"), b.ids("fanner", "f0", "f1", "f2", "f3", "f4"), evmindex.Native, wei(500 * milli), 0.6},
		{detect.FanIn, keys("in-g0", "in-g1", "in-g2", "in-g3", "in-g4"), b.ids("gatherer", "g0", "g1", "g2", "g3", "g4"), evmindex.Native, wei(ether), 0.6},
		{detect.PassThrough, keys("mule-in-0", "mule-out-0", "mule-in-1", "mule-out-1", "mule-in-2", "mule-out-2"), b.ids("mule"), evmindex.Native, wei(6 * ether), 0.7},
	}
	var briefs []brief
	for _, f := range got {
		briefs = append(briefs, brief{f.Type, f.Txs, f.Addresses, f.Asset, f.Amount, f.Confidence})
	}
	if len(briefs) != len(want) {
		t.Fatalf("%d findings, want %d:\n%v", len(briefs), len(want), briefs)
	}
	for i := range want {
		g, w := briefs[i], want[i]
		if g.typ != w.typ || !slices.Equal(g.txs, w.txs) || !slices.Equal(g.addrs, w.addrs) || g.asset != w.asset || g.amt.Cmp(w.amt) != 0 || g.conf != w.conf {
			t.Errorf("finding %d:\n got %+v\nwant %+v", i, g, w)
		}
	}

	// The conversions, exactly.
	conv := []detect.Conversion{
		{Trader: b.id("trader"), Payer: b.id("trader"), Recipient: b.id("trader"), Pool: b.id("pair"), Version: evmindex.SwapUniswapV2, LogIndex: 2,
			AssetIn: tka, AmountIn: wei(100 * unitA), AssetOut: tkb, AmountOut: wei(190_000_000), EventAgrees: true},
		{Trader: b.id("trader"), Payer: b.id("trader"), Recipient: b.id("trader"), Pool: b.id("pool3"), Version: evmindex.SwapUniswapV3, LogIndex: 2,
			AssetIn: tka, AmountIn: wei(50 * unitA), AssetOut: tkb, AmountOut: wei(95_000_000), EventAgrees: true},
		{Trader: b.id("trader"), Payer: b.id("trader"), Recipient: b.id("trader"), Pool: b.id("pair"), Version: evmindex.SwapUniswapV2, LogIndex: 2,
			AssetIn: tka, AmountIn: wei(10 * unitA), AssetOut: tkb, AmountOut: wei(18_000_000), EventAgrees: false},
	}
	for i, f := range got[4:7] {
		if f.Conversion == nil || !reflect.DeepEqual(*f.Conversion, conv[i]) {
			t.Errorf("swap %d: conversion %+v, want %+v", i, f.Conversion, conv[i])
		}
	}
	for i, f := range got {
		if f.Conversion != nil && f.Type != detect.DEXSwap {
			t.Errorf("finding %d (%s) carries a conversion", i, f.Type)
		}
	}

	// Parameters and explanations name what made them fire.
	checks := []struct {
		i      int
		params map[string]any
		text   []string
	}{
		{0, map[string]any{"direction": "deposit", "pool": addrOf("tornado").String(), "amount": "1000000000000000000"},
			[]string{addrOf("user").String(), "1 ETH [1000000000000000000 base units]", "mixer"}},
		{1, map[string]any{"direction": "withdrawal"},
			[]string{"0.99 ETH [990000000000000000 base units] to " + addrOf("withdrawer").String(), "0.01 ETH [10000000000000000 base units] to " + addrOf("relayer").String()}},
		{2, map[string]any{"bridge": addrOf("bridge").String()}, []string{"possible chain hop", "2 ETH"}},
		{3, nil, []string{"50 TKA (token " + addrOf("tka").String() + ")"}},
		{4, map[string]any{"version": 2, "amount_in": "100000000000", "amount_out": "190000000", "event_agrees": true},
			[]string{"100 TKA", "190 TKB", addrOf("pair").String()}},
		{6, map[string]any{"event_agrees": false}, []string{"other amounts"}},
		{7, map[string]any{"counterparties": 5, "transfers": 5, "blocks": uint64(2), "window_blocks": uint64(10), "min_recipients": 5},
			[]string{addrOf("fanner").String(), "paid 5 different addresses", "0.5 ETH"}},
		{8, map[string]any{"counterparties": 5, "min_senders": 5, "blocks": uint64(1)}, []string{"was paid by 5 different addresses"}},
		{9, map[string]any{"transfers": 3, "received": "6000000000000000000", "passed": "5900000000000000000", "residual": "100000000000000000",
			"within_blocks": uint64(3), "max_residual_pct": uint64(5)}, []string{addrOf("mule").String(), "0.1 ETH"}},
	}
	for _, ch := range checks {
		f := got[ch.i]
		for p, v := range ch.params {
			if f.Params[p] != v {
				t.Errorf("finding %d (%s): param %s = %#v, want %#v", ch.i, f.Type, p, f.Params[p], v)
			}
		}
		for _, s := range ch.text {
			if !strings.Contains(f.Explanation, s) {
				t.Errorf("finding %d (%s): explanation lacks %q: %s", ch.i, f.Type, s, f.Explanation)
			}
		}
		tx, err := b.ix.TxByKey(f.Txs[0])
		if err != nil {
			t.Fatal(err)
		}
		if f.Type != detect.FanOut && f.Type != detect.FanIn && f.Type != detect.PassThrough && !strings.Contains(f.Explanation, tx.Hash.String()) {
			t.Errorf("finding %d (%s): explanation lacks the transaction %s", ch.i, f.Type, tx.Hash)
		}
	}
}

// TestEVMThresholds: the defaults (no mixer or bridge set, 20 for fans)
// leave only the swaps and the pass-through; thresholds just above what the
// case shows silence each detector.
func TestEVMThresholds(t *testing.T) {
	c := buildEVM(t)
	b := c.b
	types := func(o detect.EVMOptions) []string {
		t.Helper()
		fs, err := detect.EVMRange(b.ix, 1, c.last, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.Type)
		}
		return out
	}
	if got := types(detect.EVMOptions{}); !slices.Equal(got, []string{detect.DEXSwap, detect.DEXSwap, detect.DEXSwap, detect.PassThrough}) {
		t.Errorf("defaults: %v", got)
	}
	o := c.options()
	o.MinFanOut, o.MinFanIn, o.MinPassTransfers = 6, 6, 4
	if got := types(o); slices.Contains(got, detect.FanOut) || slices.Contains(got, detect.FanIn) || slices.Contains(got, detect.PassThrough) {
		t.Errorf("raised thresholds: %v", got)
	}
	// The fan-out spans blocks 8 and 9: a one-block window splits it.
	o = c.options()
	o.FanBlocks = 1
	if got := types(o); slices.Contains(got, detect.FanOut) || !slices.Contains(got, detect.FanIn) {
		t.Errorf("one-block window: %v", got)
	}
	// The mule keeps 0.1 of 6 ether (1.67%): 1% is too strict.
	o = c.options()
	o.MaxResidualPct = 1
	if got := types(o); slices.Contains(got, detect.PassThrough) {
		t.Errorf("1%% residual: %v", got)
	}
	// The mule's funds leave one block after they came: a one-block
	// window (the smallest) still catches them.
	o = c.options()
	o.PassBlocks = 1
	if got := types(o); !slices.Contains(got, detect.PassThrough) {
		t.Errorf("one-block pass: %v", got)
	}
	for _, bad := range []detect.EVMOptions{{MinFanOut: 1}, {MinFanIn: -3}, {MinPassTransfers: 1}, {MaxResidualPct: 100}} {
		if _, err := detect.EVMRange(b.ix, 1, c.last, bad); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := detect.EVMRange(b.ix, 5, 4, detect.EVMOptions{}); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("range 5..4: %v", err)
	}
}

// TestEVMDeterministic: two builds of the case, each read twice, give the
// same findings.
func TestEVMDeterministic(t *testing.T) {
	var runs [][]detect.EVMFinding
	for range 2 {
		c := buildEVM(t)
		for range 2 {
			fs, err := detect.EVMRange(c.b.ix, 1, c.last, c.options())
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, fs)
		}
	}
	for i := 1; i < len(runs); i++ {
		if !reflect.DeepEqual(runs[0], runs[i]) {
			t.Fatalf("run %d differs", i)
		}
	}
}
