package gethtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/vestigo-forensics/vestigo/internal/testproc"
)

var ether = big.NewInt(1_000_000_000_000_000_000)

// eth returns num/den ether in wei.
func eth(num, den int64) *big.Int {
	v := new(big.Int).Mul(ether, big.NewInt(num))
	return v.Quo(v, big.NewInt(den))
}

// testKey derives a fixed private key from a label: the same in every run.
func testKey(t *testing.T, label string) (*ecdsa.PrivateKey, common.Address) {
	t.Helper()
	seed := sha256.Sum256([]byte("vestigo gethtest key " + label))
	k, err := crypto.ToECDSA(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k, crypto.PubkeyToAddress(k.PublicKey)
}

func balance(t *testing.T, n *Node, a common.Address, block *big.Int) *big.Int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := n.Client().BalanceAt(ctx, a, block)
	if err != nil {
		t.Fatalf("eth_getBalance %s at %v: %v", a, block, err)
	}
	return b
}

func wantBalance(t *testing.T, n *Node, a common.Address, block *big.Int, want *big.Int) {
	t.Helper()
	if got := balance(t, n, a, block); got.Cmp(want) != 0 {
		t.Fatalf("balance of %s at block %v = %s wei, want %s", a, block, got, want)
	}
}

// fee is what a transaction's sender paid for gas.
func fee(r *types.Receipt) *big.Int {
	return new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
}

func sub(a *big.Int, bs ...*big.Int) *big.Int {
	v := new(big.Int).Set(a)
	for _, b := range bs {
		v.Sub(v, b)
	}
	return v
}

func add(a *big.Int, bs ...*big.Int) *big.Int {
	v := new(big.Int).Set(a)
	for _, b := range bs {
		v.Add(v, b)
	}
	return v
}

// TestNode runs the helpers on one node; each part uses keys of its own, so
// their balances are exact whatever ran before.
func TestNode(t *testing.T) {
	n := Start(t)
	t.Run("transfers and balances", func(t *testing.T) { testTransfers(t, n) })
	t.Run("failed transaction", func(t *testing.T) { testFailedTransaction(t, n) })
	t.Run("bad arguments", func(t *testing.T) { testBadArguments(t, n) })
	t.Run("trace an old transaction", func(t *testing.T) { testTraceOldTransaction(t, n) })
}

func testTransfers(t *testing.T, n *Node) {
	if n.ChainID.Cmp(big.NewInt(1337)) != 0 {
		t.Fatalf("chain id %s, want 1337 for --dev", n.ChainID)
	}
	if n.Dev == (common.Address{}) {
		t.Fatal("no dev account")
	}
	start := n.Head(t)
	k1, a1 := testKey(t, "1")
	k2, a2 := testKey(t, "2")
	wantBalance(t, n, a1, nil, big.NewInt(0))

	n.Fund(t, a1, eth(10, 1))
	n.Fund(t, a2, eth(1, 1))
	wantBalance(t, n, a1, nil, eth(10, 1))
	wantBalance(t, n, a2, nil, eth(1, 1))
	// geth --dev sometimes seals an empty block after one with transactions.
	if h := n.Head(t); h < start+2 {
		t.Fatalf("after two funding transactions head is %d, want at least %d", h, start+2)
	}

	// A plain transfer: the sender pays value and gas, the receiver gets value.
	_, r1 := n.SendSigned(t, k1, &a2, eth(3, 2), nil)
	if r1.GasUsed != 21_000 {
		t.Fatalf("plain transfer used %d gas, want 21000", r1.GasUsed)
	}
	wantBalance(t, n, a1, nil, sub(eth(10, 1), eth(3, 2), fee(r1)))
	wantBalance(t, n, a2, nil, add(eth(1, 1), eth(3, 2)))

	// Back, with data (costs more than 21000 gas, all of it accounted).
	_, r2 := n.SendSigned(t, k2, &a1, eth(1, 4), []byte("vestigo"))
	if r2.GasUsed <= 21_000 {
		t.Fatalf("transfer with data used %d gas, want more than 21000", r2.GasUsed)
	}
	wantBalance(t, n, a1, nil, sub(add(eth(10, 1), eth(1, 4)), eth(3, 2), fee(r1)))
	wantBalance(t, n, a2, nil, sub(add(eth(1, 1), eth(3, 2)), eth(1, 4), fee(r2)))

	// The state before each transaction is still there.
	before := new(big.Int).Sub(r1.BlockNumber, big.NewInt(1))
	wantBalance(t, n, a1, before, eth(10, 1))
	wantBalance(t, n, a2, before, eth(1, 1))

	// The transaction the node holds is the one signed: dynamic fee, chain id, sender.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, pending, err := n.Client().TransactionByHash(ctx, r1.TxHash)
	if err != nil || pending {
		t.Fatalf("transaction %s: pending %v, %v", r1.TxHash, pending, err)
	}
	from, err := types.Sender(types.LatestSignerForChainID(n.ChainID), tx)
	if err != nil || from != a1 || tx.Type() != types.DynamicFeeTxType || tx.ChainId().Cmp(n.ChainID) != 0 {
		t.Fatalf("transaction %s: from %s (%v), type %d, chain %s", r1.TxHash, from, err, tx.Type(), tx.ChainId())
	}
}

