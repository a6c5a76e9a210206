package scenario

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// coin is an unspent output seen while replaying a chain.
type coin struct {
	out      *wire.TxOut
	height   int64
	coinbase bool
}

// chainStats is what replaying a chain found.
type chainStats struct {
	blocks, txs      int
	outTypes         map[chain.ScriptType]int // outputs by class
	inTypes          map[chain.ScriptType]int // spent outputs by class
	lockTimes        int                      // transactions with a nonzero nLockTime
	maxTxsInBlock    int
	fees             map[chainTxKey]uint64
	outputsOf        map[chainTxKey][]*wire.TxOut
	spentBy          map[wire.OutPoint]chainTxKey
	txAt             map[chainTxKey]*wire.MsgTx
	heightOf         map[chainTxKey]int64
	order            []chainTxKey
	totalSubsidy     uint64
	totalCoinbaseOut uint64
}

type chainTxKey = [32]byte

// replayChain validates a generated chain the way a full node would, as
// far as that is possible offline, and fails the test on the first
// violation:
//
//   - every record decodes (btc.DecodeBlock checks the merkle root), meets
//     its proof of work (btc.CheckProofOfWork) and links to its parent;
//   - btcd's own context-free block checks pass (blockchain.CheckBlockSanity:
//     coinbase, duplicate txids, legacy sigops) and its witness commitment
//     check (blockchain.ValidateWitnessCommitment);
//   - the coinbase starts with the BIP34 height exactly as btcd encodes it,
//     its script is 2–100 bytes, and it pays at most subsidy + fees;
//   - timestamps increase; the block version allows BIP34/65/66;
//   - weight ≤ 4,000,000 and sigop cost ≤ 80,000;
//   - every input spends an existing unspent output, coinbase outputs only
//     after 100 confirmations, and its script and signature verify with the
//     txscript engine under StandardVerifyFlags;
//   - every transaction pays a fee of at least 1 sat/vB, creates no output
//     below the dust limit but OP_RETURN ones, and is final (nLockTime below
//     the height, with a non-final sequence when nonzero).
func replayChain(t testing.TB, blocks [][]byte) *chainStats {
	t.Helper()
	p, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	st := &chainStats{
		outTypes:  map[chain.ScriptType]int{},
		inTypes:   map[chain.ScriptType]int{},
		fees:      map[chainTxKey]uint64{},
		outputsOf: map[chainTxKey][]*wire.TxOut{},
		spentBy:   map[wire.OutPoint]chainTxKey{},
		txAt:      map[chainTxKey]*wire.MsgTx{},
		heightOf:  map[chainTxKey]int64{},
	}
	utxos := map[wire.OutPoint]coin{}
	prev := *chaincfg.RegressionNetParams.GenesisHash
	prevTime := chaincfg.RegressionNetParams.GenesisBlock.Header.Timestamp
	timeSource := blockchain.NewMedianTime()
	st.blocks = len(blocks)
	st.txs = 1
	for i, raw := range blocks[1:] {
		h := int64(i + 1)
		dec, err := btc.DecodeBlock(raw)
		if err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		if err := btc.CheckProofOfWork(&dec.Header, p); err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		if dec.Header.PrevBlock != prev {
			t.Fatalf("block %d: parent %s, want %s", h, dec.Header.PrevBlock, prev)
		}
		if !dec.Header.Timestamp.After(prevTime) {
			t.Fatalf("block %d: time %v not after %v", h, dec.Header.Timestamp, prevTime)
		}
		if dec.Header.Timestamp.After(time.Now()) {
			t.Fatalf("block %d: time %v is in the future", h, dec.Header.Timestamp)
		}
		if dec.Header.Version < 4 {
			t.Fatalf("block %d: version %d", h, dec.Header.Version)
		}
		prev, prevTime = dec.Hash, dec.Header.Timestamp
		if dec.Weight > 4_000_000 {
			t.Fatalf("block %d: weight %d", h, dec.Weight)
		}
		var msg wire.MsgBlock
		if err := msg.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		blk := btcutil.NewBlock(&msg)
		if err := blockchain.CheckBlockSanity(blk, chaincfg.RegressionNetParams.PowLimit, timeSource); err != nil {
			t.Fatalf("block %d: btcd sanity: %v", h, err)
		}
		if err := blockchain.ValidateWitnessCommitment(blk); err != nil {
			t.Fatalf("block %d: btcd witness commitment: %v", h, err)
		}
		if _, ok := blockchain.ExtractWitnessCommitment(blk.Transactions()[0]); !ok && blockHasWitness(&msg) {
			t.Fatalf("block %d: witness transactions without a commitment", h)
		}
		// BIP34, exactly as btcd checks it.
		cbs := msg.Transactions[0].TxIn[0].SignatureScript
		want, _ := txscript.NewScriptBuilder().AddInt64(h).Script()
		if !bytes.HasPrefix(cbs, want) || len(cbs) < 2 || len(cbs) > 100 {
			t.Fatalf("block %d: coinbase script %x does not start with the height push %x", h, cbs, want)
		}
		st.txs += len(msg.Transactions)
		st.maxTxsInBlock = max(st.maxTxsInBlock, len(msg.Transactions))
		var fees uint64
		sigops := 0
		for j, tx := range msg.Transactions {
			key := chainTxKey(dec.Txs[j].Txid)
			st.order = append(st.order, key)
			st.txAt[key] = tx
			st.heightOf[key] = h
			sigops += blockchain.CountSigOps(btcutil.NewTx(tx)) * 4
			if j > 0 {
				fee, wsig := checkSpend(t, h, tx, utxos, st)
				fees += fee
				sigops += wsig
				st.fees[key] = fee
			}
			for k, out := range tx.TxOut {
				typ, _ := btc.Classify(out.PkScript)
				st.outTypes[typ]++
				if typ != chain.OpReturn {
					utxos[wire.OutPoint{Hash: dec.Txs[j].Txid, Index: uint32(k)}] = coin{out: out, height: h, coinbase: j == 0}
				}
			}
			st.outputsOf[key] = tx.TxOut
		}
		if sigops > 80_000 {
			t.Fatalf("block %d: sigop cost %d", h, sigops)
		}
		var cbOut uint64
		for _, o := range msg.Transactions[0].TxOut {
			cbOut += uint64(o.Value)
		}
		sub := btc.Subsidy(p, h)
		if cbOut > sub+fees {
			t.Fatalf("block %d: coinbase pays %d > subsidy %d + fees %d", h, cbOut, sub, fees)
		}
		st.totalSubsidy += sub
		st.totalCoinbaseOut += cbOut
	}
	return st
}

