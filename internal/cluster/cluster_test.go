package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// fakeChain is an index Reader over records made in memory: the unit tests
// check the union-find, the merge records and rollback against an
// independent oracle without building a real index (the scenario tests in
// scenario_test.go do that).
type fakeChain struct {
	blocks   [][]index.TxRecord
	hashes   []chainhash.Hash
	nextAddr index.AddrID
}

var regtest = chain.Ledger{Chain: chain.Bitcoin, Network: chain.Regtest}

func (c *fakeChain) Ledger() chain.Ledger { return regtest }
func (c *fakeChain) Tip() index.Tip {
	t := index.Tip{Height: int64(len(c.blocks)) - 1, NextAddr: c.nextAddr}
	if len(c.hashes) > 0 {
		t.Hash = c.hashes[len(c.hashes)-1]
	}
	return t
}
func (c *fakeChain) BlockHash(h int64) (chainhash.Hash, error) {
	if h < 0 || h >= int64(len(c.hashes)) {
		return chainhash.Hash{}, fmt.Errorf("no block %d: %w", h, chain.ErrNotFound)
	}
	return c.hashes[h], nil
}
func (c *fakeChain) Scan(from, to int64, fn func(*index.TxRecord) error) error {
	if to < 0 || to >= int64(len(c.blocks)) {
		to = int64(len(c.blocks)) - 1
	}
	for h := max(from, 0); h <= to; h++ {
		for i := range c.blocks[h] {
			if err := fn(&c.blocks[h][i]); err != nil {
				return err
			}
		}
	}
	return nil
}
func (c *fakeChain) RecordByKey(k index.TxKey) (*index.TxRecord, error) {
	h, p := k.Height(), k.Pos()
	if h >= int64(len(c.blocks)) || p >= len(c.blocks[h]) {
		return nil, chain.ErrNotFound
	}
	return &c.blocks[h][p], nil
}
func (c *fakeChain) Outputs(id index.AddrID, fn func(index.OutEntry) bool) error {
	for h := range c.blocks {
		for i := range c.blocks[h] {
			r := &c.blocks[h][i]
			for v, o := range r.Out {
				if o.Addr != id {
					continue
				}
				e := index.OutEntry{Key: r.Key, Vout: uint32(v), Value: o.Value}
				e.Spender, e.Vin, e.Spent, _ = c.SpentBy(id, r.Key, uint32(v))
				if !fn(e) {
					return nil
				}
			}
		}
	}
	return nil
}
func (c *fakeChain) SpentBy(_ index.AddrID, k index.TxKey, vout uint32) (index.TxKey, uint32, bool, error) {
	for h := k.Height(); h < int64(len(c.blocks)); h++ {
		for i := range c.blocks[h] {
			for vin, in := range c.blocks[h][i].In {
				if in.PrevKey == k && in.Vout == vout {
					return c.blocks[h][i].Key, uint32(vin), true, nil
				}
			}
		}
	}
	return 0, 0, false, nil
}

// grow appends n random blocks made from rng: each has a coinbase and a
// few payments whose inputs come from up to three addresses of a pool of
// about addrs addresses, paying two outputs of different values.
func (c *fakeChain) grow(rng *rand.Rand, n, addrs int) {
	for range n {
		h := int64(len(c.blocks))
		newAddr := func() index.AddrID {
			if c.nextAddr == 0 {
				c.nextAddr = 1
			}
			if int(c.nextAddr) <= addrs || rng.IntN(4) == 0 {
				c.nextAddr++
				return c.nextAddr - 1
			}
			return index.AddrID(1 + rng.IntN(int(c.nextAddr)-1))
		}
		blk := []index.TxRecord{{Key: index.MakeTxKey(h, 0), Coinbase: true,
			Out: []index.OutRecord{{Value: 50_0000_0000, Addr: newAddr()}}}}
		for p := 1; p <= 1+rng.IntN(6); p++ {
			r := index.TxRecord{Key: index.MakeTxKey(h, p), Version: 2, Weight: 800}
			for range 1 + rng.IntN(3) {
				r.In = append(r.In, index.InRecord{Value: 1000 + rng.Uint64N(1e8), Addr: newAddr(), Type: 2})
			}
			r.Out = append(r.Out, index.OutRecord{Value: 500 + rng.Uint64N(1e6), Addr: newAddr(), Type: 2},
				index.OutRecord{Value: 1_000_001 + rng.Uint64N(1e6), Addr: newAddr(), Type: 2})
			blk = append(blk, r)
		}
		var hash chainhash.Hash
		for i := range hash {
			hash[i] = byte(rng.Uint32())
		}
		c.blocks = append(c.blocks, blk)
		c.hashes = append(c.hashes, hash)
	}
}

func (c *fakeChain) fork(at int64) *fakeChain {
	return &fakeChain{blocks: append([][]index.TxRecord(nil), c.blocks[:at]...),
		hashes: append([]chainhash.Hash(nil), c.hashes[:at]...), nextAddr: c.nextAddr}
}

