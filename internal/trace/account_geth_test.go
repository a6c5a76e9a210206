package trace_test

import (
	"context"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethcase"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

// TestAccountTraceOnGeth plays the generated Ethereum case on a real geth
// --dev, imports it, and traces forward: the victim's ether and the
// thief's tokens must reach the exchange's hot wallet along the case's
// money paths with their exact amounts, under every model.
func TestAccountTraceOnGeth(t *testing.T) {
	node := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	truth, ix, err := ethcase.Imported(ctx, node, 7, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	id := func(a [20]byte) evmindex.AddrID {
		t.Helper()
		v, err := ix.AddrID(eth.Address(a))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	key := func(h [32]byte) evmindex.TxKey {
		t.Helper()
		k, err := ix.TxKeyOfHash(eth.Hash(h))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	hot := id(truth.HotWallet)
	tok, err := ix.AssetByContract(eth.Address(truth.Token.Address))
	if err != nil {
		t.Fatal(err)
	}
	// The hot wallet's tainted ether: the sweeps of the deposit addresses
	// paid only by the thief's chain and its peels.
	wantHot, err := truth.ThiefSwept()
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name  string
		from  evmindex.AddrID
		asset evmindex.AssetID
		path  []ethscenario.Step
		hot   chain.Amount
	}{
		{"ether from the victim", id(truth.Path[0].From), evmindex.Native, truth.Path, wantHot},
		// The tokens start at their mint to the thief: trace what it sends.
		{"tokens from the thief", id(truth.TokenPath[0].To), tok.ID, truth.TokenPath[1:], truth.TokenPath[len(truth.TokenPath)-1].Amount},
	} {
		if len(run.path) < 3 || run.hot.IsZero() {
			t.Fatalf("%s: the case's path has %d steps and sends %s to the hot wallet", run.name, len(run.path), run.hot)
		}
		for _, m := range []trace.Model{trace.Poison, trace.Haircut, trace.FIFO} {
			r, err := trace.TraceAccounts(ix, run.from, run.asset, trace.AccountParams{Model: m, Hops: 64})
			if err != nil {
				t.Fatal(err)
			}
			edges := map[[3]uint64]chain.Amount{}
			for _, e := range r.Edges {
				edges[[3]uint64{uint64(e.From), uint64(e.To), uint64(e.Key)}] = e.Amount
			}
			for i, s := range run.path {
				got, ok := edges[[3]uint64{uint64(id(s.From)), uint64(id(s.To)), uint64(key(s.Tx))}]
				if !ok || got.Cmp(s.Amount) != 0 {
					t.Errorf("%s, %s: step %d %s → %s carried %s of taint (found %v), the case moved %s", run.name, m, i, s.FromLabel, s.ToLabel, got, ok, s.Amount)
				}
			}
			var atHot chain.Amount
			for _, d := range r.Destinations {
				if d.Addr == hot && d.Reason == trace.ReasonHeld {
					atHot = d.Amount
				}
			}
			if c := atHot.Cmp(run.hot); (m != trace.Poison && c != 0) || c < 0 {
				t.Errorf("%s, %s: the hot wallet holds %s of taint, the case sent it %s", run.name, m, atHot, run.hot)
			}
		}
	}
}
