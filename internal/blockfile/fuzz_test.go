package blockfile

import (
	"encoding/binary"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
)

// FuzzOpen writes arbitrary bytes as blk00000.dat (and, for a non-zero
// key, an xor.dat) and checks that Open and Blocks never panic and either
// fail or return a consistent chain. Open reads headers only, so a block
// body may be garbage; every block that decodes must be the block its
// entry names.
func FuzzOpen(f *testing.F) {
	tr := newTree(f)
	tr.add("A1", "G")
	tr.add("A2", "A1")
	tr.add("B2", "A1")
	tr.add("X1", "nowhere")
	f.Add(tr.file("G"), uint64(0))
	f.Add(tr.file("G", "A1", "A2"), uint64(0))
	f.Add(tr.file("A2", "G", "B2", "A1", "A1", "X1"), uint64(0))
	obf := tr.file("G", "A1")
	key := xorKey{3, 1, 4, 1, 5, 9, 2, 6}
	key.apply(obf, 0)
	f.Add(obf, binary.LittleEndian.Uint64(key[:]))
	f.Add(mkRecord(mainnet.Magic, genesis(f, mainnet).raw), uint64(0))
	f.Add(mkRecord(testnet.Magic, genesis(f, testnet).raw), uint64(0))
	f.Add([]byte{0xfa, 0xbf, 0xb5, 0xda, 0xff, 0xff, 0xff, 0xff}, uint64(0))
	f.Add([]byte("garbage that is not a block file"), uint64(0))
	f.Add([]byte{}, uint64(0))

	f.Fuzz(func(t *testing.T, data []byte, k uint64) {
		dir := t.TempDir()
		writeFile(t, dir, "blk00000.dat", data)
		if k != 0 {
			writeFile(t, dir, "xor.dat", binary.LittleEndian.AppendUint64(nil, k))
		}
		r, err := Open(t.Context(), dir, Options{MaxHeight: -1})
		if err != nil {
			return
		}
		es := r.Chain()
		st := r.Stats()
		if len(es) == 0 || es[0].Hash != r.Params().GenesisHash() {
			t.Fatalf("chain of %d blocks does not start at genesis", len(es))
		}
		if st.Records != st.Duplicates+st.Orphans+st.Stale+st.AboveMax+len(es) || st.Files != 1 {
			t.Fatalf("stats %+v do not add up to %d blocks", st, len(es))
		}
		for h, e := range es {
			if h > 0 && e.Header.PrevBlock != es[h-1].Hash {
				t.Fatalf("height %d does not extend its parent", h)
			}
			if e.Header.BlockHash() != e.Hash {
				t.Fatalf("height %d: header does not hash to the entry", h)
			}
		}
		n := 0
		err = r.Blocks(t.Context(), 0, func(e Entry, raw []byte) error {
			if e != es[n] || len(raw) != int(e.Size) || chainhash.DoubleHashH(raw[:80]) != e.Hash {
				t.Fatalf("height %d: entry or raw bytes do not match the chain", n)
			}
			if b, err := btc.DecodeBlock(raw); err == nil && b.Hash != e.Hash {
				t.Fatalf("height %d decodes to block %s, entry says %s", n, b.Hash, e.Hash)
			}
			n++
			return nil
		})
		if err != nil || n != len(es) {
			t.Fatalf("Blocks: %v after %d of %d blocks", err, n, len(es))
		}
	})
}
