package btcrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/btcdtest"
	"github.com/vestigo-forensics/vestigo/internal/btcrpc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func newClient(t *testing.T, cfg btcrpc.Config) *btcrpc.Client {
	t.Helper()
	c, err := btcrpc.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestBtcd runs the client against a real btcd regtest node.
func TestBtcd(t *testing.T) {
	n := btcdtest.Start(t)
	mined := n.Generate(t, 30)
	regtest, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	// chainHashes[h] is the hash at height h.
	chainHashes := append([]chainhash.Hash{regtest.GenesisHash()}, mined...)
	c := newClient(t, btcrpc.Config{URL: n.RPCURL, User: n.User, Pass: n.Pass})
	ctx := testContext(t)

	t.Run("NodeInfo", func(t *testing.T) {
		info, err := c.NodeInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The version pinned in scripts/tools.sh.
		want := btcrpc.NodeInfo{Kind: btcrpc.KindBtcd, Version: "0.26.2", VersionNumber: 260200, ProtocolVersion: 70002, APIVersion: "1.3.0"}
		if info != want {
			t.Fatalf("NodeInfo = %+v, want %+v", info, want)
		}
	})

	t.Run("Network", func(t *testing.T) {
		p, err := c.Network(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Network != chain.Regtest {
			t.Fatalf("network %s, want regtest", p.Network)
		}
	})

	t.Run("BlockCount", func(t *testing.T) {
		got, err := c.BlockCount(ctx)
		if err != nil || got != 30 {
			t.Fatalf("BlockCount = %d, %v; want 30", got, err)
		}
	})

	t.Run("BestBlockHash", func(t *testing.T) {
		got, err := c.BestBlockHash(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if best, _ := n.BestBlock(t); got != best || got != chainHashes[30] {
			t.Fatalf("BestBlockHash = %s, want %s", got, best)
		}
	})

	t.Run("BlockHash", func(t *testing.T) {
		for _, h := range []int64{0, 1, 2, 15, 29, 30} {
			got, err := c.BlockHash(ctx, h)
			if err != nil {
				t.Fatalf("BlockHash(%d): %v", h, err)
			}
			if got != chainHashes[h] {
				t.Errorf("BlockHash(%d) = %s, want %s", h, got, chainHashes[h])
			}
		}
	})

	t.Run("BlockHashes", func(t *testing.T) {
		for _, r := range [][2]int64{{0, 30}, {7, 7}, {29, 30}} {
			got, err := c.BlockHashes(ctx, r[0], r[1])
			if err != nil {
				t.Fatalf("BlockHashes(%d, %d): %v", r[0], r[1], err)
			}
			want := chainHashes[r[0] : r[1]+1]
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("BlockHashes(%d, %d) = %v, want %v", r[0], r[1], got, want)
			}
		}
	})

	t.Run("RawBlock", func(t *testing.T) {
		for _, h := range []int64{0, 1, 30} {
			raw, err := c.RawBlock(ctx, chainHashes[h])
			if err != nil {
				t.Fatalf("RawBlock(height %d): %v", h, err)
			}
			b, err := btc.DecodeBlock(raw)
			if err != nil {
				t.Fatalf("RawBlock(height %d) does not decode: %v", h, err)
			}
			if b.Hash != chainHashes[h] {
				t.Errorf("block at %d has hash %s, want %s", h, b.Hash, chainHashes[h])
			}
			if h > 0 && b.Header.PrevBlock != chainHashes[h-1] {
				t.Errorf("block at %d has parent %s, want %s", h, b.Header.PrevBlock, chainHashes[h-1])
			}
		}
	})

	t.Run("RawBlocks", func(t *testing.T) {
		want := chainHashes[10:21]
		raws, err := c.RawBlocks(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if len(raws) != len(want) {
			t.Fatalf("RawBlocks returned %d blocks for %d hashes", len(raws), len(want))
		}
		for i, raw := range raws {
			b, err := btc.DecodeBlock(raw)
			if err != nil {
				t.Fatalf("block %d does not decode: %v", i, err)
			}
			if b.Hash != want[i] {
				t.Errorf("block %d has hash %s, want %s", i, b.Hash, want[i])
			}
		}
		if raws, err := c.RawBlocks(ctx, nil); err != nil || len(raws) != 0 {
			t.Errorf("RawBlocks(nil) = %d blocks, %v", len(raws), err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := c.BlockHash(ctx, 40)
		var re *btcrpc.RPCError
		if !errors.Is(err, chain.ErrNotFound) || !errors.As(err, &re) || re.Code != -1 {
			t.Fatalf("BlockHash(tip+10) = %v, want chain.ErrNotFound from RPC error -1", err)
		}
		if want := "btcrpc: getblockhash 40: not found: node error -1: Block number out of range"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		_, err = c.BlockHashes(ctx, 25, 35)
		if !errors.Is(err, chain.ErrNotFound) || !strings.Contains(err.Error(), "getblockhash 31:") {
			t.Fatalf("BlockHashes(25, 35) = %v, want chain.ErrNotFound naming height 31", err)
		}
		unknown := chainhash.DoubleHashH([]byte("no such block"))
		_, err = c.RawBlock(ctx, unknown)
		if !errors.Is(err, chain.ErrNotFound) || !errors.As(err, &re) || re.Code != -5 {
			t.Fatalf("RawBlock(unknown) = %v, want chain.ErrNotFound from RPC error -5", err)
		}
		_, err = c.RawBlocks(ctx, []chainhash.Hash{chainHashes[3], unknown})
		if !errors.Is(err, chain.ErrNotFound) || !strings.Contains(err.Error(), unknown.String()) {
			t.Fatalf("RawBlocks with an unknown hash = %v, want chain.ErrNotFound naming it", err)
		}
	})

	t.Run("WrongPassword", func(t *testing.T) {
		bad := newClient(t, btcrpc.Config{URL: n.RPCURL, User: n.User, Pass: "wrong-secret"})
		_, err := bad.BlockCount(ctx)
		if !errors.Is(err, btcrpc.ErrUnauthorized) {
			t.Fatalf("wrong password: %v, want ErrUnauthorized", err)
		}
		if want := "btcrpc: node at " + n.RPCURL + " rejected the credentials (HTTP 401)"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		if strings.Contains(err.Error(), "wrong-secret") {
			t.Errorf("error %q contains the password", err)
		}
	})

	t.Run("CredentialsInURL", func(t *testing.T) {
		u, _ := url.Parse(n.RPCURL)
		u.User = url.UserPassword(n.User, n.Pass)
		cu := newClient(t, btcrpc.Config{URL: u.String()})
		if got, err := cu.BlockCount(ctx); err != nil || got != 30 {
			t.Fatalf("BlockCount = %d, %v; want 30", got, err)
		}
		if strings.Contains(cu.URL(), n.Pass) {
			t.Errorf("URL() %q shows the password", cu.URL())
		}
	})

	t.Run("Cookie", func(t *testing.T) {
		cookie := filepath.Join(t.TempDir(), ".cookie")
		// btcd writes no cookie; one with its user:password is equivalent.
		if err := os.WriteFile(cookie, []byte(n.User+":"+n.Pass), 0o600); err != nil {
			t.Fatal(err)
		}
		cc := newClient(t, btcrpc.Config{URL: n.RPCURL, CookieFile: cookie})
		if got, err := cc.BlockCount(ctx); err != nil || got != 30 {
			t.Fatalf("BlockCount with cookie = %d, %v; want 30", got, err)
		}
	})

	t.Run("CookieRereadOn401", func(t *testing.T) {
		cookie := filepath.Join(t.TempDir(), ".cookie")
		if err := os.WriteFile(cookie, []byte("__cookie__:stale\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cc := newClient(t, btcrpc.Config{URL: n.RPCURL, CookieFile: cookie})
		_, err := cc.BlockCount(ctx)
		if !errors.Is(err, btcrpc.ErrUnauthorized) {
			t.Fatalf("stale cookie: %v, want ErrUnauthorized", err)
		}
		if strings.Contains(err.Error(), "stale") {
			t.Errorf("error %q shows the cookie", err)
		}
		// The "node restarted" and wrote a new cookie: the next call re-reads it.
		if err := os.WriteFile(cookie, []byte(n.User+":"+n.Pass+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := cc.BlockCount(ctx); err != nil || got != 30 {
			t.Fatalf("BlockCount after new cookie = %d, %v; want 30", got, err)
		}
	})

	// A reorg as the syncer sees it: the hash at a height changes.
	t.Run("Reorg", func(t *testing.T) {
		n.InvalidateBlock(t, chainHashes[29])
		if _, err := c.BlockHash(ctx, 29); !errors.Is(err, chain.ErrNotFound) {
			t.Fatalf("height 29 after invalidating it: %v, want not found", err)
		}
		if got, err := c.BestBlockHash(ctx); err != nil || got != chainHashes[28] {
			t.Fatalf("best after invalidating 29 = %s, %v; want %s", got, err, chainHashes[28])
		}
		fork := n.Generate(t, 3)
		got, err := c.BlockHashes(ctx, 28, 31)
		if err != nil {
			t.Fatal(err)
		}
		want := []chainhash.Hash{chainHashes[28], fork[0], fork[1], fork[2]}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after reorg: %v, want %v", got, want)
		}
		if got[1] == chainHashes[29] {
			t.Fatal("height 29 kept the invalidated hash")
		}
		// The invalidated block is still stored and can be fetched by hash.
		raw, err := c.RawBlock(ctx, chainHashes[29])
		if err != nil {
			t.Fatalf("RawBlock of the stale block: %v", err)
		}
		if b, err := btc.DecodeBlock(raw); err != nil || b.Hash != chainHashes[29] {
			t.Fatalf("stale block decodes to %v, %v", b, err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens here any more
	u := "http://" + addr
	c := newClient(t, btcrpc.Config{URL: u, User: "u", Pass: "p"})
	_, err = c.BlockCount(testContext(t))
	if want := "btcrpc: cannot reach node at " + u + ": connection refused"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not unwrap to ECONNREFUSED", err)
	}
}
