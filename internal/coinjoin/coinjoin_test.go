package coinjoin

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

const (
	wpkh = chain.P2WPKH
	pkh  = chain.P2PKH
	sh   = chain.P2SH
	tr   = chain.P2TR
	pk   = chain.P2PK
)

// want is what a table case expects of the verdict.
type want struct {
	coinjoin bool
	protocol string   // "" for a non-CoinJoin
	fired    []string // detectors that must be among Detectors
	tx0      bool
	veto     string
}

func TestDetect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		tx   *chain.FlowTx
		want want
	}{
		// Whirlpool mixes: PoolInfo premix values (denomination + 170 to
		// + 9,690 sats), 5 inputs with 1–3 remixes (SCDH), surge cycles
		// up to 8 inputs.
		{"whirlpool 0.01 pool 5x5 with 2 remixes and 3 premixes",
			newTx().in(wpkh, 1_000_000, 1_000_000, 1_000_302, 1_000_302, 1_000_170).out(wpkh, repeat(1_000_000, 5)...).build(),
			want{coinjoin: true, protocol: NameWhirlpool, fired: []string{NameWhirlpool}}},
		{"whirlpool 0.05 pool 5x5 with 3 remixes and 2 premixes",
			newTx().in(wpkh, 5_000_000, 5_000_000, 5_000_000, 5_009_690, 5_001_000).out(wpkh, repeat(5_000_000, 5)...).build(),
			want{coinjoin: true, protocol: NameWhirlpool}},
		{"whirlpool 0.5 pool 5x5",
			newTx().in(wpkh, 50_000_000, 50_000_000, 50_000_510, 50_000_510, 50_000_510).out(wpkh, repeat(50_000_000, 5)...).build(),
			want{coinjoin: true, protocol: NameWhirlpool}},
		{"whirlpool 0.001 pool surge cycle 8x8",
			newTx().in(wpkh, 100_000, 100_000, 100_000, 100_000, 100_000, 100_350, 100_350, 100_350).out(wpkh, repeat(100_000, 8)...).build(),
			want{coinjoin: true, protocol: NameWhirlpool}},

		// WabiSabi rounds.
		{"wabisabi round of 80 participants sorted descending in standard denominations",
			wabiSabiRound(r, 80), want{coinjoin: true, protocol: NameWabiSabi}},
		{"wabisabi small round of 12 participants (about 30 inputs)",
			wabiSabiRound(rand.New(rand.NewPCG(7, 7)), 12), want{coinjoin: true, protocol: NameWabiSabi}},

		// Wasabi 1 rounds (anonymity sets of the 0.1 BTC era).
		{"wasabi1 round of 50 participants at 0.0998 BTC with coordinator fee",
			wasabi1Round(r, 50, 9_984_460), want{coinjoin: true, protocol: NameWasabi1, fired: []string{NameWasabi1}}},
		{"wasabi1 round of 100 participants at 0.1 BTC",
			wasabi1Round(r, 100, 10_000_000), want{coinjoin: true, protocol: NameWasabi1}},
		{"wasabi 1.1 round of 60 participants with mixing levels 0.2 and 0.4 BTC",
			wasabi1Round(r, 60, 10_004_000, 12, 3), want{coinjoin: true, protocol: NameWasabi11, fired: []string{NameWasabi11, NameWasabi1}}},

		// JoinMarket.
		{"joinmarket taker and 5 makers p2wpkh with changes",
			joinMarketRound(r, 5, 28_456_130, wpkh, false), want{coinjoin: true, protocol: NameJoinMarket, fired: []string{NameJoinMarket, NameGeneric}}},
		{"joinmarket taker sweep and 4 makers p2sh-p2wpkh",
			joinMarketRound(r, 4, 119_340_007, sh, true), want{coinjoin: true, protocol: NameJoinMarket}},
		{"joinmarket taker and 2 makers legacy p2pkh (minimum_makers)",
			joinMarketRound(r, 2, 5_000_000, pkh, false), want{coinjoin: true, protocol: NameJoinMarket}},
		{"joinmarket taker and 9 makers p2wpkh",
			joinMarketRound(r, 9, 77_000_123, wpkh, false), want{coinjoin: true, protocol: NameJoinMarket}},

		// Coordinated rounds of unknown software.
		{"ransomware scenario round: 5 x 0.1 BTC, 5 changes, coordinator fee",
			scenarioCoinJoin(r), want{coinjoin: true, protocol: NameGeneric, fired: []string{NameGeneric}}},
		{"unknown coordinator 8 participants mixed script types",
			unknownCoordinatorRound(r, 8, 31_415_926), want{coinjoin: true, protocol: NameGeneric}},

		// Not CoinJoins: ordinary shapes.
		{"coinbase",
			&chain.FlowTx{Coinbase: true, Out: []chain.Coin{{Value: 312_500_000, Addr: 1, Type: wpkh}}},
			want{}},
		{"payment with 2 outputs from 3 inputs",
			newTx().in(wpkh, 300_000, 200_000, 150_000).out(wpkh, 500_000, 149_000).build(), want{}},
		{"consolidation of 50 inputs into one output",
			newTx().in(wpkh, repeat(100_000, 50)...).out(wpkh, 4_990_000).build(), want{}},
		{"exchange sweep of 40 deposits and a hot coin",
			newTx().in(wpkh, randomValues(r, 40, 200_000, 50_000_000)...).inAt(7, wpkh, 1_000_000).out(wpkh, 900_000_000).build(), want{}},
		{"exchange batch withdrawal of 40 distinct values from 2 hot addresses",
			newTx().inAt(7, wpkh, 900_000_000).inAt(8, wpkh, 700_000_000).out(wpkh, randomValues(r, 40, 200_000, 50_000_000)...).outAt(7, wpkh, 1_000_000_000).build(), want{}},
		{"payroll of 10 equal salaries and change from one address",
			newTx().inAt(7, pkh, 100_000_000, 50_000_000, 30_000_000).out(pkh, repeat(2_500_000, 10)...).outAt(7, pkh, 154_990_000).build(), want{}},
		{"payroll of 10 equal salaries and change from an HD wallet of 12 addresses",
			newTx().in(wpkh, randomValues(r, 12, 1_000_000, 5_000_000)...).out(wpkh, repeat(1_500_000, 10)...).out(wpkh, 3_210_000).build(), want{}},
		{"batch of 3 equal round payouts, 2 others and change from 3 addresses",
			newTx().in(wpkh, 40_000_000, 25_000_000, 15_000_000).out(wpkh, 5_000_000, 5_000_000, 5_000_000, 30_000_000, 12_000_000, 22_990_000).build(), want{}},
		{"pool payout of 120 outputs with equal small shares from the pool address",
			poolPayout(r, 120, false), want{}},
		{"early-miner payout of 30 outputs from P2PK coinbases at distinct addresses",
			poolPayout(r, 30, true), want{}},
		{"inscription batch transfer of 10 x 10,000 sats and change from 11 taproot inputs",
			newTx().in(tr, repeat(10_000, 10)...).in(tr, 500_000).out(tr, repeat(10_000, 10)...).out(tr, 480_000).build(), want{}},
		{"3 equal outputs and 3 changes from one address",
			newTx().inAt(7, wpkh, 10_000_000, 20_000_000, 30_000_000).out(wpkh, 5_000_000, 5_000_000, 5_000_000, 5_000_000, 15_000_000, 24_990_000).build(), want{}},
		{"batch of 40 equal and 40 other payments with change from 41 addresses (too large to search)",
			bigBatch(r), want{}},
		{"5x5 equal outputs at a value that is no Whirlpool pool",
			newTx().in(wpkh, 2_000_000, 2_000_000, 2_000_300, 2_000_300, 2_000_300).out(wpkh, repeat(2_000_000, 5)...).build(), want{}},

		// Not CoinJoins: look-alikes.
		{"stonewall: 2 equal outputs and 2 changes from 3 inputs in two sets",
			newTx().in(wpkh, 600_000, 250_000, 900_000).out(wpkh, 690_000, 690_000, 159_000, 209_500).build(),
			want{veto: NameStonewall}},
		{"whirlpool tx0 for the 0.01 pool: 7 premixes, fee, change, OP_RETURN",
			newTx().in(wpkh, 5_000_000, 3_000_000).opReturn().out(wpkh, 50_000).out(wpkh, repeat(1_000_827, 7)...).out(wpkh, 889_000).build(),
			want{tx0: true, fired: []string{NameWhirlpoolTx0}}},
		{"whirlpool tx0 for the 0.001 pool without change",
			newTx().in(pkh, 515_000).opReturn().out(wpkh, 5_000).out(wpkh, repeat(100_900, 5)...).build(),
			want{tx0: true}},
		{"whirlpool decoy tx0x2 with 3 changes",
			newTx().in(wpkh, 30_000_000, 20_000_000).opReturn().out(wpkh, 175_000).out(wpkh, repeat(5_000_510, 8)...).out(wpkh, 4_000_000, 3_500_000, 2_300_000).build(),
			want{tx0: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Detect(c.tx)
			checkInvariants(t, c.tx, v)
			if v.IsCoinJoin != c.want.coinjoin || v.Protocol != c.want.protocol || v.Tx0 != c.want.tx0 {
				t.Fatalf("got coinjoin=%v protocol=%q tx0=%v, want %v %q %v\n%s", v.IsCoinJoin, v.Protocol, v.Tx0, c.want.coinjoin, c.want.protocol, c.want.tx0, dump(v))
			}
			for _, name := range c.want.fired {
				if !slices.ContainsFunc(v.Detectors, func(f Finding) bool { return f.Name == name }) {
					t.Errorf("detector %s did not fire:\n%s", name, dump(v))
				}
			}
			if !c.want.coinjoin && !c.want.tx0 && len(v.Detectors) != 0 {
				t.Errorf("detectors fired on a non-CoinJoin:\n%s", dump(v))
			}
			gotVeto := ""
			if len(v.Vetoes) > 0 {
				gotVeto = v.Vetoes[0].Name
			}
			if gotVeto != c.want.veto {
				t.Errorf("veto %q, want %q:\n%s", gotVeto, c.want.veto, dump(v))
			}
			for _, f := range append(slices.Clone(v.Detectors), v.Vetoes...) {
				if !strings.HasSuffix(f.Reason, ".") || strings.Count(f.Reason, ". ") > 0 || !strings.ContainsAny(f.Reason, "0123456789") {
					t.Errorf("reason of %s is not one sentence with numbers: %q", f.Name, f.Reason)
				}
			}
		})
	}
}

