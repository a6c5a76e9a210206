package btcrpc

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// NodeKind names the software behind the RPC interface.
type NodeKind string

// Node kinds.
const (
	KindBtcd     NodeKind = "btcd"
	KindBitcoind NodeKind = "bitcoind" // Bitcoin Core and forks that keep its user agent
	KindUnknown  NodeKind = "unknown"
)

// NodeInfo identifies the node for the provenance of an index.
type NodeInfo struct {
	Kind NodeKind `json:"kind"`
	// Version is the software version, e.g. "0.26.2" (btcd) or "27.0.0"
	// (Core, taken from its user agent); empty when it cannot be told.
	Version string `json:"version,omitempty"`
	// VersionNumber is the version as the node reports it: btcd's
	// getinfo.version (260200), Core's getnetworkinfo.version (270000).
	VersionNumber int64 `json:"version_number,omitempty"`
	// UserAgent is the node's P2P user agent ("/Satoshi:27.0.0/"); btcd
	// does not report its own over RPC.
	UserAgent string `json:"user_agent,omitempty"`
	// ProtocolVersion is the P2P protocol version (70016).
	ProtocolVersion int64 `json:"protocol_version,omitempty"`
	// APIVersion is btcd's JSON-RPC API version ("1.3.0").
	APIVersion string `json:"api_version,omitempty"`
}

