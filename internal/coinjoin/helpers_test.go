package coinjoin

import (
	"math/rand/v2"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// builder makes FlowTx values for tests. Fresh addresses start at 1000, so
// tests may use small ids for addresses they reuse on purpose.
type builder struct {
	tx   chain.FlowTx
	addr uint64
}

func newTx() *builder { return &builder{tx: chain.FlowTx{Version: 2}, addr: 1000} }

func (b *builder) fresh() uint64 { b.addr++; return b.addr }

// in adds inputs of type t, each at a fresh address.
func (b *builder) in(t chain.ScriptType, vals ...uint64) *builder {
	for _, v := range vals {
		b.tx.In = append(b.tx.In, chain.Coin{Value: v, Addr: b.fresh(), Type: t, Sequence: 0xffffffff})
	}
	return b
}

// inAt adds inputs of type t at address addr.
func (b *builder) inAt(addr uint64, t chain.ScriptType, vals ...uint64) *builder {
	for _, v := range vals {
		b.tx.In = append(b.tx.In, chain.Coin{Value: v, Addr: addr, Type: t, Sequence: 0xffffffff})
	}
	return b
}

// out adds outputs of type t, each to a fresh address.
func (b *builder) out(t chain.ScriptType, vals ...uint64) *builder {
	for _, v := range vals {
		b.tx.Out = append(b.tx.Out, chain.Coin{Value: v, Addr: b.fresh(), Type: t})
	}
	return b
}

// outAt adds outputs of type t to address addr.
func (b *builder) outAt(addr uint64, t chain.ScriptType, vals ...uint64) *builder {
	for _, v := range vals {
		b.tx.Out = append(b.tx.Out, chain.Coin{Value: v, Addr: addr, Type: t})
	}
	return b
}

func (b *builder) opReturn() *builder {
	b.tx.Out = append(b.tx.Out, chain.Coin{Type: chain.OpReturn})
	return b
}

// shuffle puts inputs and outputs in random order.
func (b *builder) shuffle(r *rand.Rand) *builder {
	r.Shuffle(len(b.tx.In), func(i, j int) { b.tx.In[i], b.tx.In[j] = b.tx.In[j], b.tx.In[i] })
	r.Shuffle(len(b.tx.Out), func(i, j int) { b.tx.Out[i], b.tx.Out[j] = b.tx.Out[j], b.tx.Out[i] })
	return b
}

// sortDescending orders inputs and outputs by value, largest first, as the
// WabiSabi coordinator does.
func (b *builder) sortDescending() *builder {
	desc := func(a, c chain.Coin) int {
		switch {
		case a.Value > c.Value:
			return -1
		case a.Value < c.Value:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(b.tx.In, desc)
	slices.SortStableFunc(b.tx.Out, desc)
	return b
}

func (b *builder) build() *chain.FlowTx { return &b.tx }

// repeat returns n copies of v.
func repeat(v uint64, n int) []uint64 {
	return slices.Repeat([]uint64{v}, n)
}

// logUniform is the scenario generator's value distribution: an octave
// chosen uniformly, then a value inside it.
func logUniform(r *rand.Rand, lo, hi uint64) uint64 {
	if lo == 0 {
		lo = 1
	}
	if hi <= lo {
		return lo
	}
	octaves := 0
	for v := lo; v < hi && octaves < 63; v <<= 1 {
		octaves++
	}
	k := r.IntN(octaves)
	a := lo << uint(k)
	b := min(a<<1, hi)
	if b <= a {
		return a
	}
	return a + r.Uint64N(b-a+1)
}

// scriptTypes are the types the scenario's wallets use.
var scriptTypes = []chain.ScriptType{chain.P2WPKH, chain.P2PKH, chain.P2TR}

func randomType(r *rand.Rand) chain.ScriptType { return scriptTypes[r.IntN(len(scriptTypes))] }

// wasabi1Round builds a Wasabi 1.0 round: n participants, each one input
// (sometimes two) of at least d plus change, one output of d, one change,
// and one coordinator fee output of 0.003% × anonymity set per
// participant; all p2wpkh; shuffled. levels adds Wasabi 1.1 mixing
// levels: levels[i] participants also get an output of d × 2^(i+1).
func wasabi1Round(r *rand.Rand, n int, d uint64, levels ...int) *chain.FlowTx {
	b := newTx()
	perFee := d / 100_000 * 3 * uint64(n) // 0.003% × anonymity set
	var coord uint64
	for p := range n {
		extra := uint64(0)
		for l, c := range levels {
			if p < c {
				extra += d << (l + 1)
			}
		}
		miner := uint64(2_000 + r.IntN(3_000))
		change := 700_000 + r.Uint64N(80_000_000) // ≥ 0.7% of d: Wasabi's minimum change
		total := d + extra + change + perFee + miner
		if r.IntN(4) == 0 {
			a := total / 3
			b.in(chain.P2WPKH, a, total-a)
		} else {
			b.in(chain.P2WPKH, total)
		}
		b.out(chain.P2WPKH, d, change)
		for l, c := range levels {
			if p < c {
				b.out(chain.P2WPKH, d<<(l+1))
			}
		}
		coord += perFee
	}
	b.out(chain.P2WPKH, coord)
	return b.shuffle(r).build()
}

// joinMarketRound builds a JoinMarket CoinJoin of one taker and makers
// makers, all inputs and outputs of type t: makers earn a relative fee,
// the taker pays it and the miner fee. sweep: the taker has no change.
func joinMarketRound(r *rand.Rand, makers int, d uint64, t chain.ScriptType, sweep bool) *chain.FlowTx {
	b := newTx()
	var makerFees uint64
	for range makers {
		fee := d / 100_000 * uint64(2+r.IntN(20)) // 0.002%..0.02%
		makerFees += fee
		nIn := 1 + r.IntN(3)
		change := logUniform(r, 100_000, 300_000_000)
		need := d + change - fee
		vals := splitValue(r, need, nIn)
		b.in(t, vals...)
		b.out(t, d, change)
	}
	miner := uint64(5_000 + r.IntN(40_000))
	var change uint64
	if !sweep {
		change = logUniform(r, 100_000, 300_000_000)
	}
	need := d + change + makerFees + miner
	b.in(t, splitValue(r, need, 1+r.IntN(3))...)
	b.out(t, d)
	if !sweep {
		b.out(t, change)
	}
	return b.shuffle(r).build()
}

// splitValue splits total into n positive parts at random points, as
// coins of arbitrary values that together pay total.
func splitValue(r *rand.Rand, total uint64, n int) []uint64 {
	vals := make([]uint64, 0, n)
	for i := 0; i < n-1; i++ {
		part := total / 1000 * uint64(100+r.IntN(700)) / uint64(n-i)
		vals = append(vals, part)
		total -= part
	}
	return append(vals, total)
}

// wabiSabiRound builds a WabiSabi round: n participants with 1..4
// p2wpkh/p2tr inputs each, each amount decomposed greedily into up to 8
// standard denominations, a leftover of 1% or more becoming a change
// output, the rest going to fees; inputs and outputs sorted descending.
func wabiSabiRound(r *rand.Rand, n int) *chain.FlowTx {
	b := newTx()
	types := []chain.ScriptType{chain.P2WPKH, chain.P2TR}
	for range n {
		t := types[r.IntN(2)]
		var total uint64
		for range 1 + r.IntN(4) {
			v := logUniform(r, 50_000, 200_000_000)
			total += v
			b.in(t, v)
		}
		left := total - 1_000 // the participant's share of the miner fee
		for range 8 {
			i, _ := slices.BinarySearch(standardDenominations, left+1)
			if i == 0 {
				break
			}
			den := standardDenominations[i-1]
			b.out(types[r.IntN(2)], den)
			left -= den
		}
		if left >= total/100 && left >= 5_000 {
			b.out(types[r.IntN(2)], left)
		}
	}
	return b.sortDescending().build()
}