// oracle clusters the chain with a plain map-based union-find with path
// compression, written independently of forest.
func oracle(c *fakeChain) map[index.AddrID]index.AddrID {
	parent := map[index.AddrID]index.AddrID{}
	var find func(index.AddrID) index.AddrID
	find = func(a index.AddrID) index.AddrID {
		p, ok := parent[a]
		if !ok || p == a {
			return a
		}
		r := find(p)
		parent[a] = r
		return r
	}
	for _, blk := range c.blocks {
		for _, r := range blk {
			for _, in := range r.In[min(1, len(r.In)):] {
				a, b := find(r.In[0].Addr), find(in.Addr)
				if a != b {
					parent[a] = b
				}
			}
		}
	}
	out := map[index.AddrID]index.AddrID{}
	for id := index.AddrID(1); id < c.nextAddr; id++ {
		out[id] = find(id)
	}
	return out
}

func openStore(t *testing.T, dir string, opt Options) *Store {
	t.Helper()
	s, err := Open(dir, regtest, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func update(t *testing.T, s *Store, c *fakeChain) Stats {
	t.Helper()
	st, err := s.Update(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// dump returns every key and value of the store.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var b bytes.Buffer
	for ok := it.First(); ok; ok = it.Next() {
		fmt.Fprintf(&b, "%x=%x\n", it.Key(), it.Value())
	}
	return b.String()
}

// checkAgainstOracle compares the clusters of s with the oracle's: the
// same partition of every address, and sizes that match.
func checkAgainstOracle(t *testing.T, s *Store, c *fakeChain) {
	t.Helper()
	want := oracle(c)
	ours := map[index.AddrID]index.AddrID{} // oracle root → our root
	theirs := map[index.AddrID]index.AddrID{}
	sizes := map[index.AddrID]uint64{}
	for id := index.AddrID(1); id < c.nextAddr; id++ {
		r, err := s.Root(id)
		if err != nil {
			t.Fatal(err)
		}
		sizes[r]++
		if o, ok := ours[want[id]]; ok && o != r {
			t.Fatalf("address %d: the oracle puts it with %d's cluster, we do not", id, o)
		}
		if o, ok := theirs[r]; ok && o != want[id] {
			t.Fatalf("address %d: we merge it with clusters the oracle keeps apart", id)
		}
		ours[want[id]], theirs[r] = r, want[id]
	}
	for r, n := range sizes {
		got, err := s.Size(r)
		if err != nil || got != n {
			t.Fatalf("size of cluster %d: %d, %v; counted %d", r, got, err, n)
		}
		var members uint64
		if err := s.Members(r, 0, func(index.AddrID) bool { members++; return true }); err != nil || members != n {
			t.Fatalf("members of cluster %d: %d, %v; want %d", r, members, err, n)
		}
	}
}

// checkExplain checks that every explanation is a valid chain: it starts
// at a, ends at b, each link shares an address with the next, and each
// link's transaction really spends from both of its addresses.
func checkExplain(t *testing.T, s *Store, c *fakeChain, rng *rand.Rand) {
	t.Helper()
	want := oracle(c)
	linkedPairs := 0
	for range 400 {
		a := index.AddrID(1 + rng.IntN(int(c.nextAddr)-1))
		b := index.AddrID(1 + rng.IntN(int(c.nextAddr)-1))
		linked, path, err := s.Explain(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if linked != (want[a] == want[b]) {
			t.Fatalf("Explain(%d, %d) linked=%v, oracle says %v", a, b, linked, want[a] == want[b])
		}
		if !linked {
			continue
		}
		linkedPairs++
		cur := a
		for i, l := range path {
			if l.From != cur {
				t.Fatalf("Explain(%d, %d) link %d starts at %d, not %d: %+v", a, b, i, l.From, cur, path)
			}
			r, err := c.RecordByKey(l.Tx)
			if err != nil {
				t.Fatal(err)
			}
			has := func(id index.AddrID) bool {
				for _, in := range r.In {
					if in.Addr == id {
						return true
					}
				}
				return false
			}
			if !has(l.From) || !has(l.To) || l.Kind != CoSpend {
				t.Fatalf("link %+v: the transaction does not spend from both", l)
			}
			cur = l.To
		}
		if cur != b {
			t.Fatalf("Explain(%d, %d) ends at %d", a, b, cur)
		}
	}
	if linkedPairs == 0 {
		t.Fatal("no linked pair was drawn: the test checked nothing")
	}
}

// bothPaths runs fn with commits as pebble batches and as ingested tables.
func bothPaths(t *testing.T, fn func(t *testing.T)) {
	for _, min := range []int{1 << 30, 0} {
		t.Run(fmt.Sprintf("ingestMin=%d", min), func(t *testing.T) {
			old := ingestMin
			ingestMin = min
			defer func() { ingestMin = old }()
			fn(t)
		})
	}
}

func TestClustersMatchOracle(t *testing.T)      { bothPaths(t, testClustersMatchOracle) }
func TestReorgRollsBackExactly(t *testing.T)    { bothPaths(t, testReorgRollsBackExactly) }
func TestInterruptedUpdateResumes(t *testing.T) { bothPaths(t, testInterruptedUpdateResumes) }

func testClustersMatchOracle(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			c := &fakeChain{}
			c.grow(rng, 60, 150)
			s := openStore(t, t.TempDir(), Options{})
			// Cluster in two steps: incremental updates must equal one pass.
			half := c.fork(30)
			update(t, s, half)
			st := update(t, s, c)
			if st.From != 30 || st.To != 59 || st.Blocks != 30 {
				t.Fatalf("second update: %+v", st)
			}
			checkAgainstOracle(t, s, c)
			checkExplain(t, s, c, rng)

			comp, err := ComputeComponents(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			n, largest, err := s.Components()
			if err != nil || comp.Clusters != n || comp.Largest != largest || n == 0 {
				t.Fatalf("components: in memory %d (largest %d), store %d (largest %d), %v", comp.Clusters, comp.Largest, n, largest, err)
			}

			// A read-only store answers the same.
			dir := s.Dir()
			s.Close()
			ro := openStore(t, dir, Options{ReadOnly: true})
			checkAgainstOracle(t, ro, c)
			checkExplain(t, ro, c, rng)
			if _, err := ro.Update(context.Background(), c, nil); err == nil {
				t.Fatal("a read-only store accepted an update")
			}
		})
	}
}

func testReorgRollsBackExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a := &fakeChain{}
	a.grow(rng, 40, 100)
	b := a.fork(25)
	b.grow(rng, 21, 100)

	s := openStore(t, t.TempDir(), Options{})
	update(t, s, a)
	st := update(t, s, b)
	if st.RolledBack != 15 || st.From != 25 || st.To != 45 {
		t.Fatalf("reorg update: %+v", st)
	}
	fresh := openStore(t, t.TempDir(), Options{})
	update(t, fresh, b)
	if got, want := dump(t, s), dump(t, fresh); got != want {
		t.Fatalf("after the reorg the store differs from one built on the new chain")
	}
	checkAgainstOracle(t, s, b)

	// A shorter chain (blocks removed, none added) rolls back too.
	short := b.fork(10)
	update(t, s, short)
	fresh = openStore(t, t.TempDir(), Options{})
	update(t, fresh, short)
	if dump(t, s) != dump(t, fresh) {
		t.Fatal("after rolling back to height 9 the store differs from one built on 10 blocks")
	}
}

func testInterruptedUpdateResumes(t *testing.T) {
	old := batchMerges
	batchMerges = 20
	defer func() { batchMerges = old }()

	rng := rand.New(rand.NewPCG(9, 9))
	c := &fakeChain{}
	c.grow(rng, 80, 200)
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	commits := 0
	_, err := s.Update(ctx, c, func(p Progress) {
		if commits++; commits == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("update: %v", err)
	}
	if h := s.Tip().Height; h <= 0 || h >= 79 {
		t.Fatalf("the interrupted update committed up to %d", h)
	}
	fresh := openStore(t, t.TempDir(), Options{})
	update(t, fresh, c)
	// Resumed in the same process (its forest held uncommitted merges)...
	update(t, s, c)
	if dump(t, s) != dump(t, fresh) {
		t.Fatal("an update resumed in the same process differs from one uninterrupted")
	}
	// ...and after reopening a store interrupted the same way.
	other := filepath.Join(t.TempDir(), "other")
	s2 := openStore(t, other, Options{})
	ctx, cancel = context.WithCancel(context.Background())
	commits = 0
	if _, err := s2.Update(ctx, c, func(Progress) {
		if commits++; commits == 2 {
			cancel()
		}
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("update: %v", err)
	}
	s2.Close()
	s2 = openStore(t, other, Options{})
	update(t, s2, c)
	if dump(t, s2) != dump(t, fresh) {
		t.Fatal("an update resumed after reopening differs from one uninterrupted")
	}
}

func TestStoreRejectsOtherLedgerAndOptions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	s := openStore(t, dir, Options{})
	c := &fakeChain{}
	c.grow(rand.New(rand.NewPCG(1, 1)), 3, 10)
	update(t, s, c)
	s.Close()
	if _, err := Open(dir, chain.Ledger{Chain: chain.Bitcoin, Network: chain.Mainnet}, Options{}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("other ledger: %v", err)
	}
	if _, err := Open(dir, regtest, Options{UseChange: true}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("other options: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none"), regtest, Options{ReadOnly: true}); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("read-only open of a missing store: %v", err)
	}
}

func TestCorruptRecordIsReported(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	c := &fakeChain{}
	c.grow(rng, 20, 50)
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	update(t, s, c)
	// Find a merged address and cut its record short.
	var child index.AddrID
	for id := index.AddrID(1); id < c.nextAddr && child == 0; id++ {
		if _, ok, _ := s.Record(id); ok {
			child = id
		}
	}
	if child == 0 {
		t.Fatal("nothing merged")
	}
	if err := s.db.Set(idKey(tParent, child), []byte{1, 2, 3}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Record(child); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt record: %v", err)
	}
}
