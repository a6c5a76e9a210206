package btc

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// MaxMoney is the largest valid output value in satoshis (21 million BTC).
const MaxMoney = 21_000_000 * 100_000_000

// Block is a decoded block with every txid computed and every output
// classified.
type Block struct {
	Hash         chainhash.Hash
	Header       wire.BlockHeader
	Size         int // serialized size with witnesses
	StrippedSize int // serialized size without witnesses
	Weight       int
	Txs          []Tx
}

// Tx is a decoded transaction.
type Tx struct {
	Txid     chainhash.Hash
	Version  int32
	LockTime uint32
	Size     int // serialized size with witnesses
	Weight   int
	Segwit   bool
	Coinbase bool
	// CoinbaseScript is the coinbase input's script (miner data), nil for
	// other transactions.
	CoinbaseScript []byte
	In             []TxIn
	Out            []TxOut
}

// VSize is the virtual size: weight/4 rounded up.
func (t *Tx) VSize() int { return (t.Weight + 3) / 4 }

// TxIn is one input: the outpoint it spends.
type TxIn struct {
	PrevTxid chainhash.Hash
	PrevVout uint32
	Sequence uint32
}

// TxOut is one output, classified.
type TxOut struct {
	Value uint64
	Type  chain.ScriptType
	Addr  Addr
	// Script is kept only where the address does not determine it:
	// op_return, multisig and non-standard outputs.
	Script []byte
}

// DecodeBlock parses a serialized block. It computes every txid from the
// raw bytes, checks that the merkle root matches them and that the block
// is exactly as long as its contents, and classifies every output. It does
// not check proof of work (see CheckProofOfWork) or scripts.
func DecodeBlock(raw []byte) (*Block, error) {
	var msg wire.MsgBlock
	locs, err := msg.DeserializeTxLoc(bytes.NewBuffer(raw))
	if err != nil {
		return nil, fmt.Errorf("btc: %w: block does not parse: %v", chain.ErrInvalid, err)
	}
	if len(msg.Transactions) == 0 {
		return nil, fmt.Errorf("btc: %w: block has no transactions", chain.ErrInvalid)
	}
	last := locs[len(locs)-1]
	if end := last.TxStart + last.TxLen; end != len(raw) {
		return nil, fmt.Errorf("btc: %w: block has %d trailing bytes", chain.ErrInvalid, len(raw)-end)
	}
	b := &Block{Hash: msg.Header.BlockHash(), Header: msg.Header, Size: len(raw)}
	b.Txs = make([]Tx, len(msg.Transactions))
	nin, nout := 0, 0
	for _, t := range msg.Transactions {
		nin += len(t.TxIn)
		nout += len(t.TxOut)
	}
	ins := make([]TxIn, nin)
	outs := make([]TxOut, nout)
	h := sha256.New()
	stripped := 80 + wire.VarIntSerializeSize(uint64(len(msg.Transactions)))
	txids := make([]chainhash.Hash, len(msg.Transactions))
	for i, mt := range msg.Transactions {
		tx := &b.Txs[i]
		loc := locs[i]
		tx.In, ins = ins[:len(mt.TxIn):len(mt.TxIn)], ins[len(mt.TxIn):]
		tx.Out, outs = outs[:len(mt.TxOut):len(mt.TxOut)], outs[len(mt.TxOut):]
		base, err := fillTx(tx, mt, raw[loc.TxStart:loc.TxStart+loc.TxLen], h)
		if err != nil {
			return nil, err
		}
		stripped += base
		txids[i] = tx.Txid
		if tx.Coinbase != (i == 0) {
			if i == 0 {
				return nil, fmt.Errorf("btc: %w: first transaction of block %s is not a coinbase", chain.ErrInvalid, b.Hash)
			}
			return nil, fmt.Errorf("btc: %w: transaction %d of block %s is a second coinbase", chain.ErrInvalid, i, b.Hash)
		}
	}
	b.StrippedSize = stripped
	b.Weight = stripped*3 + len(raw)
	if root := MerkleRoot(txids); root != msg.Header.MerkleRoot {
		return nil, fmt.Errorf("btc: %w: block %s merkle root %s does not match its transactions (%s)",
			chain.ErrInvalid, b.Hash, msg.Header.MerkleRoot, root)
	}
	return b, nil
}

