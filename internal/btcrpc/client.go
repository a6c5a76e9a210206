package btcrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Defaults and limits.
const (
	// DefaultTimeout bounds one HTTP request, from sending it to reading
	// the last byte of the answer, when Config.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponseBytes bounds one response body when
	// Config.MaxResponseBytes is zero. A 4 MB block is 8 MB of hex; the
	// default leaves room for batches of several large blocks.
	DefaultMaxResponseBytes = 64 << 20
	// MaxBatch is the largest number of requests BlockHashes and RawBlocks
	// put in one batch.
	MaxBatch = 1000
	// maxCookieBytes bounds a cookie file; Core's is 75 bytes.
	maxCookieBytes = 1024
)

// ErrUnauthorized reports that the node refused the credentials (HTTP 401).
var ErrUnauthorized = errors.New("btcrpc: node rejected the credentials")

// Config says how to reach a node.
type Config struct {
	// URL is http(s)://host:port[/path]. Credentials may be given in it as
	// user:pass@host instead of User and Pass.
	URL string
	// User and Pass are the RPC credentials (rpcuser/rpcpassword).
	User, Pass string
	// CookieFile is the path of Bitcoin Core's .cookie file
	// ("__cookie__:<hex>"), used instead of User and Pass. It is re-read
	// when the node answers HTTP 401, since the node writes a new cookie
	// each time it starts.
	CookieFile string
	// Timeout bounds each HTTP request; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds each response body; zero means
	// DefaultMaxResponseBytes. A larger response is an error.
	MaxResponseBytes int64
	// Logger receives debug records of each request; nil discards them.
	Logger *slog.Logger
}

// Client talks to one node. It is safe for concurrent use.
type Client struct {
	url      string // the node's URL without credentials, for messages
	endpoint string // where requests are posted
	user     string
	pass     string
	cookie   string // cookie file path, or ""
	mu       sync.Mutex
	ckUser   string // credentials last read from the cookie file
	ckPass   string
	http     *http.Client
	timeout  time.Duration
	maxBody  int64
	log      *slog.Logger
	nextID   atomic.Uint64
}

