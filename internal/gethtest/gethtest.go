package gethtest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/vestigo-forensics/vestigo/internal/testproc"
)

const (
	startTimeout = 30 * time.Second       // until the RPC answers
	pollEvery    = 20 * time.Millisecond  // start-up and receipt polling
	stopTimeout  = 10 * time.Second       // after SIGINT, before SIGKILL
	callTimeout  = 30 * time.Second       // per RPC call of a helper
	logTail      = 8192                   // bytes of the node log shown on failure
	bindAttempts = 3                      // ports tried when one is taken under our feet
	missingHint  = "run scripts/tools.sh" // how to install geth
)

// defaultAPIs are the JSON-RPC namespaces a node serves over HTTP unless
// WithAPIs says otherwise.
var defaultAPIs = []string{"eth", "net", "web3", "debug", "txpool"}

// Node is a running geth --dev node.
type Node struct {
	URL     string         // http://127.0.0.1:PORT (HTTP JSON-RPC)
	ChainID *big.Int       // from eth_chainId (1337 for --dev)
	Dev     common.Address // the funded, unlocked developer account
	DataDir string         // the node's --datadir, inside the test's temporary directory
	LogFile string         // the node's captured stdout and stderr

	proc     *testproc.Process
	stopOnce sync.Once
	rpc      *rpc.Client
	eth      *ethclient.Client
	logf     func(format string, args ...any) // the starting test's Logf
}

// Option changes how Start runs the node.
type Option func(*config)

type config struct {
	apis     []string
	args     []string
	freePort func() (int, error) // replaced by the test of the bind retry
}

// WithAPIs replaces the JSON-RPC namespaces served over HTTP (by default
// eth, net, web3, debug and txpool),
// e.g. WithAPIs("eth", "net", "web3") for a node without debug_*.
func WithAPIs(apis ...string) Option {
	return func(c *config) { c.apis = append([]string(nil), apis...) }
}

