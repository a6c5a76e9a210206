package cluster_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

func build(t *testing.T, f *fixture.Case, opt cluster.Options) *cluster.Store {
	t.Helper()
	s, err := cluster.Open(t.TempDir(), f.Index.Ledger(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Update(context.Background(), f.Index, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func root(t *testing.T, s *cluster.Store, id index.AddrID) index.AddrID {
	t.Helper()
	r, err := s.Root(id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRansomwareScenarioClusters checks the golden facts of the generated
// ransomware case: the ransom addresses are one cluster (the attacker
// consolidates them), the CoinJoin's participants stay apart, and the
// exchange's deposit addresses join its hot wallet through the sweeps.
func TestRansomwareScenarioClusters(t *testing.T) {
	f := fixture.Ransomware(t, 7)
	for _, opt := range []cluster.Options{{}, {UseChange: true}} {
		s := build(t, f, opt)
		rw := f.Truth.Ransomware

		r0 := root(t, s, f.ID(t, rw.RansomAddresses[0]))
		for _, a := range rw.RansomAddresses {
			if root(t, s, f.ID(t, a)) != r0 {
				t.Errorf("change=%v: ransom address %s is not in the cluster of %s", opt.UseChange, a, rw.RansomAddresses[0])
			}
		}
		// The consolidation's address is the attacker's too: linked, with
		// an explanation through the consolidation transaction.
		linked, path, err := s.Explain(f.ID(t, rw.RansomAddresses[0]), f.ID(t, rw.RansomAddresses[len(rw.RansomAddresses)-1]))
		if err != nil || !linked || len(path) == 0 {
			t.Fatalf("explain ransom addresses: linked=%v path=%v err=%v", linked, path, err)
		}
		consolidation, err := f.Index.TxidOf(path[0].Tx)
		if err != nil || consolidation.String() != rw.ConsolidationTxid {
			t.Errorf("the link is %v, not the consolidation %s", consolidation, rw.ConsolidationTxid)
		}

		// CoinJoin: every wallet's inputs stay in a different cluster.
		cj, err := f.Index.Record(mustHash(t, rw.CoinJoin.Txid))
		if err != nil {
			t.Fatal(err)
		}
		roots := map[index.AddrID]bool{}
		for _, in := range cj.In {
			roots[root(t, s, in.Addr)] = true
		}
		if len(roots) != rw.CoinJoin.Participants {
			t.Errorf("change=%v: the CoinJoin's %d participants' inputs are in %d clusters", opt.UseChange, rw.CoinJoin.Participants, len(roots))
		}

		// Exchange: deposit addresses that were swept join the hot wallet.
		var ex *scenario.TruthWallet
		for i := range f.Truth.Wallets {
			if f.Truth.Wallets[i].Kind == "exchange" {
				ex = &f.Truth.Wallets[i]
			}
		}
		hot := root(t, s, f.ID(t, ex.HotWallet[0]))
		swept := 0
		for _, d := range rw.ExchangeDeposits {
			if root(t, s, f.ID(t, d.Address)) != hot {
				t.Errorf("change=%v: deposit address %s (swept by %s) is not in the hot wallet's cluster", opt.UseChange, d.Address, d.SweepTxid)
			}
			swept++
		}
		if swept == 0 {
			t.Fatal("no exchange deposit in the scenario")
		}
		// Nobody else's address is in the attacker's cluster.
		owner := map[string]string{}
		for _, w := range f.Truth.Wallets {
			for _, a := range w.Addresses {
				owner[a] = w.ID
			}
		}
		var bad []string
		err = s.Members(r0, 0, func(id index.AddrID) bool {
			a, err := f.Index.Address(id)
			if err != nil {
				t.Fatal(err)
			}
			if owner[a] != rw.Attacker {
				bad = append(bad, a+" ("+owner[a]+")")
			}
			return true
		})
		if err != nil || len(bad) > 0 {
			t.Errorf("change=%v: the attacker's cluster holds others' addresses: %v %v", opt.UseChange, bad, err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

func mustHash(t *testing.T, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

// TestComponentsMatchNetworkx is the correctness oracle of the clustering
// benchmark: networkx's connected components of the exported edge list
// (scripts/components.py, Debian's python3-networkx installed by
// scripts/tools.sh) must equal ours in count and largest size.
func TestComponentsMatchNetworkx(t *testing.T) {
	f := fixture.Ransomware(t, 7)
	edges := filepath.Join(t.TempDir(), "edges.txt")
	out, err := os.Create(edges)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cluster.ExportEdges(context.Background(), f.Index, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Edges == 0 || st.CoinJoins == 0 {
		t.Fatalf("export: %+v (expected edges and the scenario's CoinJoin)", st)
	}
	cmd := exec.Command("/usr/bin/python3", filepath.Join("..", "..", "scripts", "components.py"), "networkx", edges)
	cmd.Stderr = os.Stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("networkx (install it with scripts/tools.sh pypeers): %v", err)
	}
	var nx struct {
		Components uint64 `json:"components"`
		Largest    uint32 `json:"largest"`
	}
	if err := json.Unmarshal(res, &nx); err != nil {
		t.Fatalf("networkx output %q: %v", res, err)
	}
	ours, err := cluster.ComputeComponents(context.Background(), f.Index)
	if err != nil {
		t.Fatal(err)
	}
	s := build(t, f, cluster.Options{})
	n, largest, err := s.Components()
	if err != nil {
		t.Fatal(err)
	}
	if nx.Components != ours.Clusters || nx.Largest != ours.Largest || n != ours.Clusters || largest != ours.Largest {
		t.Fatalf("networkx: %d components, largest %d; in memory: %d, largest %d; store: %d, largest %d",
			nx.Components, nx.Largest, ours.Clusters, ours.Largest, n, largest)
	}
	if ours.Edges != st.Edges {
		t.Fatalf("edges: export %d, in memory %d", st.Edges, ours.Edges)
	}
	t.Logf("%d edges, %d components, largest %d (networkx agrees)", st.Edges, nx.Components, nx.Largest)
}
