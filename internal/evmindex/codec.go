package evmindex

import (
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// Tables. Every key starts with one of these bytes.
const (
	tBlock     = 'b' // height(8) → block
	tBlockHash = 'B' // hash(32) → height(8)
	tTx        = 'x' // txkey(8) → tx record
	tTxHash    = 't' // hash(32) → txkey(8)
	tAddr      = 'a' // address(20) → id(8)
	tAddrID    = 'A' // id(8) → address record
	tAsset     = 's' // id(4) → asset record
	tAssetAddr = 'S' // contract(20) → id(4)
	tEntry     = 'f' // id(8) asset(4) txkey(8) seq(2) in(1) → entry
	tHolding   = 'h' // id(8) asset(4) → holding summary
)

var (
	keyMeta = []byte("\x00meta")
	keyTip  = []byte("\x00tip")
)

func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func blockKey(h uint64) []byte { return be64([]byte{tBlock}, h) }

func blockHashKey(h eth.Hash) []byte { return append([]byte{tBlockHash}, h[:]...) }

func txKey(k TxKey) []byte { return be64([]byte{tTx}, uint64(k)) }

func txHashKey(h eth.Hash) []byte { return append([]byte{tTxHash}, h[:]...) }

func addrKey(a eth.Address) []byte { return append([]byte{tAddr}, a[:]...) }

func addrIDKey(id AddrID) []byte { return be64([]byte{tAddrID}, uint64(id)) }

func assetKey(id AssetID) []byte { return binary.BigEndian.AppendUint32([]byte{tAsset}, uint32(id)) }

func assetAddrKey(a eth.Address) []byte { return append([]byte{tAssetAddr}, a[:]...) }

func holdingKey(id AddrID, asset AssetID) []byte {
	return binary.BigEndian.AppendUint32(be64([]byte{tHolding}, uint64(id)), uint32(asset))
}

func entryPrefix(id AddrID, asset AssetID) []byte { return holdingKeyAs(tEntry, id, asset) }

func holdingKeyAs(t byte, id AddrID, asset AssetID) []byte {
	return binary.BigEndian.AppendUint32(be64([]byte{t}, uint64(id)), uint32(asset))
}

// entryKey places an entry: a move to oneself has an out and an in entry
// with the same key and seq, told apart by the last byte (out first).
func entryKey(id AddrID, asset AssetID, k TxKey, seq uint16, in bool) []byte {
	dir := byte(0)
	if in {
		dir = 1
	}
	return append(binary.BigEndian.AppendUint16(be64(entryPrefix(id, asset), uint64(k)), seq), dir)
}

const entryKeyLen = 1 + 8 + 4 + 8 + 2 + 1

// prefixEnd returns the first key after every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// enc appends the compact encodings records use.
type enc struct{ b []byte }

func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) byte1(v byte)     { e.b = append(e.b, v) }
func (e *enc) raw(p []byte)     { e.b = append(e.b, p...) }
func (e *enc) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.raw(p) }
func (e *enc) str(s string)     { e.bytes([]byte(s)) }
func (e *enc) amount(a chain.Amount) {
	e.bytes(a.Bytes())
}
func (e *enc) balance(b Balance) {
	if b.Neg && !b.Abs.IsZero() {
		e.byte1(1)
	} else {
		e.byte1(0)
	}
	e.amount(b.Abs)
}
func (e *enc) bool1(v bool) {
	if v {
		e.byte1(1)
	} else {
		e.byte1(0)
	}
}

// dec reads what enc wrote; the first error sticks.
type dec struct {
	b    []byte
	what string
	err  error
}

func (d *dec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("evmindex: %w: %s: %s", ErrCorrupt, d.what, fmt.Sprintf(format, args...))
	}
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) byte1() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("short")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) raw(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("short")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length %d beyond the record", n)
		return nil
	}
	return d.raw(int(n))
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) amount() chain.Amount {
	p := d.bytes()
	if d.err != nil {
		return chain.Amount{}
	}
	a, err := chain.AmountFromBytes(p)
	if err != nil {
		d.fail("%v", err)
	}
	return a
}

func (d *dec) balance() Balance {
	neg := d.byte1() == 1
	return Balance{Neg: neg, Abs: d.amount()}
}

// bigint reads a non-negative integer of at most 64 bytes.
func (d *dec) bigint() *big.Int {
	p := d.bytes()
	if len(p) > 64 {
		d.fail("integer of %d bytes", len(p))
	}
	return new(big.Int).SetBytes(p)
}

func (d *dec) bool1() bool { return d.byte1() == 1 }

func (d *dec) hash() (h eth.Hash) {
	copy(h[:], d.raw(32))
	return h
}

func (d *dec) address() (a eth.Address) {
	copy(a[:], d.raw(20))
	return a
}

func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes left over", len(d.b))
	}
	return d.err
}

func encodeMeta(m Meta) []byte {
	var e enc
	e.str(schemaVersion)
	e.uvarint(m.ChainID)
	e.str(m.Name)
	e.str(m.Symbol)
	return e.b
}

