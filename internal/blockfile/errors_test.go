package blockfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func TestOpenErrors(t *testing.T) {
	tr := newTree(t)
	a1 := tr.add("A1", "G")
	tr.add("A2", "A1")
	g := mkRecord(regtest.Magic, tr.get("G").raw)
	rec1 := mkRecord(regtest.Magic, a1.raw)
	badPow := mineChild(t, tr.get("G").hash, 99, false)
	header := func(magic [4]byte, size uint32) []byte {
		return binary.LittleEndian.AppendUint32(magic[:], size)
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	blk0 := "$DIR" + string(filepath.Separator) + "blk00000.dat"
	off := func(n int) string { return fmt.Sprintf("offset %d:", n) }

	for _, tc := range []struct {
		name    string
		files   map[string][]byte
		network *btc.Params
		want    []string // substrings of the error; $DIR is the directory
		invalid bool     // wraps chain.ErrInvalid
	}{
		{
			name:    "truncated record",
			files:   map[string][]byte{"blk00000.dat": cat(g, rec1[:len(rec1)-10])},
			want:    []string{blk0, off(len(g)), "runs past the end of the file", "truncated"},
			invalid: true,
		},
		{
			name:    "truncated record header",
			files:   map[string][]byte{"blk00000.dat": cat(g, rec1[:6])},
			want:    []string{blk0, off(len(g)), "record header runs past the end"},
			invalid: true,
		},
		{
			name:    "stray bytes",
			files:   map[string][]byte{"blk00000.dat": cat(g, []byte{0xfa, 0xbf, 0})},
			want:    []string{blk0, off(len(g)), "3 stray bytes"},
			invalid: true,
		},
		{
			name:    "testnet file opened as regtest",
			files:   map[string][]byte{"blk00000.dat": mkRecord(testnet.Magic, tr.get("G").raw)},
			network: regtest,
			want:    []string{blk0, off(0), "magic 0b110907 is testnet's, want regtest's magic fabfb5da"},
			invalid: true,
		},
		{
			name:    "network changes within the files",
			files:   map[string][]byte{"blk00000.dat": g, "blk00001.dat": cat(g, mkRecord(mainnet.Magic, a1.raw))},
			want:    []string{"blk00001.dat " + off(len(g)), "is mainnet's, want regtest's"},
			invalid: true,
		},
		{
			name:    "garbage magic",
			files:   map[string][]byte{"blk00000.dat": cat(g, []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5})},
			want:    []string{blk0, off(len(g)), "unknown magic deadbeef, want regtest's"},
			invalid: true,
		},
		{
			name:    "garbage first magic",
			files:   map[string][]byte{"blk00000.dat": []byte("this is not a block file at all")},
			want:    []string{blk0, off(0), "unknown magic 74686973"},
			invalid: true,
		},
		{
			name:    "size too large",
			files:   map[string][]byte{"blk00000.dat": cat(g, header(regtest.Magic, MaxBlockSize+1), make([]byte, 200))},
			want:    []string{blk0, off(len(g)), "record size 4000001 is outside 81..4000000"},
			invalid: true,
		},
		{
			name:    "size too small",
			files:   map[string][]byte{"blk00000.dat": cat(header(regtest.Magic, 80), make([]byte, 200))},
			want:    []string{blk0, off(0), "record size 80 is outside"},
			invalid: true,
		},
		{
			name:    "empty dir",
			files:   map[string][]byte{},
			want:    []string{"$DIR holds no block files"},
			invalid: true,
		},
		{
			name:    "only other files",
			files:   map[string][]byte{"rev00000.dat": g, "xor.dat": make([]byte, 8), "blk.dat": g, "blk00000.datx": g, "blkx0000.dat": g},
			want:    []string{"$DIR holds no block files"},
			invalid: true,
		},
		{
			name:    "preallocated files only",
			files:   map[string][]byte{"blk00000.dat": make([]byte, 4096), "blk00001.dat": nil},
			want:    []string{"$DIR holds no block records (2 block files"},
			invalid: true,
		},
		{
			name:    "no genesis",
			files:   map[string][]byte{"blk00000.dat": tr.file("A1", "A2")},
			want:    []string{"$DIR holds no regtest genesis block 0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
			invalid: true,
		},
		{
			name:    "no genesis in a pruned dir",
			files:   map[string][]byte{"blk00003.dat": tr.file("A1", "A2")},
			want:    []string{"holds no regtest genesis block", "lowest block file is blk00003.dat (pruned node?)"},
			invalid: true,
		},
		{
			name:    "mainnet genesis missing",
			files:   map[string][]byte{"blk00000.dat": mkRecord(mainnet.Magic, a1.raw)},
			want:    []string{"holds no mainnet genesis block 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
			invalid: true,
		},
		{
			name:    "proof of work fails on the chain",
			files:   map[string][]byte{"blk00000.dat": tr.file("G", "A1"), "blk00001.dat": cat(mkRecord(regtest.Magic, badPow.raw), mkRecord(regtest.Magic, mineChild(t, badPow.hash, 100, true).raw))},
			want:    []string{"$DIR" + string(filepath.Separator) + "blk00001.dat offset 8: block at height 1", badPow.hash.String(), "does not meet its proof-of-work target"},
			invalid: true,
		},
		{
			name:    "xor.dat of the wrong size",
			files:   map[string][]byte{"blk00000.dat": g, "xor.dat": make([]byte, 7)},
			want:    []string{"xor.dat is 7 bytes, want 8"},
			invalid: true,
		},
		{
			name:    "two files with the same number",
			files:   map[string][]byte{"blk00000.dat": g, "blk0.dat": g},
			want:    []string{"both block file number 0"},
			invalid: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				writeFile(t, dir, name, data)
			}
			r, err := Open(t.Context(), dir, Options{Network: tc.network, MaxHeight: -1})
			if err == nil {
				t.Fatalf("Open succeeded with a chain of %d blocks", r.Height()+1)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "blockfile: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line prefixed blockfile:", msg)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "$DIR", dir); !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if errors.Is(err, chain.ErrInvalid) != tc.invalid {
				t.Errorf("error %q: errors.Is(ErrInvalid) = %v, want %v", msg, !tc.invalid, tc.invalid)
			}
		})
	}

	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "missing"), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing dir: %v", err)
	}
}

