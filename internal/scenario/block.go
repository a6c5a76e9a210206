package scenario

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/btc"
)

const (
	blockVersion     = 0x20000000 // BIP9 base version, as Core mines
	regtestBits      = 0x207fffff
	coinbaseMaturity = 100
	maxBlockFileSize = 128 << 20 // Bitcoin Core's MAX_BLOCKFILE_SIZE
)

// blockPlan is the block being built.
type blockPlan struct {
	height   int32
	time     int64
	txs      []*txb
	newAddrs []*addrInfo
	weight   int
	sigops   int
	fees     uint64
	miner    *wallet
	payout   *addrInfo
}

// parallel runs fn(0..n-1) on up to workers goroutines. fn must only touch
// item i's own data.
func parallel(n, workers int, fn func(i int)) {
	if workers <= 1 || n < 2 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// sign fills the output scripts of t, signs every input and serializes
// the transaction.
func (g *generator) sign(t *txb) error {
	for i, a := range t.outAddr {
		if a != nil {
			t.msg.TxOut[i].PkScript = a.script
		}
	}
	var fetcher *txscript.MultiPrevOutFetcher
	var hashes *txscript.TxSigHashes
	for _, p := range t.prev {
		if p.addr.typ == stP2WPKH || p.addr.typ == stP2TR {
			fetcher = txscript.NewMultiPrevOutFetcher(make(map[wire.OutPoint]*wire.TxOut, len(t.prev)))
			for i, q := range t.prev {
				fetcher.AddPrevOut(t.msg.TxIn[i].PreviousOutPoint, &wire.TxOut{Value: int64(q.value), PkScript: q.addr.script})
			}
			hashes = txscript.NewTxSigHashes(&t.msg, fetcher)
			break
		}
	}
	for i, in := range t.msg.TxIn {
		p := t.prev[i]
		a := p.addr
		switch a.typ {
		case stP2PKH, stP2PK:
			sig, err := txscript.RawTxInSignature(&t.msg, i, a.script, txscript.SigHashAll, &a.key)
			if err != nil {
				return fmt.Errorf("scenario: sign input %d: %w", i, err)
			}
			b := txscript.NewScriptBuilder(txscript.WithScriptAllocSize(len(sig) + len(a.pub) + 2)).AddData(sig)
			if a.typ == stP2PKH {
				b.AddData(a.pub)
			}
			s, err := b.Script()
			if err != nil {
				return fmt.Errorf("scenario: sign input %d: %w", i, err)
			}
			in.SignatureScript = s
		case stP2WPKH:
			sig, err := txscript.RawTxInWitnessSignature(&t.msg, hashes, i, int64(p.value), a.script, txscript.SigHashAll, &a.key)
			if err != nil {
				return fmt.Errorf("scenario: sign input %d: %w", i, err)
			}
			in.Witness = wire.TxWitness{sig, a.pub}
		case stP2TR:
			// Key-path spend with SIGHASH_DEFAULT (64-byte signature). The
			// key is already BIP86-tweaked (see addrInfo.derive), so this is
			// txscript.RawTxInTaprootSignature minus its re-tweak and its
			// verification: every signature is verified by the tests.
			h, err := txscript.CalcTaprootSignatureHash(hashes, txscript.SigHashDefault, &t.msg, i, fetcher)
			if err != nil {
				return fmt.Errorf("scenario: sign input %d: %w", i, err)
			}
			sig, err := schnorr.Sign(&a.key, h, schnorr.FastSign())
			if err != nil {
				return fmt.Errorf("scenario: sign input %d: %w", i, err)
			}
			in.Witness = wire.TxWitness{sig.Serialize()}
		default:
			return fmt.Errorf("scenario: input %d spends an output of type %d the generator cannot sign", i, a.typ)
		}
	}
	var buf bytes.Buffer
	buf.Grow(t.msg.SerializeSize())
	if err := t.msg.Serialize(&buf); err != nil {
		return fmt.Errorf("scenario: serialize: %w", err)
	}
	t.raw = buf.Bytes()
	t.txid = t.msg.TxHash()
	t.witness = t.msg.HasWitness()
	if t.witness {
		t.wtxid = chainhash.DoubleHashH(t.raw)
	} else {
		t.wtxid = t.txid
	}
	return nil
}

// coinbase builds the coinbase of the block: BIP34 height, the miner's
// tag, the reward to the miner's address and the witness commitment.
func (g *generator) coinbase(b *blockPlan, wtxids []chainhash.Hash) (*txb, error) {
	tag := []byte("/vestigo " + b.miner.id + "/")
	sig, err := txscript.NewScriptBuilder().AddInt64(int64(b.height)).AddData(tag).Script()
	if err != nil {
		return nil, fmt.Errorf("scenario: coinbase script: %w", err)
	}
	reward := btc.Subsidy(g.p, int64(b.height)) + b.fees
	t := &txb{wallet: b.miner.idx, kind: txCoinbase}
	t.msg.Version = 2
	t.msg.TxIn = []*wire.TxIn{{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  sig,
		Sequence:         wire.MaxTxInSequenceNum,
		Witness:          wire.TxWitness{make([]byte, 32)}, // the witness reserved value
	}}
	// Witness commitment: SHA256d(witness merkle root || reserved value),
	// where the coinbase's own wtxid counts as zero.
	wtxids[0] = chainhash.Hash{}
	root := btc.MerkleRoot(wtxids)
	var pre [64]byte
	copy(pre[:32], root[:])
	commitment := chainhash.DoubleHashB(pre[:])
	cs := make([]byte, 0, 38)
	cs = append(cs, txscript.OP_RETURN, txscript.OP_DATA_36, 0xaa, 0x21, 0xa9, 0xed)
	cs = append(cs, commitment...)
	t.msg.TxOut = []*wire.TxOut{
		{Value: int64(reward), PkScript: b.payout.script},
		{Value: 0, PkScript: cs},
	}
	t.outAddr = []*addrInfo{b.payout, nil}
	var buf bytes.Buffer
	if err := t.msg.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("scenario: serialize coinbase: %w", err)
	}
	t.raw = buf.Bytes()
	t.txid = t.msg.TxHash()
	t.witness = true
	return t, nil
}

