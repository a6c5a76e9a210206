package blockfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// buildTree mines the regtest blocks the chain tests use:
//
//	G - A1 - A2 - A3 - A4 - A5
//	     \
//	      B2 - B3
//	X1 - Y1 (X1's parent is unknown)
func buildTree(t *testing.T) *tree {
	tr := newTree(t)
	tr.add("A1", "G")
	for i := 2; i <= 5; i++ {
		tr.add(fmt.Sprintf("A%d", i), fmt.Sprintf("A%d", i-1))
	}
	tr.add("B2", "A1")
	tr.add("B3", "B2")
	tr.add("X1", "nowhere")
	tr.add("Y1", "X1")
	return tr
}

func TestSyntheticBlocksDecode(t *testing.T) {
	tr := buildTree(t)
	for name, b := range tr.blocks {
		d, err := btc.DecodeBlock(b.raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.Hash != b.hash {
			t.Fatalf("%s: hash %s, want %s", name, d.Hash, b.hash)
		}
		if err := btc.CheckProofOfWork(&d.Header, regtest); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestBestChain(t *testing.T) {
	tr := buildTree(t)
	for _, tc := range []struct {
		name  string
		files [][]string // block names per file blk00000.dat, blk00001.dat, ...
		max   int64
		want  string // chain, space separated
		stats Stats  // Files, Records and Bytes are checked separately
	}{
		{name: "linear", files: [][]string{{"G", "A1", "A2", "A3"}}, max: -1, want: "G A1 A2 A3"},
		{name: "children first", files: [][]string{{"A3", "A2", "A1", "G"}}, max: -1, want: "G A1 A2 A3"},
		{name: "longer branch wins", files: [][]string{{"G", "A1", "B2", "A2", "A3"}}, max: -1, want: "G A1 A2 A3", stats: Stats{Stale: 1}},
		{name: "longer branch seen last", files: [][]string{{"G", "A1", "B2", "B3", "A2", "A3", "A4"}}, max: -1, want: "G A1 A2 A3 A4", stats: Stats{Stale: 2}},
		{name: "fork wins", files: [][]string{{"G", "A1", "A2", "B2", "B3"}}, max: -1, want: "G A1 B2 B3", stats: Stats{Stale: 1}},
		{name: "tie first seen A", files: [][]string{{"G", "A1", "A2", "B2"}}, max: -1, want: "G A1 A2", stats: Stats{Stale: 1}},
		{name: "tie first seen B", files: [][]string{{"G", "A1", "B2", "A2"}}, max: -1, want: "G A1 B2", stats: Stats{Stale: 1}},
		{name: "tie across files", files: [][]string{{"G", "A1", "A3"}, {"B3", "B2", "A2"}}, max: -1, want: "G A1 A2 A3", stats: Stats{Stale: 2}},
		{name: "orphans", files: [][]string{{"Y1", "G", "X1", "A1"}}, max: -1, want: "G A1", stats: Stats{Orphans: 2}},
		{name: "duplicates", files: [][]string{{"G", "A1", "A1", "A2"}, {"G", "A2", "B2"}}, max: -1, want: "G A1 A2", stats: Stats{Duplicates: 3, Stale: 1}},
		{name: "children in an earlier file", files: [][]string{{"A4", "A3"}, {"A2"}, {"G", "A1"}}, max: -1, want: "G A1 A2 A3 A4"},
		{name: "one file a block, reversed", files: [][]string{{"A5"}, {"A4"}, {"B3"}, {"A3"}, {"B2"}, {"A2"}, {"A1"}, {"G"}}, max: -1, want: "G A1 A2 A3 A4 A5", stats: Stats{Stale: 2}},
		{name: "genesis only", files: [][]string{{"G"}}, max: -1, want: "G"},
		{name: "max height", files: [][]string{{"G", "A1", "A2", "A3", "A4", "A5"}}, max: 2, want: "G A1 A2", stats: Stats{AboveMax: 3}},
		{name: "max height 0", files: [][]string{{"G", "A1", "A2"}}, max: 0, want: "G", stats: Stats{AboveMax: 2}},
		{name: "max height above tip", files: [][]string{{"G", "A1", "A2"}}, max: 100, want: "G A1 A2"},
		// The best chain is chosen over all blocks, then cut: B2 was seen
		// first at height 2 but A3 makes A the best chain.
		{name: "max height below a fork", files: [][]string{{"G", "A1", "B2", "A2", "A3"}}, max: 2, want: "G A1 A2", stats: Stats{Stale: 1, AboveMax: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			records := 0
			for i, names := range tc.files {
				writeFile(t, dir, fmt.Sprintf("blk%05d.dat", i), tr.file(names...))
				records += len(names)
			}
			r, err := Open(t.Context(), dir, Options{MaxHeight: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			if r.Params() != regtest {
				t.Fatalf("network %s, want regtest", r.Params().Network)
			}
			wantNames := strings.Fields(tc.want)
			es := r.Chain()
			var got []string
			for _, e := range es {
				got = append(got, nameOf(tr, e.Hash.String()))
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("chain %v, want %s", got, tc.want)
			}
			var size int64
			for _, n := range wantNames {
				size += int64(len(tr.get(n).raw))
			}
			want := tc.stats
			want.Files, want.Records, want.Bytes = len(tc.files), records, size
			st := r.Stats()
			if st != want {
				t.Fatalf("stats %+v, want %+v", st, want)
			}
			if st.Records != st.Duplicates+st.Orphans+st.Stale+st.AboveMax+len(es) {
				t.Fatalf("stats %+v do not add up to %d chain blocks", st, len(es))
			}

			// Blocks yields exactly these blocks, from any height, with
			// any batching.
			for _, batch := range [][2]int{{defaultBatchBytes, defaultBatchBlocks}, {1, 1}, {300, 2}} {
				r.batchBytes, r.batchBlocks = batch[0], batch[1]
				for from := range int64(len(es)) + 1 {
					ges, raws := collect(t, r, from)
					if len(ges) != len(es)-int(from) {
						t.Fatalf("Blocks from %d yielded %d blocks", from, len(ges))
					}
					for i, e := range ges {
						h := int(from) + i
						if e != es[h] || !bytes.Equal(raws[i], tr.get(wantNames[h]).raw) {
							t.Fatalf("Blocks from %d, batch %v: height %d is %+v", from, batch, h, e)
						}
					}
				}
			}
			for h, e := range es {
				raw, err := r.ReadBlock(e, nil)
				if err != nil || !bytes.Equal(raw, tr.get(wantNames[h]).raw) {
					t.Fatalf("ReadBlock %d: %v", h, err)
				}
			}
			if _, err := r.Entry(int64(len(es))); err == nil {
				t.Fatalf("Entry above the tip succeeded")
			}
		})
	}
}

func nameOf(tr *tree, hash string) string {
	for n, b := range tr.blocks {
		if b.hash.String() == hash {
			return n
		}
	}
	return "?" + hash
}

func TestBlocksRange(t *testing.T) {
	tr := buildTree(t)
	dir := t.TempDir()
	writeFile(t, dir, "blk00000.dat", tr.file("G", "A1"))
	r, err := Open(t.Context(), dir, Options{MaxHeight: -1})
	if err != nil {
		t.Fatal(err)
	}
	fn := func(Entry, []byte) error { t.Fatal("fn called"); return nil }
	for _, from := range []int64{-1, 3, 1 << 40} {
		if err := r.Blocks(t.Context(), from, fn); !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("start height %d", from)) {
			t.Fatalf("Blocks from %d: %v", from, err)
		}
	}
	if err := r.Blocks(t.Context(), 2, fn); err != nil {
		t.Fatalf("Blocks from one past the tip: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Blocks(t.Context(), 0, fn); err == nil {
		t.Fatal("Blocks after Close succeeded")
	}
	e, _ := r.Entry(0)
	if _, err := r.ReadBlock(e, nil); err == nil {
		t.Fatal("ReadBlock after Close succeeded")
	}
	if _, err := r.Entry(-1); err == nil {
		t.Fatal("Entry(-1) succeeded")
	}
}