// forwarder returns the init code of a contract that forwards every value
// it receives to recipient with a CALL (an internal transfer, visible only
// in traces) and reverts if that call fails, and its runtime code.
func forwarder(recipient common.Address) (initCode, runtime []byte) {
	runtime = []byte{
		0x60, 0x00, // 00 PUSH1 0      retSize
		0x60, 0x00, // 02 PUSH1 0      retOffset
		0x60, 0x00, // 04 PUSH1 0      argsSize
		0x60, 0x00, // 06 PUSH1 0      argsOffset
		0x34, //       08 CALLVALUE    value
		0x73, //       09 PUSH20 recipient
	}
	runtime = append(runtime, recipient.Bytes()...)
	runtime = append(runtime,
		0x5a,       // 1e GAS
		0xf1,       // 1f CALL
		0x60, 0x28, // 20 PUSH1 0x28   (success → STOP)
		0x57,       // 22 JUMPI
		0x60, 0x00, // 23 PUSH1 0
		0x60, 0x00, // 25 PUSH1 0
		0xfd, // 27 REVERT
		0x5b, // 28 JUMPDEST
		0x00, // 29 STOP
	)
	initCode = []byte{
		0x60, byte(len(runtime)), // PUSH1 len
		0x80,       // DUP1
		0x60, 0x0b, // PUSH1 11      (offset of the runtime in this code)
		0x60, 0x00, // PUSH1 0       (memory destination)
		0x39,       // CODECOPY
		0x60, 0x00, // PUSH1 0
		0xf3, //       RETURN        memory[0:len]
	}
	return append(initCode, runtime...), runtime
}

type callFrame struct {
	Type  string         `json:"type"`
	From  common.Address `json:"from"`
	To    common.Address `json:"to"`
	Value *hexutil.Big   `json:"value"`
	Error string         `json:"error"`
	Calls []callFrame    `json:"calls"`
}

func testTraceOldTransaction(t *testing.T, n *Node) {
	k, a := testKey(t, "trace sender")
	_, recipient := testKey(t, "trace recipient")
	n.Fund(t, a, eth(5, 1))

	initCode, runtimeCode := forwarder(recipient)
	fwd, dr := n.Deploy(t, k, initCode)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code, err := n.Client().CodeAt(ctx, fwd, nil); err != nil || !bytes.Equal(code, runtimeCode) {
		t.Fatalf("code at %s = %x (%v), want %x", fwd, code, err, runtimeCode)
	}
	if want := crypto.CreateAddress(a, 0); fwd != want {
		t.Fatalf("contract at %s, want %s (sender's first nonce)", fwd, want)
	}

	value := eth(7, 10)
	hash, r := n.SendSigned(t, k, &fwd, value, nil)
	wantBalance(t, n, recipient, nil, value)
	wantBalance(t, n, fwd, nil, big.NewInt(0))
	wantBalance(t, n, a, nil, sub(eth(5, 1), value, fee(dr), fee(r)))

	// Beyond the 128 blocks a non-archive node keeps state for.
	head := n.Mine(t, 130)
	if head < r.BlockNumber.Uint64()+130 {
		t.Fatalf("head %d is not 130 blocks past %s", head, r.BlockNumber)
	}
	before := new(big.Int).Sub(r.BlockNumber, big.NewInt(1))
	wantBalance(t, n, recipient, before, big.NewInt(0))
	wantBalance(t, n, recipient, r.BlockNumber, value)

	var top callFrame
	if err := n.RPC().CallContext(ctx, &top, "debug_traceTransaction", hash, map[string]any{"tracer": "callTracer"}); err != nil {
		t.Fatalf("debug_traceTransaction %s, %d blocks old: %v", hash, head-r.BlockNumber.Uint64(), err)
	}
	if top.Type != "CALL" || top.From != a || top.To != fwd || top.Value.ToInt().Cmp(value) != 0 || top.Error != "" {
		t.Fatalf("top call frame %+v, want CALL %s → %s of %s wei", top, a, fwd, value)
	}
	if len(top.Calls) != 1 {
		t.Fatalf("top call frame has %d inner calls, want 1: %+v", len(top.Calls), top.Calls)
	}
	in := top.Calls[0]
	if in.Type != "CALL" || in.From != fwd || in.To != recipient || in.Value.ToInt().Cmp(value) != 0 || in.Error != "" {
		t.Fatalf("internal call frame %+v, want CALL %s → %s of %s wei", in, fwd, recipient, value)
	}
}