// finishBlock derives the block's new keys, signs its transactions, adds
// the coinbase, mines the header and writes the block. It returns the
// block's transactions in order, coinbase first.
func (g *generator) finishBlock() ([]*txb, error) {
	b := g.blk
	workers := g.workers
	// Keys are derived in chunks that share field inversions; the chunking
	// does not change any result.
	chunk := min(max(len(b.newAddrs)/(4*workers), 8), 128)
	parallel((len(b.newAddrs)+chunk-1)/chunk, workers, func(i int) {
		deriveChunk(b.newAddrs[i*chunk:min((i+1)*chunk, len(b.newAddrs))], g.seed, g.p, g.wantStr)
	})
	// Order like a miner: highest fee rate first (no transaction spends
	// another of the same block, so any order is valid).
	slices.SortStableFunc(b.txs, func(x, y *txb) int {
		if c := cmp.Compare(y.fee*uint64(x.weight), x.fee*uint64(y.weight)); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	errs := make([]error, len(b.txs))
	parallel(len(b.txs), workers, func(i int) { errs[i] = g.sign(b.txs[i]) })
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("scenario: block %d tx %d: %w", b.height, i+1, err)
		}
	}
	txids := make([]chainhash.Hash, len(b.txs)+1)
	wtxids := make([]chainhash.Hash, len(b.txs)+1)
	size := 80 + 5
	for i, t := range b.txs {
		txids[i+1], wtxids[i+1] = t.txid, t.wtxid
		size += len(t.raw)
	}
	cb, err := g.coinbase(b, wtxids)
	if err != nil {
		return nil, err
	}
	txids[0] = cb.txid
	txs := append([]*txb{cb}, b.txs...)

	hdr := wire.BlockHeader{
		Version:    blockVersion,
		PrevBlock:  g.tip,
		MerkleRoot: btc.MerkleRoot(txids),
		Timestamp:  time.Unix(b.time, 0),
		Bits:       regtestBits,
	}
	for btc.CheckProofOfWork(&hdr, g.p) != nil {
		hdr.Nonce++
		if hdr.Nonce == 0 {
			return nil, fmt.Errorf("scenario: block %d: nonce space exhausted", b.height)
		}
	}
	buf := g.buf[:0]
	buf = slices.Grow(buf, size+len(cb.raw))
	var hb bytes.Buffer
	if err := hdr.Serialize(&hb); err != nil {
		return nil, fmt.Errorf("scenario: block header: %w", err)
	}
	buf = append(buf, hb.Bytes()...)
	buf = appendVarInt(buf, uint64(len(txs)))
	stripped := len(buf)
	for _, t := range txs {
		buf = append(buf, t.raw...)
		stripped += t.msg.SerializeSizeStripped()
	}
	g.buf = buf
	if w := stripped*3 + len(buf); w > maxBlockWeight {
		return nil, fmt.Errorf("scenario: block %d weighs %d, over the limit (generator bug)", b.height, w)
	}
	if err := g.out.write(buf); err != nil {
		return nil, err
	}
	g.tip = hdr.BlockHash()
	return txs, nil
}

// blockWriter writes blocks as Bitcoin Core does: records of magic, 4-byte
// little-endian size and block, in files blk00000.dat, blk00001.dat, ...,
// starting a new file before one would exceed maxSize.
type blockWriter struct {
	dir     string
	magic   [4]byte
	maxSize int64
	f       *os.File
	bw      *bufio.Writer
	n       int64
	files   []string
	total   int64
}

func (w *blockWriter) write(block []byte) error {
	rec := int64(8 + len(block))
	if w.f != nil && w.n+rec > w.maxSize {
		if err := w.closeFile(); err != nil {
			return err
		}
	}
	if w.f == nil {
		name := filepath.Join(w.dir, fmt.Sprintf("blk%05d.dat", len(w.files)))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
		w.f, w.n = f, 0
		w.files = append(w.files, name)
		if w.bw == nil {
			w.bw = bufio.NewWriterSize(f, 1<<20)
		} else {
			w.bw.Reset(f)
		}
	}
	var hdr [8]byte
	copy(hdr[:4], w.magic[:])
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(block)))
	if _, err := w.bw.Write(hdr[:]); err != nil {
		return fmt.Errorf("scenario: write %s: %w", w.f.Name(), err)
	}
	if _, err := w.bw.Write(block); err != nil {
		return fmt.Errorf("scenario: write %s: %w", w.f.Name(), err)
	}
	w.n += rec
	w.total += rec
	return nil
}

func (w *blockWriter) closeFile() error {
	if w.f == nil {
		return nil
	}
	err := w.bw.Flush()
	if e := w.f.Sync(); err == nil {
		err = e
	}
	if e := w.f.Close(); err == nil {
		err = e
	}
	w.f = nil
	if err != nil {
		return fmt.Errorf("scenario: close block file: %w", err)
	}
	return nil
}

// appendVarInt appends Bitcoin's CompactSize encoding of n.
func appendVarInt(b []byte, n uint64) []byte {
	switch {
	case n < 0xfd:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(b, 0xfd), uint16(n))
	case n <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(b, 0xfe), uint32(n))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xff), n)
}
