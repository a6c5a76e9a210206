package eth

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Defaults of a Client.
const (
	// DefaultTimeout bounds one request (or one batch), from sending it to
	// reading the last byte of the answer.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxResponseBytes bounds one response. A full block is a few
	// MB of JSON; a call trace of a busy block can reach tens of MB.
	DefaultMaxResponseBytes = 256 << 20
	// receiptBatch is the number of eth_getTransactionReceipt requests in
	// one batch when a node lacks eth_getBlockReceipts (geth allows 1000).
	receiptBatch = 100
)

// Receipt methods, as ReceiptsMethod reports them.
const (
	MethodBlockReceipts = "eth_getBlockReceipts"
	MethodTxReceipt     = "eth_getTransactionReceipt"
)

// RPCError is a JSON-RPC error object sent by the node.
type RPCError struct {
	Method  string
	Code    int
	Message string
	// Data is the error's data member as the node sent it (for a reverted
	// eth_call, the revert data as hex); empty when there is none.
	Data string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("eth: %s: node error %d: %s", e.Method, e.Code, oneLine(e.Message, 300))
}

// errTooLarge is the cause of every response refused for its size.
var errTooLarge = errors.New("response too large")

// Option changes a Client's defaults.
type Option func(*Client)

// WithLogger sends the client's debug records (requests, the receipt
// method it fell back to) to l.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithTimeout bounds each request; d must be positive.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxResponseBytes bounds each response; n must be positive.
func WithMaxResponseBytes(n int64) Option { return func(c *Client) { c.maxBody = n } }

// Client reads an EVM chain from one node's JSON-RPC interface. It is safe
// for concurrent use.
type Client struct {
	rpc     *rpc.Client
	url     string // without credentials, for messages
	timeout time.Duration
	maxBody int64
	log     *slog.Logger

	perTxReceipts atomic.Bool // eth_getBlockReceipts is missing
	noTracing     atomic.Bool // debug_traceBlockByNumber is missing
}

// Dial checks the node URL (http, https, ws or wss) and returns a client.
// Over HTTP it does not contact the node; over WebSocket it connects.
func Dial(ctx context.Context, rawURL string, opts ...Option) (*Client, error) {
	bad := func(format string, args ...any) (*Client, error) {
		return nil, fmt.Errorf("eth: %w: "+format, append([]any{chain.ErrInvalid}, args...)...)
	}
	c := &Client{timeout: DefaultTimeout, maxBody: DefaultMaxResponseBytes}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout <= 0 {
		return bad("timeout %v is not positive", c.timeout)
	}
	if c.maxBody <= 0 {
		return bad("maximum response size %d is not positive", c.maxBody)
	}
	if rawURL == "" {
		return bad("no node URL given")
	}
	if !strings.Contains(rawURL, "://") {
		return bad("node URL must start with http://, https://, ws:// or wss://")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error text would repeat the URL, password included
		}
		return bad("node URL is not valid: %v", err)
	}
	shown := *u
	shown.User = nil
	c.url = shown.String()
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return bad("node URL %s: scheme must be http, https, ws or wss", c.url)
	}
	if u.Hostname() == "" {
		return bad("node URL %s has no host", c.url)
	}
	hc := &http.Client{
		Transport: &limitedTransport{max: c.maxBody, base: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           16,
			MaxIdleConnsPerHost:    16,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		}},
		// A node never redirects; following one would send the request
		// elsewhere. The 3xx answer becomes an error.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	c.rpc, err = rpc.DialOptions(dctx, rawURL, rpc.WithHTTPClient(hc), rpc.WithWebsocketMessageSizeLimit(c.maxBody))
	if err != nil {
		return nil, fmt.Errorf("eth: cannot connect to node at %s: %s", c.url, oneLine(innermost(err), 300))
	}
	return c, nil
}

// Close releases the client's connections.
func (c *Client) Close() { c.rpc.Close() }

// URL returns the node's URL without credentials.
func (c *Client) URL() string { return c.url }

// limitedTransport refuses response bodies larger than max bytes.
type limitedTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, errTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// call sends one request and returns its raw result, which may be null.
func (c *Client) call(ctx context.Context, method string, args ...any) (json.RawMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	var raw json.RawMessage
	err := c.rpc.CallContext(cctx, &raw, method, args...)
	c.log.Debug("eth: request", "url", c.url, "method", method, "bytes", len(raw), "elapsed", time.Since(start), "err", err)
	if err != nil {
		return nil, c.failure(ctx, method, err)
	}
	return raw, nil
}

