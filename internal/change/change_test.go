package change

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// fakeCtx is an in-memory Context.
type fakeCtx struct {
	prior   map[uint64]int
	spent   map[int]spend
	cluster map[uint64]bool
	err     error // returned by every method when set
}

type spend struct {
	tx     *chain.FlowTx
	height int64
}

func (f *fakeCtx) PriorUses(a uint64) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	return f.prior[a], nil
}

func (f *fakeCtx) Spender(vout int) (*chain.FlowTx, int64, error) {
	if f.err != nil {
		return nil, 0, f.err
	}
	s, ok := f.spent[vout]
	if !ok {
		return nil, 0, nil
	}
	return s.tx, s.height, nil
}

func (f *fakeCtx) SameCluster(a uint64) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	return f.cluster[a], nil
}

const (
	seqFinal = 0xffffffff
	seqNoRBF = 0xfffffffe
	seqRBF   = 0xfffffffd
)

func coin(v, addr uint64, typ chain.ScriptType) chain.Coin {
	return chain.Coin{Value: v, Addr: addr, Type: typ, Sequence: seqFinal}
}

func wpkh(v, addr uint64) chain.Coin { return coin(v, addr, chain.P2WPKH) }

func opret() chain.Coin { return chain.Coin{Type: chain.OpReturn} }

// mk is a version-2 transaction of 141 vbytes.
func mk(in []chain.Coin, out []chain.Coin) *chain.FlowTx {
	return &chain.FlowTx{Version: 2, VSize: 141, In: in, Out: out}
}

// spender is a transaction of the given shape, fee and fingerprint.
func spender(nIn, nOut int, fee uint64, vsize int, version int32, lock uint32, seq uint32) *chain.FlowTx {
	t := &chain.FlowTx{Version: version, LockTime: lock, VSize: vsize}
	for range nIn {
		t.In = append(t.In, chain.Coin{Value: 1_000_000, Addr: 900, Type: chain.P2WPKH, Sequence: seq})
	}
	left := 1_000_000*uint64(nIn) - fee
	per := left / uint64(nOut)
	for i := range nOut {
		t.Out = append(t.Out, wpkh(per, uint64(901+i)))
	}
	t.Out[0].Value += left - per*uint64(nOut) // the fee exactly
	return t
}

// summary renders votes as "0:change 1:payment" or "abstain".
func summary(votes []Vote) string {
	if len(votes) == 1 && votes[0].Output == -1 {
		return "abstain"
	}
	var parts []string
	for _, v := range votes {
		parts = append(parts, fmt.Sprintf("%d:%s", v.Output, v.Says))
	}
	return strings.Join(parts, " ")
}

type hcase struct {
	name   string
	tx     *chain.FlowTx
	height int64
	ctx    Context
	want   string
}

func runCases(t *testing.T, h func(*chain.FlowTx, int64, Context) ([]Vote, error), hname string, cases []hcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			votes, err := h(c.tx, c.height, c.ctx)
			if err != nil {
				t.Fatal(err)
			}
			checkVotes(t, hname, c.tx, votes)
			if got := summary(votes); got != c.want {
				t.Errorf("votes %q, want %q (%+v)", got, c.want, votes)
			}
			again, _ := h(c.tx, c.height, c.ctx)
			if !reflect.DeepEqual(votes, again) {
				t.Error("not deterministic")
			}
		})
	}
}

// checkVotes checks the invariants of one heuristic's votes.
func checkVotes(t testing.TB, hname string, tx *chain.FlowTx, votes []Vote) {
	t.Helper()
	if len(votes) == 0 {
		t.Fatalf("%s: no votes (an abstention is a vote)", hname)
	}
	changes := -1
	seen := map[int]bool{}
	for _, v := range votes {
		if v.Heuristic != hname {
			t.Fatalf("%s: vote of %q", hname, v.Heuristic)
		}
		if v.Reason == "" {
			t.Fatalf("%s: vote without a reason: %+v", hname, v)
		}
		if v.Output == -1 {
			if len(votes) != 1 || v.Says != "" {
				t.Fatalf("%s: abstention mixed with votes: %+v", hname, votes)
			}
			continue
		}
		if v.Output < 0 || v.Output >= len(tx.Out) || tx.Out[v.Output].Addr == 0 {
			t.Fatalf("%s: vote on output %d of %d (or one without an address): %+v", hname, v.Output, len(tx.Out), v)
		}
		if seen[v.Output] {
			t.Fatalf("%s: two votes on output %d", hname, v.Output)
		}
		seen[v.Output] = true
		switch v.Says {
		case SaysChange:
			if changes >= 0 {
				t.Fatalf("%s: names two change outputs: %+v", hname, votes)
			}
			changes = v.Output
		case SaysPayment:
		default:
			t.Fatalf("%s: says %q", hname, v.Says)
		}
	}
	if changes >= 0 {
		for i := range tx.Out {
			if tx.Out[i].Addr != 0 && !seen[i] {
				t.Fatalf("%s: names change %d but does not vote payment on output %d", hname, changes, i)
			}
		}
	}
}

