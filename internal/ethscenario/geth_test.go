package ethscenario

import (
	"context"
	"flag"
	"math/big"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

var update = flag.Bool("update", false, "rewrite testdata/truth.json from a run on geth --dev")

const sampleTruth = "testdata/truth.json"

// TestRunOnGeth plays a case on a real geth --dev node and checks the truth
// against the node, independently of Truth.Check as well.
func TestRunOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t)
	ctx := t.Context()
	c := node.Client()
	const seed = 7
	truth, err := Run(ctx, c, DevFunder{RPC: node.RPC(), From: node.Dev}, seed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := truth.Check(ctx, c); err != nil {
		t.Fatalf("Check: %v", err)
	}

	// Every address's balances at the node's latest block, read without the
	// package's helpers: eth_getBalance and a hand-made balanceOf call.
	for _, a := range truth.Addresses {
		bal, err := c.BalanceAt(ctx, a.Address, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Cmp(a.Balance.Big()) != 0 {
			t.Errorf("%s: eth_getBalance %s, truth %s", a.Label, bal, a.Balance)
		}
		if got := balanceOf(t, c, truth.Token.Address, a.Address); got.Cmp(a.TokenBalance.Big()) != 0 {
			t.Errorf("%s: balanceOf %s, truth %s", a.Label, got, a.TokenBalance)
		}
	}

	// The same seed gives the same addresses without a chain.
	planned, err := Addresses(seed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(planned) != len(truth.Addresses) {
		t.Fatalf("Addresses gives %d addresses, the run %d", len(planned), len(truth.Addresses))
	}
	for i, a := range truth.Addresses {
		a.Balance, a.TokenBalance = planned[i].Balance, planned[i].TokenBalance
		if a != planned[i] {
			t.Errorf("address %d: run %+v, Addresses %+v", i, a, planned[i])
		}
	}

	// Check notices a wrong balance, token balance and tip.
	bad := *truth
	bad.Addresses = append([]Address{}, truth.Addresses...)
	bad.Addresses[3].Balance, _ = bad.Addresses[3].Balance.Add(chain.Sats(1))
	bad.Addresses[5].TokenBalance = chain.Sats(7)
	err = bad.Check(ctx, c)
	for _, want := range []string{bad.Addresses[3].Label + " (", bad.Addresses[5].Label + " ("} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check of a wrong truth: %v, want a complaint about %q", err, want)
		}
	}
	bad.TipHash = common.Hash{1}
	if err := bad.Check(ctx, c); err == nil || !strings.Contains(err.Error(), "in the truth") {
		t.Errorf("Check with a wrong tip hash: %v", err)
	}

	checkStory(t, truth)
	checkForwardTrace(t, node, truth)

	// Round trip through the file.
	path := filepath.Join(t.TempDir(), "truth.json")
	if err := truth.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadTruth(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, truth) {
		t.Error("ReadTruth(Write(truth)) differs from truth")
	}
	if *update {
		if err := truth.Write(sampleTruth); err != nil {
			t.Fatal(err)
		}
	}

	// The seed's accounts are now used: a second run must refuse.
	if _, err := Run(ctx, c, DevFunder{RPC: node.RPC(), From: node.Dev}, seed, Options{}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("second run with the same seed: %v, want an 'already used' error", err)
	}
}

