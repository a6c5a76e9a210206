package detect_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethcase"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

// TestDepositAddressesOnGeth plays the generated Ethereum case on a real
// geth --dev node, imports the chain with ethingest, and finds the case's
// four deposit addresses from its hot wallet alone: each with its senders,
// payments and sweeps as the truth records them, and the two senders of
// deposit-0 linked as one exchange user.
func TestDepositAddressesOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	truth, ix, err := ethcase.Imported(ctx, node, 23, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()

	id := func(a [20]byte) evmindex.AddrID {
		t.Helper()
		v, err := ix.AddrID(eth.Address(a))
		if err != nil {
			t.Fatalf("%x: %v", a, err)
		}
		return v
	}
	key := func(h [32]byte) evmindex.TxKey {
		t.Helper()
		tx, err := ix.Tx(eth.Hash(h))
		if err != nil {
			t.Fatalf("%x: %v", h, err)
		}
		return tx.Key
	}
	hot := id(truth.HotWallet)
	res, err := detect.DepositAddresses(ix, []evmindex.AddrID{hot}, truth.FirstBlock, truth.TipBlock, detect.DepositOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Addresses) != len(truth.Deposits) {
		t.Fatalf("%d deposit addresses found, the case has %d: %+v", len(res.Addresses), len(truth.Deposits), res.Addresses)
	}
	found := map[evmindex.AddrID]detect.DepositAddress{}
	for _, d := range res.Addresses {
		found[d.Addr] = d
	}
	var twoSenders []evmindex.AddrID
	for _, td := range truth.Deposits {
		d, ok := found[id(td.Address)]
		if !ok {
			t.Errorf("%s (%s) not found", td.Label, td.Address)
			continue
		}
		var senders []evmindex.AddrID
		for _, s := range td.Senders {
			senders = append(senders, id(s))
		}
		var deposits, sweeps []evmindex.TxKey
		for _, h := range td.DepositTxs {
			deposits = append(deposits, key(h))
		}
		slices.Sort(deposits)
		if td.TokenSweepTx != nil {
			sweeps = append(sweeps, key(*td.TokenSweepTx))
		}
		sweeps = append(sweeps, key(td.SweepTx))
		slices.Sort(sweeps)
		if d.HotWallet != hot || !slices.Equal(d.Senders, senders) || !slices.Equal(d.Deposits, deposits) || !slices.Equal(d.Sweeps, sweeps) {
			t.Errorf("%s: hot %d senders %v deposits %v sweeps %v; truth: hot %d senders %v deposits %v sweeps %v",
				td.Label, d.HotWallet, d.Senders, d.Deposits, d.Sweeps, hot, senders, deposits, sweeps)
		}
		for _, s := range d.SweepDetails {
			if s.Asset == evmindex.Native && (s.Amount.Cmp(td.Swept) != 0 || !s.Residual.IsZero()) {
				t.Errorf("%s: swept %s leaving %s, the truth swept %s leaving nothing", td.Label, s.Amount, s.Residual, td.Swept)
			}
		}
		if d.Confidence < 55 || d.Confidence > 100 {
			t.Errorf("%s: confidence %d (%v)", td.Label, d.Confidence, d.Params)
		}
		if len(td.Senders) > 1 {
			twoSenders = append(twoSenders, d.Addr)
			if len(res.Links) != 1 || res.Links[0].Deposit != d.Addr || !slices.Equal(res.Links[0].Senders, senders) ||
				res.Links[0].Confidence != d.Confidence*3/4 {
				t.Errorf("%s: user links %+v, want one of %v", td.Label, res.Links, senders)
			}
		}
	}
	if len(twoSenders) != 1 {
		t.Errorf("the case has %d deposit addresses with two senders, want 1", len(twoSenders))
	}
}