// checkInvariants are the properties every verdict has.
func checkInvariants(t *testing.T, tx *chain.FlowTx, v Verdict) {
	t.Helper()
	if v.Detectors == nil {
		t.Fatal("Detectors is nil")
	}
	if v.IsCoinJoin && len(v.Detectors) == 0 {
		t.Fatal("a CoinJoin without detectors")
	}
	if v.IsCoinJoin != (v.Protocol != "") {
		t.Fatalf("IsCoinJoin=%v with protocol %q", v.IsCoinJoin, v.Protocol)
	}
	if v.IsCoinJoin && v.Protocol != v.Detectors[0].Name {
		t.Fatalf("protocol %q is not the first detector %q", v.Protocol, v.Detectors[0].Name)
	}
	if v.Tx0 && v.IsCoinJoin {
		t.Fatal("a Tx0 marked as a CoinJoin")
	}
	if !(v.Confidence >= 0 && v.Confidence <= 1) || v.Confidence != round2(v.Confidence) {
		t.Fatalf("confidence %v", v.Confidence)
	}
	names := Names()
	for _, f := range append(slices.Clone(v.Detectors), v.Vetoes...) {
		if !slices.Contains(names, f.Name) || !(f.Confidence >= 0 && f.Confidence <= 1) || f.Reason == "" {
			t.Fatalf("bad finding %+v", f)
		}
	}
	if tx != nil && !tx.Coinbase {
		if again := Detect(tx); !equalVerdicts(again, v) {
			t.Fatalf("Detect is not deterministic:\n%s\n%s", dump(v), dump(again))
		}
	}
}

