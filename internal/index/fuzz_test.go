package index

import (
	"encoding/binary"
	"testing"
)

// FuzzDecodeChunk feeds arbitrary bytes to the chunk and record decoders:
// they must return an error or records that encode back to a chunk that
// decodes to the same records, and never panic or allocate without bound.
func FuzzDecodeChunk(f *testing.F) {
	r := TxRecord{Key: MakeTxKey(10, 1), Version: 2, Size: 100, Weight: 400,
		In:  []InRecord{{PrevKey: MakeTxKey(9, 0), Vout: 1, Sequence: 0xffffffff, Value: 1000, Addr: 3, Type: 2}},
		Out: []OutRecord{{Value: 900, Addr: 4, Type: 4}, {Type: codeOpReturn, Data: []byte{0x6a, 1, 2}}}}
	var w chunkWriter
	w.add(&r)
	cb := TxRecord{Key: MakeTxKey(10, 2), Coinbase: true, CoinbaseScript: []byte{3, 1, 2, 3}, Out: []OutRecord{{Value: 5, Addr: 9, Type: 1}}}
	w.add(&cb)
	f.Add(w.encode(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		base := MakeTxKey(1000, 0)
		c, err := openChunk(b, base)
		if err != nil {
			return
		}
		var recs []TxRecord
		for c.i < c.n {
			var r TxRecord
			if err := c.next(&r, true); err != nil {
				return
			}
			recs = append(recs, r)
		}
		var w chunkWriter
		for i := range recs {
			w.add(&recs[i])
		}
		c2, err := openChunk(w.encode(nil), base)
		if err != nil {
			t.Fatalf("re-encoded chunk does not open: %v", err)
		}
		for i := range recs {
			var again TxRecord
			if err := c2.next(&again, true); err != nil {
				t.Fatalf("re-encoded record %d does not decode: %v", i, err)
			}
			if again.Txid != recs[i].Txid || len(again.In) != len(recs[i].In) || len(again.Out) != len(recs[i].Out) ||
				again.Weight != recs[i].Weight || again.Fee() != recs[i].Fee() {
				t.Fatalf("record %d changed in a round trip", i)
			}
		}
	})
}

func FuzzDecodeBlockRecord(f *testing.F) {
	b := blockRecord{Version: 4, Time: 1231006505, Bits: 0x1d00ffff, Size: 285, Stripped: 285, Weight: 1140, TxCount: 1, FirstAddr: 1}
	f.Add(b.encode())
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, v []byte) {
		var b blockRecord
		if err := decodeBlock(v, &b); err != nil {
			return
		}
		var again blockRecord
		if err := decodeBlock(b.encode(), &again); err != nil || again != b {
			t.Fatalf("block record round trip: %v %+v %+v", err, b, again)
		}
	})
}

func FuzzDecodeAddrAndTip(f *testing.F) {
	f.Add([]byte{1, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add((&Tip{Height: 3, NextAddr: 9}).encode())
	f.Fuzz(func(t *testing.T, v []byte) {
		if a, script, _, err := decodeAddr(v); err == nil {
			if back, _, rest, err := decodeAddr(appendAddr(nil, &a, script)); err != nil || back != a || len(rest) != 0 {
				t.Fatalf("address record round trip: %v", err)
			}
		}
		if tip, err := decodeTip(v); err == nil {
			if back, err := decodeTip(tip.encode()); err != nil || back != tip {
				t.Fatalf("tip round trip: %v", err)
			}
		}
	})
}

// FuzzUvarintAt checks the fast varint decoder against encoding/binary.
func FuzzUvarintAt(f *testing.F) {
	f.Add([]byte{0x80, 0x01}, 0)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 0)
	f.Add(binary.AppendUvarint(make([]byte, 3), 1<<50+12345), 3)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		v, next := uvarintAt(b, i)
		want, n := binary.Uvarint(b[i:])
		if n <= 0 {
			if next != -1 {
				t.Fatalf("%x at %d: got %d, %d; binary.Uvarint fails", b, i, v, next)
			}
			return
		}
		if v != want || next != i+n {
			t.Fatalf("%x at %d: got %d next %d, want %d next %d", b, i, v, next, want, i+n)
		}
	})
}

// FuzzPair checks that pairs round-trip and that a malformed pair is
// refused, never misread.
func FuzzPair(f *testing.F) {
	f.Add(uint64(0), uint64(1), []byte{0x21, 1, 2, 3})
	f.Add(uint64(1)<<63, uint64(255), []byte{0x99})
	f.Fuzz(func(t *testing.T, a, b uint64, junk []byte) {
		enc := appendPair(nil, a, b)
		for _, pad := range [][]byte{nil, make([]byte, 16)} {
			buf := append(append([]byte(nil), enc...), pad...)
			x, y, i := pairAt(buf, 0)
			if x != a || y != b || i != len(enc) {
				t.Fatalf("(%d, %d) → %x → (%d, %d) at %d", a, b, enc, x, y, i)
			}
		}
		if x, y, i := pairAt(junk, 0); i >= 0 {
			if again := appendPair(nil, x, y); string(again) != string(junk[:i]) {
				t.Fatalf("%x decodes as (%d, %d) but encodes as %x", junk[:i], x, y, again)
			}
		}
	})
}
