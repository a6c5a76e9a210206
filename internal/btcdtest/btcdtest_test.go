package btcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/testproc"
)

func TestNodeLifecycle(t *testing.T) {
	n := Start(t)
	if _, h := n.BestBlock(t); h != 0 {
		t.Fatalf("fresh regtest node at height %d, want 0", h)
	}
	hashes := n.Generate(t, 101)
	if len(hashes) != 101 {
		t.Fatalf("Generate(101) returned %d hashes", len(hashes))
	}
	best, height := n.BestBlock(t)
	if height != 101 {
		t.Fatalf("best height %d, want 101", height)
	}
	if best != hashes[100] {
		t.Fatalf("best block %s, want last generated %s", best, hashes[100])
	}

	// The coinbase of a generated block pays MiningAddr.
	var blk struct {
		RawTx []struct {
			Vout []struct {
				ScriptPubKey struct {
					Address string `json:"address"`
				} `json:"scriptPubKey"`
			} `json:"vout"`
		} `json:"rawtx"`
	}
	n.call(t, &blk, "getblock", best.String(), 2)
	if len(blk.RawTx) == 0 || len(blk.RawTx[0].Vout) == 0 || blk.RawTx[0].Vout[0].ScriptPubKey.Address != n.MiningAddr {
		t.Fatalf("coinbase of %s does not pay %s: %+v", best, n.MiningAddr, blk)
	}

	// Invalidating the tip moves the best chain back by one block.
	n.InvalidateBlock(t, best)
	if b, h := n.BestBlock(t); h != 100 || b != hashes[99] {
		t.Fatalf("after invalidateblock: best %s at %d, want %s at 100", b, h, hashes[99])
	}
	n.ReconsiderBlock(t, best)
	if b, h := n.BestBlock(t); h != 101 || b != best {
		t.Fatalf("after reconsiderblock: best %s at %d, want %s at 101", b, h, best)
	}

	pid := n.PID()
	n.Stop()
	n.Stop() // idempotent
	if !n.Exited() {
		t.Fatal("node not reaped after Stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still exists after Stop (kill 0: %v)", pid, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := n.Call(ctx, "getblockcount"); err == nil {
		t.Fatal("RPC still answers after Stop")
	}
}

func TestSubmitBlock(t *testing.T) {
	n := Start(t)
	hashes := n.Generate(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	raw, err := n.Call(ctx, "getblock", hashes[1].String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var hexBlock string
	if err := jsonString(raw, &hexBlock); err != nil {
		t.Fatal(err)
	}
	// Resubmitting a block the node already has is rejected with a reason.
	blockBytes := mustHex(t, hexBlock)
	err = n.SubmitBlock(ctx, blockBytes)
	if err == nil {
		t.Fatal("resubmitting a known block was accepted")
	}
	t.Logf("duplicate block: %v", err)

	// A block that is not even a block is an RPC error.
	err = n.SubmitBlock(ctx, []byte{1, 2, 3})
	var rpcErr *RPCError
	if !errors.As(err, &rpcErr) {
		t.Fatalf("garbage block: got %v, want *RPCError", err)
	}

	// Invalidate the tip, then submit a competing block built on its parent:
	// a valid block of our own making is accepted and becomes the tip.
	n.InvalidateBlock(t, hashes[1])
	// Ten minutes ahead: after the median time of the past blocks, well
	// within the two hours a node accepts.
	blk := coinbaseOnlyBlock(t, hashes[0], 2, time.Now().Add(10*time.Minute))
	var buf bytesBuffer
	if err := blk.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitBlock(ctx, buf.b); err != nil {
		t.Fatalf("valid block rejected: %v", err)
	}
	if best, h := n.BestBlock(t); best != blk.BlockHash() || h != 2 {
		t.Fatalf("best %s at %d, want submitted %s at 2", best, h, blk.BlockHash())
	}
}

func TestBinaryOverride(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tool")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VESTIGO_TOOLS", dir)
	if got := Binary(t, "tool"); got != p {
		t.Fatalf("Binary = %s, want %s", got, p)
	}
}

func TestMiningAddress(t *testing.T) {
	a, err := btcutil.DecodeAddress(MiningAddress(), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	want := btcutil.Hash160(MiningKey().PubKey().SerializeCompressed())
	if pkh, ok := a.(*btcutil.AddressPubKeyHash); !ok || string(pkh.Hash160()[:]) != string(want) {
		t.Fatalf("mining address %s is not the P2PKH of MiningKey", MiningAddress())
	}
}

// coinbaseOnlyBlock builds a regtest block at height on top of prev that
// pays the mining address, and solves its (trivial) proof of work.
func coinbaseOnlyBlock(t *testing.T, prev chainhash.Hash, height int64, ts time.Time) *wire.MsgBlock {
	t.Helper()
	addr, err := btcutil.DecodeAddress(MiningAddress(), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	pk := append([]byte{0x76, 0xa9, 0x14}, addr.ScriptAddress()...)
	pk = append(pk, 0x88, 0xac)
	// BIP34 height push, then a tag so the block differs from the node's own.
	sig, err := txscript.NewScriptBuilder().AddInt64(height).AddData([]byte("vestigo")).Script()
	if err != nil {
		t.Fatal(err)
	}
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: sig, Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(wire.NewTxOut(50_0000_0000, pk))
	blk := &wire.MsgBlock{Header: wire.BlockHeader{
		Version:    4,
		PrevBlock:  prev,
		MerkleRoot: cb.TxHash(),
		Timestamp:  time.Unix(ts.Unix(), 0),
		Bits:       chaincfg.RegressionNetParams.PowLimitBits,
	}}
	blk.Transactions = []*wire.MsgTx{cb}
	target := chaincfg.RegressionNetParams.PowLimit
	for nonce := uint32(0); ; nonce++ {
		blk.Header.Nonce = nonce
		h := blk.Header.BlockHash()
		if hashBig(h).Cmp(target) <= 0 {
			return blk
		}
		if nonce == 1<<20 {
			t.Fatal("no nonce found in 2^20 tries")
		}
	}
}

// A port taken between the probe and btcd's bind makes btcd exit; Start
// tries once more on another port.
func TestStartRetriesBindRace(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	calls := 0
	pick := func(c *config) {
		c.freePort = func() (int, error) {
			calls++
			if calls == 1 {
				return busy.Addr().(*net.TCPAddr).Port, nil
			}
			return testproc.FreePort()
		}
	}
	n := Start(t, pick)
	if calls != 2 {
		t.Fatalf("port chosen %d times, want 2", calls)
	}
	first, err := os.ReadFile(filepath.Join(n.DataDir, "btcd-1.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(first), "Can't listen on") {
		t.Fatalf("first attempt's log does not show the bind failure:\n%s", first)
	}
	if _, h := n.BestBlock(t); h != 0 {
		t.Fatalf("height %d, want 0", h)
	}
}

// fatalTB records Fatalf instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv("VESTIGO_TOOLS", t.TempDir())
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Binary(f, "btcd")
		t.Error("Binary returned for a missing tool")
	}()
	<-done
	if !strings.Contains(f.msg, "run scripts/tools.sh") {
		t.Fatalf("message %q does not say how to install the tool", f.msg)
	}
}