func equalVerdicts(a, b Verdict) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func dump(v Verdict) string {
	j, _ := json.MarshalIndent(v, "", "  ")
	return string(j)
}

func randomValues(r *rand.Rand, n int, lo, hi uint64) []uint64 {
	vs := make([]uint64, n)
	for i := range vs {
		vs[i] = logUniform(r, lo, hi)
	}
	return vs
}

// scenarioCoinJoin builds the CoinJoin of internal/scenario/ransomware.go
// (coinJoin) exactly: 5 members, each one input; the attacker's input is
// the peel chain's remainder, the others 0.1 BTC plus 0.02–0.4 BTC; every
// member gets 0.1 BTC and its change (input − 0.1 BTC − miner fee share −
// 0.3% coordinator fee); the coordinator gets 5 × 0.0003 BTC; members
// keep their script types; inputs and outputs shuffled.
func scenarioCoinJoin(r *rand.Rand) *chain.FlowTx {
	const (
		d        = 10_000_000
		coordFee = d * 3 / 1000
		n        = 5
	)
	b := newTx()
	b.tx.Version = 1
	ins := make([]uint64, n)
	ins[0] = logUniform(r, 50_000_000, 2_000_000_000) // the attacker's remainder
	for i := 1; i < n; i++ {
		ins[i] = d + logUniform(r, 2_000_000, 40_000_000)
	}
	// Fee as the generator sizes it: inputs, 2 outputs per member and the
	// coordinator's, at 1–60 sat/vB, split evenly.
	vsize := uint64(11 + n*68 + (2*n+1)*31)
	fee := vsize * (1 + r.Uint64N(60))
	share := (fee + n - 1) / n
	for i := range n {
		typ := randomType(r)
		b.in(typ, ins[i])
		b.out(typ, d, ins[i]-d-share-coordFee)
	}
	b.out(wpkh, coordFee*n)
	return b.shuffle(r).build()
}

