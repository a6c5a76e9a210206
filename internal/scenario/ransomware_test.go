package scenario

import (
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

func TestRansomwareTruthMatchesChain(t *testing.T) {
	dir, res := generateForTest(t, Config{Seed: 5, Scenario: Ransomware})
	st := replayChain(t, readBlockFiles(t, dir, res.Files))
	ix := checkTruth(t, res, st)
	rw := ix.Ransomware
	if rw == nil || ix.Scenario != Ransomware || ix.Params.Ransomware == nil {
		t.Fatal("no ransomware section in the ground truth")
	}
	par := ix.Params.Ransomware
	if res.BackgroundTxs != DefaultRansomwareTxs || res.ScenarioTxs < 1+par.Victims+1+par.PeelHops+1 {
		t.Fatalf("%d background and %d scenario transactions", res.BackgroundTxs, res.ScenarioTxs)
	}

	// lookup helpers on the replayed chain
	txOf := func(txid string) *wire.MsgTx {
		t.Helper()
		h, err := chainhash.NewHashFromStr(txid)
		if err != nil {
			t.Fatalf("bad txid %q: %v", txid, err)
		}
		tx := st.txAt[chainTxKey(*h)]
		if tx == nil {
			t.Fatalf("transaction %s is not in the chain", txid)
		}
		return tx
	}
	op := func(txid string, vout uint32) wire.OutPoint {
		h, _ := chainhash.NewHashFromStr(txid)
		return wire.OutPoint{Hash: *h, Index: vout}
	}
	pays := func(txid string, vout uint32, addr string, value uint64) {
		t.Helper()
		tx := txOf(txid)
		if int(vout) >= len(tx.TxOut) {
			t.Fatalf("%s has no output %d", txid, vout)
		}
		o := tx.TxOut[vout]
		if got := addrOf(t, o.PkScript); got != addr || uint64(o.Value) != value {
			t.Fatalf("%s:%d pays %d to %s, truth says %d to %s", txid, vout, o.Value, got, value, addr)
		}
	}
	kind := func(txid, want, wallet string) {
		t.Helper()
		r := ix.tx[txid]
		if r == nil || r.Kind != want || r.Wallet != wallet {
			t.Fatalf("tx %s recorded as %+v, want kind %s of %s", txid, r, want, wallet)
		}
	}

	// Ransoms: one fresh attacker address per victim.
	if len(rw.Victims) != par.Victims || len(rw.RansomPayments) != par.Victims || len(rw.RansomAddresses) != par.Victims {
		t.Fatalf("%d victims, %d payments, %d addresses; want %d", len(rw.Victims), len(rw.RansomPayments), len(rw.RansomAddresses), par.Victims)
	}
	var ransomOps []wire.OutPoint
	var ransomTotal uint64
	for i, p := range rw.RansomPayments {
		pays(p.Txid, p.Vout, p.Address, p.Value)
		kind(p.Txid, "ransom", p.Victim)
		if p.Address != rw.RansomAddresses[i] || ix.walletOf[p.Address] != rw.Attacker || ix.kindOf[p.Victim] != "victim" {
			t.Fatalf("ransom payment %+v: address not the attacker's or payer not a victim", p)
		}
		if slices.Index(rw.RansomAddresses, p.Address) != i {
			t.Fatalf("ransom address %s used twice", p.Address)
		}
		if p.Value < 10_000_000 {
			t.Fatalf("ransom of %d sats is not a realistic ransom", p.Value)
		}
		ransomOps = append(ransomOps, op(p.Txid, p.Vout))
		ransomTotal += p.Value
	}

	// Consolidation: spends exactly the ransoms into one address.
	ctx := txOf(rw.ConsolidationTxid)
	kind(rw.ConsolidationTxid, "consolidation", rw.Attacker)
	var spent []wire.OutPoint
	for _, in := range ctx.TxIn {
		spent = append(spent, in.PreviousOutPoint)
	}
	if len(spent) != len(ransomOps) || len(ctx.TxOut) != 1 {
		t.Fatalf("consolidation has %d inputs and %d outputs", len(spent), len(ctx.TxOut))
	}
	for _, o := range ransomOps {
		if !slices.Contains(spent, o) {
			t.Fatalf("consolidation does not spend ransom %v", o)
		}
	}
	pays(rw.ConsolidationTxid, 0, rw.ConsolidationAddress, rw.ConsolidationValue)
	if rw.ConsolidationValue >= ransomTotal || ix.walletOf[rw.ConsolidationAddress] != rw.Attacker {
		t.Fatalf("consolidation of %d from %d ransoms to %s", rw.ConsolidationValue, ransomTotal, rw.ConsolidationAddress)
	}

	// Peel chain: each hop spends the previous remainder.
	if len(rw.PeelChain) != par.PeelHops || par.PeelHops < 6 || par.PeelHops > 12 {
		t.Fatalf("%d hops, params say %d", len(rw.PeelChain), par.PeelHops)
	}
	prev := op(rw.ConsolidationTxid, 0)
	toEx := 0
	for i, h := range rw.PeelChain {
		tx := txOf(h.Txid)
		kind(h.Txid, "peel", rw.Attacker)
		if h.Hop != i+1 || len(tx.TxIn) != 1 || tx.TxIn[0].PreviousOutPoint != prev || len(tx.TxOut) != 2 {
			t.Fatalf("hop %d (%s) does not spend the previous remainder %v with one input and two outputs", i+1, h.Txid, prev)
		}
		pays(h.Txid, h.PeelVout, h.PeelAddress, h.PeelValue)
		pays(h.Txid, h.RemainderVout, h.RemainderAddress, h.RemainderValue)
		if h.PeelVout == h.RemainderVout || h.PeelValue >= h.RemainderValue {
			t.Fatalf("hop %d: peel %d at %d, remainder %d at %d", h.Hop, h.PeelValue, h.PeelVout, h.RemainderValue, h.RemainderVout)
		}
		if ix.walletOf[h.RemainderAddress] != rw.Attacker || ix.walletOf[h.PeelAddress] != h.PeelOwner {
			t.Fatalf("hop %d: remainder to %s, peel to %s (%s)", h.Hop, ix.walletOf[h.RemainderAddress], ix.walletOf[h.PeelAddress], h.PeelOwner)
		}
		if r := ix.tx[h.Txid]; !slices.Equal(r.ChangeVouts, []uint32{h.RemainderVout}) {
			t.Fatalf("hop %d: change %v, want the remainder %d", h.Hop, r.ChangeVouts, h.RemainderVout)
		}
		isDeposit := slices.Contains(ix.wallet["exchange"].DepositAddresses, h.PeelAddress)
		if h.ToExchange != isDeposit || (h.ToExchange && h.PeelOwner != "exchange") {
			t.Fatalf("hop %d: to_exchange %v but deposit address %v", h.Hop, h.ToExchange, isDeposit)
		}
		if h.ToExchange {
			toEx++
		}
		prev = op(h.Txid, h.RemainderVout)
	}
	if toEx < 2 || toEx != par.ExchangePeels || toEx == len(rw.PeelChain) {
		t.Fatalf("%d peels to the exchange of %d", toEx, len(rw.PeelChain))
	}

	// Deposits are those peels, and the exchange swept every one into its
	// hot wallet.
	if len(rw.ExchangeDeposits) != toEx || len(rw.ExchangeSweepTxids) == 0 {
		t.Fatalf("%d deposits, %d sweeps", len(rw.ExchangeDeposits), len(rw.ExchangeSweepTxids))
	}
	ex := ix.wallet["exchange"]
	for _, d := range rw.ExchangeDeposits {
		pays(d.Txid, d.Vout, d.Address, d.Value)
		if !slices.Contains(rw.ExchangeSweepTxids, d.SweepTxid) {
			t.Fatalf("deposit %+v: sweep not listed", d)
		}
		if !slices.ContainsFunc(ex.Customers, func(c Customer) bool { return c.Wallet == d.Customer && c.DepositAddress == d.Address }) {
			t.Fatalf("deposit %+v: address is not the customer's deposit address", d)
		}
		if by := st.spentBy[op(d.Txid, d.Vout)]; chainhash.Hash(by).String() != d.SweepTxid {
			t.Fatalf("deposit %s:%d is spent by %s, truth says %s", d.Txid, d.Vout, chainhash.Hash(by), d.SweepTxid)
		}
		sw := txOf(d.SweepTxid)
		kind(d.SweepTxid, "sweep", "exchange")
		for _, o := range sw.TxOut {
			if a := addrOf(t, o.PkScript); !slices.Contains(ex.HotWallet, a) {
				t.Fatalf("sweep %s pays %s, not the hot wallet", d.SweepTxid, a)
			}
		}
	}

	// CoinJoin: the last remainder enters it; ≥ 5 equal outputs.
	cj := rw.CoinJoin
	tx := txOf(cj.Txid)
	kind(cj.Txid, "coinjoin", cj.Coordinator)
	if cj.AttackerInput != (Outpoint{Txid: prev.Hash.String(), Vout: prev.Index}) {
		t.Fatalf("coinjoin attacker input %+v, last remainder %v", cj.AttackerInput, prev)
	}
	found := false
	for _, in := range tx.TxIn {
		found = found || in.PreviousOutPoint == prev
	}
	if !found || len(tx.TxIn) < 5 || cj.Participants != len(tx.TxIn) {
		t.Fatalf("coinjoin has %d inputs (participants %d), spends remainder: %v", len(tx.TxIn), cj.Participants, found)
	}
	equal := 0
	for _, o := range tx.TxOut {
		if uint64(o.Value) == cj.Denomination {
			equal++
		}
	}
	if equal < 5 || equal != cj.Participants || cj.Denomination != 10_000_000 {
		t.Fatalf("coinjoin has %d outputs of %d", equal, cj.Denomination)
	}
	kinds := map[string]int{}
	for _, o := range cj.AttackerOutputs {
		pays(cj.Txid, o.Vout, o.Address, o.Value)
		if ix.walletOf[o.Address] != rw.Attacker {
			t.Fatalf("coinjoin attacker output %+v is not the attacker's", o)
		}
		kinds[o.Kind]++
	}
	if kinds["denomination"] != 1 || kinds["change"] != 1 {
		t.Fatalf("attacker outputs %+v", cj.AttackerOutputs)
	}
	if r := ix.tx[cj.Txid]; len(r.ChangeVouts) != cj.Participants {
		t.Fatalf("coinjoin change vouts %v for %d participants", r.ChangeVouts, cj.Participants)
	}

	// The story happens inside the economy: background before and after.
	h0, h1 := st.heightOf[chainTxKey(ransomOps[0].Hash)], ix.tx[cj.Txid].Height
	before, after := 0, 0
	for _, r := range ix.Transactions {
		if r.Kind != "coinbase" && !slices.Contains([]string{"victim", "attacker", "coinjoin"}, ix.kindOf[r.Wallet]) {
			if r.Height < h0 {
				before++
			}
			if r.Height > h1 {
				after++
			}
		}
	}
	if before < 100 || after < 100 {
		t.Fatalf("%d background transactions before the first ransom, %d after the coinjoin", before, after)
	}
	t.Logf("%d victims paid %d sats; %d hops, %d to the exchange; coinjoin %s at %d; background %d before, %d after",
		len(rw.RansomPayments), ransomTotal, len(rw.PeelChain), toEx, cj.Txid, cj.Height, before, after)
}

// TestSmallestConfigurations generates the smallest allowed chains for
// several seeds: the ransomware story must complete inside a short
// economy, and the chains must replay.
func TestSmallestConfigurations(t *testing.T) {
	for seed := uint64(100); seed < 106; seed++ {
		for _, cfg := range []Config{
			{Seed: seed, Scenario: Ransomware, Txs: MinRansomwareTxs},
			{Seed: seed, Txs: MinTxs, Truth: true},
		} {
			dir, res := generateForTest(t, cfg)
			st := replayChain(t, readBlockFiles(t, dir, res.Files))
			checkTruth(t, res, st)
			if res.BackgroundTxs != cfg.Txs {
				t.Fatalf("seed %d %q: %d background transactions, want %d", seed, cfg.Scenario, res.BackgroundTxs, cfg.Txs)
			}
		}
	}
}
