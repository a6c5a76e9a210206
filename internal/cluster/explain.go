package cluster

import (
	"fmt"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Link is one step of an explanation: transaction Tx spent from From and
// To together (co-spend), or paid its change to To (change).
type Link struct {
	Tx       index.TxKey
	From, To index.AddrID
	Kind     Kind
}

// Explain returns the chain of transactions that links address a to
// address b, each link sharing an address with the next; linked is false
// when they are in different clusters. The path is the unique path between
// them in the spanning tree the merges form, found without reading the
// rest of the cluster: O(path length × tree depth) lookups.
func (s *Store) Explain(a, b index.AddrID) (linked bool, path []Link, err error) {
	ra, err := s.Root(a)
	if err != nil {
		return false, nil, err
	}
	rb, err := s.Root(b)
	if err != nil {
		return false, nil, err
	}
	if ra != rb {
		return false, nil, nil
	}
	path, err = s.path(ra, a, b, 0)
	if err != nil {
		return false, nil, err
	}
	return true, path, nil
}

// partOf returns x if u is x, else the child of x whose subtree holds u.
func (s *Store) partOf(x, u index.AddrID) (index.AddrID, error) {
	for depth := 0; u != x; depth++ {
		p, err := s.parentOf(u)
		if err != nil {
			return 0, err
		}
		if p == 0 || depth > 64 {
			return 0, fmt.Errorf("cluster: %w: %d is not under %d", ErrCorrupt, u, x)
		}
		if p == x {
			return u, nil
		}
		u = p
	}
	return x, nil
}

// path returns the spanning-tree path from u to v, both in the subtree of
// x. The subtree of x is x itself plus the subtrees of its children; each
// child c was attached by the merge record m(c) whose From is in c's
// subtree and whose To is in x or in a child attached before c. Those
// "parts" form a tree rooted at x: climbing from u's part and from v's
// part meets at one part; the path is the recursion inside each part
// joined by the records between parts.
func (s *Store) path(x, u, v index.AddrID, depth int) ([]Link, error) {
	if u == v {
		return nil, nil
	}
	if depth > 128 {
		return nil, fmt.Errorf("cluster: %w: explanation deeper than 128 levels", ErrCorrupt)
	}
	pu, err := s.partOf(x, u)
	if err != nil {
		return nil, err
	}
	pv, err := s.partOf(x, v)
	if err != nil {
		return nil, err
	}
	if pu == pv {
		return s.path(pu, u, v, depth+1)
	}
	type step struct {
		part index.AddrID
		m    Merge
	}
	climb := func(p index.AddrID) ([]step, error) {
		var out []step
		for p != x {
			m, ok, err := s.Record(p)
			if err != nil {
				return nil, err
			}
			if !ok || m.Parent != x {
				return nil, fmt.Errorf("cluster: %w: %d is not a child of %d", ErrCorrupt, p, x)
			}
			out = append(out, step{p, m})
			if len(out) > 1<<20 {
				return nil, fmt.Errorf("cluster: %w: cycle of parts under %d", ErrCorrupt, x)
			}
			if p, err = s.partOf(x, m.To); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	cu, err := climb(pu)
	if err != nil {
		return nil, err
	}
	cv, err := climb(pv)
	if err != nil {
		return nil, err
	}
	// The parts each side passes through, ending at x.
	partsU := make(map[index.AddrID]int, len(cu)+1)
	for i, st := range cu {
		partsU[st.part] = i
	}
	partsU[x] = len(cu)
	iV := len(cv)
	meet := x
	for i, st := range cv {
		if _, ok := partsU[st.part]; ok {
			iV, meet = i, st.part
			break
		}
	}
	iU := partsU[meet]
	walk := func(steps []step, from index.AddrID) ([]Link, index.AddrID, error) {
		var links []Link
		cur := from
		for _, st := range steps {
			inner, err := s.path(st.part, cur, st.m.From, depth+1)
			if err != nil {
				return nil, 0, err
			}
			links = append(links, inner...)
			links = append(links, Link{Tx: st.m.Tx, From: st.m.From, To: st.m.To, Kind: st.m.Kind})
			cur = st.m.To
		}
		return links, cur, nil
	}
	left, curU, err := walk(cu[:iU], u)
	if err != nil {
		return nil, err
	}
	right, curV, err := walk(cv[:iV], v)
	if err != nil {
		return nil, err
	}
	var middle []Link
	if meet != x {
		if middle, err = s.path(meet, curU, curV, depth+1); err != nil {
			return nil, err
		}
	} else if curU != x || curV != x {
		return nil, fmt.Errorf("cluster: %w: parts of %d do not meet at it", ErrCorrupt, x)
	}
	slices.Reverse(right)
	for i := range right {
		right[i].From, right[i].To = right[i].To, right[i].From
	}
	out := append(left, middle...)
	return append(out, right...), nil
}
