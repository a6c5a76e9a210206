package entity

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/tags"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

func noTags(*fixture.Case) string { return "address,label,category,source\n" }

// TestFollowChangeListsPeels: following change from the consolidation
// address walks the peel chain; every payment it lists is a peel of the
// scenario at its hop with its exact value, most peels are found, and no
// payment is invented.
func TestFollowChangeListsPeels(t *testing.T) {
	svc, c := service(t, noTags)
	rw := c.Truth.Ransomware
	e, err := svc.AddressEndpoint(decode(t, c, rw.ConsolidationAddress))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.TraceEndpoint(context.Background(), e, TraceRequest{
		Params: trace.Params{Hops: len(rw.PeelChain), Model: trace.Haircut}, FollowChange: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Params.FollowChange || rep.Params.MinChangeConfidence != 0.75 {
		t.Fatalf("params %+v", rep.Params)
	}
	// Along the chain: in each peel transaction whose change was told,
	// the peel is a payment (not followed) and the remainder is followed;
	// the trail reaches the last hop. Beyond the peels, outputs of
	// transactions without detected change are followed too, so payments
	// elsewhere are not checked here.
	payment := map[string]bool{}
	for _, d := range rep.Destinations {
		if d.Reason == trace.ReasonPayment {
			payment[d.Address] = true
		}
	}
	inTx := map[string]map[string]bool{}
	for _, e := range rep.Edges {
		if inTx[e.Txid] == nil {
			inTx[e.Txid] = map[string]bool{}
		}
		inTx[e.Txid][e.To] = true
	}
	found := 0
	for _, h := range rw.PeelChain {
		to := inTx[h.Txid]
		if !to[h.RemainderAddress] {
			t.Fatalf("hop %d: the remainder %s was not followed", h.Hop, h.RemainderAddress)
		}
		if payment[h.RemainderAddress] {
			t.Fatalf("hop %d: the remainder %s was taken for a payment", h.Hop, h.RemainderAddress)
		}
		if to[h.PeelAddress] && payment[h.PeelAddress] {
			found++
		}
	}
	if found*2 < len(rw.PeelChain) {
		t.Fatalf("%d of %d peels found as payments", found, len(rw.PeelChain))
	}
	if _, err := svc.TraceEndpoint(context.Background(), e, TraceRequest{
		Params: trace.Params{Direction: trace.Backward}, FollowChange: true}); err == nil {
		t.Fatal("a backward trace accepted --follow-change")
	}
}

// TestTraceFromEntity: the attacker's entity (its ransom addresses,
// co-spent by the consolidation) received exactly the ransoms from outside.
func TestTraceFromEntity(t *testing.T) {
	svc, c := service(t, noTags)
	rw := c.Truth.Ransomware
	e, err := svc.EntityOf(decode(t, c, rw.RansomAddresses[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rw.RansomAddresses {
		id := c.ID(t, a)
		if _, ok := slicesIndex(e.Addrs, id); !ok {
			t.Fatalf("ransom address %s is not in the entity of the first", a)
		}
	}
	byID, err := svc.EntityByID(uint64(e.Addrs[len(e.Addrs)-1]))
	if err != nil || byID.Root != e.Root || len(byID.Addrs) != len(e.Addrs) {
		t.Fatalf("entity by a member's id: %+v %v", byID, err)
	}
	rep, err := svc.TraceEndpoint(context.Background(), e, TraceRequest{Params: trace.Params{Hops: 2}})
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, p := range rw.RansomPayments {
		want += p.Value
	}
	if rep.Source != chain.Sats(want) {
		t.Fatalf("the entity received %s from outside, the victims paid %d", rep.Source, want)
	}
	if _, err := svc.EntityByID(uint64(c.Index.Tip().NextAddr)); err == nil {
		t.Fatal("an entity id past the last address was accepted")
	}
}

func slicesIndex(s []index.AddrID, v index.AddrID) (int, bool) {
	for i, x := range s {
		if x == v {
			return i, true
		}
	}
	return 0, false
}

// TestPathsFromEntity: a path leads from the attacker's entity to the
// first exchange deposit in one hop more than the peel's hop (the
// consolidation first), and a path between overlapping ends is refused.
func TestPathsFromEntity(t *testing.T) {
	svc, c := service(t, noTags)
	rw := c.Truth.Ransomware
	from, err := svc.EntityOf(decode(t, c, rw.RansomAddresses[0]))
	if err != nil {
		t.Fatal(err)
	}
	var dep = -1
	for i, h := range rw.PeelChain {
		if h.ToExchange {
			dep = i
			break
		}
	}
	if dep < 0 {
		t.Fatal("the scenario made no exchange peel")
	}
	to, err := svc.AddressEndpoint(decode(t, c, rw.PeelChain[dep].PeelAddress))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.PathsBetween(from, to, trace.PathParams{Hops: 12, K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Paths) != 1 || rep.Paths[0].Hops != rw.PeelChain[dep].Hop+1 || rep.Paths[0].Txids[0] != rw.ConsolidationTxid ||
		rep.Paths[0].Txids[len(rep.Paths[0].Txids)-1] != rw.PeelChain[dep].Txid {
		t.Fatalf("paths %+v", rep.Paths)
	}
	one, err := svc.AddressEndpoint(decode(t, c, rw.RansomAddresses[1]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PathsBetween(from, one, trace.PathParams{}); err == nil {
		t.Fatal("a path from an entity to its own address was accepted")
	}
}

// TestMixerUse tags a peel address as a mixing service: the peel
// transaction is found as mixer use from the chain range and from the
// paying address, and not from an unrelated address.
func TestMixerUse(t *testing.T) {
	// A peel to a mule (not to the exchange, whose cluster is busy) after
	// the first: its input is the previous remainder.
	pick := func(c *fixture.Case) int {
		for i, h := range c.Truth.Ransomware.PeelChain {
			if i > 0 && !h.ToExchange {
				return i
			}
		}
		t.Fatal("no mule peel after the first")
		return 0
	}
	svc, c := service(t, func(c *fixture.Case) string {
		return "address,label,category,source\n" + c.Truth.Ransomware.PeelChain[pick(c)].PeelAddress + ",Mixer Z,mixing_service,test\n"
	})
	rw := c.Truth.Ransomware
	hop := pick(c)
	h := rw.PeelChain[hop]
	ctx := context.Background()
	all, err := svc.MixerUseRange(ctx, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.Patterns(all)
	if err != nil {
		t.Fatal(err)
	}
	var peelKey index.TxKey
	for i, p := range ps {
		if p.Type != detect.MixerUse {
			t.Fatalf("finding %+v", p)
		}
		if p.Txids[0] == h.Txid && p.Params["direction"] == "to mixer" && p.Params["amount_sats"] == h.PeelValue &&
			p.Addresses[len(p.Addresses)-1] == h.PeelAddress {
			peelKey = all[i].Txs[0]
		}
	}
	if peelKey == 0 {
		t.Fatalf("the peel into the tagged mixer was not found: %+v", ps)
	}
	payer := rw.PeelChain[hop-1].RemainderAddress
	fs, err := svc.MixerUse(ctx, c.ID(t, payer))
	if err != nil || len(fs) == 0 || !slices.ContainsFunc(fs, func(f detect.Finding) bool { return f.Txs[0] == peelKey }) {
		t.Fatalf("from the payer %s: %+v %v", payer, fs, err)
	}
	if fs, err := svc.MixerUse(ctx, c.ID(t, rw.RansomAddresses[0])); err != nil || len(fs) != 0 {
		t.Fatalf("an unrelated address: %+v %v", fs, err)
	}
}

// TestLabelCache: the stop-rule labels are built once and reused while the
// tags are unchanged, and rebuilt after a new tag.
func TestLabelCache(t *testing.T) {
	svc, c := service(t, noTags)
	svc.Labels = &LabelCache{}
	ctx := context.Background()
	a, err := svc.clusterLabels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.clusterLabels(ctx)
	if err != nil || len(a) != 0 || fmt.Sprintf("%p", a) != fmt.Sprintf("%p", b) {
		t.Fatalf("the cache was not reused: %p %p %v", a, b, err)
	}
	addr := c.Truth.Ransomware.RansomAddresses[0]
	if err := svc.Tags.AddUserTag(ctx, tags.Tag{Address: addr, Label: "Ransom", Category: "ransomware", Source: "test",
		Currency: "BTC", Creator: "analyst"}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	m, err := svc.clusterLabels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := svc.clusterOf(c.ID(t, addr))
	if err != nil || m[root] == nil || m[root].labels[0] != "Ransom" {
		t.Fatalf("after a new tag: %+v %v", m[root], err)
	}
}

// TestSummaryCache: an entity read again from the cache equals the one
// computed, pages read from the cache hold the same addresses, and a new
// tag is seen at once.
func TestSummaryCache(t *testing.T) {
	svc, c := service(t, noTags)
	ctx := context.Background()
	a := decode(t, c, c.Truth.Ransomware.RansomAddresses[0])
	fresh, err := svc.Entity(ctx, a, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	svc.Summaries = &SummaryCache{}
	for i := 0; i < 2; i++ { // computed, then cached
		e, err := svc.Entity(ctx, a, 0, 0)
		if err != nil || !reflect.DeepEqual(e, fresh) {
			t.Fatalf("run %d: %+v %v\nwant %+v", i, e, err, fresh)
		}
	}
	if len(fresh.Addresses) < 5 {
		t.Fatalf("the entity has %d addresses; the test needs 5", len(fresh.Addresses))
	}
	page, err := svc.Entity(ctx, a, 2, 3)
	if err != nil || !reflect.DeepEqual(page.Addresses, fresh.Addresses[2:5]) || page.TotalReceived != fresh.TotalReceived || page.TxCount != fresh.TxCount {
		t.Fatalf("cached page %+v %v", page, err)
	}
	if err := svc.Tags.AddUserTag(ctx, tags.Tag{Address: c.Truth.Ransomware.RansomAddresses[1], Label: "Ransom", Category: "ransomware",
		Source: "test", Currency: "BTC", Creator: "analyst"}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	e, err := svc.Entity(ctx, a, 0, 0)
	if err != nil || len(e.Tags) != 1 || e.Tags[0].Label != "Ransom" {
		t.Fatalf("after a new tag: %+v %v", e.Tags, err)
	}
}
