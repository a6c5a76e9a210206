package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// ErrCorrupt reports a stored record that does not decode.
var ErrCorrupt = errors.New("corrupt record")

// ErrInconsistent reports a write that does not fit the index: a block
// that does not extend the tip, an input spending an unknown output.
var ErrInconsistent = errors.New("inconsistent with the index")

// Script type codes as stored. Never renumber.
var scriptTypes = []chain.ScriptType{
	0: "", 1: chain.P2PK, 2: chain.P2PKH, 3: chain.P2SH, 4: chain.P2WPKH, 5: chain.P2WSH,
	6: chain.P2TR, 7: chain.WitnessUnknown, 8: chain.BareMultisig, 9: chain.OpReturn, 10: chain.NonStandard,
}

var scriptCodes = func() map[chain.ScriptType]uint8 {
	m := make(map[chain.ScriptType]uint8, len(scriptTypes))
	for i, t := range scriptTypes {
		m[t] = uint8(i)
	}
	return m
}()

const codeOpReturn = 9

// ScriptTypeOf returns the script type of a stored code.
func ScriptTypeOf(code uint8) chain.ScriptType {
	if int(code) < len(scriptTypes) {
		return scriptTypes[code]
	}
	return ""
}

// TxRecord is a stored transaction. Slices alias the buffer it was decoded
// from where noted; a Scan callback must copy what it keeps.
type TxRecord struct {
	Key      TxKey
	Txid     chainhash.Hash
	Coinbase bool
	Segwit   bool
	Version  int32
	LockTime uint32
	Size     int
	Weight   int
	// CoinbaseScript aliases the decode buffer.
	CoinbaseScript   []byte
	CoinbaseSequence uint32
	In               []InRecord
	Out              []OutRecord
}

// InRecord is an input with the output it spends resolved.
type InRecord struct {
	PrevKey  TxKey
	Vout     uint32
	Sequence uint32
	Value    uint64
	Addr     AddrID
	Type     uint8
}

// OutRecord is an output. Data (OP_RETURN script) aliases the decode buffer.
type OutRecord struct {
	Value uint64
	Addr  AddrID
	Type  uint8
	Data  []byte
}

// InputValue is the sum of the inputs.
func (r *TxRecord) InputValue() uint64 {
	var s uint64
	for i := range r.In {
		s += r.In[i].Value
	}
	return s
}

// OutputValue is the sum of the outputs.
func (r *TxRecord) OutputValue() uint64 {
	var s uint64
	for i := range r.Out {
		s += r.Out[i].Value
	}
	return s
}

// Flow fills dst with the money flows of r as the heuristics read them
// (reusing dst's slices): values, address ids, script types, sequences,
// version, locktime and virtual size.
func (r *TxRecord) Flow(dst *chain.FlowTx) {
	dst.Coinbase = r.Coinbase
	dst.Version = r.Version
	dst.LockTime = r.LockTime
	dst.VSize = (r.Weight + 3) / 4
	dst.In = dst.In[:0]
	for i := range r.In {
		in := &r.In[i]
		dst.In = append(dst.In, chain.Coin{Value: in.Value, Addr: uint64(in.Addr), Type: ScriptTypeOf(in.Type), Sequence: in.Sequence})
	}
	dst.Out = dst.Out[:0]
	for i := range r.Out {
		o := &r.Out[i]
		dst.Out = append(dst.Out, chain.Coin{Value: o.Value, Addr: uint64(o.Addr), Type: ScriptTypeOf(o.Type)})
	}
}

// Fee is inputs minus outputs; zero for a coinbase.
func (r *TxRecord) Fee() uint64 {
	if r.Coinbase {
		return 0
	}
	return r.InputValue() - r.OutputValue()
}

const (
	flagCoinbase = 1 << iota
	flagSegwit
)

// decoder reads varints from a buffer and remembers the first error.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	b := d.b
	// Fast path for one- and two-byte values, the common case.
	if len(b) > 0 && b[0] < 0x80 {
		d.b = b[1:]
		return uint64(b[0])
	}
	if len(b) > 1 && b[1] < 0x80 {
		d.b = b[2:]
		return uint64(b[0]&0x7f) | uint64(b[1])<<7
	}
	v, n := binary.Uvarint(b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n uint64) []byte {
	if uint64(len(d.b)) < n {
		d.bad = true
		d.b = nil
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// maxListLen bounds input and output counts read from a record, so that a
// corrupt count cannot make a decoder allocate without limit.
const maxListLen = 1 << 20

// uvarintAt decodes the uvarint at b[i:] and returns it with the index
// after it, or i = -1 if b holds no valid varint there. Full scans decode
// tens of millions of these, so values of up to 8 bytes (56 bits: every
// satoshi amount) are read with one load and a branch-free compaction.
func uvarintAt(b []byte, i int) (uint64, int) {
	if uint(i) < uint(len(b)) && b[i] < 0x80 {
		return uint64(b[i]), i + 1 // inlined: the one-byte case
	}
	return uvarintLong(b, i)
}

func uvarintLong(b []byte, i int) (uint64, int) {
	if i < 0 || i >= len(b) {
		return 0, -1
	}
	if i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := ^x & 0x8080808080808080; m != 0 {
			n := bits.TrailingZeros64(m)/8 + 1 // bytes in the varint
			x &= ^uint64(0) >> (64 - 8*n)
			v := x&0x7f | (x>>1)&(0x7f<<7) | (x>>2)&(0x7f<<14) | (x>>3)&(0x7f<<21) |
				(x>>4)&(0x7f<<28) | (x>>5)&(0x7f<<35) | (x>>6)&(0x7f<<42) | (x>>7)&(0x7f<<49)
			return v, i + n
		}
	}
	v, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, -1
	}
	return v, i + n
}