// checkResult checks the invariants of an analysis.
func checkResult(t testing.TB, tx *chain.FlowTx, res Result) {
	t.Helper()
	if len(res.Outputs) != len(tx.Out) {
		t.Fatalf("%d verdicts for %d outputs", len(res.Outputs), len(tx.Out))
	}
	nChange := 0
	for i, o := range res.Outputs {
		if o.Confidence < 0 || o.Confidence > 1 || math.Abs(o.Confidence*100-math.Round(o.Confidence*100)) > 1e-9 {
			t.Fatalf("output %d: confidence %v", i, o.Confidence)
		}
		if o.Heuristics == nil {
			t.Fatalf("output %d: nil heuristics", i)
		}
		switch o.Verdict {
		case VerdictChange:
			nChange++
			if i != res.Change {
				t.Fatalf("output %d is change but Change = %d", i, res.Change)
			}
		case VerdictPayment:
		case VerdictUnknown:
			if o.Confidence != 0 || len(o.Heuristics) != 0 {
				t.Fatalf("output %d: unknown with %v %v", i, o.Confidence, o.Heuristics)
			}
			continue
		default:
			t.Fatalf("output %d: verdict %q", i, o.Verdict)
		}
		if o.Confidence < 0.5 {
			t.Fatalf("output %d: %s with confidence %v", i, o.Verdict, o.Confidence)
		}
		if len(o.Heuristics) == 0 {
			t.Fatalf("output %d: verdict %s without heuristics", i, o.Verdict)
		}
	}
	if nChange > 1 {
		t.Fatalf("%d change outputs", nChange)
	}
	if res.Change != -1 && (res.Change < 0 || res.Change >= len(tx.Out) || res.Outputs[res.Change].Verdict != VerdictChange) {
		t.Fatalf("Change = %d: %+v", res.Change, res.Outputs)
	}
	if res.Change == -1 && nChange != 0 {
		t.Fatal("a change verdict without Change")
	}
	if res.Votes == nil {
		t.Fatal("nil votes")
	}
}

