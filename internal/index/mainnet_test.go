package index

import (
	"context"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func TestMainnetFirstBlocks(t *testing.T) {
	raw := mainnet(t)
	p := mustParams(t, chain.Mainnet)
	ix := openTemp(t, p)
	importBlocks(t, ix, raw, WriterOptions{BatchBytes: 1 << 20, Bulk: true})

	tip := ix.Tip()
	if tip.Height != 14131 || tip.Txs != 14132+115 {
		t.Fatalf("tip %d with %d txs, want 14131 with %d", tip.Height, tip.Txs, 14132+115)
	}
	b, err := ix.Block(170, true)
	if err != nil {
		t.Fatal(err)
	}
	if b.Hash != "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee" || b.TxCount != 2 || len(b.Txids) != 2 {
		t.Fatalf("block 170: %+v", b)
	}

	// The first transaction between people: Satoshi to Hal Finney.
	h, _ := chainhash.NewHashFromStr("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16")
	tx, err := ix.Tx(*h)
	if err != nil {
		t.Fatal(err)
	}
	if tx.BlockHeight != 170 || tx.BlockHash != b.Hash || !tx.Fee.IsZero() || len(tx.Inputs) != 1 || len(tx.Outputs) != 2 {
		t.Fatalf("tx 170: %+v", tx)
	}
	in := tx.Inputs[0]
	if in.PrevTxid != "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9" || in.PrevVout != 0 ||
		in.Address != "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S" || in.Value.String() != "5000000000" || in.ScriptType != chain.P2PK {
		t.Fatalf("input: %+v", in)
	}
	want := []struct {
		addr  string
		value string
	}{{"1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3", "1000000000"}, {"12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "4000000000"}}
	for i, w := range want {
		o := tx.Outputs[i]
		if o.Address != w.addr || o.Value.String() != w.value || o.ScriptType != chain.P2PK {
			t.Errorf("output %d: %+v, want %s %s p2pk", i, o, w.addr, w.value)
		}
	}

	// The P2PK outputs are in the history of their P2PKH address form.
	a, err := p.DecodeAddr("1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ix.AddressSummary(a, 0, 0, Oldest)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range s.Txs {
		if e.Txid == tx.Txid && e.Height == 170 && e.Received.String() == "1000000000" {
			found = true
		}
	}
	if !found {
		t.Fatalf("tx 170 not in the history of 1Q2TWHE3…: %+v", s)
	}

	rep, err := ix.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify: %+v", rep.Problems)
	}
	if rep.Txs != tip.Txs || rep.Blocks != 14132 {
		t.Fatalf("verify counted %d blocks %d txs", rep.Blocks, rep.Txs)
	}
}

// TestMainnetAgainstIndependentModel replays the same blocks through a plain
// in-memory model built only on btcd (wire decoding, txscript address
// extraction, its own txids) and compares every address's totals, tx count
// and unspent outputs with the index.
func TestMainnetAgainstIndependentModel(t *testing.T) {
	raw := mainnet(t)
	p := mustParams(t, chain.Mainnet)
	ix := openTemp(t, p)
	importBlocks(t, ix, raw, WriterOptions{})

	type out struct {
		addr  string
		value int64
	}
	type totals struct {
		recv, sent int64
		txs        map[chainhash.Hash]bool
	}
	utxo := map[wire.OutPoint]out{}
	addrs := map[string]*totals{}
	touch := func(a string, h chainhash.Hash) *totals {
		s := addrs[a]
		if s == nil {
			s = &totals{txs: map[chainhash.Hash]bool{}}
			addrs[a] = s
		}
		s.txs[h] = true
		return s
	}
	addrOf := func(script []byte) string {
		_, as, _, err := txscript.ExtractPkScriptAddrs(script, &chaincfg.MainNetParams)
		if err != nil || len(as) != 1 {
			return ""
		}
		if pk, ok := as[0].(*btcutil.AddressPubKey); ok {
			return pk.AddressPubKeyHash().EncodeAddress()
		}
		return as[0].EncodeAddress()
	}
	for _, r := range raw {
		blk, err := btcutil.NewBlockFromBytes(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range blk.Transactions() {
			h := *tx.Hash()
			for i, in := range tx.MsgTx().TxIn {
				if i == 0 && tx.Index() == 0 {
					break // coinbase
				}
				o, ok := utxo[in.PreviousOutPoint]
				if !ok {
					t.Fatalf("model: %s spends unknown %v", h, in.PreviousOutPoint)
				}
				delete(utxo, in.PreviousOutPoint)
				touch(o.addr, h).sent += o.value
			}
			for j, o := range tx.MsgTx().TxOut {
				a := addrOf(o.PkScript)
				if a == "" {
					t.Fatalf("model: output %s:%d has no single address", h, j)
				}
				utxo[wire.OutPoint{Hash: h, Index: uint32(j)}] = out{a, o.Value}
				touch(a, h).recv += o.Value
			}
		}
	}
	unspent := map[string]int{}
	for _, o := range utxo {
		unspent[o.addr]++
	}
	if AddrID(len(addrs)) != ix.Tip().NextAddr-1 {
		t.Fatalf("model has %d addresses, index %d", len(addrs), ix.Tip().NextAddr-1)
	}
	for a, m := range addrs {
		ad, err := p.DecodeAddr(a)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ix.AddressSummary(ad, 0, 1, Oldest)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if s.TotalReceived.String() != chain.Sats(uint64(m.recv)).String() ||
			s.TotalSent.String() != chain.Sats(uint64(m.sent)).String() ||
			s.TxCount != len(m.txs) || s.UnspentCount != unspent[a] {
			t.Fatalf("%s: index recv %s sent %s txs %d unspent %d; model %d %d %d %d",
				a, s.TotalReceived, s.TotalSent, s.TxCount, s.UnspentCount, m.recv, m.sent, len(m.txs), unspent[a])
		}
	}
}

func TestRollbackRestoresExactState(t *testing.T) {
	raw := mainnet(t)[:3000]
	p := mustParams(t, chain.Mainnet)

	short := openTemp(t, p)
	importBlocks(t, short, raw[:2000], WriterOptions{})
	want := dump(t, short)

	ix := openTemp(t, p)
	importBlocks(t, ix, raw, WriterOptions{BatchBytes: 256 << 10, Bulk: true})
	full := dump(t, ix)
	w, err := ix.NewWriter(WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Rollback(1999); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, ix); got != want {
		t.Fatal("state after rollback to 1999 differs from a fresh import to 1999")
	}
	if rep, err := ix.Verify(context.Background(), nil); err != nil || !rep.OK() {
		t.Fatalf("verify after rollback: %v %+v", err, rep)
	}
	importBlocks(t, ix, raw[2000:], WriterOptions{})
	if got := dump(t, ix); got != full {
		t.Fatal("state after re-adding blocks differs from the full import")
	}
}

// TestChunksAboveTipAreDropped plays a crash between an ingested table of
// chunks and the batch that carries their tip: the next writer removes
// the chunks, and the index verifies and resumes.
func TestChunksAboveTipAreDropped(t *testing.T) {
	raw := mainnet(t)[:300]
	p := mustParams(t, chain.Mainnet)
	ix := openTemp(t, p)
	importBlocks(t, ix, raw[:200], WriterOptions{Bulk: true})
	want := dump(t, ix)
	// A chunk of height 200 and one far above, as an interrupted commit
	// would leave them.
	set(t, ix, chunkKey(nil, 200, 0), []byte("left by a crash"))
	set(t, ix, chunkKey(nil, 5000, 3), []byte("left by a crash"))
	w, err := ix.NewWriter(WriterOptions{Bulk: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, ix); got != want {
		t.Fatal("chunks above the tip were not removed")
	}
	importBlocks(t, ix, raw[200:], WriterOptions{Bulk: true})
	if rep, err := ix.Verify(context.Background(), nil); err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}
