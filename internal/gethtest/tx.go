package gethtest

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

const receiptTimeout = 30 * time.Second // from sending until the receipt is there

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// checkValue fails the test on a nil or negative amount of wei.
func checkValue(t testing.TB, what string, v *big.Int) {
	t.Helper()
	if v == nil {
		t.Fatalf("gethtest: %s: value is nil (use big.NewInt(0) for none)", what)
	}
	if v.Sign() < 0 {
		t.Fatalf("gethtest: %s: value %s wei is negative", what, v)
	}
}

// Head returns the number of the node's latest block.
func (n *Node) Head(t testing.TB) uint64 {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	h, err := n.eth.BlockNumber(ctx)
	if err != nil {
		t.Fatalf("gethtest: eth_blockNumber: %v", err)
	}
	return h
}

// Fund sends wei from the dev account to an address with
// eth_sendTransaction (the node signs and picks gas and fees), waits for
// the receipt and fails the test unless the transaction succeeded. It
// returns the transaction hash.
func (n *Node) Fund(t testing.TB, to common.Address, wei *big.Int) common.Hash {
	t.Helper()
	hash, _ := n.fund(t, to, wei)
	return hash
}

func (n *Node) fund(t testing.TB, to common.Address, wei *big.Int) (common.Hash, *types.Receipt) {
	t.Helper()
	checkValue(t, "Fund", wei)
	ctx, cancel := callCtx()
	defer cancel()
	var hash common.Hash
	req := map[string]any{"from": n.Dev, "to": to, "value": (*hexutil.Big)(wei)}
	if err := n.rpc.CallContext(ctx, &hash, "eth_sendTransaction", req); err != nil {
		t.Fatalf("gethtest: eth_sendTransaction of %s wei from %s to %s: %v", wei, n.Dev, to, err)
	}
	r := n.WaitReceipt(t, hash)
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("gethtest: funding %s with %s wei: transaction %s failed (status 0) in block %s, gas used %d",
			to, wei, hash, r.BlockNumber, r.GasUsed)
	}
	return hash, r
}

// WaitReceipt polls the node until the transaction's receipt is there and
// returns it, whatever its status. geth's "transaction indexing is in
// progress" (a mined transaction its index has not reached yet) counts as
// not there yet. It fails the test after 30 seconds.
func (n *Node) WaitReceipt(t testing.TB, hash common.Hash) *types.Receipt {
	t.Helper()
	deadline := time.Now().Add(receiptTimeout)
	wait := time.Millisecond
	for {
		ctx, cancel := callCtx()
		r, err := n.eth.TransactionReceipt(ctx, hash)
		cancel()
		switch {
		case err == nil:
			return r
		case !errors.Is(err, ethereum.NotFound) && !isIndexing(err):
			t.Fatalf("gethtest: eth_getTransactionReceipt %s: %v", hash, err)
		case time.Now().After(deadline):
			ctx, cancel := callCtx()
			_, pending, terr := n.eth.TransactionByHash(ctx, hash)
			cancel()
			state := "unknown to the node"
			if terr == nil && pending {
				state = "still pending"
			} else if terr == nil {
				state = "known but without receipt"
			}
			t.Fatalf("gethtest: no receipt for transaction %s within %v (%s)", hash, receiptTimeout, state)
		}
		// A --dev node seals within milliseconds: poll fast at first.
		time.Sleep(wait)
		wait = min(2*wait, pollEvery)
	}
}

// isIndexing reports geth's answer for a transaction that is mined but not
// yet in its transaction index (for a moment after start-up and after a
// block): asking again later finds it.
func isIndexing(err error) bool {
	return err != nil && strings.Contains(err.Error(), "transaction indexing is in progress")
}

// NewTx builds an unsigned dynamic-fee transaction from an account: the
// account's pending nonce, the node's suggested tip, a fee cap of twice
// the latest base fee plus the tip, and eth_estimateGas × 1.2 as gas
// limit. A nil to creates a contract from data. Callers may change the
// fields (a lower Gas makes a transaction that runs out of gas) before
// SendTx.
func (n *Node) NewTx(t testing.TB, from common.Address, to *common.Address, value *big.Int, data []byte) *types.DynamicFeeTx {
	t.Helper()
	checkValue(t, "NewTx", value)
	ctx, cancel := callCtx()
	defer cancel()
	nonce, err := n.eth.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatalf("gethtest: pending nonce of %s: %v", from, err)
	}
	tip, err := n.eth.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatalf("gethtest: eth_maxPriorityFeePerGas: %v", err)
	}
	head, err := n.eth.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatalf("gethtest: latest header: %v", err)
	}
	if head.BaseFee == nil {
		t.Fatalf("gethtest: latest block %s has no base fee: not a London chain", head.Number)
	}
	feeCap := new(big.Int).Add(new(big.Int).Lsh(head.BaseFee, 1), tip)
	var toCopy *common.Address
	if to != nil {
		a := *to
		toCopy = &a
	}
	tx := &types.DynamicFeeTx{
		ChainID:   new(big.Int).Set(n.ChainID),
		Nonce:     nonce,
		GasTipCap: tip,
		GasFeeCap: feeCap,
		To:        toCopy,
		Value:     new(big.Int).Set(value),
		Data:      common.CopyBytes(data),
	}
	gas, err := n.eth.EstimateGas(ctx, ethereum.CallMsg{
		From: from, To: tx.To, Value: tx.Value, Data: tx.Data, GasFeeCap: feeCap, GasTipCap: tip,
	})
	if err != nil {
		t.Fatalf("gethtest: eth_estimateGas for a transaction from %s to %s of %s wei with %d bytes of data: %v",
			from, describeTo(to), value, len(data), err)
	}
	tx.Gas = gas + gas/5
	return tx
}

