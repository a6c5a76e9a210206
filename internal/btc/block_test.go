package btc

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func btcdTestdata(t testing.TB, rel string) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locate btcd module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSegwitMainnetBlocks decodes two real segwit-era mainnet blocks and
// checks every txid against btcd's own serialisation.
func TestSegwitMainnetBlocks(t *testing.T) {
	cases := []struct {
		hash   string
		height int64
		txs    int
	}{
		{"00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab", 540107, 230},
		{"0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2", 574200, 3315},
	}
	for _, c := range cases {
		raw := btcdTestdata(t, "wire/testdata/block-"+c.hash+".blk")
		b, err := DecodeBlock(raw)
		if err != nil {
			t.Fatal(err)
		}
		if b.Hash.String() != c.hash || len(b.Txs) != c.txs {
			t.Fatalf("block %s: hash %s, %d txs", c.hash, b.Hash, len(b.Txs))
		}
		if h, ok := BlockHeight(b.Txs[0].CoinbaseScript); !ok || h != c.height {
			t.Fatalf("BIP34 height %d %v, want %d", h, ok, c.height)
		}
		if err := CheckProofOfWork(&b.Header, mainnet); err != nil {
			t.Fatal(err)
		}
		var msg wire.MsgBlock
		if err := msg.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		segwit, weight := 0, 0
		for i, tx := range msg.Transactions {
			if b.Txs[i].Txid != tx.TxHash() {
				t.Fatalf("tx %d: txid %s, btcd %s", i, b.Txs[i].Txid, tx.TxHash())
			}
			if b.Txs[i].Size != tx.SerializeSize() || b.Txs[i].Weight != tx.SerializeSizeStripped()*3+tx.SerializeSize() {
				t.Fatalf("tx %d sizes", i)
			}
			if b.Txs[i].Segwit {
				segwit++
			}
			weight += b.Txs[i].Weight
			for j, o := range tx.TxOut {
				if b.Txs[i].Out[j].Value != uint64(o.Value) {
					t.Fatalf("tx %d out %d value", i, j)
				}
			}
		}
		if segwit == 0 || b.Weight > 4_000_000 || b.Weight != weight+(b.StrippedSize-sumStripped(b))*4 {
			t.Fatalf("segwit txs %d, weight %d", segwit, b.Weight)
		}
	}
}

// sumStripped is the stripped size of the block's transactions alone.
func sumStripped(b *Block) int {
	n := 0
	for _, tx := range b.Txs {
		n += (tx.Weight - tx.Size) / 3
	}
	return n
}

func TestDecodeBlockRejectsCorruption(t *testing.T) {
	raw := btcdTestdata(t, "wire/testdata/block-00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab.blk")
	bad := append([]byte(nil), raw...)
	bad[len(bad)-100] ^= 1 // inside the last transaction
	if _, err := DecodeBlock(bad); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("flipped byte: %v", err)
	}
	if _, err := DecodeBlock(raw[:len(raw)-1]); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := DecodeBlock(append(append([]byte(nil), raw...), 0)); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("trailing byte: %v", err)
	}
}

// FuzzDecodeBlock: arbitrary bytes never panic; a block that decodes has
// consistent sizes.
func FuzzDecodeBlock(f *testing.F) {
	f.Add(btcdTestdata(f, "wire/testdata/block-00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab.blk")[:4096])
	gen := mainnet.Net.GenesisBlock
	var buf bytes.Buffer
	gen.Serialize(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := DecodeBlock(raw)
		if err != nil {
			return
		}
		if b.Size != len(raw) || b.StrippedSize > b.Size || len(b.Txs) == 0 || !b.Txs[0].Coinbase {
			t.Fatalf("inconsistent block: size %d stripped %d", b.Size, b.StrippedSize)
		}
	})
}

// FuzzClassify: any script classifies without panicking, and an address
// that encodes decodes back to the same Addr.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"76a914751e76e8199196d454941c45d1b3a323f1433bd688ac", "51024e73", "6a", "5121"} {
		b, _ := hexDecode(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		typ, a := Classify(script)
		if typ == "" {
			t.Fatal("no script type")
		}
		s := mainnet.EncodeAddr(a)
		if a.IsNone() {
			if s != "" || typ != chain.OpReturn {
				t.Fatalf("no address for %s", typ)
			}
			return
		}
		back, err := mainnet.DecodeAddr(s)
		if err != nil || back != a {
			t.Fatalf("%x → %s → %+v %v", script, s, back, err)
		}
	})
}

// FuzzDecodeTx: arbitrary bytes never panic; a transaction that decodes
// has the txid btcd computes and consistent sizes.
func FuzzDecodeTx(f *testing.F) {
	raw := btcdTestdata(f, "wire/testdata/block-00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab.blk")
	var msg wire.MsgBlock
	if err := msg.Deserialize(bytes.NewReader(raw)); err != nil {
		f.Fatal(err)
	}
	for _, tx := range msg.Transactions[:8] {
		var b bytes.Buffer
		tx.Serialize(&b)
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := DecodeTx(raw)
		if err != nil {
			return
		}
		var mt wire.MsgTx
		if err := mt.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatalf("DecodeTx accepted what btcd refuses: %v", err)
		}
		if tx.Txid != mt.TxHash() || tx.Size != len(raw) || tx.Weight < tx.Size || tx.VSize() > tx.Size {
			t.Fatalf("txid %s (btcd %s), size %d weight %d", tx.Txid, mt.TxHash(), tx.Size, tx.Weight)
		}
	})
}
