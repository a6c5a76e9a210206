package btcrpc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/btcrpc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// These tests put the client in front of a hostile or broken peer: an HTTP
// server that answers with whatever a test wants, valid or not.

type rpcReq struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params []any           `json:"params"`
}

// hostile starts a server that answers every request with h.
func hostile(t *testing.T, h http.HandlerFunc, cfg btcrpc.Config) *btcrpc.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL
	return newClient(t, cfg)
}

// readReq decodes a single request.
func readReq(t *testing.T, r *http.Request) rpcReq {
	var req rpcReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		t.Errorf("server: request does not decode: %v", err)
	}
	return req
}

// answer replies to a single request with a result given as JSON text.
func answer(t *testing.T, result string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := readReq(t, r)
		fmt.Fprintf(w, `{"result":%s,"error":null,"id":%s}`, result, req.ID)
	}
}

// reply answers a single request with a raw body and status.
func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func genesis(t *testing.T) (chainhash.Hash, string) {
	t.Helper()
	p, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Net.GenesisBlock.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return p.GenesisHash(), hex.EncodeToString(buf.Bytes())
}

func TestHostileSingle(t *testing.T) {
	gHash, gHex := genesis(t)
	other := chainhash.DoubleHashH([]byte("another block"))
	blockCount := func(c *btcrpc.Client) error { _, err := c.BlockCount(testContext(t)); return err }
	blockHash := func(c *btcrpc.Client) error { _, err := c.BlockHash(testContext(t), 5); return err }
	rawBlock := func(h chainhash.Hash) func(c *btcrpc.Client) error {
		return func(c *btcrpc.Client) error { _, err := c.RawBlock(testContext(t), h); return err }
	}
	nodeInfo := func(c *btcrpc.Client) error { _, err := c.NodeInfo(testContext(t)); return err }
	network := func(c *btcrpc.Client) error { _, err := c.Network(testContext(t)); return err }

	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(*btcrpc.Client) error
		want    string // substring of the error; "" = success
	}{
		{"control: good count", answer(t, "7"), blockCount, ""},
		{"control: good block", answer(t, `"`+gHex+`"`), rawBlock(gHash), ""},
		{"garbage body", reply(200, "text/plain", "hello, world"), blockCount,
			"btcrpc: getblockcount: node at URL sent a response that is not valid JSON (invalid character 'h' looking for beginning of value): \"hello, world\""},
		{"HTML error page", reply(502, "text/html", "<html><body><h1>502 Bad Gateway</h1>\n</body></html>"), blockCount,
			`btcrpc: getblockcount: node at URL answered HTTP 502 Bad Gateway with a body that is not JSON-RPC: "<html><body><h1>502 Bad Gateway</h1>\n</body></html>"`},
		{"truncated JSON", reply(200, "application/json", `{"result":12,"error":null,`), blockCount,
			"not valid JSON (unexpected end of JSON input)"},
		{"empty body", reply(200, "application/json", ""), blockCount,
			"btcrpc: getblockcount: node at URL sent an empty response (HTTP 200)"},
		{"JSON but not an object", reply(200, "application/json", `[1,2,3]`), blockCount,
			"sent a response that is not a JSON-RPC object: \"[1,2,3]\""},
		{"no result member", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"error":null,"id":%s}`, readReq(t, r).ID)
		}, blockCount, "btcrpc: getblockcount: node at URL sent a response without a result"},
		{"count is a string", answer(t, `"abc"`), blockCount,
			`btcrpc: getblockcount: node at URL sent a result of the wrong type: want a block height, got "\"abc\""`},
		{"count is fractional", answer(t, `1.5`), blockCount, "wrong type: want a block height"},
		{"count is negative", answer(t, `-3`), blockCount, "wrong type: want a block height"},
		{"count is null", answer(t, `null`), blockCount, "wrong type: want a block height"},
		{"count overflows", answer(t, `123456789012345678901234567890`), blockCount, "wrong type: want a block height"},
		{"hash is a number", answer(t, `42`), blockHash, "btcrpc: getblockhash 5: node at URL sent a result of the wrong type: want a block hash string, got \"42\""},
		{"hash is null", answer(t, `null`), blockHash, "want a block hash string"},
		{"hash too short", answer(t, `"`+strings.Repeat("a", 63)+`"`), blockHash, "sent a block hash of 63 characters, not 64"},
		{"hash not hex", answer(t, `"`+strings.Repeat("g", 64)+`"`), blockHash, "sent a block hash that is not hex"},
		{"RPC error", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"result":null,"error":{"code":-28,"message":"Loading block index..."},"id":%s}`, readReq(t, r).ID)
		}, blockCount, "btcrpc: getblockcount: node error -28: Loading block index..."},
		{"RPC error with HTTP 500 (Core)", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			fmt.Fprintf(w, `{"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":%s}`, readReq(t, r).ID)
		}, blockHash, "btcrpc: getblockhash 5: not found: node error -8: Block height out of range"},
		{"RPC error message with control characters", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"result":null,"error":{"code":-1,"message":"line1\nline2\r\u001b[31mred"},"id":%s}`, readReq(t, r).ID)
		}, blockCount, "node error -1: line1 line2  [31mred"},
		{"malformed error member", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"result":null,"error":[1],"id":%s}`, readReq(t, r).ID)
		}, blockCount, "sent a malformed error member: \"[1]\""},
		{"foreign id", reply(200, "application/json", `{"result":7,"error":null,"id":999999}`), blockCount,
			"answered with id \"999999\" to request id"},
		{"string id", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"result":7,"error":null,"id":"%s"}`, readReq(t, r).ID)
		}, blockCount, "answered with id"},
		{"HTTP 500 without error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			fmt.Fprintf(w, `{"result":7,"error":null,"id":%s}`, readReq(t, r).ID)
		}, blockCount, "answered HTTP 500 Internal Server Error without an error"},
		{"HTTP 401", reply(401, "text/plain", "no"), blockCount, "btcrpc: node at URL rejected the credentials (HTTP 401)"},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		}, blockCount, "btcrpc: getblockcount: node at URL answered HTTP 302 Found with an empty body"},
		{"deeply nested JSON", reply(200, "application/json", strings.Repeat("[", 200000)), blockCount, "not valid JSON"},
		{"block hex invalid", answer(t, `"`+strings.Repeat("zz", 100)+`"`), rawBlock(gHash),
			"sent a block that is not valid hex: encoding/hex: invalid byte: U+007A 'z'"},
		{"block hex odd length", answer(t, `"`+gHex+`0"`), rawBlock(gHash), "sent block hex of odd length"},
		{"block hex with JSON escapes", answer(t, `"\u0030\u0031`+gHex[2:]+`"`), rawBlock(gHash), "not valid hex"},
		{"block is a number", answer(t, `12`), rawBlock(gHash), "wrong type: want a hex string, got \"12\""},
		{"block is null", answer(t, `null`), rawBlock(gHash), "wrong type: want a hex string"},
		{"block too short", answer(t, `"`+gHex[:160]+`"`), rawBlock(gHash), "sent a block of 80 bytes, too short to be a block"},
		{"block is another block", answer(t, `"`+gHex+`"`), rawBlock(other),
			"btcrpc: getblock " + other.String() + ": node at URL sent a block whose header hashes to " + gHash.String() + ", not to the requested hash"},
		{"unknown genesis", answer(t, `"`+other.String()+`"`), network,
			"btcrpc: node at URL has genesis block " + other.String() + ", which is none of the known Bitcoin networks (mainnet, testnet, testnet4, signet, regtest)"},
		{"getnetworkinfo of the wrong type", answer(t, `"x"`), nodeInfo, "getnetworkinfo: node at URL sent a result of the wrong type"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newClient(t, btcrpc.Config{URL: srv.URL, User: "u", Pass: "secret-pass"})
			err := tt.call(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			want := strings.ReplaceAll(tt.want, "node at URL", "node at "+srv.URL)
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error\n  %q\nwant it to contain\n  %q", err, want)
			}
			checkOneLine(t, err)
		})
	}
}

// checkOneLine checks that an error is a single line without secrets.
func checkOneLine(t *testing.T, err error) {
	t.Helper()
	s := err.Error()
	if !strings.HasPrefix(s, "btcrpc: ") {
		t.Errorf("error %q lacks the btcrpc: prefix", s)
	}
	if strings.ContainsAny(s, "\n\r\x1b") {
		t.Errorf("error %q is not one clean line", s)
	}
	if strings.Contains(s, "secret-pass") {
		t.Errorf("error %q contains the password", s)
	}
	if len(s) > 600 {
		t.Errorf("error is %d bytes long", len(s))
	}
}

// endless streams a block-hex result that never ends, counting what it
// managed to write, until the client goes away.
func endless(written *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		chunk := bytes.Repeat([]byte("00"), 32<<10)
		n, _ := io.WriteString(w, `{"error":null,"id":1,"result":"`)
		written.Add(int64(n))
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
}