func blockHasWitness(b *wire.MsgBlock) bool {
	for _, tx := range b.Transactions[1:] {
		if tx.HasWitness() {
			return true
		}
	}
	return false
}

// checkSpend validates one non-coinbase transaction at height h against
// the unspent outputs, removes what it spends and returns its fee and
// witness sigop cost.
func checkSpend(t testing.TB, h int64, tx *wire.MsgTx, utxos map[wire.OutPoint]coin, st *chainStats) (uint64, int) {
	t.Helper()
	txid := tx.TxHash()
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	var in uint64
	for _, ti := range tx.TxIn {
		c, ok := utxos[ti.PreviousOutPoint]
		if !ok {
			t.Fatalf("block %d tx %s spends %v, which is not unspent", h, txid, ti.PreviousOutPoint)
		}
		if c.coinbase && h-c.height < 100 {
			t.Fatalf("block %d tx %s spends a coinbase output of block %d: immature", h, txid, c.height)
		}
		fetcher.AddPrevOut(ti.PreviousOutPoint, c.out)
		in += uint64(c.out.Value)
	}
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	wsig := 0
	nonFinal := false
	for i, ti := range tx.TxIn {
		c := utxos[ti.PreviousOutPoint]
		vm, err := txscript.NewEngine(c.out.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, c.out.Value, fetcher)
		if err != nil {
			t.Fatalf("block %d tx %s input %d: %v", h, txid, i, err)
		}
		if err := vm.Execute(); err != nil {
			t.Fatalf("block %d tx %s input %d: script does not verify: %v", h, txid, i, err)
		}
		typ, _ := btc.Classify(c.out.PkScript)
		if typ == chain.P2SH {
			t.Fatalf("block %d tx %s spends P2SH: P2SH sigops are not counted by this check", h, txid)
		}
		st.inTypes[typ]++
		wsig += txscript.GetWitnessSigOpCount(ti.SignatureScript, c.out.PkScript, ti.Witness)
		st.spentBy[ti.PreviousOutPoint] = chainTxKey(txid)
		delete(utxos, ti.PreviousOutPoint)
		if ti.Sequence != wire.MaxTxInSequenceNum {
			nonFinal = true
		}
	}
	var out uint64
	for k, o := range tx.TxOut {
		typ, _ := btc.Classify(o.PkScript)
		if typ != chain.OpReturn && o.Value < 546 {
			t.Fatalf("block %d tx %s output %d: dust %d", h, txid, k, o.Value)
		}
		out += uint64(o.Value)
	}
	if out > in {
		t.Fatalf("block %d tx %s spends %d but pays %d", h, txid, in, out)
	}
	fee := in - out
	vsize := (blockchain.GetTransactionWeight(btcutil.NewTx(tx)) + 3) / 4
	if fee < uint64(vsize) {
		t.Fatalf("block %d tx %s: fee %d below 1 sat/vB (vsize %d)", h, txid, fee, vsize)
	}
	if tx.LockTime != 0 {
		st.lockTimes++
		if int64(tx.LockTime) >= h || !nonFinal {
			t.Fatalf("block %d tx %s: locktime %d with final=%v is not final", h, txid, tx.LockTime, !nonFinal)
		}
	}
	return fee, wsig
}

