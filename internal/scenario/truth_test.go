package scenario

import (
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// truthIndex is a loaded ground truth with lookups.
type truthIndex struct {
	*Truth
	walletOf map[string]string       // address -> wallet id
	kindOf   map[string]string       // wallet id -> kind
	wallet   map[string]*TruthWallet // wallet id -> wallet
	tx       map[string]*TruthTx     // txid -> record
}

func addrOf(t testing.TB, pkScript []byte) string {
	t.Helper()
	p, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	typ, a := btc.Classify(pkScript)
	if typ == chain.OpReturn {
		return ""
	}
	return p.EncodeAddr(a)
}

// checkTruth loads the ground truth of res and checks it against the
// replayed chain: every transaction in chain order, every output's owner
// holding the output's address, exact fees, change outputs owned by the
// creator, inputs owned by the creator (but in a CoinJoin), and the
// exchange's deposit and hot-wallet lists.
func checkTruth(t testing.TB, res *Result, st *chainStats) *truthIndex {
	t.Helper()
	tr, err := LoadTruth(res.TruthFile)
	if err != nil {
		t.Fatal(err)
	}
	if tr.TipHash != res.TipHash.String() || tr.TipHeight != res.TipHeight || tr.TxCount != res.Txs || tr.Network != "regtest" {
		t.Fatalf("truth header %s/%d/%d/%s does not match the result %s/%d/%d", tr.TipHash, tr.TipHeight, tr.TxCount, tr.Network,
			res.TipHash, res.TipHeight, res.Txs)
	}
	ix := &truthIndex{Truth: tr, walletOf: map[string]string{}, kindOf: map[string]string{}, wallet: map[string]*TruthWallet{}, tx: map[string]*TruthTx{}}
	kinds := []string{"user", "merchant", "miner", "exchange", "external", "attacker", "victim", "coinjoin"}
	for i := range tr.Wallets {
		w := &tr.Wallets[i]
		if !slices.Contains(kinds, w.Kind) {
			t.Fatalf("wallet %s has kind %q", w.ID, w.Kind)
		}
		if _, dup := ix.wallet[w.ID]; dup {
			t.Fatalf("wallet %s listed twice", w.ID)
		}
		ix.wallet[w.ID] = w
		ix.kindOf[w.ID] = w.Kind
		for _, a := range w.Addresses {
			if o, dup := ix.walletOf[a]; dup {
				t.Fatalf("address %s belongs to %s and %s", a, o, w.ID)
			}
			ix.walletOf[a] = w.ID
		}
	}
	ex := ix.wallet["exchange"]
	if ex == nil || ex.Kind != "exchange" || len(ex.HotWallet) == 0 || len(ex.DepositAddresses) == 0 {
		t.Fatalf("no exchange with hot wallet and deposit addresses: %+v", ex)
	}
	for _, a := range append(slices.Clone(ex.DepositAddresses), ex.HotWallet...) {
		if ix.walletOf[a] != "exchange" {
			t.Fatalf("exchange address %s is not listed as the exchange's", a)
		}
	}
	if len(ex.Customers) != len(ex.DepositAddresses) {
		t.Fatalf("%d customers for %d deposit addresses", len(ex.Customers), len(ex.DepositAddresses))
	}
	for _, c := range ex.Customers {
		if ix.wallet[c.Wallet] == nil || !slices.Contains(ex.DepositAddresses, c.DepositAddress) {
			t.Fatalf("customer %+v unknown", c)
		}
	}
	if len(tr.Transactions) != len(st.order) {
		t.Fatalf("truth has %d transactions, chain %d (without genesis)", len(tr.Transactions), len(st.order))
	}
	ownerOf := map[wire.OutPoint]string{}
	changes := 0
	for i := range tr.Transactions {
		r := &tr.Transactions[i]
		key := st.order[i]
		txid := chainhash.Hash(key)
		if r.Txid != txid.String() || r.Height != st.heightOf[key] {
			t.Fatalf("truth tx %d is %s at %d, chain has %s at %d", i, r.Txid, r.Height, txid, st.heightOf[key])
		}
		ix.tx[r.Txid] = r
		if ix.wallet[r.Wallet] == nil {
			t.Fatalf("tx %s: unknown wallet %q", r.Txid, r.Wallet)
		}
		outs := st.outputsOf[key]
		if len(r.Owners) != len(outs) {
			t.Fatalf("tx %s: %d owners for %d outputs", r.Txid, len(r.Owners), len(outs))
		}
		for k, o := range outs {
			a := addrOf(t, o.PkScript)
			switch {
			case r.Owners[k] == "" && a != "":
				t.Fatalf("tx %s output %d to %s has no owner", r.Txid, k, a)
			case r.Owners[k] != "" && ix.walletOf[a] != r.Owners[k]:
				t.Fatalf("tx %s output %d: owner %s, but address %s is %q's", r.Txid, k, r.Owners[k], a, ix.walletOf[a])
			}
			ownerOf[wire.OutPoint{Hash: txid, Index: uint32(k)}] = r.Owners[k]
		}
		if r.Kind != "coinbase" && r.Fee != st.fees[key] {
			t.Fatalf("tx %s: truth fee %d, chain fee %d", r.Txid, r.Fee, st.fees[key])
		}
		// Inputs: owned by the creator, except in a CoinJoin.
		tx := st.txAt[key]
		if r.Kind != "coinbase" {
			for _, in := range tx.TxIn {
				o := ownerOf[in.PreviousOutPoint]
				if r.Kind == "coinjoin" {
					if k := ix.kindOf[o]; k != "coinjoin" && k != "attacker" {
						t.Fatalf("coinjoin %s spends a coin of %s", r.Txid, o)
					}
				} else if o != r.Wallet {
					t.Fatalf("tx %s of %s spends a coin of %s", r.Txid, r.Wallet, o)
				}
			}
		}
		// Change: owned by the creator; other outputs are someone else's.
		if r.ChangeVouts == nil {
			t.Fatalf("tx %s: change_vouts is null, want a list", r.Txid)
		}
		for _, v := range r.ChangeVouts {
			if int(v) >= len(outs) {
				t.Fatalf("tx %s: change vout %d of %d outputs", r.Txid, v, len(outs))
			}
			o := r.Owners[v]
			if r.Kind == "coinjoin" {
				if k := ix.kindOf[o]; k != "coinjoin" && k != "attacker" {
					t.Fatalf("coinjoin %s change to %s", r.Txid, o)
				}
			} else if o != r.Wallet {
				t.Fatalf("tx %s of %s: change vout %d is %s's", r.Txid, r.Wallet, v, o)
			}
		}
		changes += len(r.ChangeVouts)
		switch r.Kind {
		case "coinbase", "consolidation", "sweep":
			if len(r.ChangeVouts) != 0 {
				t.Fatalf("%s %s has change %v", r.Kind, r.Txid, r.ChangeVouts)
			}
			for k, o := range r.Owners {
				if o != r.Wallet && o != "" {
					t.Fatalf("%s %s output %d goes to %s", r.Kind, r.Txid, k, o)
				}
			}
		case "payment", "batch", "deposit", "withdrawal", "ransom", "peel":
			for k, o := range r.Owners {
				if !slices.Contains(r.ChangeVouts, uint32(k)) && o == r.Wallet {
					t.Fatalf("%s %s: output %d pays the creator %s but is not change", r.Kind, r.Txid, k, o)
				}
			}
		case "coinjoin":
		default:
			t.Fatalf("tx %s has kind %q", r.Txid, r.Kind)
		}
	}
	if changes == 0 {
		t.Fatal("no change outputs at all")
	}
	return ix
}