// batch sends the elements in one request; each element's Result must be
// a *json.RawMessage. Element errors stay in the elements.
func (c *Client) batch(ctx context.Context, label string, elems []rpc.BatchElem) error {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	err := c.rpc.BatchCallContext(cctx, elems)
	c.log.Debug("eth: batch", "url", c.url, "request", label, "n", len(elems), "elapsed", time.Since(start), "err", err)
	if err != nil {
		return c.failure(ctx, label, err)
	}
	return nil
}

// failure turns an error of go-ethereum's rpc client into one line that
// says what happened.
func (c *Client) failure(ctx context.Context, method string, err error) error {
	var re rpc.Error
	if errors.As(err, &re) {
		e := &RPCError{Method: method, Code: re.ErrorCode(), Message: re.Error()}
		var de rpc.DataError
		if errors.As(err, &de) && de.ErrorData() != nil {
			switch d := de.ErrorData().(type) {
			case string:
				e.Data = oneLine(d, 2048)
			default:
				if b, err := json.Marshal(d); err == nil {
					e.Data = oneLine(string(b), 2048)
				}
			}
		}
		return e
	}
	var he rpc.HTTPError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("eth: %s: %w", method, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("eth: %s: node at %s did not answer within %v: %w", method, c.url, c.timeout, err)
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("eth: %s: the answer of node at %s is larger than the limit of %d bytes (WithMaxResponseBytes)", method, c.url, c.maxBody)
	case errors.As(err, &he):
		return fmt.Errorf("eth: %s: node at %s answered HTTP %d: %s", method, c.url, he.StatusCode, quote(oneLine(string(he.Body), 200)))
	case errors.Is(err, rpc.ErrNoResult):
		return fmt.Errorf("eth: %s: node at %s sent an answer without a result", method, c.url)
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("eth: %s: node at %s sent an answer that is not JSON-RPC: %s", method, c.url, oneLine(err.Error(), 200))
	}
	return fmt.Errorf("eth: %s: node at %s: %s", method, c.url, oneLine(innermost(err), 300))
}

