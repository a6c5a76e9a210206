package ethingest_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethingest"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, node *gethtest.Node) *eth.Client {
	c, err := eth.Dial(t.Context(), node.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func openIndex(t *testing.T, chainID uint64) *evmindex.Index {
	ix, err := evmindex.Open(t.TempDir(), evmindex.Options{ChainID: chainID, Name: "dev", Symbol: "ETH"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func key(t *testing.T, name string) (*ecdsa.PrivateKey, common.Address) {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("vestigo internal/ethingest test key " + name)))
	if err != nil {
		t.Fatal(err)
	}
	return k, crypto.PubkeyToAddress(k.PublicKey)
}

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

// initCode wraps runtime code (< 256 bytes) in init code that returns it.
func initCode(runtime []byte) []byte {
	n := byte(len(runtime))
	return append([]byte{0x60, n, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3}, runtime...)
}

// checkNode compares every ledger of the index with the node at the
// index's tip: each address's ether with eth_getBalance, each token
// holding with balanceOf, to the wei. It returns the addresses checked.
func checkNode(t *testing.T, ix *evmindex.Index, c *eth.Client) map[eth.Address]bool {
	t.Helper()
	ctx := t.Context()
	tip, ok, err := ix.Tip()
	if err != nil || !ok {
		t.Fatalf("tip: %v %v", ok, err)
	}
	seen := map[eth.Address]bool{}
	checked := 0
	for id := evmindex.AddrID(1); uint64(id) <= tip.Addresses; id++ {
		a, err := ix.Address(id)
		if err != nil {
			t.Fatal(err)
		}
		seen[a.Address] = true
		hs, err := ix.Holdings(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			var want chain.Amount
			what := "ether"
			if h.Asset == evmindex.Native {
				want, err = c.Balance(ctx, a.Address, tip.Height)
			} else {
				as, aerr := ix.Asset(h.Asset)
				if aerr != nil {
					t.Fatal(aerr)
				}
				what = as.Symbol
				want, err = c.TokenBalance(ctx, as.Contract, a.Address, tip.Height)
				if err == nil && a.Address.IsZero() {
					// Mints come from the zero address and burns go to it:
					// its ledger is its balance less the supply.
					supply := totalSupply(t, c, as.Contract, tip.Height)
					w := new(big.Int).Sub(want.Big(), supply)
					if h.Balance.Big().Cmp(w) != 0 {
						t.Errorf("zero address: index holds %s %s, the node's balanceOf less totalSupply is %s", h.Balance, what, w)
					}
					checked++
					continue
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			checked++
			if h.Balance.Neg || h.Balance.Abs.Cmp(want) != 0 {
				t.Errorf("%s (id %d): index holds %s %s, the node %s at block %d", a.Address, id, h.Balance, what, want, tip.Height)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no holding to check")
	}
	return seen
}

// totalSupply calls totalSupply() (selector 0x18160ddd) of token after
// block.
func totalSupply(t *testing.T, c *eth.Client, token eth.Address, block uint64) *big.Int {
	t.Helper()
	ret, err := c.Call(t.Context(), token, []byte{0x18, 0x16, 0x0d, 0xdd}, block)
	if err != nil {
		t.Fatal(err)
	}
	v, err := eth.DecodeUint256(ret)
	if err != nil {
		t.Fatal(err)
	}
	return v.Big()
}

// nodeTxs counts the node's transactions in blocks 0..head.
func nodeTxs(t *testing.T, c *eth.Client, head uint64) uint64 {
	var n uint64
	for h := uint64(0); h <= head; h++ {
		b, err := c.BlockByNumber(t.Context(), h)
		if err != nil {
			t.Fatal(err)
		}
		n += uint64(len(b.Txs))
	}
	return n
}

func TestImportScenarioOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t)
	ctx := testContext(t)
	truth, err := ethscenario.Run(ctx, node.Client(), ethscenario.DevFunder{RPC: node.RPC(), From: node.Dev}, 11, ethscenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A transaction that fails at the top: it pays its fee and moves
	// nothing else.
	k, me := key(t, "failing sender")
	node.Fund(t, me, ether(1))
	reverter, _ := node.Deploy(t, k, initCode([]byte{0x60, 0x00, 0x60, 0x00, 0xfd}))
	tx := node.NewTx(t, me, &node.Dev, big.NewInt(0), nil)
	tx.To, tx.Value, tx.Gas = &reverter, big.NewInt(5), 60_000
	failHash, failReceipt := node.SendTx(t, k, tx)
	if failReceipt.Status != 0 {
		t.Fatal("the failing transaction succeeded")
	}
	head := node.Head(t)

	c := dial(t, node)
	// An index of another chain is refused, naming both ids.
	if _, err := ethingest.Import(ctx, c, openIndex(t, 1), ethingest.Options{}); err == nil ||
		!strings.Contains(err.Error(), "chain id 1337") || !strings.Contains(err.Error(), "chain id 1") {
		t.Errorf("import into an index of chain 1: %v", err)
	}

	ix := openIndex(t, 1337)
	var reports int
	st, err := ethingest.Import(ctx, c, ix, ethingest.Options{To: head, Workers: 3, Progress: func(ethingest.Progress) { reports++ }})
	if err != nil {
		t.Fatal(err)
	}
	tip, _, _ := ix.Tip()
	want := nodeTxs(t, c, head)
	if tip.Height != head || st.Height != head || st.Blocks != head+1 || tip.Txs != want || st.Txs != want || tip.Untraced != 0 || st.Untraced != 0 {
		t.Errorf("tip %+v, stats %+v; node head %d with %d transactions", tip, st, head, want)
	}
	if st.Malformed != 0 || st.TokenProblems != 0 || st.Reorgs != 0 || reports == 0 || st.Moves != tip.Moves {
		t.Errorf("stats %+v (moves in the index %d), %d progress reports", st, tip.Moves, reports)
	}
	if st.InternalTransfers != 2 {
		t.Errorf("%d internal transfers, the scenario makes 2", st.InternalTransfers)
	}
	t.Logf("imported %d blocks, %d txs, %d moves: fetch %v, waiting %v, state reads %v, writes %v",
		st.Blocks, st.Txs, st.Moves, st.Fetch, st.FetchWait, st.StateRPC, st.Write)

	seen := checkNode(t, ix, c)
	for _, a := range append([]common.Address{node.Dev, truth.Funder}, func() []common.Address {
		var out []common.Address
		for _, a := range truth.Addresses {
			out = append(out, a.Address)
		}
		return out
	}()...) {
		if !seen[eth.Address(a)] {
			t.Errorf("%s is not in the index", a)
		}
	}
	// The fee recipient (the dev account on a --dev node) is in the index.
	b, err := ix.Block(head)
	if err != nil || !seen[b.Miner] {
		t.Errorf("fee recipient %s of block %d not in the index (%v)", b.Miner, head, err)
	}

	// The failed transaction moved only its fee.
	ftx, err := ix.Tx(eth.Hash(failHash))
	if err != nil {
		t.Fatal(err)
	}
	fee := new(big.Int).Mul(new(big.Int).SetUint64(failReceipt.GasUsed), failReceipt.EffectiveGasPrice)
	if ftx.Status != eth.StatusFailed || len(ftx.Moves) != 1 || ftx.Moves[0].Kind != evmindex.KindFee || ftx.Moves[0].Amount.Big().Cmp(fee) != 0 {
		t.Errorf("failed transaction: %+v, want one fee move of %s", ftx, fee)
	}

	// The Forwarder's internal moves are the truth's.
	for _, x := range truth.Txs {
		var wantInternal []ethscenario.Transfer
		for _, tr := range x.Transfers {
			if tr.Kind == ethscenario.TransferInternal {
				wantInternal = append(wantInternal, tr)
			}
		}
		it, err := ix.Tx(eth.Hash(x.Hash))
		if err != nil {
			t.Fatal(err)
		}
		var got []evmindex.Move
		for _, m := range it.Moves {
			if m.Kind == evmindex.KindInternal {
				got = append(got, m)
			}
		}
		if len(got) != len(wantInternal) {
			t.Errorf("%s %s: %d internal moves, truth %d", x.Kind, x.Hash, len(got), len(wantInternal))
			continue
		}
		for i, m := range got {
			from, _ := ix.Address(m.From)
			to, _ := ix.Address(m.To)
			w := wantInternal[i]
			if from.Address != eth.Address(w.From) || to.Address != eth.Address(w.To) || m.Amount.Cmp(w.Amount) != 0 {
				t.Errorf("%s internal move %d: %s → %s %s; truth %s → %s %s", x.Kind, i, from.Address, to.Address, m.Amount, w.From, w.To, w.Amount)
			}
		}
	}

	// The token's metadata.
	as, err := ix.AssetByContract(eth.Address(truth.Token.Address))
	if err != nil {
		t.Fatal(err)
	}
	if as.Name != ethscenario.TokenName || as.Symbol != ethscenario.TokenSymbol || as.Decimals != ethscenario.TokenDecimals || !as.MetadataOK {
		t.Errorf("token asset %+v", as)
	}
	fwd, err := ix.AddrID(eth.Address(truth.Forwarder))
	if err != nil {
		t.Fatal(err)
	}
	if fa, _ := ix.Address(fwd); !fa.Contract {
		t.Errorf("forwarder %+v is not marked a contract", fa)
	}
	if err := ix.Verify(ctx); err != nil {
		t.Errorf("Verify: %v", err)
	}

	// Nothing new: a second run applies nothing.
	st, err = ethingest.Import(ctx, c, ix, ethingest.Options{})
	if err != nil || st.Blocks != 0 {
		t.Errorf("second run: %+v %v", st, err)
	}
}

// TestImportUntracedOnGeth imports from a node without the debug API.
func TestImportUntracedOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.WithAPIs("eth", "net", "web3"))
	_, a := key(t, "a")
	_, b := key(t, "b")
	node.Fund(t, a, ether(2))
	node.Fund(t, b, big.NewInt(12345))
	head := node.Head(t)
	c := dial(t, node)
	ix := openIndex(t, 1337)
	// To the head seen: a dev node may seal an empty block meanwhile.
	st, err := ethingest.Import(testContext(t), c, ix, ethingest.Options{To: head})
	if err != nil {
		t.Fatal(err)
	}
	tip, _, _ := ix.Tip()
	if tip.Height != head || tip.Untraced == 0 || st.Untraced != tip.Untraced {
		t.Errorf("tip %+v, stats untraced %d", tip, st.Untraced)
	}
	for h := uint64(1); h <= head; h++ {
		if blk, err := ix.Block(h); err != nil || blk.Traced {
			t.Errorf("block %d: traced %v (%v)", h, blk.Traced, err)
		}
	}
	checkNode(t, ix, c)
}

// TestImportResumeOnGeth cancels an import after a few blocks and resumes
// it; the result equals an import in one go.
func TestImportResumeOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t)
	ctx := testContext(t)
	if _, err := ethscenario.Run(ctx, node.Client(), ethscenario.DevFunder{RPC: node.RPC(), From: node.Dev}, 5, ethscenario.Options{Hops: ethscenario.MinHops}); err != nil {
		t.Fatal(err)
	}
	head := node.Head(t)
	c := dial(t, node)

	ix := openIndex(t, 1337)
	cctx, cancel := context.WithCancel(ctx)
	st, err := ethingest.Import(cctx, c, ix, ethingest.Options{Workers: 2, ProgressEvery: time.Nanosecond, Progress: func(p ethingest.Progress) {
		if p.Blocks >= 4 {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled import: %v", err)
	}
	tip, _, _ := ix.Tip()
	if tip.Height >= head || st.Blocks < 4 || tip.Height != st.Height {
		t.Fatalf("cancelled at tip %d (stats %+v), head %d", tip.Height, st, head)
	}
	st, err = ethingest.Import(ctx, c, ix, ethingest.Options{To: head})
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocks != head-tip.Height {
		t.Errorf("resume applied %d blocks from %d to %d", st.Blocks, tip.Height, head)
	}
	checkNode(t, ix, c)

	whole := openIndex(t, 1337)
	if _, err := ethingest.Import(ctx, c, whole, ethingest.Options{To: head, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	t1, _, _ := ix.Tip()
	t2, _, _ := whole.Tip()
	if t1 != t2 {
		t.Errorf("resumed tip %+v, in one go %+v", t1, t2)
	}
}

// TestReorgOnGeth imports from one dev node, then from another with the
// same genesis (geth's fixed developer key) but other blocks: the index
// must roll back to the genesis and end equal to the second node.
func TestReorgOnGeth(t *testing.T) {
	t.Parallel()
	nodeA, nodeB := gethtest.Start(t), gethtest.Start(t)
	ctx := testContext(t)
	cA, cB := dial(t, nodeA), dial(t, nodeB)
	gA, err := cA.BlockByNumber(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	gB, err := cB.BlockByNumber(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if gA.Hash != gB.Hash || nodeA.Dev != nodeB.Dev {
		t.Fatalf("the two dev nodes differ at genesis: %s / %s, dev %s / %s", gA.Hash, gB.Hash, nodeA.Dev, nodeB.Dev)
	}
	_, x := key(t, "x")
	_, y := key(t, "y")
	nodeA.Fund(t, x, ether(1))
	nodeA.Mine(t, 3)
	nodeB.Fund(t, x, ether(2))
	nodeB.Fund(t, y, ether(3))
	nodeB.Mine(t, 1)

	ix := openIndex(t, 1337)
	if _, err := ethingest.Import(ctx, cA, ix, ethingest.Options{}); err != nil {
		t.Fatal(err)
	}
	tipA, _, _ := ix.Tip()
	checkNode(t, ix, cA)

	// A limit below the fork's depth refuses, and leaves the index alone.
	if _, err := ethingest.Import(ctx, cB, ix, ethingest.Options{MaxReorg: 1}); err == nil || !strings.Contains(err.Error(), "more than 1 blocks") {
		t.Errorf("reorganisation beyond MaxReorg: %v", err)
	}
	if tip, _, _ := ix.Tip(); tip != tipA {
		t.Errorf("refused reorganisation changed the tip: %+v, was %+v", tip, tipA)
	}

	headB := nodeB.Head(t)
	st, err := ethingest.Import(ctx, cB, ix, ethingest.Options{To: headB})
	if err != nil {
		t.Fatal(err)
	}
	if st.Reorgs != 1 || st.RolledBack != tipA.Height || st.Blocks != headB {
		t.Errorf("stats %+v: want 1 reorg rolling back %d blocks, %d blocks applied", st, tipA.Height, headB)
	}
	tip, _, _ := ix.Tip()
	if tip.Height != headB {
		t.Errorf("tip %d, node B's head %d", tip.Height, headB)
	}
	for h := uint64(0); h <= headB; h++ {
		ours, err := ix.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := cB.BlockByNumber(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if ours.Hash != theirs.Hash {
			t.Errorf("block %d: index %s, node B %s", h, ours.Hash, theirs.Hash)
		}
	}
	if tip.Txs != nodeTxs(t, cB, headB) {
		t.Errorf("index holds %d transactions, node B %d", tip.Txs, nodeTxs(t, cB, headB))
	}
	seen := checkNode(t, ix, cB)
	if !seen[eth.Address(y)] {
		t.Errorf("%s, paid only on node B, is not in the index", y)
	}
	// The same as an index built from node B alone.
	fresh := openIndex(t, 1337)
	if _, err := ethingest.Import(ctx, cB, fresh, ethingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if ft, _, _ := fresh.Tip(); ft != tip {
		t.Errorf("after the reorganisation %+v, fresh from node B %+v", tip, ft)
	}
	if err := ix.Verify(ctx); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestFollowOnGeth follows the node: blocks mined while the import runs
// are applied as they come, and cancelling the context is a clean stop.
func TestFollowOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t)
	_, a := key(t, "follow-a")
	node.Fund(t, a, ether(1))
	c := dial(t, node)
	ix := openIndex(t, 1337)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var mu sync.Mutex
	var last ethingest.Progress
	done := make(chan error, 1)
	go func() {
		_, err := ethingest.Import(ctx, c, ix, ethingest.Options{Follow: true, Poll: 50 * time.Millisecond, ProgressEvery: time.Nanosecond,
			Progress: func(p ethingest.Progress) { mu.Lock(); last = p; mu.Unlock() }})
		done <- err
	}()
	waitTip := func(h uint64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if tip, has, _ := ix.Tip(); has && tip.Height >= h {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the index never reached block %d", h)
	}
	waitTip(node.Head(t))
	// New blocks while it follows.
	_, b := key(t, "follow-b")
	node.Fund(t, b, big.NewInt(777))
	node.Fund(t, b, big.NewInt(223))
	head := node.Head(t)
	waitTip(head)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a cancelled follow: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("follow did not stop")
	}
	mu.Lock()
	p := last
	mu.Unlock()
	if p.Height < head {
		t.Errorf("last progress at block %d, head %d", p.Height, head)
	}
	id, err := ix.AddrID(eth.Address(b))
	if err != nil {
		t.Fatal(err)
	}
	if h, err := ix.Holding(id, evmindex.Native); err != nil || h.Balance.String() != "1000" || h.Entries != 2 {
		t.Fatalf("followed account: %+v %v", h, err)
	}
	checkNode(t, ix, c)
}