func TestHostileHugeBody(t *testing.T) {
	const limit = 1 << 20
	gHash, _ := genesis(t)
	var written atomic.Int64
	c := hostile(t, endless(&written), btcrpc.Config{MaxResponseBytes: limit})
	_, err := c.RawBlock(testContext(t), gHash)
	want := fmt.Sprintf("is larger than the limit of %d bytes (MaxResponseBytes)", limit)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	checkOneLine(t, err)
	// The client stopped reading near the limit; what the server could
	// still write is bounded by the kernel's socket buffers, not endless.
	if w := written.Load(); w > 64*limit {
		t.Errorf("server wrote %d bytes before the client hung up", w)
	}
}

func TestHostileDeclaredHugeBody(t *testing.T) {
	c := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000000000")
		w.WriteHeader(200)
		io.WriteString(w, `{"result":1}`)
	}, btcrpc.Config{MaxResponseBytes: 1 << 20})
	_, err := c.BlockCount(testContext(t))
	if err == nil || !strings.Contains(err.Error(), "is larger than the limit of 1048576 bytes") {
		t.Fatalf("error %v, want the size limit", err)
	}
}

// A small compressed body that inflates beyond the limit is stopped too.
func TestHostileGzipBomb(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	io.WriteString(zw, `{"error":null,"id":1,"result":"`)
	zeros := make([]byte, 1<<20)
	for range 16 {
		zw.Write(zeros)
	}
	zw.Close()
	c := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb.Bytes())
	}, btcrpc.Config{MaxResponseBytes: 1 << 20})
	_, err := c.BlockCount(testContext(t))
	if err == nil || !strings.Contains(err.Error(), "is larger than the limit") {
		t.Fatalf("error %v, want the size limit (compressed size %d)", err, bomb.Len())
	}
}

