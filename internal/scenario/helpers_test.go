package scenario

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
)

// readBlockFiles reads the block files of a generated directory strictly:
// records back to back, each with the regtest magic and a size that fits,
// files in the order the result lists them, nothing after the last record.
func readBlockFiles(t testing.TB, dir string, files []string) [][]byte {
	t.Helper()
	magic := [4]byte{0xfa, 0xbf, 0xb5, 0xda}
	var blocks [][]byte
	for i, f := range files {
		want := filepath.Join(dir, blkName(i))
		if f != want {
			t.Fatalf("file %d is %s, want %s", i, f, want)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(b); {
			if len(b)-off < 8 {
				t.Fatalf("%s: %d stray bytes at offset %d", f, len(b)-off, off)
			}
			if !bytes.Equal(b[off:off+4], magic[:]) {
				t.Fatalf("%s: bad magic % x at offset %d", f, b[off:off+4], off)
			}
			n := int(binary.LittleEndian.Uint32(b[off+4:]))
			if n < 81 || off+8+n > len(b) {
				t.Fatalf("%s: record of %d bytes at offset %d runs past the end (%d)", f, n, off, len(b))
			}
			blocks = append(blocks, b[off+8:off+8+n])
			off += 8 + n
		}
	}
	if len(blocks) == 0 {
		t.Fatal("no blocks")
	}
	var g bytes.Buffer
	if err := chaincfg.RegressionNetParams.GenesisBlock.Serialize(&g); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blocks[0], g.Bytes()) {
		t.Fatal("the first block is not the regtest genesis block")
	}
	return blocks
}

func blkName(i int) string {
	return "blk" + pad5(i) + ".dat"
}

func pad5(i int) string {
	s := []byte("00000")
	for k := 4; k >= 0 && i > 0; k-- {
		s[k] = byte('0' + i%10)
		i /= 10
	}
	return string(s)
}