// A transaction built by NewTx with too little gas fails; SendTx returns its
// receipt, the sender pays the gas and no value moves.
func testFailedTransaction(t *testing.T, n *Node) {
	k, a := testKey(t, "failing sender")
	_, recipient := testKey(t, "failing recipient")
	n.Fund(t, a, eth(1, 1))
	initCode, _ := forwarder(recipient)
	fwd, dr := n.Deploy(t, k, initCode)

	tx := n.NewTx(t, a, &fwd, eth(1, 10), nil)
	if tx.Gas <= 21_000+9_000 || tx.ChainID.Cmp(n.ChainID) != 0 || tx.Nonce != 1 || tx.GasFeeCap.Cmp(tx.GasTipCap) < 0 {
		t.Fatalf("NewTx: %+v", tx)
	}
	tx.Gas = 21_100 // the intrinsic cost and too little for the inner CALL
	_, r := n.SendTx(t, k, tx)
	if r.Status != types.ReceiptStatusFailed || r.GasUsed != tx.Gas {
		t.Fatalf("receipt status %d, gas used %d; want failed, all %d gas used", r.Status, r.GasUsed, tx.Gas)
	}
	wantBalance(t, n, recipient, nil, big.NewInt(0))
	wantBalance(t, n, fwd, nil, big.NewInt(0))
	wantBalance(t, n, a, nil, sub(eth(1, 1), fee(dr), fee(r)))
}

// Nodes run side by side: each has its own port, chain and process; stopping
// one leaves the other running.
func TestNodesSideBySide(t *testing.T) {
	n1 := Start(t)
	n2 := Start(t)
	if n1.URL == n2.URL {
		t.Fatalf("two nodes at %s", n1.URL)
	}
	_, a := testKey(t, "a")
	n1.Fund(t, a, eth(1, 1))
	wantBalance(t, n1, a, nil, eth(1, 1))
	wantBalance(t, n2, a, nil, big.NewInt(0))
	if h := n2.Head(t); h != 0 {
		t.Fatalf("second node at block %d, want 0", h)
	}

	pid := n1.PID()
	n1.Stop()
	n1.Stop() // idempotent
	if !n1.Exited() {
		t.Fatal("node not reaped after Stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still exists after Stop (kill 0: %v)", pid, err)
	}
	if !strings.Contains(readFile(t, n1.LogFile), "Got interrupt, shutting down") {
		t.Fatalf("geth did not shut down on SIGINT; log:\n%s", n1.tail())
	}
	n2.Fund(t, a, eth(2, 1))
	wantBalance(t, n2, a, nil, eth(2, 1))
}

// Nodes started at the same time get distinct ports, and each listens on
// its HTTP port only.
func TestParallelNodes(t *testing.T) {
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			n := Start(t)
			_, a := testKey(t, fmt.Sprint("parallel ", i))
			n.Fund(t, a, big.NewInt(int64(i+1)))
			wantBalance(t, n, a, nil, big.NewInt(int64(i+1)))
			checkListening(t, n)
		})
	}
}

