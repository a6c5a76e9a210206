package blockfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// mainnetHeights is the number of blocks in btcd's blk_0_to_14131.dat.
const mainnetHeights = 14132

var mainnetData struct {
	once sync.Once
	data []byte
	err  error
}

// mainnetFile returns the bytes of btcd's testdata file
// blockchain/testdata/blk_0_to_14131.dat, a real Bitcoin Core block file
// (mainnet heights 0 to 14131 and a zero-filled tail), located through the
// module cache of the btcd version in go.mod.
func mainnetFile(tb testing.TB) []byte {
	tb.Helper()
	mainnetData.once.Do(func() {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd")
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = errors.Join(err, errors.New(string(ee.Stderr)))
			}
			mainnetData.err = err
			return
		}
		path := filepath.Join(strings.TrimSpace(string(out)), "blockchain", "testdata", "blk_0_to_14131.dat")
		mainnetData.data, mainnetData.err = os.ReadFile(path)
	})
	if mainnetData.err != nil {
		tb.Fatalf("locating btcd's blk_0_to_14131.dat: %v", mainnetData.err)
	}
	return mainnetData.data
}

// splitRecords cuts a block file into its records (magic, size, block)
// up to the first zero magic, independently of the code under test.
func splitRecords(tb testing.TB, data []byte) [][]byte {
	tb.Helper()
	var recs [][]byte
	for pos := 0; pos+8 <= len(data); {
		if binary.LittleEndian.Uint32(data[pos:]) == 0 {
			break
		}
		n := 8 + int(binary.LittleEndian.Uint32(data[pos+4:]))
		if pos+n > len(data) {
			tb.Fatalf("record at %d runs past the end", pos)
		}
		recs = append(recs, data[pos:pos+n])
		pos += n
	}
	return recs
}

func mustParams(n chain.Network) *btc.Params {
	p, err := btc.ParamsFor(n)
	if err != nil {
		panic(err)
	}
	return p
}

var (
	regtest = mustParams(chain.Regtest)
	mainnet = mustParams(chain.Mainnet)
	testnet = mustParams(chain.Testnet)
)

// tblock is a serialized test block.
type tblock struct {
	hash chainhash.Hash
	raw  []byte
}

func serialize(tb testing.TB, b *wire.MsgBlock) tblock {
	tb.Helper()
	var buf bytes.Buffer
	if err := b.Serialize(&buf); err != nil {
		tb.Fatal(err)
	}
	return tblock{hash: b.BlockHash(), raw: buf.Bytes()}
}

func genesis(tb testing.TB, p *btc.Params) tblock {
	return serialize(tb, p.Net.GenesisBlock)
}

// mineChild builds a regtest block on parent: one coinbase paying to
// OP_TRUE, tag making it unique, the merkle root of its transaction, bits
// 0x207fffff and a nonce ground until the proof of work is valid (pow) or
// invalid (!pow).
func mineChild(tb testing.TB, parent chainhash.Hash, tag uint32, pow bool) tblock {
	tb.Helper()
	cb := wire.NewMsgTx(1)
	script := binary.LittleEndian.AppendUint32([]byte{txscript.OP_DATA_4}, tag)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: script, Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(&wire.TxOut{Value: 50 * 100_000_000, PkScript: []byte{txscript.OP_TRUE}})
	b := &wire.MsgBlock{Header: wire.BlockHeader{
		Version:    4,
		PrevBlock:  parent,
		MerkleRoot: btc.MerkleRoot([]chainhash.Hash{cb.TxHash()}),
		Timestamp:  time.Unix(1_700_000_000+int64(tag), 0),
		Bits:       0x207fffff,
	}}
	b.Transactions = []*wire.MsgTx{cb}
	for (btc.CheckProofOfWork(&b.Header, regtest) == nil) != pow {
		b.Header.Nonce++
	}
	return serialize(tb, b)
}

// tree builds named regtest blocks; "G" is the genesis block.
type tree struct {
	tb     testing.TB
	blocks map[string]tblock
	tag    uint32
}

func newTree(tb testing.TB) *tree {
	return &tree{tb: tb, blocks: map[string]tblock{"G": serialize(tb, chaincfg.RegressionNetParams.GenesisBlock)}}
}

// add mines name on parent; a parent that is not a known name is an
// unknown block (the child is an orphan).
func (t *tree) add(name, parent string) tblock {
	t.tb.Helper()
	var ph chainhash.Hash
	if p, ok := t.blocks[parent]; ok {
		ph = p.hash
	} else {
		ph = chainhash.DoubleHashH([]byte(parent))
	}
	t.tag++
	b := mineChild(t.tb, ph, t.tag, true)
	t.blocks[name] = b
	return b
}

func (t *tree) get(name string) tblock {
	t.tb.Helper()
	b, ok := t.blocks[name]
	if !ok {
		t.tb.Fatalf("no block %q", name)
	}
	return b
}

func mkRecord(magic [4]byte, raw []byte) []byte {
	r := append(magic[:0:0], magic[:]...)
	r = binary.LittleEndian.AppendUint32(r, uint32(len(raw)))
	return append(r, raw...)
}

// file concatenates regtest records of blocks and a zero tail.
func (t *tree) file(names ...string) []byte {
	var data []byte
	for _, n := range names {
		data = append(data, mkRecord(regtest.Magic, t.get(n).raw)...)
	}
	return append(data, make([]byte, 100)...)
}

func writeFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// collect reads the chain with Blocks, copying every block.
func collect(tb testing.TB, r *Reader, from int64) ([]Entry, [][]byte) {
	tb.Helper()
	var es []Entry
	var raws [][]byte
	err := r.Blocks(tb.Context(), from, func(e Entry, raw []byte) error {
		es = append(es, e)
		raws = append(raws, bytes.Clone(raw))
		return nil
	})
	if err != nil {
		tb.Fatalf("Blocks: %v", err)
	}
	return es, raws
}
