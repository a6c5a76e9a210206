package ingest

import (
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

func mustParams(t testing.TB, n chain.Network) *btc.Params {
	t.Helper()
	p, err := btc.ParamsFor(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func regtest(t testing.TB) *btc.Params { return mustParams(t, chain.Regtest) }

func regtestParams() *btc.Params {
	p, _ := btc.ParamsFor(chain.Regtest)
	return p
}

func openIndex(t testing.TB, p *btc.Params) *index.Index {
	t.Helper()
	ix, err := index.Open(t.TempDir(), p, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// smallBatches commits often, so that interruptions land between commits.
func smallBatches() index.WriterOptions { return index.WriterOptions{BatchBytes: 64 << 10} }