func decodeMeta(v []byte) (Meta, error) {
	d := dec{b: v, what: "meta"}
	if s := d.str(); d.err == nil && s != schemaVersion {
		return Meta{}, fmt.Errorf("evmindex: the index is of schema %q, this build reads %q", s, schemaVersion)
	}
	m := Meta{ChainID: d.uvarint(), Name: d.str(), Symbol: d.str()}
	return m, d.done()
}

func encodeTip(t Tip) []byte {
	var e enc
	e.uvarint(t.Height)
	e.raw(t.Hash[:])
	e.uvarint(t.Txs)
	e.uvarint(t.Moves)
	e.uvarint(t.Addresses)
	e.uvarint(t.Assets)
	e.uvarint(t.Untraced)
	return e.b
}

func decodeTip(v []byte) (Tip, error) {
	d := dec{b: v, what: "tip"}
	t := Tip{Height: d.uvarint(), Hash: d.hash(), Txs: d.uvarint(), Moves: d.uvarint(), Addresses: d.uvarint(), Assets: d.uvarint(), Untraced: d.uvarint()}
	return t, d.done()
}

// blockRecord is a Block with the counts rollback needs.
type blockRecord struct {
	Block
	Moves uint64
}

func encodeBlock(b *blockRecord) []byte {
	var e enc
	e.raw(b.Hash[:])
	e.raw(b.Parent[:])
	e.uvarint(b.Time)
	e.raw(b.Miner[:])
	e.bool1(b.BaseFee != nil)
	if b.BaseFee != nil {
		e.amount(*b.BaseFee)
	}
	e.uvarint(b.GasUsed)
	e.uvarint(uint64(b.TxCount))
	e.uvarint(uint64(b.Withdrawal))
	e.bool1(b.Traced)
	e.uvarint(uint64(b.FirstAddr))
	e.uvarint(uint64(b.FirstAsset))
	e.uvarint(b.Moves)
	return e.b
}

func decodeBlock(height uint64, v []byte) (blockRecord, error) {
	d := dec{b: v, what: fmt.Sprintf("block %d", height)}
	var b blockRecord
	b.Height = height
	b.Hash = d.hash()
	b.Parent = d.hash()
	b.Time = d.uvarint()
	b.Miner = d.address()
	if d.bool1() {
		a := d.amount()
		b.BaseFee = &a
	}
	b.GasUsed = d.uvarint()
	b.TxCount = int(d.uvarint())
	b.Withdrawal = int(d.uvarint())
	b.Traced = d.bool1()
	b.FirstAddr = AddrID(d.uvarint())
	b.FirstAsset = AssetID(d.uvarint())
	b.Moves = d.uvarint()
	return b, d.done()
}

func encodeTx(t *Tx) []byte {
	var e enc
	e.raw(t.Hash[:])
	e.uvarint(uint64(t.From))
	e.uvarint(uint64(t.To))
	e.uvarint(uint64(t.Created))
	e.uvarint(t.Nonce)
	e.byte1(t.Type)
	e.byte1(byte(t.Status))
	e.amount(t.Value)
	e.uvarint(t.GasUsed)
	e.amount(t.EffectiveGasPrice)
	e.amount(t.Fee)
	e.amount(t.Tip)
	e.raw(t.Selector[:])
	e.uvarint(uint64(t.InputLen))
	e.uvarint(uint64(len(t.Moves)))
	for _, m := range t.Moves {
		e.uvarint(uint64(m.Seq))
		e.byte1(byte(m.Kind))
		e.uvarint(uint64(m.Asset))
		e.uvarint(uint64(m.From))
		e.uvarint(uint64(m.To))
		e.amount(m.Amount)
		e.uvarint(m.LogIndex)
		e.str(m.Frame)
	}
	e.uvarint(uint64(len(t.Swaps)))
	for _, s := range t.Swaps {
		e.uvarint(uint64(s.Pool))
		e.byte1(byte(s.Version))
		e.uvarint(s.LogIndex)
		e.uvarint(uint64(s.Sender))
		e.uvarint(uint64(s.Recipient))
		e.uvarint(uint64(len(s.Amounts)))
		for _, a := range s.Amounts {
			e.balance(a)
		}
	}
	e.uvarint(uint64(len(t.Contracts)))
	for _, c := range t.Contracts {
		e.uvarint(uint64(c))
	}
	return e.b
}