// A node without the debug API, for code that must cope with one.
func TestWithAPIs(t *testing.T) {
	n := Start(t, WithAPIs("eth", "net", "web3"))
	_, a := testKey(t, "a")
	hash := n.Fund(t, a, big.NewInt(1))
	var res any
	err := n.RPC().CallContext(context.Background(), &res, "debug_traceTransaction", hash, map[string]any{"tracer": "callTracer"})
	var rerr rpc.Error
	if !errors.As(err, &rerr) || rerr.ErrorCode() != -32601 {
		t.Fatalf("debug_traceTransaction without the debug API: %v, want method not found (-32601)", err)
	}
}

// A port taken between the probe and geth's bind makes geth exit; Start
// tries again on another port.
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
	if first := readFile(t, filepath.Join(filepath.Dir(n.LogFile), "geth-1.log")); !strings.Contains(first, "address already in use") {
		t.Fatalf("first attempt's log does not show the bind failure:\n%s", first)
	}
	if n.URL == "http://"+busy.Addr().String() {
		t.Fatalf("node claims the busy port %s", n.URL)
	}
	if h := n.Head(t); h != 0 {
		t.Fatalf("head %d, want 0", h)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestArgs(t *testing.T) {
	cfg := config{apis: defaultAPIs, args: []string{"--dev.gaslimit=60000000"}}
	got := args("/tmp/d", 4242, cfg)
	for _, tc := range []struct{ flag, value string }{
		{"--datadir", "/tmp/d"},
		{"--http.addr", "127.0.0.1"},
		{"--http.port", "4242"},
		{"--http.api", "eth,net,web3,debug,txpool"},
		{"--maxpeers", "0"},
		{"--port", "0"},
		{"--nat", "none"},
		{"--gcmode", "archive"},
		{"--state.scheme", "hash"},
		{"--cache", "256"},
	} {
		i := slices.Index(got, tc.flag)
		if i < 0 || i+1 >= len(got) || got[i+1] != tc.value {
			t.Errorf("%s: want value %q in %q", tc.flag, tc.value, got)
		}
	}
	for _, f := range []string{"--dev", "--http", "--ipcdisable", "--nodiscover"} {
		if !slices.Contains(got, f) {
			t.Errorf("flag %s missing from %q", f, got)
		}
	}
	if got[len(got)-1] != "--dev.gaslimit=60000000" {
		t.Errorf("extra flags not last: %q", got)
	}
	for _, f := range got {
		if strings.HasPrefix(f, "--ws") || strings.HasPrefix(f, "--authrpc") || strings.HasPrefix(f, "--metrics") || strings.HasPrefix(f, "--pprof") {
			t.Errorf("flag %s opens another listener", f)
		}
	}
}

func TestCheckAPIs(t *testing.T) {
	for _, tc := range []struct {
		apis []string
		ok   bool
	}{
		{defaultAPIs, true},
		{[]string{"eth"}, true},
		{[]string{"eth", "web3"}, true},
		{nil, false},
		{[]string{}, false},
		{[]string{""}, false},
		{[]string{"eth,debug"}, false},
		{[]string{"Eth"}, false},
		{[]string{"eth debug"}, false},
	} {
		if err := checkAPIs(tc.apis); (err == nil) != tc.ok {
			t.Errorf("checkAPIs(%q) = %v, want ok %v", tc.apis, err, tc.ok)
		}
	}
}

func TestBinaryOverride(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "geth")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VESTIGO_GETH", "")
	t.Setenv("VESTIGO_TOOLS", dir)
	if got := Binary(t); got != p {
		t.Fatalf("Binary with VESTIGO_TOOLS = %s, want %s", got, p)
	}
	other := filepath.Join(t.TempDir(), "my-geth")
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VESTIGO_GETH", other)
	if got := Binary(t); got != other {
		t.Fatalf("Binary with VESTIGO_GETH = %s, want %s", got, other)
	}
	t.Chdir(filepath.Dir(other))
	t.Setenv("VESTIGO_GETH", "my-geth")
	if got := Binary(t); got != other {
		t.Fatalf("Binary with a relative VESTIGO_GETH = %s, want %s", got, other)
	}
}

func TestBinaryPath(t *testing.T) {
	root, err := testproc.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VESTIGO_GETH", "")
	t.Setenv("VESTIGO_TOOLS", "")
	if p, err := binaryPath(); err != nil || p != filepath.Join(root, ".tools", "bin", "geth") {
		t.Fatalf("binaryPath = %s, %v", p, err)
	}
}

