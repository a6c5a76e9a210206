package blockfile

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

const (
	mainnetGenesis = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
	mainnet170     = "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
)

var testKey = xorKey{0x9a, 0x11, 0x00, 0xfe, 0x42, 0x07, 0xc3, 0x5d}

// openMainnet writes files into a temporary directory and opens it.
func openMainnet(t *testing.T, files map[string][]byte, opt Options) (*Reader, string) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		writeFile(t, dir, name, data)
	}
	r, err := Open(t.Context(), dir, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

// checkMainnet checks the chain of r against the original records of
// btcd's file (in height order) and decodes every block.
func checkMainnet(t *testing.T, r *Reader, recs [][]byte) {
	t.Helper()
	if got := r.Params().Network; got != chain.Mainnet {
		t.Fatalf("network %s, want mainnet", got)
	}
	es := r.Chain()
	if len(es) != mainnetHeights || r.Height() != mainnetHeights-1 {
		t.Fatalf("chain has %d blocks, tip %d; want %d", len(es), r.Height(), mainnetHeights)
	}
	if got := es[0].Hash.String(); got != mainnetGenesis {
		t.Fatalf("height 0 is %s, want %s", got, mainnetGenesis)
	}
	if got := es[170].Hash.String(); got != mainnet170 {
		t.Fatalf("height 170 is %s, want %s", got, mainnet170)
	}
	var bytesSum int64
	for h, e := range es {
		if e.Height != int64(h) {
			t.Fatalf("entry %d has height %d", h, e.Height)
		}
		if h > 0 && e.Header.PrevBlock != es[h-1].Hash {
			t.Fatalf("height %d does not extend height %d", h, h-1)
		}
		if e.Header.BlockHash() != e.Hash {
			t.Fatalf("height %d: header hashes to %s, entry says %s", h, e.Header.BlockHash(), e.Hash)
		}
		bytesSum += int64(e.Size)
	}
	if st := r.Stats(); st.Bytes != bytesSum {
		t.Fatalf("stats %+v, want %d bytes", st, bytesSum)
	}

	got, raws := collect(t, r, 0)
	if len(got) != mainnetHeights {
		t.Fatalf("Blocks yielded %d blocks", len(got))
	}
	for h, raw := range raws {
		e := got[h]
		if e != es[h] {
			t.Fatalf("Blocks entry %d is %+v, Chain says %+v", h, e, es[h])
		}
		if !bytes.Equal(raw, recs[h][8:]) {
			t.Fatalf("height %d: raw block differs from the original record", h)
		}
		b, err := btc.DecodeBlock(raw)
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		if b.Hash != e.Hash || b.Header != e.Header || b.Size != int(e.Size) {
			t.Fatalf("height %d: decoded %s (%d bytes), entry %s (%d bytes)", h, b.Hash, b.Size, e.Hash, e.Size)
		}
	}
	// ReadBlock agrees, reusing or replacing the buffer.
	buf := make([]byte, 0, 300)
	for _, h := range []int{0, 1, 170, 9999, mainnetHeights - 1} {
		raw, err := r.ReadBlock(es[h], buf)
		if err != nil {
			t.Fatalf("ReadBlock %d: %v", h, err)
		}
		if !bytes.Equal(raw, recs[h][8:]) {
			t.Fatalf("ReadBlock %d differs from the original record", h)
		}
		if len(raw) <= cap(buf) && &raw[0] != &buf[:1][0] {
			t.Fatalf("ReadBlock %d did not reuse a large enough buffer", h)
		}
	}
}

func TestMainnet(t *testing.T) {
	data := mainnetFile(t)
	recs := splitRecords(t, data)
	if len(recs) != mainnetHeights {
		t.Fatalf("btcd's file has %d records, want %d", len(recs), mainnetHeights)
	}
	var progress [][3]int64
	var logged bytes.Buffer
	r, dir := openMainnet(t, map[string][]byte{"blk00000.dat": data}, Options{
		MaxHeight: -1,
		Logger:    slog.New(slog.NewTextHandler(&logged, nil)),
		Progress:  func(done, total int, n int64) { progress = append(progress, [3]int64{int64(done), int64(total), n}) },
	})
	checkMainnet(t, r, recs)
	var recBytes int64
	for _, rec := range recs {
		recBytes += int64(len(rec))
	}
	if want := [][3]int64{{1, 1, recBytes}}; !slices.Equal(progress, want) {
		t.Fatalf("progress %v, want %v", progress, want)
	}
	if !strings.Contains(logged.String(), "network=mainnet files=1 records=14132 tip=14131") {
		t.Fatalf("log %q lacks the scan summary", logged.String())
	}
	st := r.Stats()
	if st != (Stats{Files: 1, Records: mainnetHeights, Bytes: recBytes - 8*mainnetHeights}) {
		t.Fatalf("stats %+v", st)
	}
	if e, _ := r.Entry(1); e.File != 0 || e.Offset != int64(len(recs[0])+8) {
		t.Fatalf("height 1 at file %d offset %d, want 0 and %d", e.File, e.Offset, len(recs[0])+8)
	}

	// Small read-ahead batches give the same blocks, starting anywhere.
	r.batchBytes, r.batchBlocks = 1000, 7
	es, raws := collect(t, r, 14000)
	if len(es) != mainnetHeights-14000 || es[0].Height != 14000 {
		t.Fatalf("Blocks from 14000 yielded %d blocks from %d", len(es), es[0].Height)
	}
	for i, raw := range raws {
		if !bytes.Equal(raw, recs[14000+i][8:]) {
			t.Fatalf("height %d differs with small batches", 14000+i)
		}
	}

	// The same directory opened for the right network, a wrong one, and
	// cut at a height.
	if _, err := Open(t.Context(), dir, Options{Network: mainnet, MaxHeight: -1}); err != nil {
		t.Fatalf("Open with mainnet: %v", err)
	}
	_, err := Open(t.Context(), dir, Options{Network: testnet, MaxHeight: -1})
	if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), "blk00000.dat offset 0: magic f9beb4d9 is mainnet's, want testnet's") {
		t.Fatalf("Open with testnet: %v", err)
	}
	cut, err := Open(t.Context(), dir, Options{MaxHeight: 170})
	if err != nil {
		t.Fatal(err)
	}
	if cut.Height() != 170 || cut.Stats().AboveMax != mainnetHeights-171 || cut.Chain()[170].Hash.String() != mainnet170 {
		t.Fatalf("cut at 170: tip %d, stats %+v", cut.Height(), cut.Stats())
	}
}

