package index

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// A chunk holds up to chunkTxs consecutive transactions of a block:
//
//	uvarint count | count txids (32 bytes each) | count records
//
// and a record is its length and body:
//
//	uvarint length | flags | flows | details
//	flows:   [not coinbase: uvarint inputs, each: pair(prev delta, value), pair(vout, address)]
//	         uvarint outputs, each: pair(value, address (0: OP_RETURN))
//	details: version, locktime, size, weight,
//	         coinbase: script length, script, ^sequence
//	         else each input: ^sequence, script type byte
//	         each output: script type byte, OP_RETURN: data length, data
//
// Details are uvarints. A pair is a tag byte holding the byte lengths
// (0–8) of two numbers, then both numbers little-endian in that many
// bytes: a full scan decodes tens of millions of them, and a pair is read
// with two loads and two masks where LEB128 varints need a loop or a long
// bit-compaction each. The txids sit apart and the flows come first, so
// that a scan of the money flows reads neither txids nor details; the
// length lets a reader skip a record without decoding it.
type chunkWriter struct {
	n     int
	txids []byte
	recs  []byte
	body  []byte
}

func (c *chunkWriter) reset() { c.n, c.txids, c.recs = 0, c.txids[:0], c.recs[:0] }

func (c *chunkWriter) add(r *TxRecord) {
	c.n++
	c.txids = append(c.txids, r.Txid[:]...)
	c.body = appendTxBody(c.body[:0], r)
	c.recs = binary.AppendUvarint(c.recs, uint64(len(c.body)))
	c.recs = append(c.recs, c.body...)
}

func (c *chunkWriter) encode(dst []byte) []byte {
	dst = binary.AppendUvarint(dst[:0], uint64(c.n))
	dst = append(dst, c.txids...)
	return append(dst, c.recs...)
}

func appendTxBody(dst []byte, r *TxRecord) []byte {
	var flags byte
	if r.Coinbase {
		flags |= flagCoinbase
	}
	if r.Segwit {
		flags |= flagSegwit
	}
	dst = append(dst, flags)
	if !r.Coinbase {
		dst = binary.AppendUvarint(dst, uint64(len(r.In)))
		for i := range r.In {
			in := &r.In[i]
			dst = appendPair(dst, uint64(r.Key-in.PrevKey), in.Value)
			dst = appendPair(dst, uint64(in.Vout), uint64(in.Addr))
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Out)))
	for i := range r.Out {
		dst = appendPair(dst, r.Out[i].Value, uint64(r.Out[i].Addr))
	}
	dst = binary.AppendUvarint(dst, uint64(uint32(r.Version)))
	dst = binary.AppendUvarint(dst, uint64(r.LockTime))
	dst = binary.AppendUvarint(dst, uint64(r.Size))
	dst = binary.AppendUvarint(dst, uint64(r.Weight))
	if r.Coinbase {
		dst = binary.AppendUvarint(dst, uint64(len(r.CoinbaseScript)))
		dst = append(dst, r.CoinbaseScript...)
		dst = binary.AppendUvarint(dst, uint64(^r.CoinbaseSequence))
	} else {
		for i := range r.In {
			dst = binary.AppendUvarint(dst, uint64(^r.In[i].Sequence))
			dst = append(dst, r.In[i].Type)
		}
	}
	for i := range r.Out {
		dst = append(dst, r.Out[i].Type)
		if r.Out[i].Type == codeOpReturn {
			dst = binary.AppendUvarint(dst, uint64(len(r.Out[i].Data)))
			dst = append(dst, r.Out[i].Data...)
		}
	}
	return dst
}

// appendPair appends a tag with the byte lengths of a and b, then a and b
// in that many little-endian bytes.
func appendPair(dst []byte, a, b uint64) []byte {
	la, lb := byteLen(a), byteLen(b)
	dst = append(dst, byte(la<<4|lb))
	for ; a != 0; a >>= 8 {
		dst = append(dst, byte(a))
	}
	for ; b != 0; b >>= 8 {
		dst = append(dst, byte(b))
	}
	return dst
}

func byteLen(x uint64) int { return (bits.Len64(x) + 7) / 8 }

// lenMask[n] keeps the low n bytes.
var lenMask = [9]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xff_ffffffff, 0xffff_ffffffff, 0xffffff_ffffffff, ^uint64(0)}

// pairAt decodes the pair at b[i:]; i = -1 on a malformed pair.
func pairAt(b []byte, i int) (uint64, uint64, int) {
	if uint(i) >= uint(len(b)) {
		return 0, 0, -1
	}
	tag := b[i]
	la, lb := int(tag>>4), int(tag&0x0f)
	i++
	if la > 8 || lb > 8 || i+la+lb > len(b) {
		return 0, 0, -1
	}
	var a, c uint64
	if i+16 <= len(b) { // both fit in two 8-byte loads: no loop
		a = binary.LittleEndian.Uint64(b[i:]) & lenMask[la]
		c = binary.LittleEndian.Uint64(b[i+la:]) & lenMask[lb]
	} else {
		a, c = leBytes(b[i:i+la]), leBytes(b[i+la:i+la+lb])
	}
	// A length longer than the number needs would make two encodings of
	// one record; refuse it so that a record has exactly one.
	if byteLen(a) != la || byteLen(c) != lb {
		return 0, 0, -1
	}
	return a, c, i + la + lb
}

func leBytes(b []byte) uint64 {
	var x uint64
	for k := len(b) - 1; k >= 0; k-- {
		x = x<<8 | uint64(b[k])
	}
	return x
}

