package index

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// TestVerifyNamesTampering changes one record behind the index's back at a
// time and checks that Verify fails and names the check and the culprit.
func TestVerifyNamesTampering(t *testing.T) {
	// Height 170 holds the first payment; later blocks spend its outputs.
	raw := mainnet(t)[:400]
	p := mustParams(t, chain.Mainnet)

	cases := []struct {
		name   string
		check  string
		detail string
		tamper func(t *testing.T, ix *Index)
	}{
		{"output entry value changed", "outputs", "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", func(t *testing.T, ix *Index) {
			id := addrID(t, ix, "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S")
			set(t, ix, outKey(nil, id, MakeTxKey(170, 1), 1), appendOutValue(nil, 3999999999, 0, 0))
		}},
		{"unspent output entry deleted", "outputs", "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3", func(t *testing.T, ix *Index) {
			id := addrID(t, ix, "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3")
			var k []byte
			if err := ix.Outputs(id, func(e OutEntry) bool {
				if !e.Spent {
					k = outKey(nil, id, e.Key, e.Vout)
				}
				return true
			}); err != nil || k == nil {
				t.Fatalf("no unspent output to delete: %v", err)
			}
			del(t, ix, k)
		}},
		{"input value changed", "spends", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", func(t *testing.T, ix *Index) {
			rewriteChunk(t, ix, 170, func(r *TxRecord) {
				if r.Key.Pos() == 1 {
					r.In[0].Value -= 1
				}
			})
		}},
		{"spend link removed", "spends", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", func(t *testing.T, ix *Index) {
			r := record(t, ix, "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16")
			in := r.In[0]
			set(t, ix, outKey(nil, in.Addr, in.PrevKey, in.Vout), appendOutValue(nil, in.Value, 0, 0))
		}},
		{"spend link redirected", "spends", "", func(t *testing.T, ix *Index) {
			r := record(t, ix, "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16")
			in := r.In[0]
			set(t, ix, outKey(nil, in.Addr, in.PrevKey, in.Vout), appendOutValue(nil, in.Value, r.Key-in.PrevKey+1, 0))
		}},
		{"txid entry deleted", "txids", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", func(t *testing.T, ix *Index) {
			r := record(t, ix, "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16")
			del(t, ix, txidKey(nil, r.Txid[:], r.Key))
		}},
		{"txid changed", "blocks", "merkle root", func(t *testing.T, ix *Index) {
			rewriteChunk(t, ix, 170, func(r *TxRecord) { r.Txid[5] ^= 1 })
		}},
		{"first address id of a block changed", "addresses", "height 300", func(t *testing.T, ix *Index) {
			v, closer, err := ix.db.Get(blockKey(300))
			if err != nil {
				t.Fatal(err)
			}
			var br blockRecord
			if err := decodeBlock(v, &br); err != nil {
				t.Fatal(err)
			}
			closer.Close()
			br.FirstAddr--
			set(t, ix, blockKey(300), br.encode())
		}},
		{"block hash row deleted", "blocks", "block-hash table", func(t *testing.T, ix *Index) {
			b, err := ix.Block(250, false)
			if err != nil {
				t.Fatal(err)
			}
			h := mustHash(t, b.Hash)
			del(t, ix, hashKey(h[:]))
		}},
		{"block record deleted", "blocks", "height 200", func(t *testing.T, ix *Index) {
			del(t, ix, blockKey(200))
		}},
		{"address lookup deleted", "addresses", "", func(t *testing.T, ix *Index) {
			a, _, err := ix.addrByID(5)
			if err != nil {
				t.Fatal(err)
			}
			del(t, ix, addrKey(nil, a.Bytes(), 5))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ix := openTemp(t, p)
			importBlocks(t, ix, raw, WriterOptions{})
			if rep, err := ix.Verify(context.Background(), nil); err != nil || !rep.OK() {
				t.Fatalf("clean index fails verify: %v %+v", err, rep)
			}
			c.tamper(t, ix)
			rep, err := ix.Verify(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("tampering not detected")
			}
			ok := false
			for _, pr := range rep.Problems {
				if pr.Check == c.check && strings.Contains(pr.Detail, c.detail) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("no %q problem naming %q: %+v", c.check, c.detail, rep.Problems)
			}
		})
	}
}

func addrID(t *testing.T, ix *Index, s string) AddrID {
	t.Helper()
	a, err := ix.params.DecodeAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	id, err := ix.AddrIDOf(a)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func record(t *testing.T, ix *Index, txid string) *TxRecord {
	t.Helper()
	var r TxRecord
	h := mustHash(t, txid)
	if _, err := ix.findTx(&h, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func set(t *testing.T, ix *Index, k, v []byte) {
	t.Helper()
	if err := ix.db.Set(k, v, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

func del(t *testing.T, ix *Index, k []byte) {
	t.Helper()
	if err := ix.db.Delete(k, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// rewriteChunk decodes chunk 0 of height h, lets edit change its records,
// and stores it again.
func rewriteChunk(t *testing.T, ix *Index, h int64, edit func(*TxRecord)) {
	t.Helper()
	v, closer, err := ix.db.Get(chunkKey(nil, h, 0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := openChunk(v, MakeTxKey(h, 0))
	if err != nil {
		t.Fatal(err)
	}
	var w chunkWriter
	for c.i < c.n {
		var r TxRecord
		if err := c.next(&r, true); err != nil {
			t.Fatal(err)
		}
		edit(&r)
		w.add(&r)
	}
	out := w.encode(nil)
	closer.Close()
	set(t, ix, chunkKey(nil, h, 0), out)
}

func TestRecordRoundTrip(t *testing.T) {
	r := TxRecord{Key: MakeTxKey(100, 3), Version: -1, LockTime: 500000, Size: 250, Weight: 661, Segwit: true,
		In:  []InRecord{{PrevKey: MakeTxKey(7, 0), Vout: 2, Sequence: 0xfffffffd, Value: 123456789, Addr: 42, Type: 4}},
		Out: []OutRecord{{Value: 5, Addr: 9, Type: 6}, {Value: 0, Type: codeOpReturn, Data: []byte("hello")}}}
	r.Txid[0] = 0xab
	var w chunkWriter
	w.add(&r)
	c, err := openChunk(w.encode(nil), r.Key)
	if err != nil {
		t.Fatal(err)
	}
	var got TxRecord
	if err := c.next(&got, true); err != nil || c.done() != nil {
		t.Fatal(err, c.done())
	}
	if got.Txid != r.Txid || got.Version != -1 || got.LockTime != r.LockTime || got.In[0] != r.In[0] ||
		got.Out[0].Value != 5 || string(got.Out[1].Data) != "hello" || got.Weight != 661 || !got.Segwit {
		t.Fatalf("round trip: %+v", got)
	}
	var tip = Tip{Height: 5, NextAddr: 77, Txs: 1, Inputs: 2, Outputs: 3}
	if back, err := decodeTip(tip.encode()); err != nil || back != tip {
		t.Fatalf("tip: %+v %v", back, err)
	}
	if k := MakeTxKey(900000, 12345); k.Height() != 900000 || k.Pos() != 12345 {
		t.Fatal("txkey")
	}
	var id [5]byte
	putAddrID(id[:], 1<<38+5)
	if getAddrID(id[:]) != 1<<38+5 {
		t.Fatal("addr id")
	}
	_ = binary.MaxVarintLen64
}