// NodeInfo asks the node what it is: Core's getnetworkinfo, or, where
// that is not implemented, btcd's version and getinfo. A node that answers
// neither is KindUnknown, not an error.
func (c *Client) NodeInfo(ctx context.Context) (NodeInfo, error) {
	raw, err := c.call(ctx, "getnetworkinfo", nil, "getnetworkinfo")
	var re *RPCError
	switch {
	case err == nil:
		var r struct {
			Version         *int64 `json:"version"`
			Subversion      string `json:"subversion"`
			ProtocolVersion int64  `json:"protocolversion"`
		}
		if err := c.decode("getnetworkinfo", raw, &r, "an object with version and subversion"); err != nil {
			return NodeInfo{}, err
		}
		if r.Version == nil {
			return NodeInfo{}, c.wrongType("getnetworkinfo", raw, "an object with version and subversion")
		}
		info := NodeInfo{Kind: KindUnknown, VersionNumber: *r.Version,
			UserAgent: oneLine(r.Subversion, 256), ProtocolVersion: r.ProtocolVersion}
		if v, ok := strings.CutPrefix(r.Subversion, "/Satoshi:"); ok {
			info.Kind = KindBitcoind
			if i := strings.IndexAny(v, "/("); i >= 0 {
				v = v[:i]
			}
			info.Version = oneLine(v, 64)
		}
		return info, nil
	case !errors.As(err, &re):
		return NodeInfo{}, err
	}

	// btcd answers getnetworkinfo with -1 "Command unimplemented"; its
	// "version" names its own JSON-RPC API.
	raw, err = c.call(ctx, "version", nil, "version")
	if errors.As(err, &re) {
		return NodeInfo{Kind: KindUnknown}, nil
	}
	if err != nil {
		return NodeInfo{}, err
	}
	var v map[string]struct {
		VersionString string `json:"versionstring"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return NodeInfo{Kind: KindUnknown}, nil
	}
	api, ok := v["btcdjsonrpcapi"]
	if !ok {
		return NodeInfo{Kind: KindUnknown}, nil
	}
	info := NodeInfo{Kind: KindBtcd, APIVersion: oneLine(api.VersionString, 64)}
	raw, err = c.call(ctx, "getinfo", nil, "getinfo")
	if err != nil {
		return NodeInfo{}, err
	}
	var gi struct {
		Version         *int64 `json:"version"`
		ProtocolVersion int64  `json:"protocolversion"`
	}
	if err := c.decode("getinfo", raw, &gi, "an object with version"); err != nil {
		return NodeInfo{}, err
	}
	if gi.Version == nil || *gi.Version < 0 {
		return NodeInfo{}, c.wrongType("getinfo", raw, "an object with a version number")
	}
	// btcd: 1000000*major + 10000*minor + 100*patch.
	n := *gi.Version
	info.VersionNumber = n
	info.Version = fmt.Sprintf("%d.%d.%d", n/1000000, n/10000%100, n/100%100)
	info.ProtocolVersion = gi.ProtocolVersion
	return info, nil
}

// Network identifies the node's chain by its genesis block hash
// (getblockhash 0). A custom signet has the default signet's genesis block
// and is reported as signet.
func (c *Client) Network(ctx context.Context) (*btc.Params, error) {
	genesis, err := c.BlockHash(ctx, 0)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range btc.Networks() {
		if p.GenesisHash() == genesis {
			return p, nil
		}
		names = append(names, string(p.Network))
	}
	return nil, fmt.Errorf("btcrpc: node at %s has genesis block %s, which is none of the known Bitcoin networks (%s)",
		c.url, genesis, strings.Join(names, ", "))
}

// BlockCount returns the height of the node's best chain (getblockcount).
func (c *Client) BlockCount(ctx context.Context) (int64, error) {
	raw, err := c.call(ctx, "getblockcount", nil, "getblockcount")
	if err != nil {
		return 0, err
	}
	var n int64
	if isNull(raw) || json.Unmarshal(raw, &n) != nil || n < 0 || n > math.MaxInt32 {
		return 0, c.wrongType("getblockcount", raw, "a block height")
	}
	return n, nil
}

// BestBlockHash returns the hash of the tip of the node's best chain
// (getbestblockhash).
func (c *Client) BestBlockHash(ctx context.Context) (chainhash.Hash, error) {
	raw, err := c.call(ctx, "getbestblockhash", nil, "getbestblockhash")
	if err != nil {
		return chainhash.Hash{}, err
	}
	return c.hash("getbestblockhash", raw)
}

// heightNotFound reports whether getblockhash failed because the height is
// above the tip: Core -8 "Block height out of range", btcd -1 "Block
// number out of range" (-1 is btcd's catch-all, hence the text check).
func heightNotFound(e *RPCError) bool {
	return e.Code == -8 || (e.Code == -1 && strings.Contains(strings.ToLower(e.Message), "out of range"))
}

// blockNotFound reports whether getblock failed because the node does not
// know the block: -5 "Block not found" on both node kinds.
func blockNotFound(e *RPCError) bool { return e.Code == -5 }

func checkHeight(h int64) error {
	// btcd converts the height to int32, so 2^32 would silently become 0.
	if h < 0 || h > math.MaxInt32 {
		return fmt.Errorf("btcrpc: %w: block height %d is out of the range 0..%d", chain.ErrInvalid, h, math.MaxInt32)
	}
	return nil
}

// BlockHash returns the hash of the block at height on the node's best
// chain (getblockhash). A height above the tip is an error wrapping
// chain.ErrNotFound.
func (c *Client) BlockHash(ctx context.Context, height int64) (chainhash.Hash, error) {
	if err := checkHeight(height); err != nil {
		return chainhash.Hash{}, err
	}
	label := fmt.Sprintf("getblockhash %d", height)
	raw, err := c.call(ctx, label, heightNotFound, "getblockhash", height)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return c.hash(label, raw)
}

// BlockHashes returns the hashes of the blocks at heights from through to
// (inclusive) on the node's best chain, in one batch request of at most
// MaxBatch heights. Any height above the tip is an error wrapping
// chain.ErrNotFound. The node answers each height separately, so a reorg
// during the request can mix branches; callers check that each block's
// parent is the previous hash.
func (c *Client) BlockHashes(ctx context.Context, from, to int64) ([]chainhash.Hash, error) {
	if err := checkHeight(from); err != nil {
		return nil, err
	}
	if err := checkHeight(to); err != nil {
		return nil, err
	}
	if to < from {
		return nil, fmt.Errorf("btcrpc: %w: height range %d..%d is empty", chain.ErrInvalid, from, to)
	}
	if to-from >= MaxBatch {
		return nil, fmt.Errorf("btcrpc: %w: height range %d..%d has %d heights, more than the %d of one batch",
			chain.ErrInvalid, from, to, to-from+1, MaxBatch)
	}
	params := make([][]any, to-from+1)
	for i := range params {
		params[i] = []any{from + int64(i)}
	}
	label := func(i int) string { return fmt.Sprintf("getblockhash %d", from+int64(i)) }
	raws, err := c.batch(ctx, "getblockhash", params, label, heightNotFound)
	if err != nil {
		return nil, err
	}
	out := make([]chainhash.Hash, len(raws))
	for i, raw := range raws {
		if out[i], err = c.hash(label(i), raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RawBlock returns the serialized block with the given hash (getblock
// HASH 0). It checks that the block's header hashes to hash. A block the
// node does not have is an error wrapping chain.ErrNotFound.
func (c *Client) RawBlock(ctx context.Context, hash chainhash.Hash) ([]byte, error) {
	label := "getblock " + hash.String()
	raw, err := c.call(ctx, label, blockNotFound, "getblock", hash.String(), 0)
	if err != nil {
		return nil, err
	}
	return c.block(label, hash, raw)
}

// RawBlocks returns the serialized blocks with the given hashes, in order,
// fetched in one batch request of at most MaxBatch blocks. Each block is
// checked as in RawBlock. The whole answer must fit in MaxResponseBytes:
// ask for fewer blocks per batch if it does not.
func (c *Client) RawBlocks(ctx context.Context, hashes []chainhash.Hash) ([][]byte, error) {
	params := make([][]any, len(hashes))
	for i, h := range hashes {
		params[i] = []any{h.String(), 0}
	}
	label := func(i int) string { return "getblock " + hashes[i].String() }
	raws, err := c.batch(ctx, "getblock", params, label, blockNotFound)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(raws))
	for i, raw := range raws {
		if out[i], err = c.block(label(i), hashes[i], raw); err != nil {
			return nil, err
		}
		raws[i] = nil // let the hex go as soon as it is decoded
	}
	return out, nil
}

// wrongType reports a result that is not what the method returns.
func (c *Client) wrongType(label string, raw json.RawMessage, want string) error {
	return fmt.Errorf("btcrpc: %s: node at %s sent a result of the wrong type: want %s, got %s", label, c.url, want, snippet(raw))
}

// decode unmarshals a non-null result into v.
func (c *Client) decode(label string, raw json.RawMessage, v any, want string) error {
	if isNull(raw) || json.Unmarshal(raw, v) != nil {
		return c.wrongType(label, raw, want)
	}
	return nil
}

// hash decodes a block hash result: a string of exactly 64 hex digits.
func (c *Client) hash(label string, raw json.RawMessage) (chainhash.Hash, error) {
	var s string
	if isNull(raw) || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return chainhash.Hash{}, c.wrongType(label, raw, "a block hash string")
	}
	if len(s) != 2*chainhash.HashSize {
		return chainhash.Hash{}, fmt.Errorf("btcrpc: %s: node at %s sent a block hash of %d characters, not 64: %s",
			label, c.url, len(s), snippet([]byte(s)))
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("btcrpc: %s: node at %s sent a block hash that is not hex: %s", label, c.url, snippet([]byte(s)))
	}
	return *h, nil
}

// block decodes a raw block result (a JSON string of hex digits) and checks
// that its header hashes to want. The hex is decoded straight from the
// JSON text: a node's hex never needs escapes, so a backslash is an error.
func (c *Client) block(label string, want chainhash.Hash, raw json.RawMessage) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, c.wrongType(label, raw, "a hex string")
	}
	text := raw[1 : len(raw)-1]
	if len(text)%2 != 0 {
		return nil, fmt.Errorf("btcrpc: %s: node at %s sent block hex of odd length %d", label, c.url, len(text))
	}
	b := make([]byte, len(text)/2)
	if _, err := hex.Decode(b, text); err != nil {
		return nil, fmt.Errorf("btcrpc: %s: node at %s sent a block that is not valid hex: %v", label, c.url, err)
	}
	if len(b) <= wireHeaderSize {
		return nil, fmt.Errorf("btcrpc: %s: node at %s sent a block of %d bytes, too short to be a block", label, c.url, len(b))
	}
	if got := chainhash.DoubleHashH(b[:wireHeaderSize]); got != want {
		return nil, fmt.Errorf("btcrpc: %s: node at %s sent a block whose header hashes to %s, not to the requested hash",
			label, c.url, got)
	}
	return b, nil
}

// wireHeaderSize is the size of a serialized block header.
const wireHeaderSize = 80
