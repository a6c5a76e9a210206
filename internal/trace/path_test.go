package trace

import (
	"math/rand/v2"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/index"
)

func TestPathsByHand(t *testing.T) {
	b := newBook()
	f := b.add(1, nil, pay{x, 1000}, pay{x, 500})
	t1 := b.add(2, []Outpoint{{f, 0}}, pay{p, 990})
	b.add(3, []Outpoint{{t1, 0}}, pay{q, 980})
	t3 := b.add(4, []Outpoint{{f, 1}}, pay{q, 200}, pay{x, 290})
	res, err := Paths(b, x, q, PathParams{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Paths) != 2 || len(res.Paths[0]) != 1 || len(res.Paths[1]) != 2 || res.Summarised {
		t.Fatalf("paths %+v", res)
	}
	if s := res.Paths[0][0]; s.Tx != t3 || s.From != x || s.To != q || s.Amount != 200 {
		t.Fatalf("shortest path %+v", res.Paths[0])
	}
	if s := res.Paths[1]; s[0].To != p || s[1].From != p || s[1].To != q || s[1].Amount != 980 {
		t.Fatalf("second path %+v", s)
	}
	res, err = Paths(b, q, x, PathParams{})
	if err != nil || len(res.Paths) != 0 {
		t.Fatalf("backwards: %+v %v", res, err)
	}
	res, err = Paths(b, x, q, PathParams{K: 1, Hops: 1})
	if err != nil || len(res.Paths) != 1 {
		t.Fatalf("one hop: %+v %v", res, err)
	}
}

// TestShortestPathMatchesBFS compares the first path's length with an
// independent breadth-first search over the address graph, and checks
// that every path is a chain of real transfers.
func TestShortestPathMatchesBFS(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 5))
		b := randomBook(rng, 200)
		// The oracle's graph: u → v when a transaction spends u and pays v.
		adj := map[index.AddrID]map[index.AddrID]bool{}
		for _, r := range b.txs {
			for _, in := range r.In {
				for _, o := range r.Out {
					if o.Addr != in.Addr {
						if adj[in.Addr] == nil {
							adj[in.Addr] = map[index.AddrID]bool{}
						}
						adj[in.Addr][o.Addr] = true
					}
				}
			}
		}
		for range 10 {
			from, to := index.AddrID(1+rng.IntN(40)), index.AddrID(1+rng.IntN(40))
			if from == to {
				continue
			}
			dist := map[index.AddrID]int{from: 0}
			queue := []index.AddrID{from}
			for len(queue) > 0 {
				u := queue[0]
				queue = queue[1:]
				for v := range adj[u] {
					if _, ok := dist[v]; !ok {
						dist[v] = dist[u] + 1
						queue = append(queue, v)
					}
				}
			}
			res, err := Paths(b, from, to, PathParams{Hops: 6, K: 4})
			if err != nil {
				t.Fatal(err)
			}
			d, reachable := dist[to]
			if reachable && d <= 6 {
				if len(res.Paths) == 0 || len(res.Paths[0]) != d {
					t.Fatalf("seed %d: %d→%d at distance %d, found %+v", seed, from, to, d, res.Paths)
				}
			} else if len(res.Paths) != 0 {
				t.Fatalf("seed %d: %d→%d unreachable within 6, found %+v", seed, from, to, res.Paths)
			}
			for _, path := range res.Paths {
				cur := from
				for _, s := range path {
					rec := b.txs[s.Tx]
					spends := false
					for _, in := range rec.In {
						spends = spends || in.Addr == cur
					}
					if s.From != cur || !spends {
						t.Fatalf("seed %d: step %+v does not continue from %d", seed, s, cur)
					}
					cur = s.To
				}
				if cur != to {
					t.Fatalf("seed %d: path ends at %d", seed, cur)
				}
			}
		}
	}
}
