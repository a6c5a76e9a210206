package eth_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

// echoBalanceCode answers every call with its first argument word: the
// balanceOf(holder) of this "token" is the holder's address as a number.
var echoBalanceCode = []byte{0x60, 0x04, 0x35, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3}

// shortAnswerCode answers every call with the single byte 0x2a.
var shortAnswerCode = []byte{0x60, 0x2a, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3}

// TestStateReadsOnGeth reads balances, code and token balances in batches
// at explicit blocks of a real node, before and after they change.
func TestStateReadsOnGeth(t *testing.T) {
	node := gethtest.Start(t)
	ctx := testContext(t)
	c, err := eth.Dial(ctx, node.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	k := key(t, "state reader")
	me := addrOf(k)
	node.Fund(t, me, ether(3))
	before := node.Head(t)

	// 230 addresses: three batches. Every tenth is paid a different amount.
	addrs := make([]eth.Address, 230)
	paid := map[int]*big.Int{}
	for i := range addrs {
		a := common.BytesToAddress(crypto.Keccak256([]byte{byte(i), byte(i >> 8), 's'}))
		addrs[i] = eth.Address(a)
		if i%10 == 7 {
			paid[i] = big.NewInt(int64(1000 + i))
			node.SendSigned(t, k, &a, paid[i], nil)
		}
	}
	echo, _ := node.Deploy(t, k, initCode(echoBalanceCode))
	short, _ := node.Deploy(t, k, initCode(shortAnswerCode))
	reverter, _ := node.Deploy(t, k, initCode(reverterCode))
	after := node.Head(t)

	for _, at := range []uint64{before, after} {
		got, err := c.Balances(ctx, addrs, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(addrs) {
			t.Fatalf("%d balances for %d addresses", len(got), len(addrs))
		}
		for i := range addrs {
			want := chain.Sats(0)
			if p := paid[i]; p != nil && at == after {
				want = chain.Sats(p.Uint64())
			}
			// The node's own answer, one at a time, agrees.
			one, err := c.Balance(ctx, addrs[i], at)
			if err != nil {
				t.Fatal(err)
			}
			if got[i].Cmp(want) != 0 || one.Cmp(want) != 0 {
				t.Errorf("block %d, address %d: batch %s, single %s, want %s", at, i, got[i], one, want)
			}
		}
	}
	if got, err := c.Balances(ctx, nil, after); err != nil || len(got) != 0 {
		t.Errorf("no addresses: %v %v", got, err)
	}

	contracts := []eth.Address{eth.Address(echo), eth.Address(short), eth.Address(me), eth.Address(reverter), addrs[7]}
	for _, at := range []uint64{before, after} {
		code, err := c.HasCode(ctx, contracts, at)
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{at == after, at == after, false, at == after, false}
		for i := range want {
			if code[i] != want[i] {
				t.Errorf("block %d: HasCode(%s) = %v, want %v", at, contracts[i], code[i], want[i])
			}
		}
	}

	holders := []eth.Address{eth.Address(me), addrs[0], addrs[229]}
	var pairs []eth.TokenHolding
	for _, tok := range []eth.Address{eth.Address(echo), eth.Address(short), eth.Address(reverter), addrs[1]} {
		for _, h := range holders {
			pairs = append(pairs, eth.TokenHolding{Token: tok, Holder: h})
		}
	}
	echoT, shortT, revT := eth.Address(echo), eth.Address(short), eth.Address(reverter)
	tb, err := c.TokenBalances(ctx, pairs, after)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range tb {
		if b.TokenHolding != pairs[i] {
			t.Fatalf("answer %d is for %+v, asked %+v", i, b.TokenHolding, pairs[i])
		}
		switch b.Token {
		case echoT:
			want, _ := chain.AmountFromBig(new(big.Int).SetBytes(b.Holder[:]))
			if b.Problem != "" || b.Amount.Cmp(want) != 0 {
				t.Errorf("echo token, holder %s: %s %q, want %s", b.Holder, b.Amount, b.Problem, want)
			}
		case shortT:
			if !b.Amount.IsZero() || !strings.Contains(b.Problem, "1-byte answer") {
				t.Errorf("short answer: %s %q", b.Amount, b.Problem)
			}
		case revT:
			if !b.Amount.IsZero() || !strings.Contains(b.Problem, "revert") {
				t.Errorf("reverting token: %s %q", b.Amount, b.Problem)
			}
		default: // an account without code answers nothing
			if !b.Amount.IsZero() || !strings.Contains(b.Problem, "empty answer") {
				t.Errorf("token without code: %s %q", b.Amount, b.Problem)
			}
		}
	}
	// Before the echo token existed, it had no code: an empty answer.
	tb, err = c.TokenBalances(ctx, pairs[:1], before)
	if err != nil || tb[0].Problem == "" {
		t.Errorf("echo token before its creation: %+v %v", tb, err)
	}

	// State the node does not have is an error, not a problem.
	if _, err := c.TokenBalances(ctx, pairs[:1], after+1000); err == nil {
		t.Error("balanceOf at a future block: no error")
	}
	if _, err := c.Balances(ctx, addrs[:2], after+1000); err == nil || !strings.HasPrefix(err.Error(), "eth: ") {
		t.Errorf("eth_getBalance at a future block: %v", err)
	}
	var re *eth.RPCError
	if _, err := c.HasCode(ctx, addrs[:1], after+1000); !errors.As(err, &re) {
		t.Errorf("eth_getCode at a future block: %v, want an RPCError", err)
	}
}