// TestChangedAfterOpen changes the files between Open and reading: the
// reader must notice, deliver every block before the damage and name it.
func TestChangedAfterOpen(t *testing.T) {
	tr := newTree(t)
	names := []string{"G"}
	for i := 1; i <= 6; i++ {
		n := fmt.Sprintf("A%d", i)
		tr.add(n, names[i-1])
		names = append(names, n)
	}
	data := tr.file(names...)
	key := xorKey{1, 2, 3, 4, 5, 6, 7, 8}
	key.apply(data, 0)

	for _, tc := range []struct {
		name   string
		change func(path string, e Entry) error
		want   string
	}{
		{"truncated", func(path string, e Entry) error { return os.Truncate(path, e.Offset+int64(e.Size)-1) }, "is truncated: its record says"},
		{"overwritten", func(path string, e Entry) error {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte{0xff}, e.Offset+10)
			return err
		}, "found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, "blk00000.dat", data)
			writeFile(t, dir, "xor.dat", key[:])
			r, err := Open(t.Context(), dir, Options{MaxHeight: -1})
			if err != nil {
				t.Fatal(err)
			}
			bad, _ := r.Entry(4)
			if err := tc.change(path, bad); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%s offset %d: ", path, bad.Offset)
			for _, batch := range [][2]int{{defaultBatchBytes, defaultBatchBlocks}, {1, 1}} {
				r.batchBytes, r.batchBlocks = batch[0], batch[1]
				var seen []int64
				err = r.Blocks(t.Context(), 1, func(e Entry, raw []byte) error {
					seen = append(seen, e.Height)
					return nil
				})
				if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.want) ||
					!strings.Contains(err.Error(), "height 4") {
					t.Fatalf("Blocks: %v", err)
				}
				if fmt.Sprint(seen) != "[1 2 3]" {
					t.Fatalf("Blocks delivered heights %v before the error, want [1 2 3]", seen)
				}
			}
			_, err = r.ReadBlock(bad, nil)
			if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadBlock: %v", err)
			}
			good, _ := r.Entry(3)
			if _, err := r.ReadBlock(good, nil); err != nil {
				t.Fatalf("ReadBlock of an intact block: %v", err)
			}
		})
	}
}

func TestXorKey(t *testing.T) {
	key := xorKey{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	for off := int64(0); off < 20; off++ {
		for n := 0; n < 40; n++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i * 7)
			}
			key.apply(b, off)
			for i := range b {
				if want := byte(i*7) ^ key[(off+int64(i))%8]; b[i] != want {
					t.Fatalf("offset %d length %d: byte %d is %02x, want %02x", off, n, i, b[i], want)
				}
			}
		}
	}
}

func TestBlkNumber(t *testing.T) {
	for _, tc := range []struct {
		name string
		num  int
		ok   bool
	}{
		{"blk00000.dat", 0, true},
		{"blk04711.dat", 4711, true},
		{"blk123456.dat", 123456, true},
		{"blk.dat", 0, false},
		{"rev00000.dat", 0, false},
		{"blk00000.dat.tmp", 0, false},
		{"blk0000a.dat", 0, false},
		{"blk-0001.dat", 0, false},
		{"blk+0001.dat", 0, false},
		{"blk1234567890.dat", 0, false},
		{"xor.dat", 0, false},
	} {
		if num, ok := blkNumber(tc.name); num != tc.num || ok != tc.ok {
			t.Errorf("blkNumber(%q) = %d, %v; want %d, %v", tc.name, num, ok, tc.num, tc.ok)
		}
	}
}
