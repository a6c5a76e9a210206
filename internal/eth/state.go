package eth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// stateBatch is the number of state reads sent in one JSON-RPC batch
// (geth's default batch limit is 1000 requests).
const stateBatch = 100

// Balances returns the native balance of each address after block
// (eth_getBalance), in the order given, in batches. Any failure, the
// node's or the answer's, is an error: a balance is never guessed.
func (c *Client) Balances(ctx context.Context, addrs []Address, block uint64) ([]chain.Amount, error) {
	out := make([]chain.Amount, len(addrs))
	err := c.batched(ctx, "eth_getBalance batch", len(addrs), func(i int) (string, []any) {
		return "eth_getBalance", []any{addrs[i].String(), hexU64(block)}
	}, func(i int, raw json.RawMessage, err error) error {
		if err != nil {
			return fmt.Errorf("eth: eth_getBalance of %s at block %#x: %w", addrs[i], block, err)
		}
		o := &object{where: "eth_getBalance of " + addrs[i].String(), m: map[string]json.RawMessage{"result": raw}}
		out[i], err = o.amount("result")
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// HasCode reports for each address whether it holds code after block
// (eth_getCode), in batches.
func (c *Client) HasCode(ctx context.Context, addrs []Address, block uint64) ([]bool, error) {
	out := make([]bool, len(addrs))
	err := c.batched(ctx, "eth_getCode batch", len(addrs), func(i int) (string, []any) {
		return "eth_getCode", []any{addrs[i].String(), hexU64(block)}
	}, func(i int, raw json.RawMessage, err error) error {
		if err != nil {
			return fmt.Errorf("eth: eth_getCode of %s at block %#x: %w", addrs[i], block, err)
		}
		o := &object{where: "eth_getCode of " + addrs[i].String(), m: map[string]json.RawMessage{"result": raw}}
		code, err := o.data("result")
		out[i] = len(code) > 0
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TokenHolding names an address's balance of one ERC-20 token.
type TokenHolding struct {
	Token  Address
	Holder Address
}

// TokenBalance is the answer of balanceOf(Holder) of Token. A token that
// reverts or answers something else than one 32-byte word has Amount zero
// and Problem saying what it did; the caller records the problem instead
// of failing.
type TokenBalance struct {
	TokenHolding
	Amount  chain.Amount
	Problem string
}

// TokenBalances reads balanceOf of each pair after block with eth_call, in
// batches. What a token gets wrong is a Problem of its pair; only a failure
// to talk to the node, or a node that cannot read the state of block (a
// pruned node), is an error.
func (c *Client) TokenBalances(ctx context.Context, pairs []TokenHolding, block uint64) ([]TokenBalance, error) {
	out := make([]TokenBalance, len(pairs))
	err := c.batched(ctx, "eth_call batch (balanceOf)", len(pairs), func(i int) (string, []any) {
		return "eth_call", []any{callArgs(pairs[i].Token, BalanceOfCall(pairs[i].Holder)), hexU64(block)}
	}, func(i int, raw json.RawMessage, err error) error {
		p := pairs[i]
		out[i].TokenHolding = p
		if err != nil {
			if stateUnavailable(err) {
				return fmt.Errorf("eth: balanceOf(%s) of token %s at block %#x: %w", p.Holder, p.Token, block, err)
			}
			out[i].Problem = fmt.Sprintf("balanceOf(%s) at block %d: %v", p.Holder, block, err)
			return nil
		}
		ret, err := decodeCallResult(raw)
		if err != nil {
			return fmt.Errorf("eth: balanceOf(%s) of token %s: %w", p.Holder, p.Token, err)
		}
		if out[i].Amount, err = DecodeUint256(ret); err != nil {
			out[i].Problem = fmt.Sprintf("balanceOf(%s) at block %d: %v", p.Holder, block, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stateUnavailable reports whether a node's error says it cannot read the
// state asked for (pruned, or a block it does not have), as opposed to a
// call that ran and failed.
func stateUnavailable(err error) bool {
	m := strings.ToLower(err.Error())
	for _, w := range []string{"missing trie node", "header not found", "historical state", "state not available",
		"state is not available", "unknown block", "pruned", "required historical state"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// batched sends n requests in batches of stateBatch; req names request
// i, got receives its raw result or its error (an *RPCError for a node's
// error object) and returns what ends the whole read.
func (c *Client) batched(ctx context.Context, label string, n int, req func(i int) (string, []any), got func(i int, raw json.RawMessage, err error) error) error {
	for start := 0; start < n; start += stateBatch {
		end := min(start+stateBatch, n)
		elems := make([]rpc.BatchElem, end-start)
		raws := make([]json.RawMessage, end-start)
		for k := range elems {
			m, args := req(start + k)
			elems[k] = rpc.BatchElem{Method: m, Args: args, Result: &raws[k]}
		}
		if err := c.batch(ctx, label, elems); err != nil {
			return err
		}
		for k := range elems {
			var err error
			if elems[k].Error != nil {
				err = c.failure(ctx, elems[k].Method, elems[k].Error)
			}
			if err := got(start+k, raws[k], err); err != nil {
				return err
			}
		}
	}
	return nil
}