func TestAllOrderAndDocs(t *testing.T) {
	want := []string{"fresh_address", "address_reuse", "optimal_change", "round_payment", "script_type",
		"locktime_consistency", "fee_rate_consistency", "peel_chain", "cluster_membership"}
	all := All()
	var got []string
	for _, h := range all {
		got = append(got, h.Name)
		if h.Run == nil || len(h.Doc) < 40 {
			t.Errorf("%s: no function or doc", h.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("All() = %v, want %v", got, want)
	}
	all[0].Name = "changed"
	if All()[0].Name != "fresh_address" {
		t.Error("All returns the package's own slice")
	}
	if DominantWeight <= len(want)-1 {
		t.Errorf("DominantWeight %d does not exceed the %d other heuristics", DominantWeight, len(want)-1)
	}
}

// TestNotJudged: every heuristic abstains on what the package does not
// judge, and Analyze finds no change.
func TestNotJudged(t *testing.T) {
	many := make([]chain.Coin, MaxOutputs+1)
	for i := range many {
		many[i] = wpkh(uint64(10_000+i*1_111), uint64(10+i))
	}
	cb := mk([]chain.Coin{{}}, []chain.Coin{wpkh(50_0000_0000, 1), wpkh(1_234, 2)})
	cb.Coinbase = true
	cases := map[string]*chain.FlowTx{
		"coinbase":        cb,
		"one output":      mk([]chain.Coin{wpkh(100_000, 1)}, []chain.Coin{wpkh(90_000, 2)}),
		"op_return":       mk([]chain.Coin{wpkh(100_000, 1)}, []chain.Coin{wpkh(90_000, 2), opret()}),
		"no inputs":       mk(nil, []chain.Coin{wpkh(90_000, 2), wpkh(1, 3)}),
		"batch":           mk([]chain.Coin{wpkh(100_000_000, 1)}, many),
		"coinjoin-like":   mk([]chain.Coin{wpkh(2_000_000, 1), wpkh(3_000_000, 2)}, []chain.Coin{wpkh(1_000_000, 3), wpkh(1_000_000, 4), wpkh(2_987_654, 5)}),
		"coinjoin 3 of 5": mk([]chain.Coin{wpkh(2_000_000, 1), wpkh(3_000_000, 2), wpkh(3_000_000, 6)}, []chain.Coin{wpkh(1_000_000, 3), wpkh(1_000_000, 4), wpkh(1_987_654, 5), wpkh(1_000_000, 7), wpkh(1_234_567, 8)}),
	}
	// A context under which every heuristic would otherwise vote.
	ctx := &fakeCtx{prior: map[uint64]int{2: 5, 3: 5, 4: 5}, cluster: map[uint64]bool{1: true, 2: true}}
	for name, tx := range cases {
		for _, h := range All() {
			votes, err := h.Run(tx, 100, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if summary(votes) != "abstain" {
				t.Errorf("%s: %s votes %+v", name, h.Name, votes)
			}
		}
		res, err := Analyze(tx, 100, ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, tx, res)
		if res.Change != -1 {
			t.Errorf("%s: change %d", name, res.Change)
		}
	}
	// Two equal outputs among three but a single input: not a CoinJoin.
	tx := mk([]chain.Coin{wpkh(5_000_000, 1)}, []chain.Coin{wpkh(1_000_000, 3), wpkh(1_000_000, 4), wpkh(2_987_654, 1)})
	if looksLikeCoinJoin(tx) {
		t.Error("one-input transaction taken for a CoinJoin")
	}
}

func TestFreshAddress(t *testing.T) {
	two := mk([]chain.Coin{wpkh(500_000, 1)}, []chain.Coin{wpkh(123_456, 2), wpkh(370_000, 3)})
	three := mk([]chain.Coin{wpkh(500_000, 1)}, []chain.Coin{wpkh(100_000, 2), wpkh(123_456, 3), opret(), wpkh(200_000, 4)})
	self := mk([]chain.Coin{wpkh(500_000, 1)}, []chain.Coin{wpkh(123_456, 2), wpkh(370_000, 1)})
	runCases(t, FreshAddress, NameFreshAddress, []hcase{
		{"fresh second", two, 10, &fakeCtx{prior: map[uint64]int{2: 4}}, "0:payment 1:change"},
		{"fresh first", two, 10, &fakeCtx{prior: map[uint64]int{3: 1}}, "0:change 1:payment"},
		{"three outputs", three, 10, &fakeCtx{prior: map[uint64]int{2: 1, 4: 7}}, "0:payment 1:change 3:payment"},
		{"two fresh", two, 10, &fakeCtx{}, "abstain"},
		{"none fresh", two, 10, &fakeCtx{prior: map[uint64]int{2: 1, 3: 1}}, "abstain"},
		{"self-change", self, 10, &fakeCtx{prior: map[uint64]int{1: 3}}, "abstain"},
		{"no context", two, 10, nil, "abstain"},
	})
}

func TestAddressReuse(t *testing.T) {
	runCases(t, AddressReuse, NameAddressReuse, []hcase{
		{"back to input", mk([]chain.Coin{wpkh(500_000, 1), wpkh(10_000, 7)}, []chain.Coin{wpkh(123_456, 2), wpkh(370_000, 7)}), 1, nil, "0:payment 1:change"},
		{"with op_return", mk([]chain.Coin{wpkh(500_000, 1)}, []chain.Coin{opret(), wpkh(1, 1), wpkh(123_456, 2)}), 1, nil, "1:change 2:payment"},
		{"no reuse", mk([]chain.Coin{wpkh(500_000, 1)}, []chain.Coin{wpkh(123_456, 2), wpkh(370_000, 3)}), 1, nil, "abstain"},
		{"two back", mk([]chain.Coin{wpkh(500_000, 1), wpkh(10_000, 7)}, []chain.Coin{wpkh(123_456, 1), wpkh(370_000, 7), wpkh(1_000, 9)}), 1, nil, "abstain"},
	})
}

func TestOptimalChange(t *testing.T) {
	runCases(t, OptimalChange, NameOptimalChange, []hcase{
		{"smaller than every input", mk([]chain.Coin{wpkh(50_000, 1), wpkh(80_000, 2)}, []chain.Coin{wpkh(98_000, 3), wpkh(30_000, 4)}), 1, nil, "0:payment 1:change"},
		{"one input", mk([]chain.Coin{wpkh(500_000, 1)}, []chain.Coin{wpkh(100_000, 2), wpkh(399_000, 3)}), 1, nil, "abstain"},
		{"none smaller", mk([]chain.Coin{wpkh(10_000, 1), wpkh(40_000, 2)}, []chain.Coin{wpkh(25_000, 3), wpkh(20_000, 4)}), 1, nil, "abstain"},
		{"both smaller", mk([]chain.Coin{wpkh(60_000, 1), wpkh(60_000, 2)}, []chain.Coin{wpkh(59_000, 3), wpkh(50_000, 4)}), 1, nil, "abstain"},
	})
}

func TestIsRound(t *testing.T) {
	for v, want := range map[uint64]bool{
		0: false, 546: false, 999: false, 1_000: true, 1_500: true, 1_050: false, 25_000: true, 12_345: false,
		99_000: true, 100_000: true, 150_000: true, 250_000: true, 120_000: true, 1_200_000: true, 1_230_000: false, 1_234_000: false,
		2_500_000: true, 100_000_000: true, 123_456_789: false, 1_000_001: false,
	} {
		if IsRound(v) != want {
			t.Errorf("IsRound(%d) = %v", v, !want)
		}
	}
	if btc(1_230_000) != "0.0123" || btc(100_000_000) != "1" || btc(0) != "0" {
		t.Errorf("btc: %s %s %s", btc(1_230_000), btc(100_000_000), btc(0))
	}
}

func TestRoundPayment(t *testing.T) {
	in := []chain.Coin{wpkh(5_000_000, 1)}
	runCases(t, RoundPayment, NameRoundPayment, []hcase{
		{"round first", mk(in, []chain.Coin{wpkh(1_000_000, 2), wpkh(3_987_654, 3)}), 1, nil, "0:payment 1:change"},
		{"round second", mk(in, []chain.Coin{wpkh(3_987_654, 2), wpkh(25_000, 3)}), 1, nil, "0:change 1:payment"},
		{"both round", mk(in, []chain.Coin{wpkh(1_000_000, 2), wpkh(3_900_000, 3)}), 1, nil, "abstain"},
		{"none round", mk(in, []chain.Coin{wpkh(1_000_001, 2), wpkh(3_987_654, 3)}), 1, nil, "abstain"},
		{"two round of three", mk(in, []chain.Coin{wpkh(1_000_000, 2), wpkh(2_000_000, 3), wpkh(1_987_654, 4)}), 1, nil, "0:payment 1:payment 2:change"},
		{"one round of three", mk(in, []chain.Coin{wpkh(1_000_000, 2), wpkh(1_012_345, 3), wpkh(2_987_654, 4)}), 1, nil, "0:payment"},
	})
}

func TestScriptType(t *testing.T) {
	in := []chain.Coin{wpkh(500_000, 1), wpkh(300_000, 2)}
	runCases(t, ScriptType, NameScriptType, []hcase{
		{"one matches", mk(in, []chain.Coin{coin(400_000, 3, chain.P2PKH), wpkh(399_000, 4)}), 1, nil, "0:payment 1:change"},
		{"with op_return", mk(in, []chain.Coin{wpkh(399_000, 4), opret(), coin(400_000, 3, chain.P2TR)}), 1, nil, "0:change 2:payment"},
		{"both match", mk(in, []chain.Coin{wpkh(400_000, 3), wpkh(399_000, 4)}), 1, nil, "abstain"},
		{"none matches", mk(in, []chain.Coin{coin(400_000, 3, chain.P2PKH), coin(399_000, 4, chain.P2TR)}), 1, nil, "abstain"},
		{"mixed inputs", mk([]chain.Coin{wpkh(500_000, 1), coin(300_000, 2, chain.P2PKH)}, []chain.Coin{coin(400_000, 3, chain.P2SH), wpkh(399_000, 4)}), 1, nil, "abstain"},
	})
}

func TestFingerprintOf(t *testing.T) {
	tx := func(lock uint32, seqs ...uint32) *chain.FlowTx {
		t := &chain.FlowTx{Version: 2, LockTime: lock}
		for _, s := range seqs {
			t.In = append(t.In, chain.Coin{Sequence: s})
		}
		return t
	}
	for _, c := range []struct {
		tx     *chain.FlowTx
		height int64
		lock   string
		seq    string
	}{
		{tx(0, seqFinal), 100, "zero", "final"},
		{tx(99, seqNoRBF), 100, "anti-fee-sniping", "non-final"},
		{tx(100, seqNoRBF, seqRBF), 100, "anti-fee-sniping", "rbf"},
		{tx(5000-AntiFeeSnipingWindow-1, seqRBF, seqNoRBF), 5000, "height", "rbf"},
		{tx(2000, seqFinal, seqNoRBF), 2500, "anti-fee-sniping", "non-final"},
		{tx(2000, seqFinal), 3001, "height", "final"},
		{tx(101, seqFinal), 100, "height", "final"},
		{tx(1_700_000_000, seqNoRBF), 100, "time", "non-final"},
	} {
		f := fingerprintOf(c.tx, c.height)
		if f.lock != c.lock || f.seq != c.seq || f.version != 2 {
			t.Errorf("fingerprint of lock %d at %d: %v, want %s/%s", c.tx.LockTime, c.height, f, c.lock, c.seq)
		}
	}
}

func TestLocktimeConsistency(t *testing.T) {
	// An anti-fee-sniping RBF wallet, version 2, at height 100.
	tx := mk([]chain.Coin{{Value: 1_000_000, Addr: 1, Type: chain.P2WPKH, Sequence: seqRBF}},
		[]chain.Coin{wpkh(300_000, 2), wpkh(690_000, 3)})
	tx.LockTime = 99
	same := spender(1, 2, 1000, 141, 2, 149, seqRBF) // mined at 150
	other := spender(1, 2, 1000, 141, 2, 0, seqFinal)
	v1 := spender(1, 2, 1000, 141, 1, 160, seqRBF)
	late := spender(1, 2, 1000, 141, 2, 149, seqRBF) // mined 2,000 blocks later: another class
	three := mk(tx.In, []chain.Coin{wpkh(300_000, 2), wpkh(390_000, 3), wpkh(300_001, 4)})
	three.LockTime = 99
	runCases(t, LocktimeConsistency, NameLocktimeConsistency, []hcase{
		{"first differs", tx, 100, &fakeCtx{spent: map[int]spend{0: {other, 120}, 1: {same, 150}}}, "0:payment 1:change"},
		{"version differs", tx, 100, &fakeCtx{spent: map[int]spend{0: {same, 150}, 1: {v1, 161}}}, "0:change 1:payment"},
		{"lock class differs", tx, 100, &fakeCtx{spent: map[int]spend{0: {same, 150}, 1: {late, 2149}}}, "0:change 1:payment"},
		{"other unspent", tx, 100, &fakeCtx{spent: map[int]spend{1: {same, 150}}}, "abstain"},
		{"both match", tx, 100, &fakeCtx{spent: map[int]spend{0: {same, 150}, 1: {same, 150}}}, "abstain"},
		{"none matches", tx, 100, &fakeCtx{spent: map[int]spend{0: {other, 150}, 1: {v1, 161}}}, "abstain"},
		{"unspent third", three, 100, &fakeCtx{spent: map[int]spend{0: {other, 150}, 1: {same, 150}}}, "0:payment"},
		{"unspent", tx, 100, &fakeCtx{}, "abstain"},
		{"no context", tx, 100, nil, "abstain"},
	})
}

func TestFeeRateConsistency(t *testing.T) {
	// 10 sat/vB: 1,410 sats over 141 vbytes.
	tx := mk([]chain.Coin{wpkh(1_000_000, 1)}, []chain.Coin{wpkh(300_000, 2), wpkh(698_590, 3)})
	same := spender(1, 2, 2_000, 200, 2, 0, seqFinal)   // 10 sat/vB
	near := spender(1, 2, 2_050, 200, 2, 0, seqFinal)   // 10.25 sat/vB: within 3%
	far := spender(1, 2, 2_100, 200, 2, 0, seqFinal)    // 10.5 sat/vB: 4.8% apart
	market := spender(1, 2, 5_000, 200, 2, 0, seqFinal) // 25 sat/vB
	sizeless := spender(1, 2, 5_000, 0, 2, 0, seqFinal) // unknown size
	noSize := mk(tx.In, tx.Out)
	noSize.VSize = 0
	runCases(t, FeeRateConsistency, NameFeeRateConsistency, []hcase{
		{"same rate", tx, 7, &fakeCtx{spent: map[int]spend{0: {market, 9}, 1: {same, 9}}}, "0:payment 1:change"},
		{"within band", tx, 7, &fakeCtx{spent: map[int]spend{0: {near, 9}, 1: {market, 9}}}, "0:change 1:payment"},
		{"outside band", tx, 7, &fakeCtx{spent: map[int]spend{0: {far, 9}, 1: {market, 9}}}, "abstain"},
		{"unknown size", tx, 7, &fakeCtx{spent: map[int]spend{0: {sizeless, 9}, 1: {same, 9}}}, "abstain"},
		{"own size unknown", noSize, 7, &fakeCtx{spent: map[int]spend{0: {market, 9}, 1: {same, 9}}}, "abstain"},
		{"no context", tx, 7, nil, "abstain"},
	})
	if r, ok := feeRate(tx); !ok || r != 10_000 {
		t.Errorf("feeRate = %d %v", r, ok)
	}
}

func TestPeelChain(t *testing.T) {
	hop := mk([]chain.Coin{wpkh(1_000_000, 1)}, []chain.Coin{wpkh(880_000, 2), wpkh(119_000, 3)})
	next := spender(1, 2, 1_000, 141, 2, 0, seqFinal)
	sweep := spender(3, 1, 1_000, 300, 2, 0, seqFinal)
	runCases(t, PeelChain, NamePeelChain, []hcase{
		{"remainder continues", hop, 5, &fakeCtx{spent: map[int]spend{0: {next, 6}, 1: {sweep, 7}}}, "0:change 1:payment"},
		{"peel unspent", hop, 5, &fakeCtx{spent: map[int]spend{0: {next, 6}}}, "0:change 1:payment"},
		{"smaller continues", hop, 5, &fakeCtx{spent: map[int]spend{1: {next, 6}}}, "abstain"},
		{"both continue", hop, 5, &fakeCtx{spent: map[int]spend{0: {next, 6}, 1: {next, 7}}}, "abstain"},
		{"neither", hop, 5, &fakeCtx{spent: map[int]spend{0: {sweep, 6}}}, "abstain"},
		{"two inputs", mk([]chain.Coin{wpkh(500_000, 1), wpkh(500_000, 4)}, hop.Out), 5, &fakeCtx{spent: map[int]spend{0: {next, 6}}}, "abstain"},
		{"no context", hop, 5, nil, "abstain"},
	})
}

func TestClusterMembership(t *testing.T) {
	tx := mk([]chain.Coin{wpkh(1_000_000, 1)}, []chain.Coin{wpkh(300_000, 2), wpkh(690_000, 3), wpkh(5_000, 4)})
	runCases(t, ClusterMembership, NameClusterMembership, []hcase{
		{"one member", tx, 1, &fakeCtx{cluster: map[uint64]bool{3: true}}, "0:payment 1:change 2:payment"},
		{"none", tx, 1, &fakeCtx{cluster: map[uint64]bool{9: true}}, "abstain"},
		{"two", tx, 1, &fakeCtx{cluster: map[uint64]bool{2: true, 3: true}}, "abstain"},
		{"all", tx, 1, &fakeCtx{cluster: map[uint64]bool{2: true, 3: true, 4: true}}, "abstain"},
		{"no context", tx, 1, nil, "abstain"},
	})
}

func TestErrors(t *testing.T) {
	boom := errors.New("index unavailable")
	tx := mk([]chain.Coin{wpkh(1_000_000, 1)}, []chain.Coin{wpkh(880_000, 2), wpkh(119_000, 3)})
	ctx := &fakeCtx{err: boom}
	needsCtx := map[string]bool{NameFreshAddress: true, NameLocktimeConsistency: true, NameFeeRateConsistency: true,
		NamePeelChain: true, NameClusterMembership: true}
	for _, h := range All() {
		_, err := h.Run(tx, 1, ctx)
		if needsCtx[h.Name] != (err != nil) {
			t.Errorf("%s: error %v", h.Name, err)
		}
		if err != nil && (!errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "change: "+h.Name+": ")) {
			t.Errorf("%s: error %q not wrapped", h.Name, err)
		}
		if _, err := h.Run(nil, 1, ctx); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%s: nil transaction: %v", h.Name, err)
		}
		if _, err := h.Run(tx, -1, ctx); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%s: negative height: %v", h.Name, err)
		}
	}
	if _, err := Analyze(tx, 1, ctx); !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "change: ") {
		t.Errorf("Analyze: %v", err)
	}
	if _, err := Analyze(nil, 1, nil); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("Analyze(nil): %v", err)
	}
	// A Context answering a negative count is broken.
	if _, err := FreshAddress(tx, 1, &fakeCtx{prior: map[uint64]int{2: -1}}); err == nil || !strings.HasPrefix(err.Error(), "change: ") {
		t.Errorf("negative prior uses: %v", err)
	}
}

