package coinjoin_test

import (
	"os"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/coinjoin"
	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// TestGeneratedChain runs Detect on every transaction of generated
// ransomware scenarios, imported into a real index: the scenario's one
// CoinJoin is found, and nothing of the background economy (payments,
// batch payouts with repeated shares, exchange withdrawals and sweeps,
// consolidations) is called a CoinJoin, a Tx0 or a Stonewall.
func TestGeneratedChain(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		f := fixture.Ransomware(t, seed)
		want := f.Truth.Ransomware.CoinJoin.Txid
		var flow chain.FlowTx
		found, multi := 0, 0
		err := f.Index.Scan(0, -1, func(r *index.TxRecord) error {
			r.Flow(&flow)
			if len(flow.In) > 1 {
				multi++
			}
			v := coinjoin.Detect(&flow)
			switch {
			case v.IsCoinJoin && r.Txid.String() == want:
				found++
				if v.Protocol != coinjoin.NameGeneric {
					t.Errorf("seed %d: the scenario's CoinJoin is %q, want generic: %+v", seed, v.Protocol, v)
				}
			case v.IsCoinJoin || v.Tx0 || len(v.Vetoes) > 0:
				t.Errorf("seed %d: %s is not a CoinJoin, Tx0 or Stonewall: %+v", seed, r.Txid, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if found != 1 || multi < 500 {
			t.Errorf("seed %d: the scenario's CoinJoin %s found %d times among %d multi-input transactions", seed, want, found, multi)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}