// DecodeTx parses one serialized transaction (as in a block, or as
// getrawtransaction returns it), computes its txid and classifies its
// outputs.
func DecodeTx(raw []byte) (*Tx, error) {
	var mt wire.MsgTx
	r := bytes.NewReader(raw)
	if err := mt.Deserialize(r); err != nil {
		return nil, fmt.Errorf("btc: %w: transaction does not parse: %v", chain.ErrInvalid, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("btc: %w: transaction has %d trailing bytes", chain.ErrInvalid, r.Len())
	}
	tx := &Tx{In: make([]TxIn, len(mt.TxIn)), Out: make([]TxOut, len(mt.TxOut))}
	if _, err := fillTx(tx, &mt, raw, sha256.New()); err != nil {
		return nil, err
	}
	return tx, nil
}

// fillTx fills tx (whose In and Out have the right lengths) from a parsed
// transaction and its raw bytes, and returns its stripped size.
func fillTx(tx *Tx, mt *wire.MsgTx, raw []byte, h hash.Hash) (int, error) {
	tx.Version = mt.Version
	tx.LockTime = mt.LockTime
	tx.Size = len(raw)
	base := mt.SerializeSizeStripped()
	tx.Weight = base*3 + len(raw)
	tx.Segwit = mt.HasWitness()
	tx.Txid = txid(h, raw, base, tx.Segwit)
	if len(mt.TxIn) == 0 || len(mt.TxOut) == 0 {
		return 0, fmt.Errorf("btc: %w: transaction %s has no inputs or no outputs", chain.ErrInvalid, tx.Txid)
	}
	tx.Coinbase = len(mt.TxIn) == 1 && mt.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex &&
		mt.TxIn[0].PreviousOutPoint.Hash == (chainhash.Hash{})
	for j, in := range mt.TxIn {
		tx.In[j] = TxIn{PrevTxid: in.PreviousOutPoint.Hash, PrevVout: in.PreviousOutPoint.Index, Sequence: in.Sequence}
	}
	if tx.Coinbase {
		tx.CoinbaseScript = mt.TxIn[0].SignatureScript
	}
	for j, out := range mt.TxOut {
		if out.Value < 0 || out.Value > MaxMoney {
			return 0, fmt.Errorf("btc: %w: transaction %s output %d has value %d", chain.ErrInvalid, tx.Txid, j, out.Value)
		}
		o := &tx.Out[j]
		o.Value = uint64(out.Value)
		o.Type, o.Addr = Classify(out.PkScript)
		switch o.Type {
		case chain.OpReturn, chain.BareMultisig, chain.NonStandard:
			o.Script = out.PkScript
		}
	}
	return base, nil
}

// txid hashes the non-witness serialization of a raw transaction: for a
// segwit transaction, version || body without marker, flag and witnesses
// || locktime, read in place from the raw bytes.
func txid(h hash.Hash, raw []byte, strippedSize int, segwit bool) chainhash.Hash {
	h.Reset()
	if segwit {
		h.Write(raw[:4])
		h.Write(raw[6 : 6+strippedSize-8])
		h.Write(raw[len(raw)-4:])
	} else {
		h.Write(raw)
	}
	var first [32]byte
	h.Sum(first[:0])
	return chainhash.Hash(sha256.Sum256(first[:]))
}

// MerkleRoot computes the merkle root of txids as Bitcoin does
// (duplicating the last hash of an odd level).
func MerkleRoot(txids []chainhash.Hash) chainhash.Hash {
	if len(txids) == 0 {
		return chainhash.Hash{}
	}
	level := append([]chainhash.Hash(nil), txids...)
	var buf [64]byte
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		for i := 0; i < len(level); i += 2 {
			copy(buf[:32], level[i][:])
			copy(buf[32:], level[i+1][:])
			level[i/2] = chainhash.DoubleHashH(buf[:])
		}
		level = level[:len(level)/2]
	}
	return level[0]
}

// CompactToBig converts the compact "bits" form of a target.
func CompactToBig(compact uint32) *big.Int {
	mantissa := int64(compact & 0x007fffff)
	negative := compact&0x00800000 != 0
	exponent := uint(compact >> 24)
	var n *big.Int
	if exponent <= 3 {
		n = big.NewInt(mantissa >> (8 * (3 - exponent)))
	} else {
		n = new(big.Int).Lsh(big.NewInt(mantissa), 8*(exponent-3))
	}
	if negative {
		n.Neg(n)
	}
	return n
}

var oneLsh256 = new(big.Int).Lsh(big.NewInt(1), 256)

// Work returns the expected number of hashes for a block at bits:
// 2^256 / (target+1). Invalid targets have no work.
func Work(bits uint32) *big.Int {
	t := CompactToBig(bits)
	if t.Sign() <= 0 {
		return new(big.Int)
	}
	return new(big.Int).Div(oneLsh256, t.Add(t, big.NewInt(1)))
}

// CheckProofOfWork checks that the header's target is within the network's
// limit and that its hash meets the target.
func CheckProofOfWork(h *wire.BlockHeader, p *Params) error {
	target := CompactToBig(h.Bits)
	if target.Sign() <= 0 || target.Cmp(p.Net.PowLimit) > 0 {
		return fmt.Errorf("btc: %w: block %s has target bits %08x outside the %s limit", chain.ErrInvalid, h.BlockHash(), h.Bits, p.Network)
	}
	hash := h.BlockHash()
	if hashToBig(&hash).Cmp(target) > 0 {
		return fmt.Errorf("btc: %w: block %s does not meet its proof-of-work target", chain.ErrInvalid, hash)
	}
	return nil
}

func hashToBig(h *chainhash.Hash) *big.Int {
	var be [32]byte
	for i := 0; i < 32; i++ {
		be[i] = h[31-i]
	}
	return new(big.Int).SetBytes(be[:])
}

// Subsidy returns the block reward without fees at height on network p.
func Subsidy(p *Params, height int64) uint64 {
	interval := int64(p.Net.SubsidyReductionInterval)
	if interval <= 0 {
		return 0
	}
	halvings := height / interval
	if halvings >= 64 {
		return 0
	}
	return uint64(50*100_000_000) >> uint(halvings)
}

// BlockHeight returns the BIP34 height encoded at the start of a coinbase
// script, if any.
func BlockHeight(coinbaseScript []byte) (int64, bool) {
	if len(coinbaseScript) == 0 {
		return 0, false
	}
	// Heights 0 to 16 are pushed as OP_0 and OP_1…OP_16, as Core does.
	switch op := coinbaseScript[0]; {
	case op == 0x00:
		return 0, true
	case op >= 0x51 && op <= 0x60:
		return int64(op - 0x50), true
	}
	n := int(coinbaseScript[0])
	if n < 1 || n > 8 || len(coinbaseScript) < 1+n {
		return 0, false
	}
	var b [8]byte
	copy(b[:], coinbaseScript[1:1+n])
	return int64(binary.LittleEndian.Uint64(b[:])), true
}