// votesOf builds the votes a heuristic casts when it names change ch among
// n outputs.
func votesOf(h string, n, ch int) []Vote {
	var v []Vote
	for i := range n {
		says := SaysPayment
		if i == ch {
			says = SaysChange
		}
		v = append(v, Vote{Heuristic: h, Output: i, Says: says, Reason: "test"})
	}
	return v
}

func TestConsensus(t *testing.T) {
	type out struct {
		verdict string
		conf    float64
		hs      []string
	}
	cat := func(vs ...[]Vote) []Vote { return slices.Concat(vs...) }
	others := []string{NameFreshAddress, NameOptimalChange, NameRoundPayment, NameScriptType, NameLocktimeConsistency,
		NameFeeRateConsistency, NamePeelChain, NameClusterMembership}
	var allAgainst []Vote
	for _, h := range others {
		allAgainst = append(allAgainst, votesOf(h, 2, 0)...)
	}
	for _, c := range []struct {
		name   string
		n      int
		votes  []Vote
		change int
		want   []out
	}{
		{"no votes", 2, nil, -1, []out{{"unknown", 0, nil}, {"unknown", 0, nil}}},
		{"one heuristic", 2, votesOf("optimal_change", 2, 1), 1,
			[]out{{"payment", 0.67, []string{"optimal_change"}}, {"change", 0.67, []string{"optimal_change"}}}},
		{"agreement", 2, cat(votesOf("fresh_address", 2, 1), votesOf("optimal_change", 2, 1), votesOf("script_type", 2, 1)), 1,
			[]out{{"payment", 0.8, []string{"fresh_address", "optimal_change", "script_type"}}, {"change", 0.8, []string{"fresh_address", "optimal_change", "script_type"}}}},
		{"conflict", 2, cat(votesOf("fresh_address", 2, 0), votesOf("optimal_change", 2, 0), votesOf("script_type", 2, 1)), 0,
			[]out{{"change", 0.6, []string{"fresh_address", "optimal_change"}}, {"payment", 0.6, []string{"fresh_address", "optimal_change"}}}},
		{"tie", 2, cat(votesOf("fresh_address", 2, 0), votesOf("script_type", 2, 1)), -1,
			[]out{{"unknown", 0, nil}, {"unknown", 0, nil}}},
		// Each output: one heuristic says change, two say payment.
		{"tie of three outputs", 3, cat(votesOf("fresh_address", 3, 0), votesOf("script_type", 3, 1), votesOf("round_payment", 3, 2)), -1,
			[]out{{"payment", 0.6, []string{"script_type", "round_payment"}}, {"payment", 0.6, []string{"fresh_address", "round_payment"}},
				{"payment", 0.6, []string{"fresh_address", "script_type"}}}},
		{"address_reuse dominates", 2, cat(allAgainst, votesOf("address_reuse", 2, 1)), 1,
			[]out{{"payment", 0.53, []string{"address_reuse"}}, {"change", 0.53, []string{"address_reuse"}}}},
		{"address_reuse alone", 2, votesOf("address_reuse", 2, 0), 0,
			[]out{{"change", 0.91, []string{"address_reuse"}}, {"payment", 0.91, []string{"address_reuse"}}}},
		{"payment only", 3, []Vote{{Heuristic: "round_payment", Output: 2, Says: SaysPayment}}, -1,
			[]out{{"unknown", 0, nil}, {"unknown", 0, nil}, {"payment", 0.67, []string{"round_payment"}}}},
		{"payment vote against change", 2, cat(votesOf("fresh_address", 2, 1), votesOf("optimal_change", 2, 1),
			[]Vote{{Heuristic: "locktime_consistency", Output: 1, Says: SaysPayment}}), 1,
			[]out{{"payment", 0.75, []string{"fresh_address", "optimal_change"}}, {"change", 0.6, []string{"fresh_address", "optimal_change"}}}},
		{"abstentions and bad votes ignored", 2, []Vote{{Heuristic: "x", Output: -1}, {Heuristic: "y", Output: 5, Says: SaysChange},
			{Heuristic: "z", Output: 0, Says: "maybe"}}, -1, []out{{"unknown", 0, nil}, {"unknown", 0, nil}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			outs, ch := decide(c.n, c.votes)
			if ch != c.change {
				t.Errorf("change %d, want %d", ch, c.change)
			}
			for i, w := range c.want {
				o := outs[i]
				if w.hs == nil {
					w.hs = []string{}
				}
				if o.Verdict != w.verdict || o.Confidence != w.conf || !slices.Equal(o.Heuristics, w.hs) {
					t.Errorf("output %d: %+v, want %+v", i, o, w)
				}
			}
		})
	}
}

