package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btcdtest"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// TestFollowKeepsClustersThroughReorg follows a real btcd node with
// sync --follow while a reorganisation removes blocks that merged
// clusters: the follower's entities must equal those of a clean sync of
// the new chain, and differ from the old chain's.
func TestFollowKeepsClustersThroughReorg(t *testing.T) {
	node, _ := nodeWithScenario(t, 9)
	rpc := []string{"sync", "btc", "--rpc", node.RPCURL, "--rpc-user", node.User, "--rpc-pass", node.Pass}
	before := t.TempDir()
	ok(t, append([]string{"--data", before}, rpc...)...)

	// The highest block with a transaction that merges two addresses, and
	// those addresses.
	_, tip := node.BestBlock(t)
	var fork int64
	var merged []string
	for h := tip; h > tip-50 && fork == 0; h-- {
		b := jsonOf(t, ok(t, "--data", before, "block", strconv.FormatInt(h, 10), "--json", "--txids"))
		for _, id := range b["txids"].([]any)[1:] {
			tx := jsonOf(t, ok(t, "--data", before, "tx", id.(string), "--json"))
			seen := map[string]bool{}
			for _, in := range tx["inputs"].([]any) {
				if a, _ := in.(map[string]any)["address"].(string); a != "" {
					seen[a] = true
				}
			}
			if len(seen) >= 2 && tx["coinjoin"].(map[string]any)["is_coinjoin"] == false {
				fork = h
				for a := range seen {
					merged = append(merged, a)
				}
			}
		}
	}
	if fork == 0 {
		t.Fatal("no merging transaction in the last 50 blocks")
	}

	data := t.TempDir()
	ok(t, append([]string{"--data", data}, rpc...)...)
	cmd := exec.Command(vestigoBin, append(append([]string{"--data", data}, rpc...), "--follow", "--poll", "50ms")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tips := make(chan int64, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var h int64
			var hash string
			if _, err := fmt.Sscanf(sc.Text(), "tip: block %d %s", &h, &hash); err == nil {
				tips <- h
			}
		}
		io.Copy(io.Discard, stderr)
		close(tips)
	}()
	waitTip := func(want int64) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case h, open := <-tips:
				if !open {
					t.Fatal("the follower exited")
				}
				if h == want {
					return
				}
			case <-deadline:
				t.Fatalf("the follower never reached block %d", want)
			}
		}
	}
	node.Generate(t, 1)
	waitTip(tip + 1)
	staleHash := blockHashOf(t, node, fork)
	node.InvalidateBlock(t, staleHash)
	node.Generate(t, int(tip+1-fork)+2)
	_, newTip := node.BestBlock(t)
	waitTip(newTip)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("follower: %v", err)
	}

	after := t.TempDir()
	ok(t, append([]string{"--data", after}, rpc...)...)
	changed := false
	for _, a := range merged {
		want := ok(t, "--data", after, "cluster", a, "--json", "--limit", "0").stdout
		if got := ok(t, "--data", data, "cluster", a, "--json", "--limit", "0").stdout; got != want {
			t.Fatalf("entity of %s after follow and reorg differs from a clean sync:\n%s\nwant\n%s", a, got, want)
		}
		if old := ok(t, "--data", before, "cluster", a, "--json", "--limit", "0").stdout; old != want {
			changed = true
		}
	}
	if !changed {
		t.Fatal("the reorg changed no entity: the test proves nothing")
	}
	var built []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "--data", data, "cluster", "build", "--json").stdout), &built); err != nil || built[0]["blocks"].(float64) != 0 {
		t.Fatalf("clusters not up to date after follow: %v %v", built, err)
	}
}

func blockHashOf(t *testing.T, node *btcdtest.Node, h int64) chainhash.Hash {
	t.Helper()
	raw, err := node.Call(context.Background(), "getblockhash", h)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := workspace.ParseHash(strings.Trim(string(raw), "\""))
	if err != nil {
		t.Fatal(err)
	}
	return hash
}
