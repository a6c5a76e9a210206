package detect_test

import (
	"os"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

func key(t *testing.T, c *fixture.Case, txid string) index.TxKey {
	t.Helper()
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Index.Record(*h)
	if err != nil {
		t.Fatal(err)
	}
	return r.Key
}

// TestRansomwareTypologies: on the generated case, the peel chain is found
// with its hops in order (from the whole chain and from the consolidation
// address), with the peels' addresses; the consolidation and the CoinJoin
// are found too.
func TestRansomwareTypologies(t *testing.T) {
	c := fixture.Ransomware(t, 17)
	rw := c.Truth.Ransomware
	var want []index.TxKey
	var peels []index.AddrID
	for _, h := range rw.PeelChain {
		want = append(want, key(t, c, h.Txid))
		peels = append(peels, c.ID(t, h.PeelAddress))
	}
	check := func(where string, fs []detect.Finding) {
		t.Helper()
		var found bool
		for _, f := range fs {
			if f.Type != detect.PeelChain || f.Txs[0] != want[0] {
				continue
			}
			found = true
			if len(f.Txs) != len(want) {
				t.Fatalf("%s: peel chain of %d hops, the scenario made %d", where, len(f.Txs), len(want))
			}
			for i := range want {
				if f.Txs[i] != want[i] || f.Addresses[i] != peels[i] {
					t.Fatalf("%s: hop %d is %v to %d, want %v to %d", where, i+1, f.Txs[i], f.Addresses[i], want[i], peels[i])
				}
			}
			if f.Explanation == "" || f.Confidence <= 0 {
				t.Fatalf("%s: finding without explanation or confidence: %+v", where, f)
			}
		}
		if !found {
			t.Fatalf("%s: the peel chain starting at %v was not found", where, want[0])
		}
	}
	all, err := detect.Range(c.Index, 0, -1, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("whole chain", all)
	mine, err := detect.Address(c.Index, c.ID(t, rw.ConsolidationAddress), detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("consolidation address", mine)

	has := func(fs []detect.Finding, typ string, tx index.TxKey) bool {
		for _, f := range fs {
			if f.Type == typ && f.Txs[0] == tx {
				return true
			}
		}
		return false
	}
	if !has(all, detect.CoinJoin, key(t, c, rw.CoinJoin.Txid)) {
		t.Error("the CoinJoin was not reported")
	}
	cons := key(t, c, rw.ConsolidationTxid)
	if len(rw.RansomAddresses) >= 10 && !has(all, detect.Consolidation, cons) {
		t.Error("the consolidation was not reported")
	}
	again, err := detect.Range(c.Index, 0, -1, detect.Options{})
	if err != nil || len(again) != len(all) {
		t.Fatalf("not deterministic: %d then %d findings, %v", len(all), len(again), err)
	}
	for i := range all {
		if all[i].Type != again[i].Type || all[i].Txs[0] != again[i].Txs[0] {
			t.Fatalf("finding %d differs between runs", i)
		}
	}
}