// unknownCoordinatorRound is a coordinated round of n participants with
// mixed script types, one or two inputs each, a change each and a
// coordinator fee of 0.1% per participant.
func unknownCoordinatorRound(r *rand.Rand, n int, d uint64) *chain.FlowTx {
	b := newTx()
	coord := d / 1000
	for range n {
		typ := randomType(r)
		change := logUniform(r, 50_000, 100_000_000)
		need := d + change + coord + uint64(500+r.IntN(3000))
		b.in(typ, splitValue(r, need, 1+r.IntN(2))...)
		b.out(typ, d, change)
	}
	b.out(wpkh, coord*uint64(n))
	return b.shuffle(r).build()
}

// poolPayout is the scenario's payout (background.go): a pool (one reused
// address, change back to it) or the early miner (P2PK coinbases, each its
// own address) pays n users shares proportional to logUniform(1, 1000)
// weights, which repeat for small weights, and often a deposit.
func poolPayout(r *rand.Rand, n int, early bool) *chain.FlowTx {
	b := newTx()
	const coinbase = 312_500_000
	coins := 3 + r.IntN(20)
	if early {
		for range coins {
			b.in(pk, 5_000_000_000)
		}
	} else {
		b.inAt(7, wpkh, repeat(coinbase, coins)...)
	}
	total := b.tx.InputValue() / 100 * uint64(60+r.IntN(36))
	if r.IntN(100) < 60 {
		v := total / 100 * uint64(20+r.IntN(21))
		b.out(wpkh, v)
		total -= v
	}
	weights := make([]uint64, n)
	var sum uint64
	for i := range weights {
		weights[i] = logUniform(r, 1, 1000)
		sum += weights[i]
	}
	var paid uint64
	for _, w := range weights {
		v := total / sum * w
		if v < 10*546 {
			continue
		}
		b.out(randomType(r), v)
		paid += v
	}
	change := b.tx.InputValue() - b.tx.OutputValue() - 20_000
	if early {
		b.out(pk, change)
	} else {
		b.outAt(7, wpkh, change)
	}
	return b.shuffle(r).build()
}

// bigBatch: one payer with a large coin and 40 small ones at distinct
// addresses pays 40 × 0.05 BTC and 40 other amounts, with change.
func bigBatch(r *rand.Rand) *chain.FlowTx {
	b := newTx().in(wpkh, 10_000_000_000).in(wpkh, randomValues(r, 40, 100_000, 1_000_000)...)
	b.out(wpkh, repeat(5_000_000, 40)...)
	b.out(wpkh, randomValues(r, 40, 1_000_000, 50_000_000)...)
	return b.out(wpkh, b.tx.InputValue()-b.tx.OutputValue()-50_000).shuffle(r).build()
}

func TestNames(t *testing.T) {
	names := Names()
	if len(names) != 8 || names[0] != NameWhirlpool || names[5] != NameGeneric {
		t.Fatalf("Names() = %v", names)
	}
	names[0] = "changed"
	if Names()[0] != NameWhirlpool {
		t.Fatal("Names returns shared state")
	}
}

func TestVerdictJSON(t *testing.T) {
	j, err := json.Marshal(Detect(newTx().in(wpkh, 300_000, 200_000).out(wpkh, 400_000, 90_000).build()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(j), `{"is_coinjoin":false,"detectors":[],"confidence":0.99}`; got != want {
		t.Fatalf("JSON %s, want %s", got, want)
	}
}

func TestBTC(t *testing.T) {
	for sats, want := range map[uint64]string{
		0: "0 BTC", 10_000_000: "0.1 BTC", 150_000: "0.0015 BTC", 12_345: "0.00012345 BTC",
		100_000_000: "1 BTC", 2_100_000_000_000_000: "21000000 BTC", 1_000_827: "0.01000827 BTC",
	} {
		if got := btc(sats); got != want {
			t.Errorf("btc(%d) = %q, want %q", sats, got, want)
		}
	}
}

func TestStandardDenominations(t *testing.T) {
	// Dumplings' list: 2^13..2^36, 3^8..3^23, 2·3^8..2·3^22, and the
	// 1-2-5 series from 5,000 to 5·10^10 sats, without duplicates.
	for _, x := range []uint64{5_000, 6_561, 8_192, 10_000, 13_122, 20_000, 50_000, 100_000, 1_048_576, 10_000_000, 68_719_476_736, 94_143_178_827, 100_000_000_000} {
		if !isStandardDenomination(x) {
			t.Errorf("%d is a standard denomination", x)
		}
	}
	for _, x := range []uint64{4_374, 4_096, 5_001, 10_000_001, 134_375_000_001, 137_438_953_472, 200_000_000_000} {
		if isStandardDenomination(x) {
			t.Errorf("%d is not a standard denomination", x)
		}
	}
	if !slices.IsSorted(standardDenominations) || len(standardDenominations) != 78 {
		t.Errorf("%d denominations: %v", len(standardDenominations), standardDenominations)
	}
}
