package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/blockfile"
	"github.com/vestigo-forensics/vestigo/internal/btcdtest"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

// TestSyncSurvivesSIGKILL feeds a generated chain with the ransomware
// scenario to a real btcd node, then syncs it into Vestigo while killing
// the syncer at random moments; the resumed index must equal a clean sync
// and the node's tip.
func TestSyncSurvivesSIGKILL(t *testing.T) {
	node, chainDir := nodeWithScenario(t, 5)
	tipHash, _ := node.BestBlock(t)

	rpc := []string{"sync", "btc", "--rpc", node.RPCURL, "--rpc-user", node.User, "--rpc-pass", node.Pass}
	clean := t.TempDir()
	ok(t, append([]string{"--data", clean}, rpc...)...)

	data := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	kills := 0
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatal("sync never finished")
		}
		cmd := exec.Command(vestigoBin, append(append([]string{"--data", data}, rpc...), "--commit-kb", "64")...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sync failed after %d kills: %v\n%s", kills, err, errb.String())
			}
		case <-time.After(time.Duration(5+rng.IntN(40+20*attempt)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
			continue
		}
		break
	}
	if kills < 3 {
		t.Fatalf("the sync was killed only %d times; the test proves little", kills)
	}
	t.Logf("finished after %d SIGKILLs", kills)

	truth, err := scenario.LoadTruth(filepath.Join(chainDir, "ground-truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	rw := truth.Ransomware
	txids := []string{rw.ConsolidationTxid}
	for _, p := range rw.RansomPayments {
		txids = append(txids, p.Txid)
	}
	addrs := append([]string{rw.ConsolidationAddress}, rw.RansomAddresses...)
	compareStores(t, clean, data, txids, addrs)
	st := jsonOf(t, ok(t, "--data", data, "status", "--json"))
	if got := st["networks"].([]any)[0].(map[string]any)["tip_hash"]; got != tipHash.String() {
		t.Fatalf("index tip %v, node %s", got, tipHash)
	}
	if !strings.Contains(ok(t, "--data", data, "address", rw.RansomAddresses[0]).stdout, "Balance") {
		t.Fatal("ransom address not readable")
	}
	// The sync kept the clusters up to date through the kills: nothing is
	// left to cluster, and the entities equal those of the clean sync.
	var built []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "--data", data, "cluster", "build", "--json").stdout), &built); err != nil || len(built) != 1 || built[0]["blocks"].(float64) != 0 {
		t.Fatalf("clusters were not up to date after the sync: %v %v", built, err)
	}
	for _, a := range append(addrs, rw.CoinJoin.AttackerOutputs[0].Address) {
		want := ok(t, "--data", clean, "cluster", a, "--json", "--limit", "0").stdout
		if got := ok(t, "--data", data, "cluster", a, "--json", "--limit", "0").stdout; got != want {
			t.Fatalf("entity of %s after the killed syncs differs from a clean sync:\n%s\nwant\n%s", a, got, want)
		}
	}
}

// nodeWithScenario starts a btcd regtest node holding the generated
// ransomware chain of seed, and returns it with the chain's directory.
func nodeWithScenario(t *testing.T, seed int) (*btcdtest.Node, string) {
	t.Helper()
	node := btcdtest.Start(t)
	chainDir := filepath.Join(t.TempDir(), "chain")
	ok(t, "generate", "btc", "--out", chainDir, "--seed", strconv.Itoa(seed), "--scenario", "ransomware")
	r, err := blockfile.Open(context.Background(), chainDir, blockfile.Options{MaxHeight: -1})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Blocks(context.Background(), 1, func(e blockfile.Entry, raw []byte) error {
		return node.SubmitBlock(context.Background(), raw)
	})
	r.Close()
	if err != nil {
		t.Fatalf("btcd refused a generated block: %v", err)
	}
	return node, chainDir
}