func decodeTx(k TxKey, v []byte) (*Tx, error) {
	d := dec{b: v, what: "transaction " + k.String()}
	t := &Tx{Key: k}
	t.Hash = d.hash()
	t.From = AddrID(d.uvarint())
	t.To = AddrID(d.uvarint())
	t.Created = AddrID(d.uvarint())
	t.Nonce = d.uvarint()
	t.Type = d.byte1()
	t.Status = eth.Status(d.byte1())
	t.Value = d.amount()
	t.GasUsed = d.uvarint()
	t.EffectiveGasPrice = d.amount()
	t.Fee = d.amount()
	t.Tip = d.amount()
	copy(t.Selector[:], d.raw(4))
	t.InputLen = uint32(d.uvarint())
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("%d moves", n)
		return nil, d.err
	}
	t.Moves = make([]Move, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		t.Moves = append(t.Moves, Move{
			Seq: uint16(d.uvarint()), Kind: Kind(d.byte1()), Asset: AssetID(d.uvarint()),
			From: AddrID(d.uvarint()), To: AddrID(d.uvarint()), Amount: d.amount(),
			LogIndex: d.uvarint(), Frame: d.str(),
		})
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("%d swaps", n)
		return nil, d.err
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		s := Swap{Pool: AddrID(d.uvarint()), Version: SwapVersion(d.byte1()), LogIndex: d.uvarint(),
			Sender: AddrID(d.uvarint()), Recipient: AddrID(d.uvarint())}
		m := d.uvarint()
		if m > 8 {
			d.fail("swap with %d amounts", m)
			break
		}
		for j := uint64(0); j < m; j++ {
			s.Amounts = append(s.Amounts, d.balance())
		}
		t.Swaps = append(t.Swaps, s)
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("%d contracts", n)
		return nil, d.err
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		t.Contracts = append(t.Contracts, AddrID(d.uvarint()))
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return t, nil
}

func encodeAddress(a *Address) []byte {
	var e enc
	e.raw(a.Address[:])
	e.bool1(a.Contract)
	e.uvarint(uint64(a.CreatedAt))
	e.uvarint(uint64(a.Creator))
	e.uvarint(uint64(a.FirstSeen))
	return e.b
}

func decodeAddress(id AddrID, v []byte) (Address, error) {
	d := dec{b: v, what: fmt.Sprintf("address %d", id)}
	a := Address{ID: id, Address: d.address(), Contract: d.bool1(), CreatedAt: TxKey(d.uvarint()), Creator: AddrID(d.uvarint()), FirstSeen: TxKey(d.uvarint())}
	return a, d.done()
}

func encodeAsset(a *Asset) []byte {
	var e enc
	e.raw(a.Contract[:])
	e.str(a.Symbol)
	e.str(a.Name)
	e.byte1(a.Decimals)
	e.bool1(a.MetadataOK)
	e.uvarint(uint64(len(a.Problems)))
	for _, p := range a.Problems {
		e.str(p)
	}
	e.uvarint(uint64(a.FirstSeen))
	return e.b
}

func decodeAsset(id AssetID, v []byte) (Asset, error) {
	d := dec{b: v, what: fmt.Sprintf("asset %d", id)}
	a := Asset{ID: id, Contract: d.address(), Symbol: d.str(), Name: d.str(), Decimals: d.byte1(), MetadataOK: d.bool1()}
	n := d.uvarint()
	if n > 16 {
		d.fail("%d problems", n)
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		a.Problems = append(a.Problems, d.str())
	}
	a.FirstSeen = TxKey(d.uvarint())
	return a, d.done()
}

func encodeEntry(e *Entry) []byte {
	var w enc
	w.byte1(byte(e.Kind))
	w.uvarint(uint64(e.Counterparty))
	w.amount(e.Amount)
	w.balance(e.Balance)
	return w.b
}

// decodeEntry decodes an entry's key (after the table byte) and value.
func decodeEntry(key, v []byte) (Entry, error) {
	if len(key) != entryKeyLen || key[0] != tEntry || key[23] > 1 {
		return Entry{}, fmt.Errorf("evmindex: %w: ledger key of %d bytes", ErrCorrupt, len(key))
	}
	e := Entry{
		Addr:  AddrID(binary.BigEndian.Uint64(key[1:9])),
		Asset: AssetID(binary.BigEndian.Uint32(key[9:13])),
		Key:   TxKey(binary.BigEndian.Uint64(key[13:21])),
		Seq:   binary.BigEndian.Uint16(key[21:23]),
		In:    key[23] == 1,
	}
	d := dec{b: v, what: "ledger entry " + e.Key.String()}
	e.Kind = Kind(d.byte1())
	e.Counterparty = AddrID(d.uvarint())
	e.Amount = d.amount()
	e.Balance = d.balance()
	return e, d.done()
}

// holding is the summary of one address–asset ledger.
type holding struct {
	Entries uint64
	// In and Out are totals, which can exceed 256 bits (a dev chain's
	// funder starts with 2^256-9 wei and then earns tips).
	In, Out     *big.Int
	Balance     Balance
	First, Last TxKey
}

func encodeHolding(h *holding) []byte {
	var e enc
	e.uvarint(h.Entries)
	e.bytes(h.In.Bytes())
	e.bytes(h.Out.Bytes())
	e.balance(h.Balance)
	e.uvarint(uint64(h.First))
	e.uvarint(uint64(h.Last))
	return e.b
}

func decodeHolding(v []byte) (holding, error) {
	d := dec{b: v, what: "holding"}
	h := holding{Entries: d.uvarint(), In: d.bigint(), Out: d.bigint(), Balance: d.balance(), First: TxKey(d.uvarint()), Last: TxKey(d.uvarint())}
	return h, d.done()
}