// checkStory checks the facts of the case the later tests of issue 7 rely
// on.
func checkStory(t *testing.T, truth *Truth) {
	t.Helper()
	by := map[string]Address{}
	for _, a := range truth.Addresses {
		by[a.Label] = a
	}
	txs := map[common.Hash]Tx{}
	kinds := map[TxKind]int{}
	for _, x := range truth.Txs {
		txs[x.Hash] = x
		kinds[x.Kind]++
	}
	h := truth.Hops
	want := map[TxKind]int{KindFund: 4, KindDeployToken: 1, KindDeployForwarder: 1, KindMint: 2, KindTheft: 1,
		KindPeel: h - 1, KindHop: h - 1, KindForward: 1, KindTokenPeel: h, KindTokenHop: h,
		KindDeposit: 5, KindTokenDeposit: 1, KindTokenSweep: 1, KindSweep: Deposits}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("transaction kinds %v, want %v", kinds, want)
	}

	// The path from the victim reaches the hot wallet, starting with the
	// theft's exact value, every step moving what its transaction says.
	p := truth.Path
	if p[0].From != by["victim"].Address || p[len(p)-1].To != truth.HotWallet {
		t.Errorf("path runs %s → %s", p[0].FromLabel, p[len(p)-1].ToLabel)
	}
	if theft := txs[p[0].Tx]; theft.Kind != KindTheft || theft.Value.Cmp(p[0].Amount) != 0 {
		t.Errorf("path starts with %s of %s, the theft moved %s", theft.Kind, p[0].Amount, theft.Value)
	}
	for _, s := range append(append([]Step{}, truth.Path...), truth.TokenPath...) {
		found := false
		for _, tr := range txs[s.Tx].Transfers {
			found = found || (tr.From == s.From && tr.To == s.To && tr.Asset == s.Asset && tr.Amount.Cmp(s.Amount) == 0)
		}
		if !found {
			t.Errorf("step %s → %s of %s %s is not a transfer of %s", s.FromLabel, s.ToLabel, s.Amount, s.Asset, s.Tx.Hex())
		}
	}

	// Deposit addresses end empty; the hot wallet holds exactly the sweeps.
	var swept big.Int
	for _, d := range truth.Deposits {
		if a := by[d.Label]; !a.Balance.IsZero() || !a.TokenBalance.IsZero() {
			t.Errorf("%s keeps %s wei and %s tokens after its sweep", d.Label, a.Balance, a.TokenBalance)
		}
		swept.Add(&swept, d.Swept.Big())
	}
	if hot := by["exchange-hot"]; hot.Balance.Big().Cmp(&swept) != 0 {
		t.Errorf("hot wallet holds %s wei, the sweeps moved %s", hot.Balance, &swept)
	}
	if hot, last := by["exchange-hot"], truth.TokenPath[len(truth.TokenPath)-1]; hot.TokenBalance.Cmp(last.Amount) != 0 {
		t.Errorf("hot wallet holds %s tokens, the token path ends with %s", hot.TokenBalance, last.Amount)
	}
	d0 := truth.Deposits[0]
	if d0.Customer != OwnerThief || !reflect.DeepEqual(d0.Senders, []common.Address{by[label("thief", h)].Address, by["peel-0"].Address}) {
		t.Errorf("deposit-0: customer %q, senders %v; want the thief's last hop and peel-0", d0.Customer, d0.Senders)
	}
	for i, d := range truth.Deposits[1:] {
		if len(d.Senders) != 1 {
			t.Errorf("deposit-%d has %d senders, want 1", i+1, len(d.Senders))
		}
	}
}

// checkForwardTrace asks the node's call tracer for the Forwarder
// transaction: the internal transfers of the truth must be its calls.
func checkForwardTrace(t *testing.T, node *gethtest.Node, truth *Truth) {
	t.Helper()
	var fwd *Tx
	for i := range truth.Txs {
		if truth.Txs[i].Kind == KindForward {
			fwd = &truth.Txs[i]
		}
	}
	type frame struct {
		From  common.Address `json:"from"`
		To    common.Address `json:"to"`
		Type  string         `json:"type"`
		Value *hexutil.Big   `json:"value"`
		Calls []frame        `json:"calls"`
	}
	var top frame
	if err := node.RPC().CallContext(t.Context(), &top, "debug_traceTransaction", fwd.Hash, map[string]any{"tracer": "callTracer"}); err != nil {
		t.Fatalf("debug_traceTransaction: %v", err)
	}
	var internal []Transfer
	for _, tr := range fwd.Transfers {
		if tr.Kind == TransferInternal {
			internal = append(internal, tr)
		}
	}
	if len(top.Calls) != len(internal) || len(internal) != 2 {
		t.Fatalf("trace has %d inner calls, the truth %d internal transfers (want 2)", len(top.Calls), len(internal))
	}
	for i, c := range top.Calls {
		tr := internal[i]
		if c.Type != "CALL" || c.From != tr.From || c.To != tr.To || c.Value == nil || c.Value.ToInt().Cmp(tr.Amount.Big()) != 0 {
			t.Errorf("inner call %d: %s %s → %s value %v; truth %s → %s %s", i, c.Type, c.From.Hex(), c.To.Hex(), c.Value, tr.From.Hex(), tr.To.Hex(), tr.Amount)
		}
	}
}

// balanceOf calls balanceOf(holder) (selector 0x70a08231) at the latest
// block.
func balanceOf(t *testing.T, c *ethclient.Client, token, holder common.Address) *big.Int {
	t.Helper()
	data := append(hexutil.MustDecode("0x70a08231"), common.LeftPadBytes(holder.Bytes(), 32)...)
	out, err := c.CallContract(context.Background(), ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		t.Fatalf("balanceOf %s: %v", holder.Hex(), err)
	}
	if len(out) != 32 {
		t.Fatalf("balanceOf %s answered %d bytes", holder.Hex(), len(out))
	}
	return new(big.Int).SetBytes(out)
}

// TestRunShortChainOnGeth runs the shortest chain, where the Forwarder hop
// is the last one, and a second seed on the same node.
func TestRunShortChainOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t)
	f := DevFunder{RPC: node.RPC(), From: node.Dev}
	for _, seed := range []int64{-3, 1 << 40} {
		truth, err := Run(t.Context(), node.Client(), f, seed, Options{Hops: MinHops})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if err := truth.Check(t.Context(), node.Client()); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
	}
}