// TestAnalyze runs every heuristic on a payment whose change all of them
// can see.
func TestAnalyze(t *testing.T) {
	// Two P2WPKH inputs of a wallet with anti-fee-sniping, RBF and a fixed
	// 10 sat/vB; it pays 0.01 BTC to a reused P2PKH address (output 0) and
	// sends 277,590 sats of change to a fresh P2WPKH address (output 1).
	tx := &chain.FlowTx{Version: 2, LockTime: 499, VSize: 141, In: []chain.Coin{
		{Value: 600_000, Addr: 1, Type: chain.P2WPKH, Sequence: seqRBF},
		{Value: 679_000, Addr: 2, Type: chain.P2WPKH, Sequence: seqRBF},
	}, Out: []chain.Coin{coin(1_000_000, 3, chain.P2PKH), wpkh(277_590, 4)}}
	payee := spender(1, 2, 5_000, 200, 1, 0, seqFinal)
	own := spender(1, 2, 2_000, 200, 2, 520, seqRBF)
	ctx := &fakeCtx{prior: map[uint64]int{3: 12}, cluster: map[uint64]bool{4: true},
		spent: map[int]spend{0: {payee, 510}, 1: {own, 521}}}
	res, err := Analyze(tx, 500, ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, tx, res)
	if res.Change != 1 {
		t.Fatalf("change %d: %+v", res.Change, res)
	}
	want := []string{NameFreshAddress, NameOptimalChange, NameRoundPayment, NameScriptType, NameLocktimeConsistency, NameFeeRateConsistency, NameClusterMembership}
	if o := res.Outputs[1]; o.Verdict != VerdictChange || o.Confidence != 0.89 || !slices.Equal(o.Heuristics, want) {
		t.Errorf("change verdict %+v", o)
	}
	if o := res.Outputs[0]; o.Verdict != VerdictPayment || o.Confidence != 0.89 {
		t.Errorf("payment verdict %+v", o)
	}
	// Every heuristic is heard, in the order of All.
	var names []string
	for _, v := range res.Votes {
		if len(names) == 0 || names[len(names)-1] != v.Heuristic {
			names = append(names, v.Heuristic)
		}
	}
	var all []string
	for _, h := range All() {
		all = append(all, h.Name)
	}
	if !slices.Equal(names, all) {
		t.Errorf("votes by %v", names)
	}
	// Without a context the static heuristics still decide.
	res, err = Analyze(tx, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, tx, res)
	if res.Change != 1 || res.Outputs[1].Confidence != 0.8 {
		t.Errorf("without context: %+v", res.Outputs)
	}
	// Self-change: address_reuse outweighs everyone else.
	tx.Out[0].Addr = 2
	res, err = Analyze(tx, 500, ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, tx, res)
	if res.Change != 0 || res.Outputs[0].Confidence >= 0.91 {
		t.Errorf("self-change: %+v", res.Outputs)
	}
}