func TestMainnetObfuscated(t *testing.T) {
	data := mainnetFile(t)
	recs := splitRecords(t, data)
	end := 0
	for _, rec := range recs {
		end += len(rec)
	}
	// As Core writes it: records obfuscated, the preallocated tail zero.
	records := bytes.Clone(data)
	testKey.apply(records[:end], 0)
	// As a converter might write it: the whole file obfuscated.
	whole := bytes.Clone(data)
	testKey.apply(whole, 0)

	for _, tc := range []struct {
		name string
		data []byte
		key  []byte
	}{
		{"records", records, testKey[:]},
		{"whole file", whole, testKey[:]},
		{"zero key", data, make([]byte, 8)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := openMainnet(t, map[string][]byte{"blk00000.dat": tc.data, "xor.dat": tc.key}, Options{MaxHeight: -1})
			checkMainnet(t, r, recs)
		})
	}

	// Without its key the obfuscated file is garbage.
	dir := t.TempDir()
	writeFile(t, dir, "blk00000.dat", records)
	if _, err := Open(t.Context(), dir, Options{MaxHeight: -1}); !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), "offset 0: unknown magic") {
		t.Fatalf("Open without xor.dat: %v", err)
	}
}

// TestMainnetSplit spreads the records over three files in an order a
// headers-first download could produce: children before their parents,
// even across files, and a block stored twice.
func TestMainnetSplit(t *testing.T) {
	data := mainnetFile(t)
	recs := splitRecords(t, data)
	var f0, f1, f2 []byte
	// blk00000.dat: heights 7000.. in chunks of 16, each chunk reversed.
	for lo := 7000; lo < len(recs); lo += 16 {
		for h := min(lo+15, len(recs)-1); h >= lo; h-- {
			f0 = append(f0, recs[h]...)
		}
	}
	// blk00001.dat: heights 1..6999 with neighbours swapped, then height 5
	// again.
	for h := 1; h < 7000; h += 2 {
		if h+1 < 7000 {
			f1 = append(f1, recs[h+1]...)
		}
		f1 = append(f1, recs[h]...)
	}
	f1 = append(f1, recs[5]...)
	// blk00002.dat: the genesis block, preallocated.
	f2 = append(append(f2, recs[0]...), make([]byte, 1<<20)...)
	f0 = append(f0, make([]byte, 1000)...)

	r, _ := openMainnet(t, map[string][]byte{"blk00000.dat": f0, "blk00001.dat": f1, "blk00002.dat": f2, "rev00000.dat": []byte("undo")}, Options{MaxHeight: -1})
	checkMainnet(t, r, recs)
	if st := r.Stats(); st.Files != 3 || st.Records != mainnetHeights+1 || st.Duplicates != 1 || st.Stale != 0 || st.Orphans != 0 {
		t.Fatalf("stats %+v", st)
	}
	if e, _ := r.Entry(0); e.File != 2 || e.Offset != 8 {
		t.Fatalf("genesis at file %d offset %d, want file 2 offset 8", e.File, e.Offset)
	}
	if e, _ := r.Entry(5); e.File != 1 {
		t.Fatalf("height 5 in file %d, want its first record in file 1", e.File)
	}
}

