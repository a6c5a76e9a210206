package scenario

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkGenerate measures generation speed. VESTIGO_BENCH_TXS sets the
// number of background transactions (default 20,000; the benchmark chain of
// the project is 1,000,000):
//
//	VESTIGO_BENCH_TXS=1000000 go test -run - -bench Generate -benchtime 1x ./internal/scenario
func BenchmarkGenerate(b *testing.B) {
	n := 20_000
	if s := os.Getenv("VESTIGO_BENCH_TXS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < MinTxs {
			b.Fatalf("VESTIGO_BENCH_TXS=%q: want a number ≥ %d", s, MinTxs)
		}
		n = v
	}
	b.Run(strconv.Itoa(n), func(b *testing.B) {
		var txs, bytes int64
		var took time.Duration
		for b.Loop() {
			dir, err := os.MkdirTemp(b.TempDir(), "gen")
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			res, err := Generate(context.Background(), Config{Seed: 1, Txs: n}, dir)
			if err != nil {
				b.Fatal(err)
			}
			took += time.Since(start)
			txs += int64(res.Txs)
			bytes += res.Bytes
			if err := os.RemoveAll(dir); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(txs)/took.Seconds(), "txs/s")
		b.ReportMetric(float64(bytes)/took.Seconds()/1e6, "MB/s")
	})
}