// chunkReader walks the records of a chunk value.
type chunkReader struct {
	n, i  int
	base  TxKey
	txids []byte
	recs  []byte
}

func openChunk(v []byte, base TxKey) (chunkReader, error) {
	n, i := uvarintAt(v, 0)
	if i < 0 || n == 0 || n > chunkTxs || uint64(len(v)-i) < 32*n {
		return chunkReader{}, fmt.Errorf("index: %w: chunk of %d:%d", ErrCorrupt, base.Height(), base.Pos())
	}
	return chunkReader{n: int(n), base: base, txids: v[i : i+32*int(n)], recs: v[i+32*int(n):]}, nil
}

// next decodes the next record into r: everything with full, only the
// key and the flows (inputs' previous output, vout, value, address;
// outputs' value and address) without.
func (c *chunkReader) next(r *TxRecord, full bool) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	if full {
		copy(r.Txid[:], c.txids[32*(c.i-1):])
	}
	return decodeTx(body, c.base+TxKey(c.i-1), r, full)
}

// skip passes over the next record.
func (c *chunkReader) skip() error {
	_, err := c.body()
	return err
}

func (c *chunkReader) body() ([]byte, error) {
	if c.i >= c.n {
		return nil, fmt.Errorf("index: %w: chunk of %d:%d has only %d records", ErrCorrupt, c.base.Height(), c.base.Pos(), c.n)
	}
	l, j := uvarintAt(c.recs, 0)
	if j < 0 || l > uint64(len(c.recs)-j) {
		return nil, fmt.Errorf("index: %w: record %d of chunk %d:%d", ErrCorrupt, c.i, c.base.Height(), c.base.Pos())
	}
	body := c.recs[j : j+int(l)]
	c.recs = c.recs[j+int(l):]
	c.i++
	return body, nil
}

// done reports an error if the chunk holds more than its records.
func (c *chunkReader) done() error {
	if c.i != c.n || len(c.recs) != 0 {
		return fmt.Errorf("index: %w: chunk of %d:%d: %d of %d records read, %d bytes left", ErrCorrupt, c.base.Height(), c.base.Pos(), c.i, c.n, len(c.recs))
	}
	return nil
}

// decodeTx decodes a record body into r, reusing r's slices; with full
// false it stops after the flows.
func decodeTx(src []byte, key TxKey, r *TxRecord, full bool) error {
	bad := func() error {
		return fmt.Errorf("index: %w: transaction record %d:%d does not decode", ErrCorrupt, key.Height(), key.Pos())
	}
	if len(src) < 2 {
		return bad()
	}
	r.Key = key
	flags := src[0]
	r.Coinbase = flags&flagCoinbase != 0
	r.Segwit = flags&flagSegwit != 0
	i := 1
	var v, n uint64
	if r.Coinbase {
		r.In = r.In[:0]
	} else {
		n, i = uvarintAt(src, i)
		if i < 0 || n > maxListLen || n > uint64(len(src)) {
			return bad()
		}
		if cap(r.In) < int(n) {
			r.In = make([]InRecord, n, n+n/2)
		}
		r.In = r.In[:n]
		for k := range r.In {
			in := &r.In[k]
			var delta, vout uint64
			delta, in.Value, i = pairAt(src, i)
			vout, v, i = pairAt(src, i)
			if i < 0 || delta == 0 || delta > uint64(key) || vout > 0xffffffff {
				return bad()
			}
			in.PrevKey, in.Vout, in.Addr = key-TxKey(delta), uint32(vout), AddrID(v)
		}
	}
	n, i = uvarintAt(src, i)
	if i < 0 || n > maxListLen || n > uint64(len(src)) {
		return bad()
	}
	if cap(r.Out) < int(n) {
		r.Out = make([]OutRecord, n, n+n/2)
	}
	r.Out = r.Out[:n]
	for k := range r.Out {
		o := &r.Out[k]
		o.Value, v, i = pairAt(src, i)
		o.Addr = AddrID(v)
	}
	if i < 0 {
		return bad()
	}
	if !full {
		return nil
	}
	v, i = uvarintAt(src, i)
	r.Version = int32(uint32(v))
	v, i = uvarintAt(src, i)
	r.LockTime = uint32(v)
	v, i = uvarintAt(src, i)
	r.Size = int(v)
	v, i = uvarintAt(src, i)
	r.Weight = int(v)
	r.CoinbaseScript = nil
	if r.Coinbase {
		v, i = uvarintAt(src, i)
		if i < 0 || v > uint64(len(src)-i) {
			return bad()
		}
		r.CoinbaseScript = src[i : i+int(v) : i+int(v)]
		i += int(v)
		v, i = uvarintAt(src, i)
		r.CoinbaseSequence = ^uint32(v)
	} else {
		for k := range r.In {
			v, i = uvarintAt(src, i)
			if i < 0 || i >= len(src) {
				return bad()
			}
			r.In[k].Sequence = ^uint32(v)
			r.In[k].Type = src[i]
			i++
		}
	}
	for k := range r.Out {
		o := &r.Out[k]
		if i < 0 || i >= len(src) {
			return bad()
		}
		o.Type = src[i]
		o.Data = nil
		i++
		if int(o.Type) >= len(scriptTypes) || (o.Type == codeOpReturn) != (o.Addr == 0) {
			return bad()
		}
		if o.Type == codeOpReturn {
			v, i = uvarintAt(src, i)
			if i < 0 || v > uint64(len(src)-i) {
				return bad()
			}
			o.Data = src[i : i+int(v) : i+int(v)]
			i += int(v)
		}
	}
	if i != len(src) {
		return bad()
	}
	return nil
}
