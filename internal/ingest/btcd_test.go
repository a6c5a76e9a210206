package ingest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/btcdtest"
	"github.com/vestigo-forensics/vestigo/internal/btcrpc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// TestSyncFollowReorgAgainstBtcd syncs from a real btcd regtest node with
// transactions of several script types, follows new blocks, survives a
// reorganisation made with invalidateblock, and must equal the node's view.
func TestSyncFollowReorgAgainstBtcd(t *testing.T) {
	node := btcdtest.Start(t)
	node.Generate(t, 110)
	w := newTestWallet(t, node)
	w.payments(t, 6) // spends coinbases into P2PKH, P2WPKH, P2TR and multisig outputs
	node.Generate(t, 1)
	w.spendReceived(t) // spends some of those outputs again, with change
	node.Generate(t, 1)

	p := regtest(t)
	ix := openIndex(t, p)
	c, err := btcrpc.New(btcrpc.Config{URL: node.RPCURL, User: node.User, Pass: node.Pass})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := Sync(ctx, ix, c, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, height := node.BestBlock(t)
	if st.Tip.Height != height || st.Blocks != height+1 {
		t.Fatalf("synced to %d (%d blocks), node at %d", st.Tip.Height, st.Blocks, height)
	}
	compareWithNode(t, ix, node)

	// Follow: new blocks arrive, then a reorganisation replaces the top.
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var rolled int64
	go func() {
		st, err := Sync(fctx, ix, c, SyncOptions{Follow: true, Poll: 20 * time.Millisecond})
		if st != nil {
			rolled = st.RolledBack
		}
		done <- err
	}()
	w.payments(t, 2)
	node.Generate(t, 3)
	waitForTip(t, ix, node)

	oldTip, oldHeight := node.BestBlock(t)
	stale := blockHashAt(t, node, oldHeight-2)
	staleCoinbase := coinbaseTxid(t, node, stale)
	node.InvalidateBlock(t, stale)
	node.Generate(t, 5)
	newTip, newHeight := node.BestBlock(t)
	if newHeight != oldHeight+2 || newTip == oldTip {
		t.Fatalf("reorg did not happen: %d %s → %d %s", oldHeight, oldTip, newHeight, newTip)
	}
	waitForTip(t, ix, node)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow: %v", err)
	}
	if rolled != 3 {
		t.Errorf("rolled back %d blocks, want 3", rolled)
	}
	if _, err := ix.Record(staleCoinbase); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("coinbase %s of the stale block is still indexed: %v", staleCoinbase, err)
	}
	compareWithNode(t, ix, node)
	rep, err := ix.Verify(ctx, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func TestSyncRefusesAnotherNetwork(t *testing.T) {
	node := btcdtest.Start(t)
	ix := openIndex(t, mustParams(t, chain.Testnet))
	c, err := btcrpc.New(btcrpc.Config{URL: node.RPCURL, User: node.User, Pass: node.Pass})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sync(context.Background(), ix, c, SyncOptions{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("regtest")) {
		t.Fatalf("syncing a regtest node into a testnet index: %v", err)
	}
	if ix.Tip().Height != -1 {
		t.Fatal("index changed")
	}
}

func waitForTip(t *testing.T, ix *index.Index, node *btcdtest.Node) {
	t.Helper()
	want, _ := node.BestBlock(t)
	deadline := time.Now().Add(30 * time.Second)
	for ix.Tip().Hash != want {
		if time.Now().After(deadline) {
			t.Fatalf("index tip %d %s did not reach the node's %s", ix.Tip().Height, ix.Tip().Hash, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// compareWithNode checks every block hash, every transaction's outputs and
// inputs, and every touched address's transaction count against the node.
func compareWithNode(t *testing.T, ix *index.Index, node *btcdtest.Node) {
	t.Helper()
	_, height := node.BestBlock(t)
	if ix.Tip().Height != height {
		t.Fatalf("index at %d, node at %d", ix.Tip().Height, height)
	}
	addrs := map[string]bool{}
	for h := int64(0); h <= height; h++ {
		hash := blockHashAt(t, node, h)
		b, err := ix.Block(h, true)
		if err != nil {
			t.Fatal(err)
		}
		if b.Hash != hash.String() {
			t.Fatalf("height %d: index %s, node %s", h, b.Hash, hash)
		}
		var blk struct {
			RawTx []struct {
				Txid string `json:"txid"`
				Vin  []struct {
					Txid string `json:"txid"`
					Vout uint32 `json:"vout"`
				} `json:"vin"`
				Vout []struct {
					Value        json.Number `json:"value"`
					N            uint32      `json:"n"`
					ScriptPubKey struct {
						Hex     string `json:"hex"`
						Address string `json:"address"`
					} `json:"scriptPubKey"`
				} `json:"vout"`
			} `json:"rawtx"`
		}
		raw, err := node.Call(context.Background(), "getblock", hash.String(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &blk); err != nil {
			t.Fatal(err)
		}
		if len(blk.RawTx) != b.TxCount {
			t.Fatalf("height %d: %d txs in the index, %d at the node", h, b.TxCount, len(blk.RawTx))
		}
		for i, ntx := range blk.RawTx {
			if b.Txids[i] != ntx.Txid {
				t.Fatalf("height %d tx %d: %s vs %s", h, i, b.Txids[i], ntx.Txid)
			}
			txh, _ := chainhash.NewHashFromStr(ntx.Txid)
			tx, err := ix.Tx(*txh)
			if err != nil {
				t.Fatal(err)
			}
			for j, o := range ntx.Vout {
				got := tx.Outputs[j]
				sats, err := btcutil.NewAmount(mustFloat(t, o.Value))
				if err != nil {
					t.Fatal(err)
				}
				if got.Value.String() != fmt.Sprint(int64(sats)) {
					t.Fatalf("%s:%d value %s, node %s", ntx.Txid, j, got.Value, o.Value)
				}
				script, _ := hex.DecodeString(o.ScriptPubKey.Hex)
				_, a := btc.Classify(script)
				if want := ix.Params().EncodeAddr(a); got.Address != want {
					t.Fatalf("%s:%d address %s, want %s", ntx.Txid, j, got.Address, want)
				}
				if o.ScriptPubKey.Address != "" && got.ScriptType != chain.P2PK && got.Address != o.ScriptPubKey.Address {
					t.Fatalf("%s:%d address %s, node says %s", ntx.Txid, j, got.Address, o.ScriptPubKey.Address)
				}
				if o.ScriptPubKey.Address != "" {
					addrs[o.ScriptPubKey.Address] = true
				}
			}
			if !tx.Coinbase {
				for j, in := range ntx.Vin {
					if tx.Inputs[j].PrevTxid != in.Txid || tx.Inputs[j].PrevVout != in.Vout {
						t.Fatalf("%s input %d: %s:%d, node %s:%d", ntx.Txid, j, tx.Inputs[j].PrevTxid, tx.Inputs[j].PrevVout, in.Txid, in.Vout)
					}
				}
			}
		}
	}
	// btcd's address index lists every transaction that pays or spends an
	// address: the same set as the index's history.
	for a := range addrs {
		raw, err := node.Call(context.Background(), "searchrawtransactions", a, 0, 0, 100000)
		var txs []string
		if err == nil {
			err = json.Unmarshal(raw, &txs)
		}
		if err != nil {
			t.Fatalf("searchrawtransactions %s: %v", a, err)
		}
		addr, err := ix.Params().DecodeAddr(a)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ix.AddressSummary(addr, 0, 0, index.Oldest)
		if err != nil {
			t.Fatal(err)
		}
		if s.TxCount != len(txs) {
			t.Fatalf("address %s: %d txs in the index, %d at the node", a, s.TxCount, len(txs))
		}
	}
}

func mustFloat(t *testing.T, n json.Number) float64 {
	t.Helper()
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func coinbaseTxid(t *testing.T, node *btcdtest.Node, hash chainhash.Hash) chainhash.Hash {
	t.Helper()
	raw, err := node.Call(context.Background(), "getblock", hash.String(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Tx []string `json:"tx"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || len(b.Tx) == 0 {
		t.Fatalf("getblock: %v", err)
	}
	h, _ := chainhash.NewHashFromStr(b.Tx[0])
	return *h
}

// testWallet spends the node's mining rewards with real signatures.
type testWallet struct {
	node    *btcdtest.Node
	key     *btcec.PrivateKey
	next    int64 // next coinbase height to spend
	keys    []*btcec.PrivateKey
	unspent []coin
}

type coin struct {
	op     wire.OutPoint
	value  int64
	script []byte
	key    *btcec.PrivateKey
	kind   chain.ScriptType
}

func newTestWallet(t *testing.T, node *btcdtest.Node) *testWallet {
	return &testWallet{node: node, key: btcdtest.MiningKey(), next: 1}
}

func (w *testWallet) newKey(i int) *btcec.PrivateKey {
	seed := chainhash.HashB([]byte(fmt.Sprintf("ingest test key %d", i)))
	k, _ := btcec.PrivKeyFromBytes(seed)
	w.keys = append(w.keys, k)
	return k
}

// payments spends n matured coinbases, each into outputs of every kind.
func (w *testWallet) payments(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		h := w.next
		w.next++
		cb := coinbaseTxid(t, w.node, blockHashAt(t, w.node, h))
		prevScript := p2pkh(t, w.key)
		value := int64(btc.Subsidy(regtestParams(), h))
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: cb, Index: 0}, nil, nil))
		k1, k2, k3 := w.newKey(3*i), w.newKey(3*i+1), w.newKey(3*i+2)
		outs := []struct {
			script []byte
			key    *btcec.PrivateKey
			kind   chain.ScriptType
		}{{p2pkh(t, k1), k1, chain.P2PKH}, {p2wpkh(t, k2), k2, chain.P2WPKH}, {p2tr(t, k3), k3, chain.P2TR}, {multisig(t, k1, k2), nil, chain.BareMultisig}}
		each := (value - 10_000) / int64(len(outs))
		for _, o := range outs {
			tx.AddTxOut(wire.NewTxOut(each, o.script))
		}
		sig, err := txscript.SignatureScript(tx, 0, prevScript, txscript.SigHashAll, w.key, true)
		if err != nil {
			t.Fatal(err)
		}
		tx.TxIn[0].SignatureScript = sig
		w.send(t, tx)
		for j, o := range outs {
			if o.key != nil {
				w.unspent = append(w.unspent, coin{wire.OutPoint{Hash: tx.TxHash(), Index: uint32(j)}, each, o.script, o.key, o.kind})
			}
		}
	}
}

// spendReceived spends the received coins in pairs into a payment and change.
func (w *testWallet) spendReceived(t *testing.T) {
	t.Helper()
	for len(w.unspent) >= 2 {
		a, b := w.unspent[0], w.unspent[1]
		w.unspent = w.unspent[2:]
		tx := wire.NewMsgTx(2)
		fetcher := txscript.NewMultiPrevOutFetcher(nil)
		for _, c := range []coin{a, b} {
			tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
			fetcher.AddPrevOut(c.op, wire.NewTxOut(c.value, c.script))
		}
		total := a.value + b.value - 5_000
		pay := w.newKey(1000 + len(w.keys))
		tx.AddTxOut(wire.NewTxOut(total/3, p2wpkh(t, pay)))
		tx.AddTxOut(wire.NewTxOut(total-total/3, a.script)) // change back to the first input's address
		hashes := txscript.NewTxSigHashes(tx, fetcher)
		for i, c := range []coin{a, b} {
			switch c.kind {
			case chain.P2PKH:
				sig, err := txscript.SignatureScript(tx, i, c.script, txscript.SigHashAll, c.key, true)
				if err != nil {
					t.Fatal(err)
				}
				tx.TxIn[i].SignatureScript = sig
			case chain.P2WPKH:
				wit, err := txscript.WitnessSignature(tx, hashes, i, c.value, c.script, txscript.SigHashAll, c.key, true)
				if err != nil {
					t.Fatal(err)
				}
				tx.TxIn[i].Witness = wit
			case chain.P2TR:
				wit, err := txscript.TaprootWitnessSignature(tx, hashes, i, c.value, c.script, txscript.SigHashDefault, c.key)
				if err != nil {
					t.Fatal(err)
				}
				tx.TxIn[i].Witness = wit
			}
		}
		w.send(t, tx)
	}
}

func (w *testWallet) send(t *testing.T, tx *wire.MsgTx) {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := w.node.Call(context.Background(), "sendrawtransaction", hex.EncodeToString(buf.Bytes())); err != nil {
		t.Fatalf("sendrawtransaction %s: %v", tx.TxHash(), err)
	}
}

func p2pkh(t *testing.T, k *btcec.PrivateKey) []byte {
	a, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	return script(t, a, err)
}

func p2wpkh(t *testing.T, k *btcec.PrivateKey) []byte {
	a, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	return script(t, a, err)
}

func p2tr(t *testing.T, k *btcec.PrivateKey) []byte {
	out := txscript.ComputeTaprootKeyNoScript(k.PubKey())
	a, err := btcutil.NewAddressTaproot(out.SerializeCompressed()[1:], &chaincfg.RegressionNetParams)
	return script(t, a, err)
}

func multisig(t *testing.T, k1, k2 *btcec.PrivateKey) []byte {
	a1, _ := btcutil.NewAddressPubKey(k1.PubKey().SerializeCompressed(), &chaincfg.RegressionNetParams)
	a2, _ := btcutil.NewAddressPubKey(k2.PubKey().SerializeCompressed(), &chaincfg.RegressionNetParams)
	s, err := txscript.MultiSigScript([]*btcutil.AddressPubKey{a1, a2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func script(t *testing.T, a btcutil.Address, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	s, err := txscript.PayToAddrScript(a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func blockHashAt(t *testing.T, node *btcdtest.Node, h int64) chainhash.Hash {
	t.Helper()
	raw, err := node.Call(context.Background(), "getblockhash", h)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	hash, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *hash
}

// TestSyncKeepsBlocksOfANodeBehind syncs an index from one node, then from
// a second node that holds only the first blocks of the same chain: the
// index must keep its blocks (the second node is behind, not reorganised).
func TestSyncKeepsBlocksOfANodeBehind(t *testing.T) {
	ahead := btcdtest.Start(t)
	ahead.Generate(t, 20)
	behind := btcdtest.Start(t)
	for h := int64(1); h <= 12; h++ {
		raw, err := ahead.Call(context.Background(), "getblock", blockHashAt(t, ahead, h).String(), 0)
		if err != nil {
			t.Fatal(err)
		}
		var hexBlock string
		if err := json.Unmarshal(raw, &hexBlock); err != nil {
			t.Fatal(err)
		}
		b, _ := hex.DecodeString(hexBlock)
		if err := behind.SubmitBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	ix := openIndex(t, regtest(t))
	for _, n := range []*btcdtest.Node{ahead, behind} {
		c, err := btcrpc.New(btcrpc.Config{URL: n.RPCURL, User: n.User, Pass: n.Pass})
		if err != nil {
			t.Fatal(err)
		}
		st, err := Sync(context.Background(), ix, c, SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n == behind && (st.RolledBack != 0 || st.SourceBehind != 12 || st.Tip.Height != 20) {
			t.Fatalf("sync from a node behind: rolled back %d, source behind %d, tip %d", st.RolledBack, st.SourceBehind, st.Tip.Height)
		}
	}
}
