package trace_test

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

// BenchmarkPropagate spreads taint from 1,000 random addresses over the
// index named by $VESTIGO_BENCH_INDEX (skipped without it; make
// bench-trace measures the same end to end).
func BenchmarkPropagate(b *testing.B) {
	dir := os.Getenv("VESTIGO_BENCH_INDEX")
	if dir == "" {
		b.Skip("set VESTIGO_BENCH_INDEX to an index directory")
	}
	p, _ := btc.ParamsFor(chain.Regtest)
	ix, err := index.Open(dir, p, index.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	var seeds []index.AddrID
	for range 1000 {
		seeds = append(seeds, index.AddrID(1+rng.Uint64N(uint64(ix.Tip().NextAddr)-1)))
	}
	for b.Loop() {
		if _, err := trace.Propagate(context.Background(), ix, seeds); err != nil {
			b.Fatal(err)
		}
	}
}