// generateForTest generates into a fresh temporary directory.
func generateForTest(t testing.TB, cfg Config) (string, *Result) {
	t.Helper()
	dir := t.TempDir()
	res, err := Generate(context.Background(), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

func TestDefaultChainIsValid(t *testing.T) {
	dir, res := generateForTest(t, Config{Seed: 1, Truth: true})
	blocks := readBlockFiles(t, dir, res.Files)
	st := replayChain(t, blocks)
	if st.blocks != res.Blocks || st.txs != res.Txs {
		t.Fatalf("chain has %d blocks and %d txs, result says %d and %d", st.blocks, st.txs, res.Blocks, res.Txs)
	}
	last, err := btc.DecodeBlock(blocks[len(blocks)-1])
	if err != nil {
		t.Fatal(err)
	}
	if last.Hash != res.TipHash || int64(len(blocks)-1) != res.TipHeight {
		t.Fatalf("tip %s at %d, result says %s at %d", last.Hash, len(blocks)-1, res.TipHash, res.TipHeight)
	}
	if res.BackgroundTxs != DefaultBaselineTxs || res.Txs != DefaultBaselineTxs+res.Blocks {
		t.Fatalf("%d background txs, %d in all for %d blocks; want %d + one coinbase per block",
			res.BackgroundTxs, res.Txs, res.Blocks, DefaultBaselineTxs)
	}
	// Every script class occurs, and every spendable class is spent.
	for _, typ := range []chain.ScriptType{chain.P2PK, chain.P2PKH, chain.P2SH, chain.P2WPKH, chain.P2WSH, chain.P2TR, chain.BareMultisig, chain.OpReturn} {
		if st.outTypes[typ] == 0 {
			t.Errorf("no %s output in the default chain", typ)
		}
	}
	for _, typ := range []chain.ScriptType{chain.P2PK, chain.P2PKH, chain.P2WPKH, chain.P2TR} {
		if st.inTypes[typ] == 0 {
			t.Errorf("no %s output is spent in the default chain", typ)
		}
	}
	for _, typ := range []chain.ScriptType{chain.NonStandard, chain.WitnessUnknown} {
		if st.outTypes[typ] != 0 {
			t.Errorf("%d %s outputs", st.outTypes[typ], typ)
		}
	}
	if st.lockTimes == 0 {
		t.Error("no transaction uses anti-fee-sniping lock times")
	}
	if st.totalCoinbaseOut <= st.totalSubsidy {
		t.Errorf("miners collected no fees: %d paid for %d subsidy", st.totalCoinbaseOut, st.totalSubsidy)
	}
	t.Logf("%d blocks, %d txs, outputs %v, spent %v, %d with locktime, at most %d txs per block",
		st.blocks, st.txs, st.outTypes, st.inTypes, st.lockTimes, st.maxTxsInBlock)
	checkRealism(t, checkTruth(t, res, st), st)
}

// checkRealism checks the behaviours the later heuristics and their error
// measurements rely on: every transaction kind occurs, address reuse and
// fresh change both occur, change sits at random positions, wallets mostly
// keep their script type, fee rates spread, payments are round and not,
// and some payments have no change.
func checkRealism(t *testing.T, ix *truthIndex, st *chainStats) {
	t.Helper()
	kinds := map[string]int{}
	changeFirst, changeLater, changeless := 0, 0, 0
	roundOut, otherOut := 0, 0
	bigCons, bigBatch := 0, 0
	minRate, maxRate := uint64(1<<62), uint64(0)
	received := map[string]int{}
	for _, r := range ix.Transactions {
		kinds[r.Kind]++
		h, _ := chainhash.NewHashFromStr(r.Txid)
		tx := st.txAt[chainTxKey(*h)]
		for k, o := range tx.TxOut {
			if a := addrOf(t, o.PkScript); a != "" {
				received[a]++
			}
			if r.Kind == "payment" && !slices.Contains(r.ChangeVouts, uint32(k)) && o.Value > 0 {
				if o.Value%100_000 == 0 {
					roundOut++
				} else {
					otherOut++
				}
			}
		}
		if r.Kind == "coinbase" {
			continue
		}
		if len(r.ChangeVouts) == 1 && len(tx.TxOut) >= 2 {
			if r.ChangeVouts[0] == 0 {
				changeFirst++
			} else {
				changeLater++
			}
		}
		if r.Kind == "payment" && len(r.ChangeVouts) == 0 {
			changeless++
		}
		if r.Kind == "consolidation" && len(tx.TxIn) >= 10 {
			bigCons++
		}
		if (r.Kind == "batch" || r.Kind == "withdrawal") && len(tx.TxOut) >= 10 {
			bigBatch++
		}
		vsize := uint64(blockchain.GetTransactionWeight(btcutil.NewTx(tx))+3) / 4
		rate := r.Fee / vsize
		minRate, maxRate = min(minRate, rate), max(maxRate, rate)
	}
	for _, k := range []string{"coinbase", "payment", "batch", "consolidation", "deposit", "sweep", "withdrawal"} {
		if kinds[k] == 0 {
			t.Errorf("no %s transaction", k)
		}
	}
	reused := 0
	for _, n := range received {
		if n >= 2 {
			reused++
		}
	}
	sameType, users := 0, 0
	for _, w := range ix.Wallets {
		if w.Kind != "user" || w.MixedTypes || w.MatchesChangeType {
			continue
		}
		for _, a := range w.Addresses {
			users++
			if typ, _ := classifyAddr(t, a); typ == w.ScriptType {
				sameType++
			}
		}
	}
	t.Logf("kinds %v; change first %d / later %d; changeless payments %d; round %d / other %d; "+
		"consolidations ≥10 inputs %d, batches ≥10 outputs %d; fee rates %d–%d sat/vB; %d reused addresses; %d/%d user addresses of the wallet's type",
		kinds, changeFirst, changeLater, changeless, roundOut, otherOut, bigCons, bigBatch, minRate, maxRate, reused, sameType, users)
	switch {
	case changeFirst*4 < changeFirst+changeLater || changeLater*4 < changeFirst+changeLater:
		t.Error("change position is not random")
	case changeless == 0:
		t.Error("no payment without change")
	case roundOut*10 < roundOut+otherOut || otherOut*3 < roundOut+otherOut:
		t.Error("payments are not a mix of round and other amounts")
	case bigCons == 0 || bigBatch == 0:
		t.Error("no large consolidation or batch payout")
	case minRate > 2 || maxRate < 30:
		t.Error("fee rates do not spread")
	case reused < 100:
		t.Error("too little address reuse")
	case sameType != users:
		t.Error("single-type wallets use other types")
	}
}

// classifyAddr decodes a regtest address and returns its script type.
func classifyAddr(t *testing.T, s string) (chain.ScriptType, btc.Addr) {
	t.Helper()
	p, _ := btc.ParamsFor(chain.Regtest)
	a, err := p.DecodeAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	switch a.Kind {
	case btc.KindPubKeyHash:
		return chain.P2PKH, a
	case btc.KindWitnessV0Key:
		return chain.P2WPKH, a
	case btc.KindTaproot:
		return chain.P2TR, a
	case btc.KindScriptHash:
		return chain.P2SH, a
	case btc.KindWitnessV0Sc:
		return chain.P2WSH, a
	}
	return chain.NonStandard, a
}