// fuzzReader turns fuzz bytes into choices; exhausted, it gives zeros.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) u64() uint64 {
	var v uint64
	for range 8 {
		v = v<<8 | uint64(r.byte())
	}
	return v
}

func (r *fuzzReader) value() uint64 {
	switch r.byte() % 5 {
	case 0:
		return uint64(r.byte()) * 100_000
	case 1:
		return uint64(r.byte())<<8 | uint64(r.byte())
	case 2:
		return uint64(r.byte()) * 1_000_003
	case 3:
		return uint64(r.byte()) * 25_000
	}
	return r.u64()
}

var fuzzTypes = []chain.ScriptType{chain.P2WPKH, chain.P2PKH, chain.P2TR, chain.P2SH, ""}
var fuzzSeqs = []uint32{seqFinal, seqNoRBF, seqRBF, 0}

func (r *fuzzReader) tx(maxIn, maxOut int) *chain.FlowTx {
	t := &chain.FlowTx{Coinbase: r.byte()%16 == 0, Version: int32(r.byte() % 3), VSize: int(r.byte()) * 3}
	switch r.byte() % 4 {
	case 0:
		t.LockTime = uint32(r.byte()) * 8
	case 1:
		t.LockTime = 500_000_000 + uint32(r.byte())
	}
	nIn, nOut := int(r.byte())%(maxIn+1), int(r.byte())%(maxOut+1)
	for range nIn {
		t.In = append(t.In, chain.Coin{Value: r.value(), Addr: uint64(r.byte() % 8), Type: fuzzTypes[int(r.byte())%len(fuzzTypes)],
			Sequence: fuzzSeqs[int(r.byte())%len(fuzzSeqs)]})
	}
	for range nOut {
		c := chain.Coin{Value: r.value(), Addr: uint64(r.byte() % 8), Type: fuzzTypes[int(r.byte())%len(fuzzTypes)]}
		if c.Addr == 0 {
			c.Type = chain.OpReturn
		}
		t.Out = append(t.Out, c)
	}
	return t
}

