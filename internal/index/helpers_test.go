package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

var (
	mainnetOnce   sync.Once
	mainnetBlocks [][]byte
	mainnetErr    error
)

// btcdModuleDir finds btcd's module (a dependency, so in the module cache).
func btcdModuleDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locate btcd module: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("btcd module not in the module cache; run go mod download")
	}
	return dir
}

// mainnet returns the raw blocks 0..14131 of Bitcoin mainnet from btcd's
// testdata (a Bitcoin Core blk file, blocks in height order).
func mainnet(t testing.TB) [][]byte {
	t.Helper()
	mainnetOnce.Do(func() {
		var data []byte
		data, mainnetErr = os.ReadFile(filepath.Join(btcdModuleDir(t), "blockchain", "testdata", "blk_0_to_14131.dat"))
		for len(data) >= 8 && mainnetErr == nil {
			if !bytes.Equal(data[:4], []byte{0xf9, 0xbe, 0xb4, 0xd9}) {
				break // zero-filled tail
			}
			n := binary.LittleEndian.Uint32(data[4:8])
			mainnetBlocks = append(mainnetBlocks, data[8:8+n])
			data = data[8+n:]
		}
	})
	if mainnetErr != nil {
		t.Fatal(mainnetErr)
	}
	if len(mainnetBlocks) != 14132 {
		t.Fatalf("read %d mainnet blocks, want 14132", len(mainnetBlocks))
	}
	return mainnetBlocks
}

func mustParams(t testing.TB, n chain.Network) *btc.Params {
	t.Helper()
	p, err := btc.ParamsFor(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// importBlocks opens an index in dir and adds raw blocks [from, to).
func importBlocks(t testing.TB, ix *Index, raw [][]byte, opt WriterOptions) {
	t.Helper()
	w, err := ix.NewWriter(opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range raw {
		b, err := btc.DecodeBlock(r)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if err := w.Add(b); err != nil {
			t.Fatalf("add block %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// dump digests every key and value of the store: two stores with the same
// digest hold the same data.
func dump(t testing.TB, ix *Index) [32]byte {
	t.Helper()
	it, err := ix.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	h := sha256.New()
	for ok := it.First(); ok; ok = it.Next() {
		var n [8]byte
		binary.BigEndian.PutUint32(n[:4], uint32(len(it.Key())))
		binary.BigEndian.PutUint32(n[4:], uint32(len(it.Value())))
		h.Write(n[:])
		h.Write(it.Key())
		h.Write(it.Value())
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func openTemp(t testing.TB, p *btc.Params) *Index {
	t.Helper()
	ix, err := Open(t.TempDir(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func mustHash(t testing.TB, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}