// TestBlocksCancel stops the iteration from inside fn.
func TestBlocksCancel(t *testing.T) {
	r, _ := openMainnet(t, map[string][]byte{"blk00000.dat": mainnetFile(t)}, Options{MaxHeight: -1})
	r.batchBytes, r.batchBlocks = 4096, 3
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	err := r.Blocks(ctx, 100, func(e Entry, raw []byte) error {
		calls++
		if e.Height == 110 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 11 || !strings.Contains(err.Error(), "before height 111") {
		t.Fatalf("Blocks after cancel: %v after %d calls", err, calls)
	}

	stop := errors.New("stop")
	calls = 0
	err = r.Blocks(t.Context(), 0, func(e Entry, raw []byte) error {
		calls++
		if e.Height == 3 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 4 {
		t.Fatalf("Blocks returning an error: %v after %d calls", err, calls)
	}

	if _, err := Open(ctx, r.Dir(), Options{MaxHeight: -1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context: %v", err)
	}
}

func BenchmarkBlocks(b *testing.B) {
	dir := b.TempDir()
	writeFile(b, dir, "blk00000.dat", mainnetFile(b))
	r, err := Open(b.Context(), dir, Options{MaxHeight: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(r.Stats().Bytes)
	var sink byte
	for b.Loop() {
		n := 0
		err := r.Blocks(b.Context(), 0, func(e Entry, raw []byte) error {
			sink ^= raw[len(raw)-1]
			n++
			return nil
		})
		if err != nil || n != mainnetHeights {
			b.Fatalf("Blocks: %v after %d blocks", err, n)
		}
	}
	_ = sink
}

func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	data := mainnetFile(b)
	writeFile(b, dir, "blk00000.dat", data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Open(b.Context(), dir, Options{MaxHeight: -1}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHeaderParse checks parseHeader against wire on real headers.
func TestHeaderParse(t *testing.T) {
	for i, rec := range splitRecords(t, mainnetFile(t))[:50] {
		b, err := btc.DecodeBlock(rec[8:])
		if err != nil {
			t.Fatal(err)
		}
		hdr := parseHeader((*[80]byte)(rec[8:88]))
		if hdr != b.Header || chainhash.DoubleHashH(rec[8:88]) != b.Hash {
			t.Fatalf("block %d: parsed %+v, wire %+v", i, hdr, b.Header)
		}
	}
}
