package btcdtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/testproc"
)

const (
	startTimeout = 10 * time.Second // until the RPC answers
	stopTimeout  = 10 * time.Second // after SIGTERM, before SIGKILL
	callTimeout  = 30 * time.Second // per helper call that takes a testing.TB
	logTail      = 4096             // bytes of the node log shown on failure
	maxResponse  = 256 << 20        // bytes read from one RPC response
)

// Node is a running btcd regtest node.
type Node struct {
	RPCURL     string // http://127.0.0.1:PORT/
	User, Pass string // RPC credentials
	DataDir    string // the node's temporary directory (config, data, logs)
	LogFile    string // the node's captured stdout and stderr
	MiningAddr string // regtest P2PKH address of MiningKey; every block pays it

	t    testing.TB
	proc *testproc.Process
	http *http.Client
	id   atomic.Uint64
}

// Option changes how Start runs the node.
type Option func(*config)

type config struct {
	args       []string
	user, pass string
	freePort   func() (int, error) // for tests of the bind-race retry
}

// WithArgs appends extra command-line flags for btcd, e.g.
// "--blockmaxsize=1000000".
func WithArgs(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// WithCredentials sets the RPC user and password instead of the default
// user "vestigo" and a random password.
func WithCredentials(user, pass string) Option {
	return func(c *config) { c.user, c.pass = user, pass }
}

// MiningKey returns the fixed private key whose regtest P2PKH address
// (MiningAddress) receives every block reward of every node. It is derived
// from a constant seed, so it is the same in every run; it guards nothing.
func MiningKey() *btcec.PrivateKey {
	seed := sha256.Sum256([]byte("vestigo btcdtest mining key"))
	k, _ := btcec.PrivKeyFromBytes(seed[:])
	return k
}

// MiningAddress returns the regtest P2PKH address of MiningKey's
// compressed public key.
func MiningAddress() string {
	pkh := btcutil.Hash160(MiningKey().PubKey().SerializeCompressed())
	a, err := btcutil.NewAddressPubKeyHash(pkh, &chaincfg.RegressionNetParams)
	if err != nil {
		panic("btcdtest: cannot encode mining address: " + err.Error()) // a 20-byte hash always encodes
	}
	return a.EncodeAddress()
}

// Start runs a fresh btcd regtest node for the duration of the test and
// waits until its RPC answers. The node is stopped when the test ends.
func Start(t testing.TB, opts ...Option) *Node {
	t.Helper()
	cfg := config{user: "vestigo", freePort: testproc.FreePort}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pass == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			t.Fatalf("btcdtest: random RPC password: %v", err)
		}
		cfg.pass = hex.EncodeToString(b[:])
	}
	bin := Binary(t, "btcd")
	dir := t.TempDir()
	confFile := filepath.Join(dir, "btcd.conf")
	if err := os.WriteFile(confFile, nil, 0o600); err != nil {
		t.Fatalf("btcdtest: write empty config: %v", err)
	}

	// A free port can be taken by someone else between our probe and
	// btcd's bind; btcd then exits with "Can't listen". Try twice.
	var lastErr error
	for attempt := 1; attempt <= 2; attempt++ {
		n, err := start(t, bin, dir, confFile, cfg, attempt)
		if err == nil {
			return n
		}
		lastErr = err
		if !errors.Is(err, errBindRace) {
			break
		}
	}
	t.Fatalf("%v", lastErr)
	return nil
}

var errBindRace = errors.New("RPC port already in use")

func start(t testing.TB, bin, dir, confFile string, cfg config, attempt int) (*Node, error) {
	port, err := cfg.freePort()
	if err != nil {
		return nil, fmt.Errorf("btcdtest: find a free port: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logFile := filepath.Join(dir, fmt.Sprintf("btcd-%d.log", attempt))
	n := &Node{
		RPCURL:     "http://" + addr + "/",
		User:       cfg.user,
		Pass:       cfg.pass,
		DataDir:    dir,
		LogFile:    logFile,
		MiningAddr: MiningAddress(),
		t:          t,
		http:       &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}},
	}
	args := []string{
		"--configfile=" + confFile,
		"--datadir=" + filepath.Join(dir, "data"),
		"--logdir=" + filepath.Join(dir, "logs"),
		"--regtest",
		"--nolisten",
		"--notls",
		"--rpclisten=" + addr,
		"--rpcuser=" + cfg.user,
		"--rpcpass=" + cfg.pass,
		"--txindex",
		"--addrindex",
		"--miningaddr=" + n.MiningAddr,
	}
	args = append(args, cfg.args...)
	if n.proc, err = testproc.Start(bin, args, dir, logFile); err != nil {
		return nil, fmt.Errorf("btcdtest: %w", err)
	}

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := n.Call(ctx, "getblockcount")
		cancel()
		if err == nil {
			t.Cleanup(func() {
				n.Stop()
				if t.Failed() {
					t.Logf("btcdtest: tail of %s:\n%s", n.LogFile, n.tail())
				}
			})
			return n, nil
		}
		select {
		case <-n.proc.Done():
			tail := n.tail()
			if strings.Contains(tail, "Can't listen on") {
				return nil, fmt.Errorf("btcdtest: btcd could not bind %s: %w\n%s", addr, errBindRace, tail)
			}
			return nil, fmt.Errorf("btcdtest: btcd exited during start-up (%v); tail of %s:\n%s", n.proc.Err(), logFile, tail)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.Stop()
			return nil, fmt.Errorf("btcdtest: btcd RPC at %s did not answer within %v (last error: %v); tail of %s:\n%s",
				n.RPCURL, startTimeout, err, logFile, n.tail())
		}
	}
}

