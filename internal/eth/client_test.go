package eth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// These tests put the client in front of a hostile or broken peer: an HTTP
// server that answers whatever a test wants. (Well-behaved answers come
// from the real geth in geth_test.go.)

// hostile answers each request's result with results[method] (JSON text),
// or with the raw body raw[method] when that is set.
func hostile(t *testing.T, results, raw map[string]string, opts ...eth.Option) *eth.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("server: %v", err)
		}
		if body, ok := raw[req.Method]; ok {
			fmt.Fprint(w, strings.ReplaceAll(body, "ID", string(req.ID)))
			return
		}
		res, ok := results[req.Method]
		if !ok {
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"the method %s does not exist/is not available"}}`, req.ID, req.Method)
			return
		}
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, req.ID, res)
	}))
	t.Cleanup(srv.Close)
	c, err := eth.Dial(testContext(t), srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func wantErr(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", what, parts)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "eth: ") || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("%s: not one eth: line: %q", what, msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s:\n got %s\nwant %q", what, msg, p)
		}
	}
}

func TestDialRejects(t *testing.T) {
	ctx := testContext(t)
	for u, want := range map[string]string{
		"":                         "no node URL",
		"127.0.0.1:8545":           "must start with http://",
		"ftp://127.0.0.1/":         "scheme must be",
		"http://":                  "has no host",
		"http://u:secret@[::1:80/": "not valid",
	} {
		_, err := eth.Dial(ctx, u)
		if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: %v", u, err)
		}
	}
	if _, err := eth.Dial(ctx, "http://127.0.0.1:1", eth.WithTimeout(-1)); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("negative timeout: %v", err)
	}
	if _, err := eth.Dial(ctx, "http://127.0.0.1:1", eth.WithMaxResponseBytes(0)); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("zero size limit: %v", err)
	}
}

func TestHostileAnswers(t *testing.T) {
	ctx := testContext(t)
	c := hostile(t, map[string]string{
		"eth_chainId":          `1337`,
		"eth_blockNumber":      `"0x1` + strings.Repeat("0", 16) + `"`,
		"eth_getBlockByNumber": `{"number":"0x5","hash":"0x12"}`,
		"eth_getBalance":       `"0x1` + strings.Repeat("0", 64) + `"`,
		"eth_call":             `"0x123"`,
	}, map[string]string{
		"eth_getBlockReceipts":      `{"jsonrpc":"2.0","id":ID,"error":{"code":-32000,"message":"internal\nerror"}}`,
		"eth_getTransactionReceipt": `not json`,
	})
	_, err := c.ChainID(ctx)
	wantErr(t, "chain id", err, "eth_chainId: result: not a hex quantity (a JSON number)")
	_, err = c.BlockNumber(ctx)
	wantErr(t, "block number", err, "is more than 2^64-1")
	_, err = c.BlockByNumber(ctx, 7)
	wantErr(t, "block", err, "eth: block 0x5: hash: not a 32-byte hash")
	_, err = c.Balance(ctx, eth.Address{1}, 1)
	wantErr(t, "balance", err, "more than 2^256-1")
	_, err = c.Call(ctx, eth.Address{1}, nil, 1)
	wantErr(t, "call", err, "odd number of hex digits")

	// A node error that is not "method missing" is an error, not a fallback.
	_, err = c.BlockReceipts(ctx, 1)
	var re *eth.RPCError
	if !errors.As(err, &re) || re.Code != -32000 {
		t.Fatalf("receipts: %v", err)
	}
	wantErr(t, "receipts", err, "eth_getBlockReceipts: node error -32000: internal error")
	if c.ReceiptsMethod() != eth.MethodBlockReceipts {
		t.Fatal("fell back on an internal error")
	}
}

func TestBlockOfAnotherNumber(t *testing.T) {
	b, err := json.Marshal(map[string]any{
		"number": "0x5", "hash": "0x" + strings.Repeat("1", 64), "parentHash": "0x" + strings.Repeat("2", 64),
		"timestamp": "0x1", "miner": "0x" + strings.Repeat("0", 40), "gasLimit": "0x1", "gasUsed": "0x0", "transactions": []any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := hostile(t, map[string]string{"eth_getBlockByNumber": string(b)}, nil)
	_, err = c.BlockByNumber(testContext(t), 7)
	wantErr(t, "other block", err, "eth: block 0x7: number: the node answered with block 0x5")
}

func TestResponseTooLarge(t *testing.T) {
	big := `"0x` + strings.Repeat("ab", 1000) + `"`
	c := hostile(t, map[string]string{"eth_call": big}, nil, eth.WithMaxResponseBytes(1000))
	_, err := c.Call(testContext(t), eth.Address{1}, nil, 1)
	wantErr(t, "large", err, "larger than the limit of 1000 bytes")
}

func TestHTTPErrorsAndGarbage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/502":
			http.Error(w, "bad\ngateway", http.StatusBadGateway)
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			fmt.Fprint(w, "<html>not json</html>")
		}
	}))
	defer srv.Close()
	ctx := testContext(t)
	for path, want := range map[string]string{
		"/502":      "answered HTTP 502",
		"/redirect": "answered HTTP 302",
		"/garbage":  "not JSON-RPC",
	} {
		c, err := eth.Dial(ctx, srv.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ChainID(ctx)
		wantErr(t, path, err, "eth_chainId", want)
		c.Close()
	}
	// Nobody listening.
	c, err := eth.Dial(ctx, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ChainID(ctx)
	wantErr(t, "refused", err, "eth_chainId: node at http://127.0.0.1:1", "refused")
}

func TestTraceErrors(t *testing.T) {
	ctx := testContext(t)
	// Pruned state is an error of a node that does trace.
	c := hostile(t, nil, map[string]string{
		"debug_traceBlockByNumber": `{"jsonrpc":"2.0","id":ID,"error":{"code":-32000,"message":"historical state is not available"}}`,
	})
	_, supported, err := c.TraceBlock(ctx, 5)
	if !supported {
		t.Fatal("pruned state taken for a missing method")
	}
	wantErr(t, "pruned", err, "historical state is not available")

	// A method refused in other words than -32601 is missing too.
	c = hostile(t, nil, map[string]string{
		"debug_traceBlockByNumber": `{"jsonrpc":"2.0","id":ID,"error":{"code":-32600,"message":"Unsupported method: debug_traceBlockByNumber"}}`,
	})
	tr, supported, err := c.TraceBlock(ctx, 5)
	if supported || err != nil || tr != nil {
		t.Fatalf("%v %v %v", tr, supported, err)
	}
}
