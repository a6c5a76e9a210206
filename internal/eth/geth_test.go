package eth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func key(t *testing.T, name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("vestigo internal/eth test key " + name)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func addrOf(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// initCode wraps runtime code (< 256 bytes) in init code that returns it.
func initCode(runtime []byte) []byte {
	n := byte(len(runtime))
	return append([]byte{0x60, n, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3}, runtime...)
}

// Hand-assembled contracts for what the scenario's Solidity contracts do
// not do.
var (
	// reverter: REVERT(0, 0) whatever it is called with.
	reverterCode = []byte{0x60, 0x00, 0x60, 0x00, 0xfd}
	// brokenTokenCode answers every call with the word 300: decimals()
	// out of range, name() and symbol() a bytes32 full of NUL bytes.
	brokenTokenCode = []byte{0x61, 0x01, 0x2c, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3}
)

// catcherCode forwards the call's value to target with CALL and ignores
// whether it succeeded: a call into the reverter leaves the value here.
func catcherCode(target common.Address) []byte {
	c := []byte{0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x34, 0x73}
	c = append(c, target[:]...)
	return append(c, 0x5a, 0xf1, 0x50, 0x00)
}

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

// story is what the scenario did, for the checks.
type story struct {
	key                           *ecdsa.PrivateKey
	b, c                          common.Address
	token, forwarder, catcher     common.Address
	reverter, broken              common.Address
	forwardTx, catchTx, failingTx common.Hash
}

// build makes a small chain on the node: funding, an ERC-20 token minted
// and moved, ETH split by a contract (internal transfers), ETH sent into a
// call that reverts inside a successful transaction, a transaction that
// fails at the top, and a broken token.
func build(t *testing.T, node *gethtest.Node) story {
	s := story{key: key(t, "sender"), b: addrOf(key(t, "b")), c: addrOf(key(t, "c"))}
	me := addrOf(s.key)
	node.Fund(t, me, ether(10))

	tok, err := ethscenario.TokenContract()
	if err != nil {
		t.Fatal(err)
	}
	args, err := tok.ABI.Pack("", "Vestigo Test Token", "VTT", uint8(6))
	if err != nil {
		t.Fatal(err)
	}
	s.token, _ = node.Deploy(t, s.key, append(append([]byte(nil), tok.Bytecode...), args...))
	call := func(to common.Address, value *big.Int, abiMethod string, a ...any) common.Hash {
		data, err := tok.ABI.Pack(abiMethod, a...)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := node.SendSigned(t, s.key, &to, value, data)
		return h
	}
	call(s.token, big.NewInt(0), "mint", me, big.NewInt(1_000_000))
	call(s.token, big.NewInt(0), "transfer", s.b, big.NewInt(250_000))
	call(s.token, big.NewInt(0), "transfer", s.c, big.NewInt(1))

	fwd, err := ethscenario.ForwarderContract()
	if err != nil {
		t.Fatal(err)
	}
	s.forwarder, _ = node.Deploy(t, s.key, fwd.Bytecode)
	data, err := fwd.ABI.Pack("forward", s.b, s.c, ether(1))
	if err != nil {
		t.Fatal(err)
	}
	s.forwardTx, _ = node.SendSigned(t, s.key, &s.forwarder, ether(3), data)

	s.reverter, _ = node.Deploy(t, s.key, initCode(reverterCode))
	s.catcher, _ = node.Deploy(t, s.key, initCode(catcherCode(s.reverter)))
	s.catchTx, _ = node.SendSigned(t, s.key, &s.catcher, big.NewInt(777), nil)

	// A transaction that fails at the top still pays its fee.
	tx := node.NewTx(t, me, &s.b, big.NewInt(0), nil)
	tx.To, tx.Value, tx.Gas = &s.reverter, big.NewInt(5), 60_000
	s.failingTx, _ = node.SendTx(t, s.key, tx)

	s.broken, _ = node.Deploy(t, s.key, initCode(brokenTokenCode))
	node.SendSigned(t, s.key, &s.b, big.NewInt(12345), nil)
	return s
}

func TestOnGeth(t *testing.T) {
	node := gethtest.Start(t)
	ctx := testContext(t)
	s := build(t, node)

	c, err := eth.Dial(ctx, node.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.ChainID(ctx)
	if err != nil || id != node.ChainID.Uint64() || id != 1337 {
		t.Fatalf("chain id %d %v", id, err)
	}
	head, err := c.BlockNumber(ctx)
	if err != nil || head != node.Head(t) || head < 10 {
		t.Fatalf("head %d %v", head, err)
	}

	// Replay every block from the node through the decoders, and keep
	// balances of the accounts the test made (all empty at genesis).
	tracked := map[eth.Address]bool{}
	for _, a := range []common.Address{addrOf(s.key), s.b, s.c, s.token, s.forwarder, s.catcher, s.reverter, s.broken} {
		tracked[eth.Address(a)] = true
	}
	native := map[eth.Address]*big.Int{}
	tokens := map[eth.Address]*big.Int{}
	add := func(m map[eth.Address]*big.Int, a eth.Address, v *big.Int) {
		if m[a] == nil {
			m[a] = new(big.Int)
		}
		m[a].Add(m[a], v)
	}
	sub := func(m map[eth.Address]*big.Int, a eth.Address, v *big.Int) { add(m, a, new(big.Int).Neg(v)) }
	internalOf := map[common.Hash][]eth.ValueTransfer{}
	statusOf := map[common.Hash]eth.Status{}
	ec := node.Client()
	for n := uint64(0); n <= head; n++ {
		b, err := c.BlockByNumber(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := c.BlockReceipts(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := eth.CheckReceipts(&b, rs); err != nil {
			t.Fatal(err)
		}
		traces, supported, err := c.TraceBlock(ctx, n)
		if err != nil || !supported {
			t.Fatalf("trace of block %d: %v %v", n, supported, err)
		}
		if err := eth.CheckTraces(&b, traces); err != nil {
			t.Fatal(err)
		}
		// go-ethereum's own decoding of the same block agrees.
		gb, err := ec.BlockByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			t.Fatal(err)
		}
		if gb.Hash() != common.Hash(b.Hash) || gb.ParentHash() != common.Hash(b.ParentHash) || gb.Time() != b.Timestamp ||
			len(gb.Transactions()) != len(b.Txs) || gb.Coinbase() != common.Address(b.Miner) {
			t.Fatalf("block %d differs from go-ethereum's decoding", n)
		}
		frames := make([]eth.CallFrame, len(traces))
		for i := range traces {
			frames[i] = traces[i].Root
		}
		for _, v := range eth.InternalTransfers(frames) {
			sub(native, v.From, v.Value.Big())
			add(native, v.To, v.Value.Big())
			h := common.Hash(b.Txs[v.Tx].Hash)
			internalOf[h] = append(internalOf[h], v)
		}
		for i := range b.Txs {
			tx, r := &b.Txs[i], &rs[i]
			gtx := gb.Transactions()[i]
			if gtx.Hash() != common.Hash(tx.Hash) || gtx.Value().Cmp(tx.Value.Big()) != 0 || gtx.Nonce() != tx.Nonce ||
				gtx.Gas() != tx.Gas || !bytes.Equal(gtx.Data(), tx.Input) || gtx.Type() != tx.Type {
				t.Fatalf("transaction %s differs from go-ethereum's decoding", tx.Hash)
			}
			gr, err := ec.TransactionReceipt(ctx, gtx.Hash())
			if err != nil {
				t.Fatal(err)
			}
			if gr.GasUsed != r.GasUsed || gr.EffectiveGasPrice.Cmp(r.EffectiveGasPrice.Big()) != 0 || len(gr.Logs) != len(r.Logs) ||
				(gr.Status == 1) != (r.Status == eth.StatusSuccess) {
				t.Fatalf("receipt of %s differs from go-ethereum's decoding", tx.Hash)
			}
			statusOf[common.Hash(tx.Hash)] = r.Status
			fee, err := r.Fee()
			if err != nil {
				t.Fatal(err)
			}
			sub(native, tx.From, fee.Big())
			if r.Status == eth.StatusSuccess {
				to := tx.To
				if to == nil {
					to = r.ContractAddress
				}
				sub(native, tx.From, tx.Value.Big())
				add(native, *to, tx.Value.Big())
			}
			for _, l := range r.Logs {
				tr, ok, err := eth.DecodeTransfer(l)
				if err != nil {
					t.Fatal(err)
				}
				if ok && tr.Token == eth.Address(s.token) {
					sub(tokens, tr.From, tr.Value.Big())
					add(tokens, tr.To, tr.Value.Big())
				}
			}
		}
	}

	// The internal transfers: the forwarder's two calls; nothing of the
	// call that reverted inside the catcher's transaction; nothing of the
	// transaction that failed.
	fw := internalOf[s.forwardTx]
	if len(fw) != 2 || fw[0].From != eth.Address(s.forwarder) || fw[0].To != eth.Address(s.b) || fw[0].Value.Big().Cmp(ether(1)) != 0 ||
		fw[1].To != eth.Address(s.c) || fw[1].Value.Big().Cmp(ether(2)) != 0 || fw[0].Type != eth.FrameCall {
		t.Fatalf("forwarder's internal transfers: %+v", fw)
	}
	if len(internalOf[s.catchTx]) != 0 || statusOf[s.catchTx] != eth.StatusSuccess {
		t.Fatalf("reverted internal call: %+v", internalOf[s.catchTx])
	}
	if statusOf[s.failingTx] != eth.StatusFailed {
		t.Fatalf("failing transaction: %v", statusOf[s.failingTx])
	}

	// Every replayed balance is the node's.
	for a := range tracked {
		got, err := c.Balance(ctx, a, head)
		if err != nil {
			t.Fatal(err)
		}
		want := native[a]
		if want == nil {
			want = new(big.Int)
		}
		if got.Big().Cmp(want) != 0 {
			t.Errorf("balance of %s: node %s, replay %s", a, got, want)
		}
		tb, err := c.TokenBalance(ctx, eth.Address(s.token), a, head)
		if err != nil {
			t.Fatal(err)
		}
		want = tokens[a]
		if want == nil {
			want = new(big.Int)
		}
		if tb.Big().Cmp(want) != 0 {
			t.Errorf("token balance of %s: node %s, replay %s", a, tb, want)
		}
	}
	if native[eth.Address(s.catcher)].Int64() != 777 || tokens[eth.Address(s.b)].Int64() != 250_000 {
		t.Fatalf("catcher %s, b's tokens %s", native[eth.Address(s.catcher)], tokens[eth.Address(s.b)])
	}
	// State at an old block (the node is an archive node).
	if bal, err := c.Balance(ctx, eth.Address(s.b), 1); err != nil || !bal.IsZero() {
		t.Fatalf("balance at block 1: %v %v", bal, err)
	}

	// Token metadata: a good token, a broken one, and an account without code.
	md, err := c.TokenMetadata(ctx, eth.Address(s.token), head)
	if err != nil || !md.NameOK || md.Name != "Vestigo Test Token" || !md.SymbolOK || md.Symbol != "VTT" ||
		!md.DecimalsOK || md.Decimals != 6 || len(md.Problems) != 0 {
		t.Fatalf("%+v %v", md, err)
	}
	md, err = c.TokenMetadata(ctx, eth.Address(s.broken), head)
	if err != nil || md.NameOK || md.SymbolOK || md.DecimalsOK || len(md.Problems) != 3 ||
		!strings.Contains(md.Problems[2], "decimals: ") || !strings.Contains(md.Problems[2], "decimals 300 is more than 255") ||
		!strings.Contains(md.Problems[0], "name: ") || !strings.Contains(md.Problems[0], "NUL") {
		t.Fatalf("%+v %v", md, err)
	}
	md, err = c.TokenMetadata(ctx, eth.Address(s.c), head)
	if err != nil || len(md.Problems) != 3 || !strings.Contains(md.Problems[1], "empty answer") {
		t.Fatalf("%+v %v", md, err)
	}
	md, err = c.TokenMetadata(ctx, eth.Address(s.reverter), head)
	var re *eth.RPCError
	if err != nil || len(md.Problems) != 3 || !strings.Contains(md.Problems[0], "execution reverted") {
		t.Fatalf("%+v %v", md, err)
	}
	if _, err := c.Call(ctx, eth.Address(s.reverter), nil, head); !errors.As(err, &re) || re.Code != 3 && re.Code != -32000 {
		t.Fatalf("reverting call: %v", err)
	}

	// Beyond the tip: not found.
	if _, err := c.BlockByNumber(ctx, head+100); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("block beyond the tip: %v", err)
	}
	if _, err := c.BlockReceipts(ctx, head+100); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("receipts beyond the tip: %v", err)
	}
	if c.ReceiptsMethod() != eth.MethodBlockReceipts {
		t.Fatal(c.ReceiptsMethod())
	}

	t.Run("ReceiptsFallback", func(t *testing.T) { testReceiptsFallback(t, node, c, head) })
}

// testReceiptsFallback puts a filter in front of the real node that
// refuses eth_getBlockReceipts as a node without it does: the client must
// read the same receipts one transaction at a time, and remember to.
func testReceiptsFallback(t *testing.T, node *gethtest.Node, direct *eth.Client, head uint64) {
	ctx := testContext(t)
	var mu sync.Mutex
	methods := map[string]int{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var one struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		var many []struct {
			Method string `json:"method"`
		}
		mu.Lock()
		if json.Unmarshal(body, &one) == nil {
			methods[one.Method]++
		} else if json.Unmarshal(body, &many) == nil {
			for _, m := range many {
				methods[m.Method]++
			}
		}
		mu.Unlock()
		if one.Method == eth.MethodBlockReceipts {
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"the method eth_getBlockReceipts does not exist/is not available"}}`, one.ID)
			return
		}
		resp, err := http.Post(node.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()

	c, err := eth.Dial(ctx, proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for n := uint64(0); n <= head; n++ {
		got, err := c.BlockReceipts(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		want, err := direct.BlockReceipts(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("block %d: receipts read one by one differ:\n%s\n%s", n, gj, wj)
		}
	}
	if c.ReceiptsMethod() != eth.MethodTxReceipt || methods[eth.MethodBlockReceipts] != 1 || methods[eth.MethodTxReceipt] == 0 {
		t.Fatalf("method %s, requests %v", c.ReceiptsMethod(), methods)
	}
}

func TestTraceUnsupportedOnGeth(t *testing.T) {
	node := gethtest.Start(t, gethtest.WithAPIs("eth", "net", "web3"))
	ctx := testContext(t)
	node.Fund(t, addrOf(key(t, "b")), big.NewInt(1))
	c, err := eth.Dial(ctx, node.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		traces, supported, err := c.TraceBlock(ctx, 1)
		if err != nil || supported || traces != nil {
			t.Fatalf("%v %v %v", traces, supported, err)
		}
	}
	// The rest works without the debug namespace.
	if _, err := c.BlockReceipts(ctx, 1); err != nil {
		t.Fatal(err)
	}
}