// tail returns the last logTail bytes of the node's log.
func (n *Node) tail() string { return n.proc.Tail(logTail) }

// PID returns the process ID of the node.
func (n *Node) PID() int { return n.proc.PID() }

// Exited reports whether the node process has ended and been reaped.
func (n *Node) Exited() bool { return n.proc.Exited() }

// Stop ends the node: SIGTERM, then SIGKILL if it has not exited within
// 10 seconds. It waits for the process to be reaped. Calling Stop more
// than once is harmless.
func (n *Node) Stop() { n.proc.Stop(syscall.SIGTERM, stopTimeout, n.t.Logf) }

// RPCError is a JSON-RPC error object returned by the node.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("node error %d: %s", e.Code, e.Message) }

// Call sends one JSON-RPC 1.0 request and returns its result. A JSON-RPC
// error object is returned as *RPCError, wrapped with the method name.
func (n *Node) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	id := n.id.Add(1)
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, fmt.Errorf("btcdtest: %s: encode params: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.RPCURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("btcdtest: %s: %w", method, err)
	}
	req.SetBasicAuth(n.User, n.Pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("btcdtest: %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("btcdtest: %s: read response: %w", method, err)
	}
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *RPCError       `json:"error"`
		ID     uint64          `json:"id"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("btcdtest: %s: HTTP %d, response is not JSON-RPC: %q", method, resp.StatusCode, truncate(data, 200))
	}
	if r.Error != nil {
		return nil, fmt.Errorf("btcdtest: %s: %w", method, r.Error)
	}
	if r.ID != id {
		return nil, fmt.Errorf("btcdtest: %s: response id %d, want %d", method, r.ID, id)
	}
	return r.Result, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// call is Call for helpers that fail the test on error.
func (n *Node) call(t testing.TB, result any, method string, params ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	raw, err := n.Call(ctx, method, params...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			t.Fatalf("btcdtest: %s: unexpected result %s: %v", method, truncate(raw, 200), err)
		}
	}
}

// Generate mines blocks on top of the best chain (btcd's "generate") and
// returns their hashes in order.
func (n *Node) Generate(t testing.TB, blocks int) []chainhash.Hash {
	t.Helper()
	if blocks < 1 {
		t.Fatalf("btcdtest: Generate(%d): want at least one block", blocks)
	}
	var hexes []string
	n.call(t, &hexes, "generate", blocks)
	if len(hexes) != blocks {
		t.Fatalf("btcdtest: generate %d returned %d hashes", blocks, len(hexes))
	}
	return parseHashes(t, hexes)
}

func parseHashes(t testing.TB, hexes []string) []chainhash.Hash {
	t.Helper()
	out := make([]chainhash.Hash, len(hexes))
	for i, s := range hexes {
		h, err := parseHash(s)
		if err != nil {
			t.Fatalf("btcdtest: %v", err)
		}
		out[i] = h
	}
	return out
}

func parseHash(s string) (chainhash.Hash, error) {
	if len(s) != 2*chainhash.HashSize {
		return chainhash.Hash{}, fmt.Errorf("block hash %q is not 64 hex digits", s)
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("block hash %q: %w", s, err)
	}
	return *h, nil
}

// SubmitBlock offers a serialized block to the node ("submitblock"). A
// block the node rejects is an error carrying the node's reason.
func (n *Node) SubmitBlock(ctx context.Context, raw []byte) error {
	res, err := n.Call(ctx, "submitblock", hex.EncodeToString(raw))
	if err != nil {
		return err
	}
	if string(bytes.TrimSpace(res)) == "null" || len(res) == 0 {
		return nil
	}
	var reason string
	if err := json.Unmarshal(res, &reason); err != nil {
		return fmt.Errorf("btcdtest: submitblock: unexpected result %s", truncate(res, 200))
	}
	return fmt.Errorf("btcdtest: submitblock: node rejected the block: %s", strings.TrimPrefix(reason, "rejected: "))
}

// InvalidateBlock marks a block and its descendants invalid, so the node
// falls back to (or reorganizes onto) another branch.
func (n *Node) InvalidateBlock(t testing.TB, hash chainhash.Hash) {
	t.Helper()
	n.call(t, nil, "invalidateblock", hash.String())
}

// ReconsiderBlock undoes InvalidateBlock for a block and its descendants.
func (n *Node) ReconsiderBlock(t testing.TB, hash chainhash.Hash) {
	t.Helper()
	n.call(t, nil, "reconsiderblock", hash.String())
}

// BestBlock returns the hash and height of the node's best chain tip, read
// in one call so the two agree.
func (n *Node) BestBlock(t testing.TB) (chainhash.Hash, int64) {
	t.Helper()
	var r struct {
		Hash   string `json:"hash"`
		Height int64  `json:"height"`
	}
	n.call(t, &r, "getbestblock")
	h, err := parseHash(r.Hash)
	if err != nil {
		t.Fatalf("btcdtest: getbestblock: %v", err)
	}
	return h, r.Height
}

// Binary returns the path of an external tool installed by
// scripts/tools.sh: $VESTIGO_TOOLS/<name> if that variable is set, else
// <repository root>/.tools/bin/<name>. A missing tool fails the test.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := testproc.Tool(name)
	if err != nil {
		t.Fatalf("btcdtest: %v", err)
	}
	return p
}