// fatalTB records Fatal and Fatalf instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

// fatalOf runs fn with a fatalTB and returns the message it failed with
// ("" if it returned).
func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.msg
}

func TestBinaryMissing(t *testing.T) {
	for _, tc := range []struct {
		name, geth, tools string
	}{
		{"VESTIGO_GETH names nothing", filepath.Join(t.TempDir(), "geth"), ""},
		{"VESTIGO_GETH names a directory", t.TempDir(), ""},
		{"VESTIGO_TOOLS without geth", "", t.TempDir()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VESTIGO_GETH", tc.geth)
			t.Setenv("VESTIGO_TOOLS", tc.tools)
			msg := fatalOf(t, func(tb testing.TB) { Start(tb) })
			if !strings.Contains(msg, "run scripts/tools.sh") {
				t.Fatalf("message %q does not say how to install geth", msg)
			}
		})
	}
}

func testBadArguments(t *testing.T, n *Node) {
	k, a := testKey(t, "unfunded")
	devNonce := nonce(t, n, n.Dev)
	for _, tc := range []struct {
		name string
		fn   func(tb testing.TB)
		want string
	}{
		{"Fund nil", func(tb testing.TB) { n.Fund(tb, a, nil) }, "value is nil"},
		{"Fund negative", func(tb testing.TB) { n.Fund(tb, a, big.NewInt(-1)) }, "negative"},
		{"SendSigned nil key", func(tb testing.TB) { n.SendSigned(tb, nil, &a, big.NewInt(1), nil) }, "key is nil"},
		{"SendSigned negative", func(tb testing.TB) { n.SendSigned(tb, k, &a, big.NewInt(-5), nil) }, "negative"},
		{"SendSigned unfunded", func(tb testing.TB) { n.SendSigned(tb, k, &a, big.NewInt(1), nil) }, "eth_estimateGas"},
		{"Deploy empty", func(tb testing.TB) { n.Deploy(tb, k, nil) }, "bytecode is empty"},
		{"Mine zero", func(tb testing.TB) { n.Mine(tb, 0) }, "at least one block"},
		{"WithAPIs none", func(tb testing.TB) { Start(tb, WithAPIs()) }, "at least one namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := fatalOf(t, tc.fn)
			if !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "gethtest: ") {
				t.Fatalf("failure %q, want a gethtest message containing %q", msg, tc.want)
			}
		})
	}
	if got := nonce(t, n, n.Dev); got != devNonce {
		t.Fatalf("rejected calls sent transactions: dev nonce %d, was %d", got, devNonce)
	}
	if got := nonce(t, n, crypto.PubkeyToAddress(k.PublicKey)); got != 0 {
		t.Fatalf("rejected calls sent transactions: nonce of the unfunded key %d, want 0", got)
	}
}

func nonce(t *testing.T, n *Node, a common.Address) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := n.Client().PendingNonceAt(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// recordingTB is a testing.TB that has failed: it keeps the cleanups and
// the log lines for the test to look at.
type recordingTB struct {
	testing.TB
	cleanups []func()
	logs     []string
}

func (r *recordingTB) Helper()                 {}
func (r *recordingTB) Failed() bool            { return true }
func (r *recordingTB) Cleanup(fn func())       { r.cleanups = append(r.cleanups, fn) }
func (r *recordingTB) Logf(f string, a ...any) { r.logs = append(r.logs, fmt.Sprintf(f, a...)) }
func (r *recordingTB) runCleanups() {
	for len(r.cleanups) > 0 {
		fn := r.cleanups[len(r.cleanups)-1]
		r.cleanups = r.cleanups[:len(r.cleanups)-1]
		fn()
	}
}

// When a test has failed, the cleanup stops the node and logs the end of
// its log.
func TestLogOnFailure(t *testing.T) {
	rec := &recordingTB{TB: t}
	t.Cleanup(rec.runCleanups) // if this test fails before running them
	n := Start(rec)
	pid := n.PID()
	rec.runCleanups()
	if !n.Exited() {
		t.Fatalf("node pid %d still running after the cleanup", pid)
	}
	all := strings.Join(rec.logs, "\n")
	if !strings.Contains(all, "gethtest: tail of "+n.LogFile) || !strings.Contains(all, "HTTP server started") {
		t.Fatalf("cleanup of a failed test logged:\n%s", all)
	}
}