func TestHostileSlow(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		// Each handler reads the request first: only then does the server
		// watch the connection and cancel r.Context() when the client leaves.
		{"never answers", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}},
		{"endless trickle", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, `{"result":"`)
			for {
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
				if _, err := io.WriteString(w, "00"); err != nil {
					return
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hostile(t, tt.handler, btcrpc.Config{Timeout: timeout})
			start := time.Now()
			_, err := c.BlockCount(testContext(t))
			elapsed := time.Since(start)
			want := "did not answer within 300ms"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not unwrap to context.DeadlineExceeded", err)
			}
			if elapsed > 10*timeout {
				t.Errorf("took %v with a timeout of %v", elapsed, timeout)
			}
			checkOneLine(t, err)
		})
	}
}

func TestCallerCancels(t *testing.T) {
	started := make(chan struct{})
	c := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		close(started)
		<-r.Context().Done()
	}, btcrpc.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := c.BlockCount(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// batchHandler answers a batch with what edit makes of the correct answers.
func batchHandler(t *testing.T, result func(req rpcReq) string, edit func(resps []string, reqs []rpcReq) []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var reqs []rpcReq
		if err := json.NewDecoder(r.Body).Decode(&reqs); err != nil {
			t.Errorf("server: batch does not decode: %v", err)
			return
		}
		resps := make([]string, len(reqs))
		for i, q := range reqs {
			resps[i] = fmt.Sprintf(`{"result":%s,"error":null,"id":%s}`, result(q), q.ID)
		}
		if edit != nil {
			resps = edit(resps, reqs)
		}
		io.WriteString(w, "["+strings.Join(resps, ",")+"]")
	}
}