// WithArgs appends extra command-line flags for geth, e.g.
// "--dev.gaslimit=60000000". They must not repeat the harness's own flags.
func WithArgs(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// Start runs a fresh geth --dev node for the duration of the test and waits
// until its RPC answers. The node is stopped when the test ends; if the
// test failed, the end of the node's log is logged.
func Start(t testing.TB, opts ...Option) *Node {
	t.Helper()
	cfg := config{apis: defaultAPIs, freePort: testproc.FreePort}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkAPIs(cfg.apis); err != nil {
		t.Fatalf("gethtest: %v", err)
	}
	bin := Binary(t)
	dir := t.TempDir()

	// A free port can be taken by someone else between our probe and
	// geth's bind; geth then exits with "address already in use".
	var lastErr error
	for attempt := 1; attempt <= bindAttempts; attempt++ {
		n, err := start(t, bin, dir, cfg, attempt)
		if err == nil {
			t.Cleanup(func() {
				n.Stop()
				if t.Failed() {
					t.Logf("gethtest: tail of %s:\n%s", n.LogFile, n.tail())
				}
			})
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

var errBindRace = errors.New("HTTP port already in use")

func checkAPIs(apis []string) error {
	if len(apis) == 0 {
		return errors.New("no JSON-RPC API to serve: WithAPIs needs at least one namespace")
	}
	for _, a := range apis {
		if a == "" || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return fmt.Errorf("JSON-RPC API %q is not a namespace name (lower-case letters and digits)", a)
		}
	}
	return nil
}

// args returns geth's command line for a node with its data in dataDir and
// HTTP JSON-RPC on 127.0.0.1:port.
func args(dataDir string, port int, cfg config) []string {
	a := []string{
		"--dev",
		"--datadir", dataDir,
		"--http",
		"--http.addr", "127.0.0.1",
		"--http.port", strconv.Itoa(port),
		"--http.api", strings.Join(cfg.apis, ","),
		"--ipcdisable",
		"--nodiscover",
		"--maxpeers", "0",
		"--port", "0",
		"--nat", "none",
		"--gcmode", "archive",
		"--state.scheme", "hash",
		"--cache", "256",
	}
	return append(a, cfg.args...)
}

func start(t testing.TB, bin, dir string, cfg config, attempt int) (*Node, error) {
	port, err := cfg.freePort()
	if err != nil {
		return nil, fmt.Errorf("gethtest: find a free port: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	n := &Node{
		URL:     "http://" + addr,
		DataDir: filepath.Join(dir, fmt.Sprintf("data-%d", attempt)),
		LogFile: filepath.Join(dir, fmt.Sprintf("geth-%d.log", attempt)),
		logf:    t.Logf,
	}
	if n.proc, err = testproc.Start(bin, args(n.DataDir, port, cfg), dir, n.LogFile); err != nil {
		return nil, fmt.Errorf("gethtest: %w", err)
	}

	// No proxy, whatever the environment says: the node is on loopback.
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
	n.rpc, err = rpc.DialOptions(context.Background(), n.URL, rpc.WithHTTPClient(hc))
	if err != nil {
		n.Stop()
		return nil, fmt.Errorf("gethtest: RPC client for %s: %w", n.URL, err)
	}
	n.eth = ethclient.NewClient(n.rpc)

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var id hexutil.Big
		err = n.rpc.CallContext(ctx, &id, "eth_chainId")
		cancel()
		if err == nil {
			n.ChainID = id.ToInt()
			break
		}
		select {
		case <-n.proc.Done():
			tail := n.tail()
			n.Stop() // closes the client
			if strings.Contains(tail, "address already in use") {
				return nil, fmt.Errorf("gethtest: geth could not bind %s: %w\n%s", addr, errBindRace, tail)
			}
			return nil, fmt.Errorf("gethtest: geth exited during start-up (%v); tail of %s:\n%s", n.proc.Err(), n.LogFile, tail)
		case <-time.After(pollEvery):
		}
		if time.Now().After(deadline) {
			n.Stop()
			return nil, fmt.Errorf("gethtest: geth RPC at %s did not answer within %v (last error: %v); tail of %s:\n%s",
				n.URL, startTimeout, err, n.LogFile, n.tail())
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var accounts []common.Address
	if err := n.rpc.CallContext(ctx, &accounts, "eth_accounts"); err != nil {
		n.Stop()
		return nil, fmt.Errorf("gethtest: eth_accounts: %w", err)
	}
	if len(accounts) == 0 {
		n.Stop()
		return nil, fmt.Errorf("gethtest: eth_accounts is empty: the --dev node has no developer account; tail of %s:\n%s", n.LogFile, n.tail())
	}
	n.Dev = accounts[0]
	return n, nil
}

// Client returns an ethclient on the node's RPC connection. It is closed
// when the node stops.
func (n *Node) Client() *ethclient.Client { return n.eth }

// RPC returns the node's raw JSON-RPC client, for calls ethclient lacks
// (debug_traceTransaction, eth_sendTransaction, …). It is closed when the
// node stops.
func (n *Node) RPC() *rpc.Client { return n.rpc }

// PID returns the process id of the node.
func (n *Node) PID() int { return n.proc.PID() }

// Exited reports whether the node process has ended and been reaped.
func (n *Node) Exited() bool { return n.proc.Exited() }

// Stop ends the node: SIGINT (geth shuts down cleanly), then SIGKILL if it
// has not exited within ten seconds; it waits until the process is reaped
// and closes the RPC client. Calling Stop more than once is harmless.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		if n.rpc != nil {
			defer n.rpc.Close()
		}
		n.proc.Stop(syscall.SIGINT, stopTimeout, n.logf)
	})
}

// tail returns the last logTail bytes of the node's log.
func (n *Node) tail() string { return n.proc.Tail(logTail) }

// Binary returns the path of the geth executable: $VESTIGO_GETH if set,
// else geth in $VESTIGO_TOOLS if that is set, else .tools/bin/geth under
// the module root. A missing or non-executable geth fails the test and
// says to run scripts/tools.sh.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := binaryPath()
	if err != nil {
		t.Fatalf("gethtest: %v", err)
	}
	// The node runs in its temporary directory: a relative path would
	// resolve there.
	if p, err = filepath.Abs(p); err != nil {
		t.Fatalf("gethtest: geth path: %v", err)
	}
	if err := testproc.Executable(p); err != nil {
		t.Fatalf("gethtest: geth is not installed at %s: %s (make tools)", p, missingHint)
	}
	return p
}

func binaryPath() (string, error) {
	if p := os.Getenv("VESTIGO_GETH"); p != "" {
		return p, nil
	}
	return testproc.Tool("geth")
}