// blockRecord is what the index keeps of a block header and its totals.
type blockRecord struct {
	Hash, Prev, Merkle chainhash.Hash
	Version            int32
	Time, Bits, Nonce  uint32
	Size, Stripped     int
	Weight, TxCount    int
	FirstAddr          AddrID // the next AddrID before this block
	Fees               uint64
	Inputs, Outputs    uint64 // counts, non-coinbase inputs
}

func (b *blockRecord) encode() []byte {
	v := make([]byte, 0, 96+48)
	v = append(v, b.Hash[:]...)
	v = append(v, b.Prev[:]...)
	v = append(v, b.Merkle[:]...)
	v = binary.LittleEndian.AppendUint32(v, uint32(b.Version))
	v = binary.LittleEndian.AppendUint32(v, b.Time)
	v = binary.LittleEndian.AppendUint32(v, b.Bits)
	v = binary.LittleEndian.AppendUint32(v, b.Nonce)
	for _, x := range []uint64{uint64(b.Size), uint64(b.Stripped), uint64(b.Weight), uint64(b.TxCount),
		uint64(b.FirstAddr), b.Fees, b.Inputs, b.Outputs} {
		v = binary.AppendUvarint(v, x)
	}
	return v
}

func decodeBlock(v []byte, b *blockRecord) error {
	if len(v) < 112 {
		return fmt.Errorf("index: %w: block record is truncated", ErrCorrupt)
	}
	copy(b.Hash[:], v[0:32])
	copy(b.Prev[:], v[32:64])
	copy(b.Merkle[:], v[64:96])
	b.Version = int32(binary.LittleEndian.Uint32(v[96:]))
	b.Time = binary.LittleEndian.Uint32(v[100:])
	b.Bits = binary.LittleEndian.Uint32(v[104:])
	b.Nonce = binary.LittleEndian.Uint32(v[108:])
	d := decoder{b: v[112:]}
	b.Size, b.Stripped, b.Weight, b.TxCount = int(d.uvarint()), int(d.uvarint()), int(d.uvarint()), int(d.uvarint())
	b.FirstAddr, b.Fees, b.Inputs, b.Outputs = AddrID(d.uvarint()), d.uvarint(), d.uvarint(), d.uvarint()
	if d.bad || b.TxCount == 0 {
		return fmt.Errorf("index: %w: block record does not decode", ErrCorrupt)
	}
	return nil
}

// Tip is the last block of the index and the running totals up to it.
type Tip struct {
	Height   int64 // -1 when the index is empty
	Hash     chainhash.Hash
	NextAddr AddrID
	Txs      uint64
	Inputs   uint64
	Outputs  uint64
}

func (t *Tip) encode() []byte {
	v := make([]byte, 0, 64)
	v = binary.AppendUvarint(v, uint64(t.Height+1))
	v = append(v, t.Hash[:]...)
	v = binary.AppendUvarint(v, uint64(t.NextAddr))
	v = binary.AppendUvarint(v, t.Txs)
	v = binary.AppendUvarint(v, t.Inputs)
	v = binary.AppendUvarint(v, t.Outputs)
	return v
}

func decodeTip(v []byte) (Tip, error) {
	d := decoder{b: v}
	var t Tip
	t.Height = int64(d.uvarint()) - 1
	copy(t.Hash[:], d.bytes(32))
	t.NextAddr = AddrID(d.uvarint())
	t.Txs, t.Inputs, t.Outputs = d.uvarint(), d.uvarint(), d.uvarint()
	if d.bad {
		return Tip{}, fmt.Errorf("index: %w: tip record", ErrCorrupt)
	}
	return t, nil
}

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// An output entry's value: the output's value, then, once spent, the
// spending transaction as a positive TxKey delta and the input index.
func appendOutValue(dst []byte, value uint64, spenderDelta TxKey, vin uint32) []byte {
	dst = binary.AppendUvarint(dst, value)
	if spenderDelta != 0 {
		dst = binary.AppendUvarint(dst, uint64(spenderDelta))
		dst = binary.AppendUvarint(dst, uint64(vin))
	}
	return dst
}

// OutEntry is one output of an address, with its spender once spent.
type OutEntry struct {
	Key     TxKey
	Vout    uint32
	Value   uint64
	Spent   bool
	Spender TxKey
	Vin     uint32
}

func decodeOutValue(key TxKey, v []byte, e *OutEntry) error {
	d := decoder{b: v}
	e.Value = d.uvarint()
	e.Spent = false
	e.Spender, e.Vin = 0, 0
	if len(d.b) > 0 {
		delta := d.uvarint()
		e.Vin = uint32(d.uvarint())
		e.Spent = true
		e.Spender = key + TxKey(delta)
		if delta == 0 || e.Spender < key {
			d.bad = true
		}
	}
	if d.bad || len(d.b) != 0 {
		return fmt.Errorf("index: %w: output entry of %d:%d", ErrCorrupt, key.Height(), key.Pos())
	}
	return nil
}