func (r *fuzzReader) ctx(nOut int) Context {
	if r.byte()%8 == 0 {
		return nil
	}
	f := &fakeCtx{prior: map[uint64]int{}, cluster: map[uint64]bool{}, spent: map[int]spend{}}
	for a := range uint64(8) {
		f.prior[a] = int(r.byte() % 3)
		f.cluster[a] = r.byte()%3 == 0
	}
	for i := range nOut {
		if r.byte()%3 != 0 {
			f.spent[i] = spend{r.tx(3, 3), int64(r.byte()) * 4}
		}
	}
	return f
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 0, 1, 2, 2, 0, 10, 1, 0, 0, 0, 40, 2, 0, 0, 7, 2, 3, 2, 0, 9, 3, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 1, 1})
	f.Add([]byte("\x05\x02\x30\x01\x04\x02\x03\x00\x10\x01\x00\x01\x20\x02\x01\x00\x05\x03\x01\x02\x30\x03\x04\x00\x11\x02\x05\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice: the quick brown fox jumps over the lazy dog"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzReader{b: data}
		tx := r.tx(6, 12)
		height := int64(r.byte()) * 5
		ctx := r.ctx(len(tx.Out))
		for _, h := range All() {
			votes, err := h.Run(tx, height, ctx)
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			checkVotes(t, h.Name, tx, votes)
		}
		res, err := Analyze(tx, height, ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, tx, res)
		again, err := Analyze(tx, height, ctx)
		if err != nil || !reflect.DeepEqual(res, again) {
			t.Fatal("Analyze is not deterministic")
		}
	})
}

func BenchmarkAnalyze(b *testing.B) {
	tx := &chain.FlowTx{Version: 2, LockTime: 499, VSize: 141, In: []chain.Coin{
		{Value: 600_000, Addr: 1, Type: chain.P2WPKH, Sequence: seqRBF},
		{Value: 679_000, Addr: 2, Type: chain.P2WPKH, Sequence: seqRBF},
	}, Out: []chain.Coin{coin(1_000_000, 3, chain.P2PKH), wpkh(277_590, 4)}}
	ctx := &fakeCtx{prior: map[uint64]int{3: 12}, cluster: map[uint64]bool{4: true},
		spent: map[int]spend{0: {spender(1, 2, 5_000, 200, 1, 0, seqFinal), 510}, 1: {spender(1, 2, 2_000, 200, 2, 520, seqRBF), 521}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Analyze(tx, 500, ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRateString(t *testing.T) {
	for r, want := range map[uint64]string{0: "0.000 sat/vB", 10_000: "10.000 sat/vB", 1_005: "1.005 sat/vB", 12_345_678: "12345.678 sat/vB"} {
		if got := rateString(r); got != want {
			t.Errorf("rateString(%d) = %q, want %q", r, got, want)
		}
	}
}
