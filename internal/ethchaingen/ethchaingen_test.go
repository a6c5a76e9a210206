package ethchaingen

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

// TestGenerateOnGeth fills a real geth --dev node with 200 transactions
// and checks them against the node: the count of every block's
// transactions, the token's Transfer and the Forwarder's Forwarded logs,
// every token balance exactly and every ether balance against the lower
// bound kept while planning.
func TestGenerateOnGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t)
	ctx := t.Context()
	g, err := newGen(Options{Txs: 200, Accounts: 20, Round: 50, Seed: 7}, node.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.run(ctx, node.RPC(), ethscenario.DevFunder{RPC: node.RPC(), From: node.Dev}); err != nil {
		t.Fatal(err)
	}
	st := g.st
	if st.Txs != 200 || st.Setup != SetupTxs(20) || st.Setup != 34 || st.Transfers+st.TokenTransfers+st.ForwardCalls != 200-34 {
		t.Fatalf("stats %+v: want 200 transactions, 34 of them set-up", st)
	}
	if st.Transfers == 0 || st.TokenTransfers == 0 || st.ForwardCalls == 0 {
		t.Errorf("a kind is missing from the mix: %+v", st)
	}
	if st.Resent > 0 {
		t.Logf("%d sends repeated while the pool lagged", st.Resent)
	}

	c := node.Client()
	head := node.Head(t) // geth --dev seals an empty block now and then: head >= LastBlock
	if st.LastBlock > head || st.FirstBlock < 1 || st.FirstBlock > st.LastBlock {
		t.Errorf("blocks %d–%d, node head %d", st.FirstBlock, st.LastBlock, head)
	}
	var txs int
	for n := uint64(1); n <= head; n++ {
		b, err := c.BlockByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			t.Fatal(err)
		}
		txs += len(b.Transactions())
	}
	if txs != 200 {
		t.Errorf("the node's blocks hold %d transactions, want 200", txs)
	}

	transfer := crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))
	forwarded := crypto.Keccak256Hash([]byte("Forwarded(address,address,address,uint256,uint256)"))
	logs, err := c.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: big.NewInt(0), ToBlock: new(big.Int).SetUint64(head)})
	if err != nil {
		t.Fatal(err)
	}
	var transfers, forwards int
	for _, l := range logs {
		switch {
		case l.Address == st.Token && l.Topics[0] == transfer:
			transfers++
		case l.Address == st.Forwarder && l.Topics[0] == forwarded:
			forwards++
		}
	}
	// The mint, the bank's payments to the ten holders, the mix's.
	if want := 1 + holders(20) + st.TokenTransfers; transfers != want {
		t.Errorf("%d Transfer logs, want %d", transfers, want)
	}
	if forwards != st.ForwardCalls {
		t.Errorf("%d Forwarded logs, want %d", forwards, st.ForwardCalls)
	}
	if bal, err := c.BalanceAt(ctx, st.Forwarder, nil); err != nil || bal.Sign() != 0 {
		t.Errorf("the forwarder holds %v wei (%v), want none", bal, err)
	}

	supply := new(big.Int)
	for i, a := range append([]common.Address{st.Bank}, g.addrs...) {
		tok := tokenBalance(t, node, st.Token, a)
		supply.Add(supply, tok)
		if i == 0 {
			continue
		}
		if tok.Cmp(new(big.Int).SetUint64(g.tokens[i-1])) != 0 {
			t.Errorf("account %d %s: %s tokens at the node, %d planned", i-1, a, tok, g.tokens[i-1])
		}
		bal, err := c.BalanceAt(ctx, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Cmp(g.ether[i-1]) < 0 {
			t.Errorf("account %d %s: %s wei at the node, below the planned lower bound %s", i-1, a, bal, g.ether[i-1])
		}
	}
	if want := new(big.Int).SetUint64(uint64(holders(20)) * tokenEach); supply.Cmp(want) != 0 {
		t.Errorf("token balances sum to %s, the mint was %s", supply, want)
	}

	// The seed's accounts are used now: a second run must refuse.
	_, err = Generate(ctx, node.RPC(), ethscenario.DevFunder{RPC: node.RPC(), From: node.Dev}, Options{Txs: 200, Accounts: 20, Seed: 7})
	if err == nil || !strings.Contains(err.Error(), "has sent") {
		t.Errorf("second run on the same seed: %v, want a refusal", err)
	}
}

func tokenBalance(t *testing.T, node *gethtest.Node, token, holder common.Address) *big.Int {
	t.Helper()
	tok, err := ethscenario.TokenContract()
	if err != nil {
		t.Fatal(err)
	}
	data, err := tok.ABI.Pack("balanceOf", holder)
	if err != nil {
		t.Fatal(err)
	}
	ret, err := node.Client().CallContract(t.Context(), ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(ret)
}

// planned returns the hashes and kinds of the first n transactions of the
// mix a seed gives, with the state the set-up leaves.
func planned(t *testing.T, seed uint64, n int) ([]common.Hash, map[kind]int) {
	t.Helper()
	g, err := newGen(Options{Txs: 100_000, Accounts: 50, Seed: seed}, big.NewInt(1337))
	if err != nil {
		t.Fatal(err)
	}
	g.tokenGas, g.fwdGas = 80_000, 120_000
	for i := range g.addrs {
		g.ether[i].Set(accountEther)
		if i%2 == 0 {
			g.tokens[i] = tokenEach
		}
	}
	var hashes []common.Hash
	kinds := map[kind]int{}
	for len(hashes) < n {
		txs, ks, err := g.planRound(min(DefaultRound, n-len(hashes)))
		if err != nil {
			t.Fatal(err)
		}
		for i, tx := range txs {
			hashes = append(hashes, tx.Hash())
			kinds[ks[i]]++
		}
		g.settle()
	}
	return hashes, kinds
}

// TestPlanDeterministic: the same seed gives the same transactions, another
// seed others; the mix follows the shares.
func TestPlanDeterministic(t *testing.T) {
	a, kinds := planned(t, 42, 3000)
	b, _ := planned(t, 42, 3000)
	c, _ := planned(t, 43, 3000)
	same := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("transaction %d: %s, then %s from the same seed", i, a[i], b[i])
		}
		if a[i] == c[i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of 3000 transactions equal under seeds 42 and 43", same)
	}
	// 20% and 10% of 3000: far outside these bounds is a broken draw.
	if kinds[kindToken] < 450 || kinds[kindToken] > 750 || kinds[kindForward] < 200 || kinds[kindForward] > 400 {
		t.Errorf("mix %v: want about 600 token transfers and 300 forwarder calls of 3000", kinds)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{Txs: 100, Accounts: 1},
		{Txs: 100, Accounts: 10, Round: 1001},
		{Txs: 100, Accounts: 10, TokenPercent: 60, ForwardPercent: 50},
		{Txs: SetupTxs(10), Accounts: 10},
	} {
		if err := o.defaults(); err == nil || !strings.HasPrefix(err.Error(), "ethchaingen: ") {
			t.Errorf("%+v: %v, want an ethchaingen error", o, err)
		}
	}
	o := Options{Txs: SetupTxs(10) + 1, Accounts: 10}
	if err := o.defaults(); err != nil {
		t.Errorf("smallest valid options: %v", err)
	}
}
