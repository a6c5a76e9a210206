package gethtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
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

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has been reaped
	waitErr  error         // set before exited is closed
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
	cfg := config{apis: defaultAPIs, freePort: freePort}
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
		exited:  make(chan struct{}),
		logf:    t.Logf,
	}
	out, err := os.Create(n.LogFile)
	if err != nil {
		return nil, fmt.Errorf("gethtest: create log file: %w", err)
	}
	defer out.Close() // the child has its own descriptor

	n.cmd = exec.Command(bin, args(n.DataDir, port, cfg)...)
	n.cmd.Dir = dir
	n.cmd.Stdout = out
	n.cmd.Stderr = out
	n.cmd.SysProcAttr = sysProcAttr()
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("gethtest: start %s: %w", bin, err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()

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
		case <-n.exited:
			tail := n.tail()
			n.Stop() // closes the client
			if strings.Contains(tail, "address already in use") {
				return nil, fmt.Errorf("gethtest: geth could not bind %s: %w\n%s", addr, errBindRace, tail)
			}
			return nil, fmt.Errorf("gethtest: geth exited during start-up (%v); tail of %s:\n%s", n.waitErr, n.LogFile, tail)
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

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// Client returns an ethclient on the node's RPC connection. It is closed
// when the node stops.
func (n *Node) Client() *ethclient.Client { return n.eth }

// RPC returns the node's raw JSON-RPC client, for calls ethclient lacks
// (debug_traceTransaction, eth_sendTransaction, …). It is closed when the
// node stops.
func (n *Node) RPC() *rpc.Client { return n.rpc }

// PID returns the process id of the node.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// Exited reports whether the node process has ended and been reaped.
func (n *Node) Exited() bool {
	select {
	case <-n.exited:
		return true
	default:
		return false
	}
}

// Stop ends the node: SIGINT (geth shuts down cleanly), then SIGKILL if it
// has not exited within ten seconds; it waits until the process is reaped
// and closes the RPC client. Calling Stop more than once is harmless.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		if n.rpc != nil {
			defer n.rpc.Close()
		}
		if n.Exited() {
			return
		}
		if err := n.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
			n.logf("gethtest: SIGINT to geth pid %d: %v", n.PID(), err)
		}
		select {
		case <-n.exited:
			return
		case <-time.After(stopTimeout):
		}
		n.logf("gethtest: geth pid %d ignored SIGINT for %v; killing it", n.PID(), stopTimeout)
		if err := n.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			n.logf("gethtest: SIGKILL to geth pid %d: %v", n.PID(), err)
		}
		<-n.exited
	})
}

// tail returns the last logTail bytes of the node's log.
func (n *Node) tail() string {
	f, err := os.Open(n.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > logTail {
		if _, err := f.Seek(-logTail, io.SeekEnd); err != nil {
			return fmt.Sprintf("(cannot read log: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	return string(b)
}

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
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("gethtest: geth is not installed at %s: %s (make tools)", p, missingHint)
	}
	return p
}

func binaryPath() (string, error) {
	if p := os.Getenv("VESTIGO_GETH"); p != "" {
		return p, nil
	}
	if d := os.Getenv("VESTIGO_TOOLS"); d != "" {
		return filepath.Join(d, "geth"), nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".tools", "bin", "geth"), nil
}

// moduleRoot walks up from the working directory to the first directory
// holding go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for dir := wd; ; {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && st.Mode().IsRegular() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no directory above %s holds go.mod; set VESTIGO_GETH to the geth binary (%s)", wd, missingHint)
		}
		dir = parent
	}
}
