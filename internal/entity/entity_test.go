package entity

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

// service builds the attribution service of the generated ransomware case
// with clusters and the given tag CSV imported.
func service(t *testing.T, csv func(c *fixture.Case) string) (*Service, *fixture.Case) {
	t.Helper()
	c := fixture.Ransomware(t, 13)
	cs, err := cluster.Open(t.TempDir(), c.Index.Ledger(), cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	if _, err := cs.Update(context.Background(), c.Index, nil); err != nil {
		t.Fatal(err)
	}
	ts, err := tags.Open(filepath.Join(t.TempDir(), "tags.db"), tags.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	path := filepath.Join(t.TempDir(), "tags.csv")
	if err := os.WriteFile(path, []byte(csv(c)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Import(context.Background(), path, tags.FormatCSV, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	return &Service{Index: c.Index, Clusters: cs, Tags: ts}, c
}

func decode(t *testing.T, c *fixture.Case, s string) btc.Addr {
	t.Helper()
	a, err := c.Params.DecodeAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestEntityTagsAndConflicts tags the exchange's hot wallet as an exchange
// and one of its deposit addresses as ransomware: the entity of another
// deposit address holds both as cluster tags, flags the conflict, and
// reading the members in small batches changes nothing.
func TestEntityTagsAndConflicts(t *testing.T) {
	svc, c := service(t, func(c *fixture.Case) string {
		rw := c.Truth.Ransomware
		var hot string
		for _, w := range c.Truth.Wallets {
			if w.Kind == "exchange" {
				hot = w.HotWallet[0]
			}
		}
		return "address,label,category,source\n" + hot + ",Exchange X hot wallet,exchange,court order 1\n" +
			rw.ExchangeDeposits[0].Address + ",Ransom cash-out,ransomware,victim report\n"
	})
	rw := c.Truth.Ransomware
	if len(rw.ExchangeDeposits) < 2 {
		t.Fatal("the case needs two exchange deposits")
	}
	asked := rw.ExchangeDeposits[1].Address
	var first *Entity
	for _, batch := range []int{1000, 7} {
		old := tagBatch
		tagBatch = batch
		e, err := svc.Entity(context.Background(), decode(t, c, asked), 0, 5)
		tagBatch = old
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Tags) != 2 || e.Tags[0].Origin != "cluster" || e.Tags[1].Origin != "cluster" {
			t.Fatalf("batch %d: tags %+v", batch, e.Tags)
		}
		if strings.Join(e.Categories, ",") != "exchange,ransomware" || len(e.Conflicts) == 0 || e.Size < 3 || len(e.Addresses) != 5 {
			t.Fatalf("batch %d: entity %+v", batch, e)
		}
		if first != nil && (first.Size != e.Size || first.TotalReceived.Cmp(e.TotalReceived) != 0 || first.TxCount != e.TxCount) {
			t.Fatalf("batch sizes change the entity: %+v vs %+v", first, e)
		}
		first = e
	}
	direct, err := svc.TagsOf(context.Background(), decode(t, c, rw.ExchangeDeposits[0].Address))
	if err != nil || len(direct) != 2 || direct[0].Origin != "direct" || direct[0].Label != "Ransom cash-out" || direct[1].Origin != "cluster" {
		t.Fatalf("tags of the tagged deposit: %+v %v", direct, err)
	}
}

// TestScreen screens a list with a sanctioned address, a member of its
// cluster, an untagged address and junk.
func TestScreen(t *testing.T) {
	svc, c := service(t, func(c *fixture.Case) string {
		return "address,label,category,source\n"
	})
	rw := c.Truth.Ransomware
	pack := filepath.Join(t.TempDir(), "sdn.yaml")
	os.WriteFile(pack, []byte("title: t\ncreator: t\nlastmod: 2026-01-01\nlabel: OFAC listed\ncategory: user\n"+
		"source: https://sanctionssearch.ofac.treas.gov/\ntags:\n- address: "+rw.RansomAddresses[0]+"\n  currency: BTC\n"), 0o600)
	if _, err := svc.Tags.Import(context.Background(), pack, "", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	var other string
	for _, w := range c.Truth.Wallets {
		if w.Kind == "merchant" && other == "" {
			other = w.Addresses[0]
		}
	}
	res, sum, err := svc.Screen(context.Background(), []string{rw.RansomAddresses[0], rw.RansomAddresses[1], other, "not-an-address"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Screened != 4 || sum.Sanctioned != 2 || sum.Invalid != 1 || sum.Tagged != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if !res[0].Sanctioned || res[0].SanctionedVia != "direct" || !res[1].Sanctioned || res[1].SanctionedVia != "cluster" ||
		res[2].Sanctioned || res[3].Valid || res[3].Error == "" || res[0].ClusterID != res[1].ClusterID {
		t.Fatalf("results %+v", res)
	}
}

// TestExposure: the victims bought the ransom at the exchange and the
// attacker cashed out there, so a ransom address is exposed to the exchange
// both ways, indirectly; tagging its own cluster changes nothing.
func TestExposure(t *testing.T) {
	svc, c := service(t, func(c *fixture.Case) string {
		var hot string
		for _, w := range c.Truth.Wallets {
			if w.Kind == "exchange" {
				hot = w.HotWallet[0]
			}
		}
		return "address,label,category,source\n" + hot + ",Exchange X,exchange,court order\n" +
			c.Truth.Ransomware.RansomAddresses[1] + ",Ransom,ransomware,victim report\n"
	})
	ex, err := svc.Exposure(context.Background(), decode(t, c, c.Truth.Ransomware.RansomAddresses[0]), 6)
	if err != nil {
		t.Fatal(err)
	}
	in, out := ex.Incoming["exchange"], ex.Outgoing["exchange"]
	if in.Indirect.IsZero() || out.Indirect.IsZero() || !out.Direct.IsZero() || out.Share <= 0 || out.Share >= 1 || in.Share <= 0 || in.Share > 1 {
		t.Fatalf("exposure %+v", ex)
	}
	if _, ok := ex.Outgoing["ransomware"]; ok {
		t.Fatalf("the address's own cluster counted as exposure: %+v", ex.Outgoing)
	}
}