// hashFor is a made-up hash for a height.
func hashFor(height any) string {
	return chainhash.DoubleHashH([]byte(fmt.Sprint(height))).String()
}

func TestHostileBatch(t *testing.T) {
	gHash, gHex := genesis(t)
	heightHash := func(q rpcReq) string { return `"` + hashFor(q.Params[0]) + `"` }
	hashes := func(c *btcrpc.Client) error {
		got, err := c.BlockHashes(testContext(t), 10, 14)
		if err == nil {
			for i, h := range got {
				if h.String() != hashFor(10+i) {
					return fmt.Errorf("height %d: got %s", 10+i, h)
				}
			}
		}
		return err
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(*btcrpc.Client) error
		want    string
	}{
		{"control: in order", batchHandler(t, heightHash, nil), hashes, ""},
		{"control: reversed order", batchHandler(t, heightHash, func(r []string, _ []rpcReq) []string {
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return r
		}), hashes, ""},
		{"missing id", batchHandler(t, heightHash, func(r []string, _ []rpcReq) []string {
			return append(r[:2], r[3:]...)
		}), hashes, "btcrpc: getblockhash batch: node at URL sent no answer for id"},
		{"duplicated id", batchHandler(t, heightHash, func(r []string, _ []rpcReq) []string {
			r[3] = r[1]
			return r
		}), hashes, "answered id"},
		{"foreign id", batchHandler(t, heightHash, func(r []string, q []rpcReq) []string {
			r[0] = strings.Replace(r[0], `"id":`+string(q[0].ID), `"id":424242`, 1)
			return r
		}), hashes, `answered with id "424242", which was not in the batch`},
		{"null id", batchHandler(t, heightHash, func(r []string, q []rpcReq) []string {
			r[0] = strings.Replace(r[0], `"id":`+string(q[0].ID), `"id":null`, 1)
			return r
		}), hashes, `answered with id "null", which was not in the batch`},
		{"extra answer", batchHandler(t, heightHash, func(r []string, _ []rpcReq) []string {
			return append(r, r[0])
		}), hashes, "answered id"},
		{"one element fails", batchHandler(t, heightHash, func(r []string, q []rpcReq) []string {
			r[4] = fmt.Sprintf(`{"result":null,"error":{"code":-1,"message":"Block number out of range"},"id":%s}`, q[4].ID)
			return r
		}), hashes, "btcrpc: getblockhash 14: not found: node error -1: Block number out of range"},
		{"one element of the wrong type", batchHandler(t, heightHash, func(r []string, q []rpcReq) []string {
			r[2] = fmt.Sprintf(`{"result":12,"error":null,"id":%s}`, q[2].ID)
			return r
		}), hashes, "btcrpc: getblockhash 12: node at URL sent a result of the wrong type"},
		{"object instead of array", reply(200, "application/json", `{"result":null,"error":null,"id":1}`), hashes,
			"answered a batch request with a single object, not an array"},
		{"whole batch refused", reply(200, "application/json", `{"result":null,"error":{"code":-32700,"message":"Parse error"},"id":null}`), hashes,
			"btcrpc: getblockhash batch: node error -32700: Parse error"},
		{"not JSON", reply(200, "text/plain", "nope"), hashes, "btcrpc: getblockhash batch: node at URL sent a response that is not valid JSON"},
		{"control: raw blocks", batchHandler(t, func(rpcReq) string { return `"` + gHex + `"` }, nil), func(c *btcrpc.Client) error {
			got, err := c.RawBlocks(testContext(t), []chainhash.Hash{gHash, gHash})
			if err == nil && (len(got) != 2 || hex.EncodeToString(got[1]) != gHex) {
				return fmt.Errorf("got %d blocks", len(got))
			}
			return err
		}, ""},
		{"raw blocks: one is another block", batchHandler(t, func(rpcReq) string { return `"` + gHex + `"` }, nil), func(c *btcrpc.Client) error {
			_, err := c.RawBlocks(testContext(t), []chainhash.Hash{gHash, {1}})
			return err
		}, "btcrpc: getblock 0000000000000000000000000000000000000000000000000000000000000001: node at URL sent a block whose header hashes to " + gHash.String()},
		{"raw blocks: invalid hex", batchHandler(t, func(rpcReq) string { return `"xyz0"` }, nil), func(c *btcrpc.Client) error {
			_, err := c.RawBlocks(testContext(t), []chainhash.Hash{gHash})
			return err
		}, "sent a block that is not valid hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newClient(t, btcrpc.Config{URL: srv.URL, User: "u", Pass: "secret-pass"})
			err := tt.call(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			want := strings.ReplaceAll(tt.want, "node at URL", "node at "+srv.URL)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %q", err, want)
			}
			checkOneLine(t, err)
		})
	}
}

