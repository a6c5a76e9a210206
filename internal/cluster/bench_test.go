package cluster_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// BenchmarkBuild clusters the index named by $VESTIGO_BENCH_INDEX (an
// index directory, e.g. .bench/data-1000000-seed42/index/btc-regtest) into
// a fresh store per iteration; without it the benchmark is skipped (make
// bench-cluster measures the same on the generated chain end to end).
func BenchmarkBuild(b *testing.B) {
	ix := benchIndex(b)
	if n, err := strconv.Atoi(os.Getenv("VESTIGO_BENCH_BATCH")); err == nil {
		defer cluster.SetBatchMerges(cluster.SetBatchMerges(n))
	}
	for b.Loop() {
		s, err := cluster.Open(b.TempDir(), ix.Ledger(), cluster.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Update(context.Background(), ix, nil); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkComponents clusters the same index in memory only.
func BenchmarkComponents(b *testing.B) {
	ix := benchIndex(b)
	for b.Loop() {
		if _, err := cluster.ComputeComponents(context.Background(), ix); err != nil {
			b.Fatal(err)
		}
	}
}

func benchIndex(b *testing.B) *index.Index {
	dir := os.Getenv("VESTIGO_BENCH_INDEX")
	if dir == "" {
		b.Skip("set VESTIGO_BENCH_INDEX to an index directory (make bench-cluster measures end to end)")
	}
	p, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		b.Fatal(err)
	}
	ix, err := index.Open(dir, p, index.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	return ix
}