// innermost extracts the useful text of a network error, e.g. "connection
// refused" instead of Go's whole chain of wrappers.
func innermost(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// methodMissing reports whether err says the node does not offer the
// method (JSON-RPC -32601, or the words nodes use for it), as opposed to a
// method that exists and failed.
func methodMissing(err error) bool {
	var re *RPCError
	if !errors.As(err, &re) {
		return false
	}
	if re.Code == -32601 {
		return true
	}
	m := strings.ToLower(re.Message)
	if !strings.Contains(m, "method") {
		return false
	}
	for _, w := range []string{"not found", "does not exist", "not supported", "unsupported", "not available", "not enabled", "not allowed"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

func hexU64(n uint64) string { return fmt.Sprintf("%#x", n) }

// quantityResult decodes a result that is one hex quantity of 64 bits.
func quantityResult(method string, raw json.RawMessage) (uint64, error) {
	o := &object{where: method, m: map[string]json.RawMessage{"result": raw}}
	return o.u64("result")
}

// ChainID returns the chain id (eth_chainId): 1 for Ethereum mainnet.
func (c *Client) ChainID(ctx context.Context) (uint64, error) {
	raw, err := c.call(ctx, "eth_chainId")
	if err != nil {
		return 0, err
	}
	return quantityResult("eth_chainId", raw)
}

// BlockNumber returns the number of the node's latest block.
func (c *Client) BlockNumber(ctx context.Context) (uint64, error) {
	raw, err := c.call(ctx, "eth_blockNumber")
	if err != nil {
		return 0, err
	}
	return quantityResult("eth_blockNumber", raw)
}

// BlockByNumber returns block n with its full transactions. A block the
// node does not have is chain.ErrNotFound.
func (c *Client) BlockByNumber(ctx context.Context, n uint64) (Block, error) {
	raw, err := c.call(ctx, "eth_getBlockByNumber", hexU64(n), true)
	if err != nil {
		return Block{}, err
	}
	if isNull(raw) {
		return Block{}, fmt.Errorf("eth: block %#x: %w at node %s", n, chain.ErrNotFound, c.url)
	}
	b, err := DecodeBlock(raw)
	if err != nil {
		return Block{}, err
	}
	if b.Number != n {
		return Block{}, &DecodeError{Where: fmt.Sprintf("block %#x", n), Field: "number", Problem: fmt.Sprintf("the node answered with block %#x", b.Number)}
	}
	return b, nil
}

// ReceiptsMethod names the method BlockReceipts uses with this node:
// MethodBlockReceipts, or MethodTxReceipt once the node has turned out not
// to offer it.
func (c *Client) ReceiptsMethod() string {
	if c.perTxReceipts.Load() {
		return MethodTxReceipt
	}
	return MethodBlockReceipts
}

// BlockReceipts returns the receipts of block n in transaction order, with
// eth_getBlockReceipts, or, when the node does not offer it (remembered for
// later calls), one eth_getTransactionReceipt per transaction in batches.
// All receipts must name block n and one block hash; CheckReceipts ties
// them to a decoded block. A block the node does not have is
// chain.ErrNotFound.
func (c *Client) BlockReceipts(ctx context.Context, n uint64) ([]Receipt, error) {
	where := fmt.Sprintf("block %#x", n)
	if !c.perTxReceipts.Load() {
		raw, err := c.call(ctx, MethodBlockReceipts, hexU64(n))
		switch {
		case err == nil:
			if isNull(raw) {
				return nil, fmt.Errorf("eth: %s: %w at node %s", where, chain.ErrNotFound, c.url)
			}
			return decodeReceipts(where, raw)
		case methodMissing(err):
			c.perTxReceipts.Store(true)
			c.log.Info("eth: the node does not offer eth_getBlockReceipts; reading receipts one transaction at a time", "url", c.url, "err", err)
		default:
			return nil, err
		}
	}
	raw, err := c.call(ctx, "eth_getBlockByNumber", hexU64(n), false)
	if err != nil {
		return nil, err
	}
	if isNull(raw) {
		return nil, fmt.Errorf("eth: %s: %w at node %s", where, chain.ErrNotFound, c.url)
	}
	blockHash, txs, err := decodeBlockTxHashes(where, raw)
	if err != nil {
		return nil, err
	}
	out := make([]Receipt, len(txs))
	for start := 0; start < len(txs); start += receiptBatch {
		end := min(start+receiptBatch, len(txs))
		elems := make([]rpc.BatchElem, end-start)
		raws := make([]json.RawMessage, end-start)
		for i := range elems {
			elems[i] = rpc.BatchElem{Method: MethodTxReceipt, Args: []any{txs[start+i].String()}, Result: &raws[i]}
		}
		if err := c.batch(ctx, MethodTxReceipt+" batch", elems); err != nil {
			return nil, err
		}
		for i := range elems {
			k := start + i
			if elems[i].Error != nil {
				return nil, fmt.Errorf("eth: %s: receipt of %s: %w", where, txs[k], c.failure(ctx, MethodTxReceipt, elems[i].Error))
			}
			if isNull(raws[i]) {
				return nil, fmt.Errorf("eth: %s: receipt of %s: %w at node %s (the block may have been reorganised away)", where, txs[k], chain.ErrNotFound, c.url)
			}
			o, err := newObject(raws[i], where, fmt.Sprintf("receipts[%d]", k))
			if err != nil {
				return nil, err
			}
			if out[k], err = decodeReceipt(o); err != nil {
				return nil, err
			}
			if out[k].TxHash != txs[k] {
				return nil, o.fail("transactionHash", "%s is not the transaction asked for %s", out[k].TxHash, txs[k])
			}
			if out[k].BlockHash != blockHash {
				return nil, o.fail("blockHash", "%s is not the block's hash %s (reorganised while reading?)", out[k].BlockHash, blockHash)
			}
		}
	}
	if err := checkReceiptsBlock(where, n, out); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeReceipts decodes an eth_getBlockReceipts answer.
func decodeReceipts(where string, raw json.RawMessage) ([]Receipt, error) {
	top := &object{where: where, m: map[string]json.RawMessage{"receipts": raw}}
	elems, err := top.array("receipts", MaxBlockTxs)
	if err != nil {
		return nil, err
	}
	out := make([]Receipt, len(elems))
	for i, e := range elems {
		o, err := top.child("receipts", i, e)
		if err != nil {
			return nil, err
		}
		if out[i], err = decodeReceipt(o); err != nil {
			return nil, err
		}
	}
	// number is checked by the caller's block; here: one block, in order.
	if len(out) > 0 {
		if err := checkReceiptsBlock(where, out[0].BlockNumber, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func checkReceiptsBlock(where string, n uint64, rs []Receipt) error {
	for i := range rs {
		r := &rs[i]
		fail := func(field, format string, args ...any) error {
			return &DecodeError{Where: where, Field: fmt.Sprintf("receipts[%d].%s", i, field), Problem: fmt.Sprintf(format, args...)}
		}
		switch {
		case r.BlockNumber != n:
			return fail("blockNumber", "%#x is not block %#x", r.BlockNumber, n)
		case r.BlockHash != rs[0].BlockHash:
			return fail("blockHash", "%s differs from the first receipt's %s", r.BlockHash, rs[0].BlockHash)
		case r.TxIndex != uint64(i):
			return fail("transactionIndex", "%d is not the position %d", r.TxIndex, i)
		}
	}
	return nil
}

// decodeBlockTxHashes reads the hash and transaction hashes of a block
// asked for without full transactions.
func decodeBlockTxHashes(where string, raw json.RawMessage) (Hash, []Hash, error) {
	o, err := newObject(raw, where, "")
	if err != nil {
		return Hash{}, nil, err
	}
	h, err := o.hash("hash")
	if err != nil {
		return Hash{}, nil, err
	}
	elems, err := o.array("transactions", MaxBlockTxs)
	if err != nil {
		return Hash{}, nil, err
	}
	txs := make([]Hash, len(elems))
	for i, e := range elems {
		if txs[i], err = o.hashOf(fmt.Sprintf("transactions[%d]", i), e); err != nil {
			return Hash{}, nil, err
		}
	}
	return h, txs, nil
}

// TraceBlock returns the callTracer trace of every transaction of block n
// (debug_traceBlockByNumber). supported is false, without an error, when
// the node does not offer the method (remembered for later calls); the
// caller then records that internal transfers are unknown. A node that
// offers it but cannot trace the block (pruned state) is an error. The
// genesis block has no transactions (its allocations are not calls) and
// geth refuses to trace it: block 0 gives an empty trace without a request.
func (c *Client) TraceBlock(ctx context.Context, n uint64) (traces []TxTrace, supported bool, err error) {
	if c.noTracing.Load() {
		return nil, false, nil
	}
	if n == 0 {
		return []TxTrace{}, true, nil
	}
	raw, err := c.call(ctx, "debug_traceBlockByNumber", hexU64(n), map[string]any{"tracer": "callTracer"})
	if err != nil {
		if methodMissing(err) {
			c.noTracing.Store(true)
			c.log.Info("eth: the node does not offer debug_traceBlockByNumber; internal transfers are unknown", "url", c.url, "err", err)
			return nil, false, nil
		}
		return nil, true, err
	}
	if isNull(raw) {
		return nil, true, fmt.Errorf("eth: trace of block %#x: %w at node %s", n, chain.ErrNotFound, c.url)
	}
	traces, err = DecodeBlockTrace(raw, fmt.Sprintf("trace of block %#x", n))
	return traces, true, err
}

// CheckTraces checks that traces belong to block b: one per transaction,
// naming it where the node names transactions, its top frame from the
// sender to the recipient with the transaction's value.
func CheckTraces(b *Block, traces []TxTrace) error {
	where := fmt.Sprintf("trace of block %#x", b.Number)
	if len(traces) != len(b.Txs) {
		return &DecodeError{Where: where, Problem: fmt.Sprintf("%d traces for %d transactions", len(traces), len(b.Txs))}
	}
	for i := range traces {
		tr, t := &traces[i], &b.Txs[i]
		fail := func(field, format string, args ...any) error {
			return &DecodeError{Where: where, Field: fmt.Sprintf("[%d].%s", i, field), Problem: fmt.Sprintf(format, args...)}
		}
		switch {
		case tr.TxHash != (Hash{}) && tr.TxHash != t.Hash:
			return fail("txHash", "%s is not the block's transaction %s", tr.TxHash, t.Hash)
		case tr.Root.From != t.From:
			return fail("result.from", "%s is not the transaction's sender %s", tr.Root.From, t.From)
		case t.To != nil && (tr.Root.To == nil || *tr.Root.To != *t.To):
			return fail("result.to", "%s is not the transaction's recipient %s", addrOrNull(tr.Root.To), t.To)
		case t.To == nil && tr.Root.Type != FrameCreate:
			return fail("result.type", "%s for a contract creation", tr.Root.Type)
		case tr.Root.Value.Cmp(t.Value) != 0:
			return fail("result.value", "%s is not the transaction's value %s", tr.Root.Value, t.Value)
		}
	}
	return nil
}

// Call runs a read-only call of to with data against the state after
// block (eth_call) and returns what it returned. A reverted call is an
// *RPCError carrying the revert data.
func (c *Client) Call(ctx context.Context, to Address, data []byte, block uint64) ([]byte, error) {
	raw, err := c.call(ctx, "eth_call", callArgs(to, data), hexU64(block))
	if err != nil {
		return nil, err
	}
	return decodeCallResult(raw)
}

func callArgs(to Address, data []byte) map[string]string {
	return map[string]string{"to": to.String(), "data": "0x" + hex.EncodeToString(data)}
}

func decodeCallResult(raw json.RawMessage) ([]byte, error) {
	o := &object{where: "eth_call", m: map[string]json.RawMessage{"result": raw}}
	return o.data("result")
}

// Balance returns the native balance of addr after block (eth_getBalance).
func (c *Client) Balance(ctx context.Context, addr Address, block uint64) (chain.Amount, error) {
	raw, err := c.call(ctx, "eth_getBalance", addr.String(), hexU64(block))
	if err != nil {
		return chain.Amount{}, err
	}
	o := &object{where: "eth_getBalance of " + addr.String(), m: map[string]json.RawMessage{"result": raw}}
	return o.amount("result")
}

// TokenBalance returns balanceOf(holder) of an ERC-20 token after block.
func (c *Client) TokenBalance(ctx context.Context, token, holder Address, block uint64) (chain.Amount, error) {
	ret, err := c.Call(ctx, token, BalanceOfCall(holder), block)
	if err != nil {
		return chain.Amount{}, err
	}
	v, err := DecodeUint256(ret)
	if err != nil {
		return chain.Amount{}, fmt.Errorf("eth: balanceOf(%s) of token %s: %w", holder, token, err)
	}
	return v, nil
}

// TokenMetadata is what a token says about itself. Each field is read on
// its own: a token without symbol() or with decimals() of 300 still has the
// fields it answered. Problems says, one line per field, why a field is
// missing.
type TokenMetadata struct {
	Token      Address
	Block      uint64 // the state the calls read
	Name       string
	NameOK     bool
	Symbol     string
	SymbolOK   bool
	Decimals   uint8
	DecimalsOK bool
	Problems   []string // e.g. "decimals: eth: invalid input: decimals 300 is more than 255"
}

// TokenMetadata reads name(), symbol() and decimals() of token after block
// in one batch. A call that reverts or answers garbage becomes a Problem;
// only a failure to talk to the node is an error.
func (c *Client) TokenMetadata(ctx context.Context, token Address, block uint64) (TokenMetadata, error) {
	md := TokenMetadata{Token: token, Block: block}
	selectors := [][]byte{callName[:], callSymbol[:], callDecimals[:]}
	fields := []string{"name", "symbol", "decimals"}
	raws := make([]json.RawMessage, 3)
	elems := make([]rpc.BatchElem, 3)
	for i := range elems {
		elems[i] = rpc.BatchElem{Method: "eth_call", Args: []any{callArgs(token, selectors[i]), hexU64(block)}, Result: &raws[i]}
	}
	if err := c.batch(ctx, "eth_call batch (token metadata)", elems); err != nil {
		return TokenMetadata{}, err
	}
	for i := range elems {
		var ret []byte
		err := elems[i].Error
		if err != nil {
			err = c.failure(ctx, "eth_call", err)
		} else {
			ret, err = decodeCallResult(raws[i])
		}
		if err == nil {
			switch i {
			case 0:
				if md.Name, err = DecodeTokenString(ret); err == nil {
					md.NameOK = true
				}
			case 1:
				if md.Symbol, err = DecodeTokenString(ret); err == nil {
					md.SymbolOK = true
				}
			case 2:
				if md.Decimals, err = DecodeDecimals(ret); err == nil {
					md.DecimalsOK = true
				}
			}
		}
		if err != nil {
			md.Problems = append(md.Problems, fields[i]+": "+err.Error())
		}
	}
	return md, nil
}
