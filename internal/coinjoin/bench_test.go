package coinjoin

import (
	"math/rand/v2"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// benchShapes are the transactions of the benchmark: the shapes Detect
// meets, with a weight for the mix (ordinary multi-input transactions
// dominate a real chain).
func benchShapes() []struct {
	name   string
	weight int
	tx     *chain.FlowTx
} {
	r := rand.New(rand.NewPCG(9, 10))
	return []struct {
		name   string
		weight int
		tx     *chain.FlowTx
	}{
		{"payment_2in_2out", 40, newTx().in(wpkh, 300_000, 200_000).out(wpkh, 400_000, 90_000).build()},
		{"payment_3in_2out_round", 20, newTx().in(pkh, 3_000_000, 2_000_000, 1_500_000).out(wpkh, 5_000_000, 1_490_000).build()},
		{"sweep_3in_1out", 10, newTx().in(wpkh, 300_000, 200_000, 100_000).out(wpkh, 599_000).build()},
		{"consolidation_50in_1out", 5, consolidationOf(50)},
		{"batch_2in_40out", 5, exchangeWithdrawals(r)},
		{"payout_12in_100out_equal_shares", 3, poolPayout(r, 100, true)},
		{"stonewall_3in_4out", 3, newTx().in(wpkh, 600_000, 250_000, 900_000).out(wpkh, 690_000, 690_000, 159_000, 209_500).build()},
		{"tx0_2in_10out", 2, newTx().in(wpkh, 5_000_000, 3_000_000).opReturn().out(wpkh, 50_000).out(wpkh, repeat(1_000_827, 7)...).out(wpkh, 889_000).build()},
		{"whirlpool_5x5", 5, newTx().in(wpkh, 1_000_000, 1_000_000, 1_000_302, 1_000_302, 1_000_170).out(wpkh, repeat(1_000_000, 5)...).build()},
		{"joinmarket_6_participants", 3, joinMarketRound(r, 5, 28_456_130, wpkh, false)},
		{"scenario_coinjoin_5", 1, scenarioCoinJoin(r)},
		{"wasabi1_100", 1, wasabi1Round(r, 100, 10_000_000)},
		{"wabisabi_60_participants", 1, wabiSabiRound(r, 60)},
	}
}

func consolidationOf(n int) *chain.FlowTx {
	b := newTx()
	for i := range n {
		b.in(wpkh, uint64(10_000+i*1_000))
	}
	return b.out(wpkh, b.tx.InputValue()-5_000).build()
}

// BenchmarkDetect runs Detect over the weighted mix, then each shape.
func BenchmarkDetect(b *testing.B) {
	shapes := benchShapes()
	var mix []*chain.FlowTx
	for _, s := range shapes {
		for range s.weight {
			mix = append(mix, s.tx)
		}
	}
	b.Run("mix", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			Detect(mix[i])
			if i++; i == len(mix) {
				i = 0
			}
		}
	})
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Detect(s.tx)
			}
		})
	}
}

// TestOrdinaryTransactionsDoNotAllocate: the verdict of an ordinary
// transaction costs no allocation.
func TestOrdinaryTransactionsDoNotAllocate(t *testing.T) {
	for _, s := range benchShapes() {
		if s.weight < 5 || s.name == "whirlpool_5x5" {
			continue
		}
		if n := testing.AllocsPerRun(100, func() { Detect(s.tx) }); n != 0 {
			t.Errorf("%s: %.0f allocations per Detect", s.name, n)
		}
	}
}