func describeTo(to *common.Address) string {
	if to == nil {
		return "a new contract"
	}
	return to.Hex()
}

// SendTx signs a transaction with key for the node's chain id, sends it
// with eth_sendRawTransaction and waits for its receipt, which it returns
// whatever its status. The caller checks Status.
func (n *Node) SendTx(t testing.TB, key *ecdsa.PrivateKey, tx types.TxData) (common.Hash, *types.Receipt) {
	t.Helper()
	if key == nil {
		t.Fatal("gethtest: SendTx: key is nil")
	}
	signed, err := types.SignNewTx(key, types.LatestSignerForChainID(n.ChainID), tx)
	if err != nil {
		t.Fatalf("gethtest: sign transaction: %v", err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	// geth publishes a block's receipts before its transaction pool has
	// moved to the new state: a sender paid in the block just mined can be
	// refused for "insufficient funds" for a moment. Send again while the
	// latest balance covers the cost.
	for attempt := 1; ; attempt++ {
		ctx, cancel := callCtx()
		err := n.eth.SendTransaction(ctx, signed)
		if err == nil {
			cancel()
			break
		}
		var bal *big.Int
		if strings.Contains(err.Error(), "insufficient funds") && attempt < poolLagAttempts {
			bal, _ = n.eth.BalanceAt(ctx, from, nil)
		}
		cancel()
		if bal == nil || bal.Cmp(signed.Cost()) < 0 {
			t.Fatalf("gethtest: eth_sendRawTransaction %s from %s: %v", signed.Hash(), from, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return signed.Hash(), n.WaitReceipt(t, signed.Hash())
}

// poolLagAttempts bounds the sends of a transaction refused while the
// pool lags the chain (see SendTx).
const poolLagAttempts = 200

// SendSigned sends value and data from key's address to an address (nil:
// deploy a contract with data as its init code) in a dynamic-fee
// transaction built by NewTx, waits for the receipt and fails the test
// unless the transaction succeeded. Transactions of one key must not be
// sent concurrently (their nonces would collide).
func (n *Node) SendSigned(t testing.TB, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) (common.Hash, *types.Receipt) {
	t.Helper()
	if key == nil {
		t.Fatal("gethtest: SendSigned: key is nil")
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	hash, r := n.SendTx(t, key, n.NewTx(t, from, to, value, data))
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("gethtest: transaction %s from %s to %s failed (status 0) in block %s, gas used %d",
			hash, from, describeTo(to), r.BlockNumber, r.GasUsed)
	}
	return hash, r
}

// Deploy creates a contract from init code (the compiler's "bytecode",
// constructor arguments appended) signed by key and returns its address
// and the receipt. It fails the test if the creation failed or left no
// code at the address.
func (n *Node) Deploy(t testing.TB, key *ecdsa.PrivateKey, bytecode []byte) (common.Address, *types.Receipt) {
	t.Helper()
	if len(bytecode) == 0 {
		t.Fatal("gethtest: Deploy: bytecode is empty")
	}
	hash, r := n.SendSigned(t, key, nil, big.NewInt(0), bytecode)
	if r.ContractAddress == (common.Address{}) {
		t.Fatalf("gethtest: contract creation %s: receipt has no contract address", hash)
	}
	ctx, cancel := callCtx()
	defer cancel()
	code, err := n.eth.CodeAt(ctx, r.ContractAddress, r.BlockNumber)
	if err != nil {
		t.Fatalf("gethtest: eth_getCode %s: %v", r.ContractAddress, err)
	}
	if len(code) == 0 {
		t.Fatalf("gethtest: contract creation %s left no code at %s (the init code returned nothing)", hash, r.ContractAddress)
	}
	return r.ContractAddress, r
}

// Mine adds at least blocks blocks to the chain and returns the new head.
// Each block carries one zero-value transfer from the dev account to
// itself (a --dev node seals blocks only for pending transactions).
func (n *Node) Mine(t testing.TB, blocks int) uint64 {
	t.Helper()
	if blocks < 1 {
		t.Fatalf("gethtest: Mine(%d): want at least one block", blocks)
	}
	target := n.Head(t) + uint64(blocks)
	for {
		_, r := n.fund(t, n.Dev, big.NewInt(0))
		if r.BlockNumber.Uint64() >= target {
			return n.Head(t)
		}
	}
}