func TestBatchLimits(t *testing.T) {
	var requests atomic.Int64
	c := hostile(t, func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }, btcrpc.Config{})
	ctx := testContext(t)
	cases := []struct {
		name string
		call func() error
	}{
		{"range too long", func() error { _, err := c.BlockHashes(ctx, 0, btcrpc.MaxBatch); return err }},
		{"range reversed", func() error { _, err := c.BlockHashes(ctx, 5, 4); return err }},
		{"negative height", func() error { _, err := c.BlockHash(ctx, -1); return err }},
		{"height beyond int32", func() error { _, err := c.BlockHash(ctx, 1<<32); return err }},
		{"too many blocks", func() error {
			_, err := c.RawBlocks(ctx, make([]chainhash.Hash, btcrpc.MaxBatch+1))
			return err
		}},
	}
	for _, tt := range cases {
		err := tt.call()
		if !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%s: %v, want chain.ErrInvalid", tt.name, err)
		} else {
			checkOneLine(t, err)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the server for rejected arguments", n)
	}
}

// Core's getnetworkinfo answer (format as documented by Bitcoin Core).
func TestNodeInfoCore(t *testing.T) {
	c := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		req := readReq(t, r)
		if req.Method != "getnetworkinfo" {
			fmt.Fprintf(w, `{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":%s}`, req.ID)
			return
		}
		fmt.Fprintf(w, `{"result":{"version":270100,"subversion":"/Satoshi:27.1.0/","protocolversion":70016,"localservices":"0000000000000c09","connections":8},"error":null,"id":%s}`, req.ID)
	}, btcrpc.Config{})
	info, err := c.NodeInfo(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	want := btcrpc.NodeInfo{Kind: btcrpc.KindBitcoind, Version: "27.1.0", VersionNumber: 270100, UserAgent: "/Satoshi:27.1.0/", ProtocolVersion: 70016}
	if info != want {
		t.Fatalf("NodeInfo = %+v, want %+v", info, want)
	}
}

