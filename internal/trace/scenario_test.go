package trace_test

import (
	"os"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

// TestRansomReachesExchange traces the ransom payments of the generated
// case forward, stopping at the exchange's deposit addresses: every model
// must deliver to each deposit address exactly the value the scenario
// peeled into it (the laundering path carries ransom money only).
func TestRansomReachesExchange(t *testing.T) {
	c := fixture.Ransomware(t, 21)
	rw := c.Truth.Ransomware
	var outs []trace.Outpoint
	var paid uint64
	for _, pmt := range rw.RansomPayments {
		h, err := chainhash.NewHashFromStr(pmt.Txid)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Index.Record(*h)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, trace.Outpoint{Tx: r.Key, Vout: pmt.Vout})
		paid += pmt.Value
	}
	want := map[index.AddrID]uint64{}
	for _, d := range rw.ExchangeDeposits {
		want[c.ID(t, d.Address)] += d.Value
	}
	if len(want) == 0 {
		t.Fatal("the case has no exchange deposits")
	}
	stop := func(a index.AddrID) (bool, string, error) {
		_, ok := want[a]
		return ok, "exchange", nil
	}
	for _, m := range []trace.Model{trace.Poison, trace.Haircut, trace.FIFO} {
		r, err := trace.FromOutputs(c.Index, outs, trace.Params{Model: m, Hops: 64, Stop: stop})
		if err != nil {
			t.Fatal(err)
		}
		if r.Source != paid {
			t.Fatalf("%s: source %d, the victims paid %d", m, r.Source, paid)
		}
		got := map[index.AddrID]uint64{}
		for _, d := range r.Destinations {
			if d.Reason == "exchange" {
				got[d.Addr] = d.Amount
			}
		}
		for a, v := range want {
			if got[a] != v {
				t.Errorf("%s: deposit address %d received %d of the ransom, the scenario sent %d", m, a, got[a], v)
			}
		}
	}
}
