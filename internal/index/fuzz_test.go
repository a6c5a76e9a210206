package index

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzDecodeTx feeds arbitrary bytes to the record decoders: they must
// return an error or a record that encodes back to the same bytes, and
// never panic or allocate without bound.
func FuzzDecodeTx(f *testing.F) {
	r := TxRecord{Key: MakeTxKey(10, 1), Version: 2, Size: 100, Weight: 400,
		In:  []InRecord{{PrevKey: MakeTxKey(9, 0), Vout: 1, Sequence: 0xffffffff, Value: 1000, Addr: 3, Type: 2}},
		Out: []OutRecord{{Value: 900, Addr: 4, Type: 4}, {Type: codeOpReturn, Data: []byte{0x6a, 1, 2}}}}
	f.Add(appendTx(nil, &r))
	r.Coinbase, r.In, r.CoinbaseScript = true, nil, []byte{3, 1, 2, 3}
	f.Add(appendTx(nil, &r))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r TxRecord
		rest, err := decodeTx(b, MakeTxKey(1000, 5), &r)
		if err != nil {
			return
		}
		enc := appendTx(nil, &r)
		consumed := b[:len(b)-len(rest)]
		// Varints may be non-minimal in the input; the re-encoding must at
		// least decode to the same record.
		var again TxRecord
		if _, err := decodeTx(enc, r.Key, &again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !bytes.Equal(appendTx(nil, &again), enc) {
			t.Fatalf("encoding is not stable for %x", consumed)
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
		_, _, _ = decodeChunkHeader(v)
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