// A node that implements neither getnetworkinfo nor version is unknown.
func TestNodeInfoUnknown(t *testing.T) {
	c := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":%s}`, readReq(t, r).ID)
	}, btcrpc.Config{})
	info, err := c.NodeInfo(testContext(t))
	if err != nil || info != (btcrpc.NodeInfo{Kind: btcrpc.KindUnknown}) {
		t.Fatalf("NodeInfo = %+v, %v; want kind unknown", info, err)
	}
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "__cookie__:abc\n")
	tests := []struct {
		name string
		cfg  btcrpc.Config
		want string
	}{
		{"no URL", btcrpc.Config{}, "no node URL given"},
		{"bad scheme", btcrpc.Config{URL: "ftp://u:secret-pass@127.0.0.1:8332"}, "node URL ftp://127.0.0.1:8332: scheme must be http or https"},
		{"no scheme", btcrpc.Config{URL: "127.0.0.1:8332"}, "node URL must start with http:// or https://"},
		{"no host", btcrpc.Config{URL: "http:///path"}, "has no host"},
		{"query", btcrpc.Config{URL: "http://127.0.0.1:8332/?wallet=x"}, "must not have a query or fragment"},
		{"unparsable", btcrpc.Config{URL: "http://u:secret-pass@[::1"}, "node URL is not valid"},
		{"credentials twice", btcrpc.Config{URL: "http://a:secret-pass@127.0.0.1:8332", User: "b", Pass: "c"}, "credentials given both in the node URL and as user/password"},
		{"cookie and password", btcrpc.Config{URL: "http://127.0.0.1:8332", User: "u", Pass: "secret-pass", CookieFile: good}, "give either a user and password or a cookie file, not both"},
		{"negative timeout", btcrpc.Config{URL: "http://127.0.0.1:8332", Timeout: -time.Second}, "timeout -1s is negative"},
		{"negative size", btcrpc.Config{URL: "http://127.0.0.1:8332", MaxResponseBytes: -1}, "maximum response size -1 is negative"},
		{"missing cookie", btcrpc.Config{URL: "http://127.0.0.1:8332", CookieFile: filepath.Join(dir, "none")}, "btcrpc: cookie file: open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{"cookie without colon", btcrpc.Config{URL: "http://127.0.0.1:8332", CookieFile: write("nocolon", "secret-pass\n")}, "does not hold one line user:password"},
		{"cookie of two lines", btcrpc.Config{URL: "http://127.0.0.1:8332", CookieFile: write("twolines", "a:b\nc:secret-pass\n")}, "does not hold one line user:password"},
		{"huge cookie", btcrpc.Config{URL: "http://127.0.0.1:8332", CookieFile: write("huge", "a:"+strings.Repeat("x", 5000))}, "is larger than 1024 bytes, not a cookie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := btcrpc.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			checkOneLine(t, err)
		})
	}
}

func TestNewAccepts(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8332", "https://node.example:8332/", "http://u:p@[::1]:18443/"} {
		c, err := btcrpc.New(btcrpc.Config{URL: u})
		if err != nil {
			t.Errorf("New(%q): %v", u, err)
			continue
		}
		if strings.Contains(c.URL(), "u:p@") {
			t.Errorf("URL() = %q shows credentials", c.URL())
		}
	}
}

// The client sends what the brief promises: JSON-RPC 1.0, integer
// verbosity, credentials as HTTP basic auth.
func TestRequestFormat(t *testing.T) {
	gHash, gHex := genesis(t)
	var got map[string]any
	var user, pass string
	c := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("request %q: %v", body, err)
		}
		fmt.Fprintf(w, `{"result":"%s","error":null,"id":%v}`, gHex, got["id"])
	}, btcrpc.Config{User: "alice", Pass: "secret-pass"})
	if _, err := c.RawBlock(testContext(t), gHash); err != nil {
		t.Fatal(err)
	}
	if user != "alice" || pass != "secret-pass" {
		t.Errorf("basic auth %q/%q", user, pass)
	}
	want := fmt.Sprintf(`map[id:%v jsonrpc:1.0 method:getblock params:[%s 0]]`, got["id"], gHash)
	if fmt.Sprint(got) != want {
		t.Errorf("request %v, want %s", got, want)
	}
}