// New checks cfg and returns a client. It reads the cookie file, if any,
// but does not contact the node.
func New(cfg Config) (*Client, error) {
	bad := func(format string, args ...any) (*Client, error) {
		return nil, fmt.Errorf("btcrpc: %w: "+format, append([]any{chain.ErrInvalid}, args...)...)
	}
	if cfg.URL == "" {
		return bad("no node URL given")
	}
	if !strings.Contains(cfg.URL, "://") {
		return bad("node URL must start with http:// or https://")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error text would repeat the URL, password included
		}
		return bad("node URL is not valid: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("node URL %s: scheme must be http or https", redact(u))
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("node URL %s has no host", redact(u))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return bad("node URL %s must not have a query or fragment", redact(u))
	}
	user, pass := cfg.User, cfg.Pass
	if u.User != nil {
		if user != "" || pass != "" {
			return bad("credentials given both in the node URL and as user/password")
		}
		user = u.User.Username()
		pass, _ = u.User.Password()
		u.User = nil
	}
	if cfg.CookieFile != "" && (user != "" || pass != "") {
		return bad("give either a user and password or a cookie file, not both")
	}
	if cfg.Timeout < 0 {
		return bad("timeout %v is negative", cfg.Timeout)
	}
	if cfg.MaxResponseBytes < 0 {
		return bad("maximum response size %d is negative", cfg.MaxResponseBytes)
	}
	c := &Client{
		url:     u.String(),
		user:    user,
		pass:    pass,
		cookie:  cfg.CookieFile,
		timeout: cfg.Timeout,
		maxBody: cfg.MaxResponseBytes,
		log:     cfg.Logger,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	c.endpoint = u.String()
	if c.cookie != "" {
		if c.ckUser, c.ckPass, err = readCookie(c.cookie); err != nil {
			return nil, err
		}
	}
	c.http = &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment, // never used for loopback addresses
			DialContext:            (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           4,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		// A node never redirects; following one would turn the POST into a
		// GET elsewhere. The 3xx answer is reported as not JSON-RPC.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// URL returns the node's URL without credentials.
func (c *Client) URL() string { return c.url }

func redact(u *url.URL) string {
	v := *u
	v.User = nil
	return v.String()
}

// readCookie reads a "user:password" cookie file.
func readCookie(path string) (user, pass string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("btcrpc: cookie file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCookieBytes+1))
	if err != nil {
		return "", "", fmt.Errorf("btcrpc: cookie file %s: %w", path, err)
	}
	if len(b) > maxCookieBytes {
		return "", "", fmt.Errorf("btcrpc: %w: cookie file %s is larger than %d bytes, not a cookie", chain.ErrInvalid, path, maxCookieBytes)
	}
	s := strings.TrimSpace(string(b))
	user, pass, ok := strings.Cut(s, ":")
	if !ok || user == "" || pass == "" || strings.ContainsAny(s, "\r\n") {
		return "", "", fmt.Errorf("btcrpc: %w: cookie file %s does not hold one line user:password", chain.ErrInvalid, path)
	}
	return user, pass, nil
}

// credentials returns the user and password to send.
func (c *Client) credentials() (string, string) {
	if c.cookie == "" {
		return c.user, c.pass
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ckUser, c.ckPass
}

// refreshCookie re-reads the cookie file after a 401 and reports whether
// it now holds other credentials than those just refused.
func (c *Client) refreshCookie(refusedUser, refusedPass string) (bool, error) {
	user, pass, err := readCookie(c.cookie)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ckUser, c.ckPass = user, pass
	return user != refusedUser || pass != refusedPass, nil
}

// nodeError is an error with its own one-line message that still unwraps
// to its cause (a syscall error, a deadline, ErrUnauthorized).
type nodeError struct {
	msg string
	err error
}

func (e *nodeError) Error() string { return e.msg }
func (e *nodeError) Unwrap() error { return e.err }

// RPCError is a JSON-RPC error object sent by the node.
type RPCError struct {
	Code    int
	Message string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("node error %d: %s", e.Code, oneLine(e.Message, 300))
}

// oneLine makes s printable on one line: invalid UTF-8 and control
// characters become spaces or U+FFFD, and it is cut to at most max bytes.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// snippet quotes the start of a response for an error message.
func snippet(b []byte) string {
	const max = 80
	cut := len(b) > max
	if cut {
		b = b[:max]
		for len(b) > 0 && !utf8.Valid(b) { // do not split a character
			b = b[:len(b)-1]
		}
	}
	s := strconv.Quote(string(b))
	if cut {
		s += "…"
	}
	return s
}

// request is a JSON-RPC 1.0 request with positional parameters.
type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

// response is one JSON-RPC response, decoded loosely so that every field
// can be checked with a clear message.
type response struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// post sends body and returns the HTTP status and the bounded response
// body. label names the request in errors ("getblock", "getblockhash
// batch").
func (c *Client) post(ctx context.Context, label string, body []byte) (int, []byte, error) {
	user, pass := c.credentials()
	status, data, err := c.postOnce(ctx, label, body, user, pass)
	if err != nil || status != http.StatusUnauthorized {
		return status, data, err
	}
	unauthorized := &nodeError{
		msg: fmt.Sprintf("btcrpc: node at %s rejected the credentials (HTTP 401)", c.url),
		err: ErrUnauthorized,
	}
	if c.cookie == "" {
		return 0, nil, unauthorized
	}
	changed, err := c.refreshCookie(user, pass)
	if err != nil {
		return 0, nil, &nodeError{msg: unauthorized.msg + " and the cookie file cannot be re-read: " + err.Error(), err: ErrUnauthorized}
	}
	if !changed {
		return 0, nil, &nodeError{msg: unauthorized.msg + fmt.Sprintf(" with the cookie from %s", c.cookie), err: ErrUnauthorized}
	}
	c.log.Debug("btcrpc: retrying with a new cookie", "url", c.url, "cookie", c.cookie)
	user, pass = c.credentials()
	status, data, err = c.postOnce(ctx, label, body, user, pass)
	if err == nil && status == http.StatusUnauthorized {
		return 0, nil, &nodeError{msg: unauthorized.msg + fmt.Sprintf(" with the new cookie from %s", c.cookie), err: ErrUnauthorized}
	}
	return status, data, err
}

func (c *Client) postOnce(ctx context.Context, label string, body []byte, user, pass string) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("btcrpc: %s: %w", label, err)
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("btcrpc: %s: build request: %w", label, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, c.transportError(ctx, label, err, "cannot reach node at "+c.url)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return resp.StatusCode, nil, nil
	}
	if resp.ContentLength > c.maxBody {
		return 0, nil, c.tooLarge(label)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return 0, nil, c.transportError(ctx, label, err, "reading the response of node at "+c.url)
	}
	if n > c.maxBody {
		return 0, nil, c.tooLarge(label)
	}
	c.log.Debug("btcrpc: request", "url", c.url, "request", label, "status", resp.StatusCode,
		"bytes", n, "elapsed", time.Since(start))
	return resp.StatusCode, buf.Bytes(), nil
}

func (c *Client) tooLarge(label string) error {
	return fmt.Errorf("btcrpc: %s: response of node at %s is larger than the limit of %d bytes (MaxResponseBytes)",
		label, c.url, c.maxBody)
}

// transportError turns a failed HTTP exchange into one line: the caller's
// cancellation, our own timeout, or the network's reason.
func (c *Client) transportError(ctx context.Context, label string, err error, what string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("btcrpc: %s: %w", label, ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return &nodeError{msg: fmt.Sprintf("btcrpc: %s: node at %s did not answer within %v", label, c.url, c.timeout), err: err}
	}
	if strings.HasPrefix(what, "cannot reach") {
		return &nodeError{msg: fmt.Sprintf("btcrpc: %s: %s", what, reason(err)), err: err}
	}
	return &nodeError{msg: fmt.Sprintf("btcrpc: %s: %s: %s", label, what, reason(err)), err: err}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// reason extracts the innermost useful text of a network error, e.g.
// "connection refused" instead of Go's whole chain of wrappers, on one
// line (a TLS error can quote names from the peer's certificate).
func reason(err error) string { return oneLine(innermost(err), 300) }

func innermost(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot resolve host " + dns.Name + ": " + dns.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
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

// notJSON describes a body that is not a JSON-RPC response.
func (c *Client) notJSON(label string, status int, data []byte, err error) error {
	if len(bytes.TrimSpace(data)) == 0 {
		if status != http.StatusOK {
			return fmt.Errorf("btcrpc: %s: node at %s answered HTTP %d %s with an empty body", label, c.url, status, http.StatusText(status))
		}
		return fmt.Errorf("btcrpc: %s: node at %s sent an empty response (HTTP 200)", label, c.url)
	}
	if status != http.StatusOK {
		return fmt.Errorf("btcrpc: %s: node at %s answered HTTP %d %s with a body that is not JSON-RPC: %s",
			label, c.url, status, http.StatusText(status), snippet(data))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("btcrpc: %s: node at %s sent a response that is not valid JSON (%v): %s",
			label, c.url, err, snippet(data))
	}
	return fmt.Errorf("btcrpc: %s: node at %s sent a response that is not a JSON-RPC object: %s", label, c.url, snippet(data))
}

// rpcError decodes a non-null "error" member.
func (c *Client) rpcError(label string, raw json.RawMessage) error {
	var obj struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &obj); err == nil && obj.Code != nil {
		return &RPCError{Code: *obj.Code, Message: obj.Message}
	}
	var msg string
	if err := json.Unmarshal(raw, &msg); err == nil {
		return &RPCError{Code: 0, Message: msg}
	}
	return fmt.Errorf("btcrpc: %s: node at %s sent a malformed error member: %s", label, c.url, snippet(raw))
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// idIs reports whether a response id is the number want.
func idIs(raw json.RawMessage, want uint64) bool {
	var got uint64
	return json.Unmarshal(raw, &got) == nil && got == want
}

// failure wraps an RPC error with its label, adding chain.ErrNotFound when
// the caller says this error means "not there".
func failure(label string, err error, notFound func(*RPCError) bool) error {
	var re *RPCError
	if errors.As(err, &re) {
		if notFound != nil && notFound(re) {
			return fmt.Errorf("btcrpc: %s: %w: %w", label, chain.ErrNotFound, re)
		}
		return fmt.Errorf("btcrpc: %s: %w", label, re)
	}
	return err
}

// call sends one request and returns its result, which may be JSON null.
func (c *Client) call(ctx context.Context, label string, notFound func(*RPCError) bool, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{JSONRPC: "1.0", ID: id, Method: method, Params: params})
	if err != nil {
		return nil, fmt.Errorf("btcrpc: %s: encode request: %w", label, err)
	}
	status, data, err := c.post(ctx, label, body)
	if err != nil {
		return nil, err
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, c.notJSON(label, status, data, err)
	}
	if !isNull(r.Error) {
		return nil, failure(label, c.rpcError(label, r.Error), notFound)
	}
	if !idIs(r.ID, id) {
		return nil, fmt.Errorf("btcrpc: %s: node at %s answered with id %s to request id %d", label, c.url, snippet(r.ID), id)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("btcrpc: %s: node at %s answered HTTP %d %s without an error", label, c.url, status, http.StatusText(status))
	}
	if r.Result == nil {
		return nil, fmt.Errorf("btcrpc: %s: node at %s sent a response without a result", label, c.url)
	}
	return r.Result, nil
}

// batch sends one request per params entry, all for method, in one JSON
// array, and returns the results in the order of params. label(i) names
// request i in errors.
func (c *Client) batch(ctx context.Context, method string, params [][]any, label func(int) string, notFound func(*RPCError) bool) ([]json.RawMessage, error) {
	if len(params) == 0 {
		return nil, nil
	}
	blabel := method + " batch"
	if len(params) > MaxBatch {
		return nil, fmt.Errorf("btcrpc: %s: %w: %d requests, more than the %d allowed in one batch", blabel, chain.ErrInvalid, len(params), MaxBatch)
	}
	first := c.nextID.Add(uint64(len(params))) - uint64(len(params)) + 1
	reqs := make([]request, len(params))
	for i, p := range params {
		reqs[i] = request{JSONRPC: "1.0", ID: first + uint64(i), Method: method, Params: p}
	}
	body, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("btcrpc: %s: encode request: %w", blabel, err)
	}
	status, data, err := c.post(ctx, blabel, body)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		// A node that fails the whole batch answers with one error object.
		var r response
		if err := json.Unmarshal(trimmed, &r); err == nil && !isNull(r.Error) {
			return nil, failure(blabel, c.rpcError(blabel, r.Error), nil)
		}
		return nil, fmt.Errorf("btcrpc: %s: node at %s answered a batch request with a single object, not an array: %s",
			blabel, c.url, snippet(data))
	}
	var rs []response
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, c.notJSON(blabel, status, data, err)
	}
	byIndex := make([]*response, len(params))
	for i := range rs {
		r := &rs[i]
		var id uint64
		if err := json.Unmarshal(r.ID, &id); err != nil || id < first || id-first >= uint64(len(params)) {
			return nil, fmt.Errorf("btcrpc: %s: node at %s answered with id %s, which was not in the batch", blabel, c.url, snippet(r.ID))
		}
		k := id - first
		if byIndex[k] != nil {
			return nil, fmt.Errorf("btcrpc: %s: node at %s answered id %d twice (%s)", blabel, c.url, id, label(int(k)))
		}
		byIndex[k] = r
	}
	out := make([]json.RawMessage, len(params))
	for i, r := range byIndex {
		if r == nil {
			return nil, fmt.Errorf("btcrpc: %s: node at %s sent no answer for id %d (%s)", blabel, c.url, first+uint64(i), label(i))
		}
		if !isNull(r.Error) {
			return nil, failure(label(i), c.rpcError(label(i), r.Error), notFound)
		}
		if r.Result == nil {
			return nil, fmt.Errorf("btcrpc: %s: node at %s sent a response without a result", label(i), c.url)
		}
		out[i] = r.Result
	}
	c.log.Debug("btcrpc: batch", "url", c.url, "method", method, "requests", len(params))
	return out, nil
}
