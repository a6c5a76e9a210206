package scenario

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/btcdtest"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// TestBtcdAcceptsGeneratedChain submits every generated block to a real
// btcd 0.26.2 regtest node, which validates them fully (proof of work,
// scripts and signatures, BIP34/65/66, segwit and taproot, coinbase
// maturity, fees, sigops, weight, lock times). All must be accepted and
// the node's tip must be the generator's.
func TestBtcdAcceptsGeneratedChain(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"ransomware", Config{Seed: 11, Scenario: Ransomware}},
		{"baseline", Config{Seed: 12, Txs: 4000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			res, err := Generate(context.Background(), c.cfg, dir)
			if err != nil {
				t.Fatal(err)
			}
			blocks := readBlockFiles(t, dir, res.Files)
			if len(blocks) != res.Blocks {
				t.Fatalf("read %d blocks, result says %d", len(blocks), res.Blocks)
			}
			node := btcdtest.Start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			last := len(blocks) - 1
			for h := 1; h < last; h++ {
				if err := node.SubmitBlock(ctx, blocks[h]); err != nil {
					t.Fatalf("block %d rejected: %v", h, err)
				}
			}
			// Negative control: the node really validates. The last block
			// with a coinbase claiming one satoshi too much (re-merkled,
			// re-mined) must be rejected.
			if err := node.SubmitBlock(ctx, greedyCoinbase(t, blocks[last])); err == nil {
				t.Fatal("the node accepted a coinbase paying more than subsidy + fees")
			} else {
				t.Logf("tampered block rejected as it should be: %v", err)
			}
			if err := node.SubmitBlock(ctx, blocks[last]); err != nil {
				t.Fatalf("block %d rejected: %v", last, err)
			}
			best, height := node.BestBlock(t)
			if best != res.TipHash || height != res.TipHeight {
				t.Fatalf("node tip %s at %d, generator tip %s at %d", best, height, res.TipHash, res.TipHeight)
			}
			t.Logf("btcd accepted %d blocks with %d transactions (%d bytes); tip %s", len(blocks)-1, res.Txs, res.Bytes, best)
		})
	}
}

// greedyCoinbase returns raw with the coinbase paying one satoshi more,
// with a correct merkle root and proof of work (the witness commitment
// stays valid: the coinbase counts as zero in the witness tree).
func greedyCoinbase(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b wire.MsgBlock
	if err := b.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	b.Transactions[0].TxOut[0].Value++
	txids := make([]chainhash.Hash, len(b.Transactions))
	for i, tx := range b.Transactions {
		txids[i] = tx.TxHash()
	}
	b.Header.MerkleRoot = btc.MerkleRoot(txids)
	p, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	for b.Header.Nonce = 0; btc.CheckProofOfWork(&b.Header, p) != nil; b.Header.Nonce++ {
	}
	var out bytes.Buffer
	if err := b.Serialize(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
