package cluster

import (
	"fmt"
	"math"

	"github.com/vestigo-forensics/vestigo/internal/index"
)

// forest is the union-find over address ids held in memory: 4 bytes of
// parent and 4 of size per address. parent 0 marks a root; extra holds a
// root's size minus one.
type forest struct {
	parent []uint32
	extra  []uint32
}

// maxAddrs bounds the address ids a forest can hold (parents are 32-bit).
const maxAddrs = math.MaxUint32

func (f *forest) grow(n uint64) error {
	if n > maxAddrs {
		return fmt.Errorf("cluster: %d addresses exceed the %d a cluster store can hold", n, uint64(maxAddrs))
	}
	if uint64(len(f.parent)) >= n {
		return nil
	}
	c := max(n, uint64(len(f.parent))*5/4)
	c = min(c, maxAddrs)
	p := make([]uint32, n, c)
	copy(p, f.parent)
	e := make([]uint32, n, c)
	copy(e, f.extra)
	f.parent, f.extra = p, e
	return nil
}

func (f *forest) parentOf(id index.AddrID) index.AddrID {
	if uint64(id) >= uint64(len(f.parent)) {
		return 0
	}
	return index.AddrID(f.parent[id])
}

func (f *forest) find(id index.AddrID) index.AddrID {
	if uint64(id) >= uint64(len(f.parent)) {
		return id
	}
	for {
		p := f.parent[id]
		if p == 0 {
			return id
		}
		id = index.AddrID(p)
	}
}

func (f *forest) size(root index.AddrID) uint32 {
	if uint64(root) >= uint64(len(f.extra)) {
		return 1
	}
	return f.extra[root] + 1
}

// link attaches the smaller of the two roots under the larger (the lower
// id stays root on a tie, so older clusters keep their id) and returns
// child and parent.
func (f *forest) link(ra, rb index.AddrID) (child, parent index.AddrID) {
	sa, sb := f.extra[ra], f.extra[rb]
	if sa < sb || (sa == sb && ra > rb) {
		child, parent = ra, rb
	} else {
		child, parent = rb, ra
	}
	f.parent[child] = uint32(parent)
	f.extra[parent] += f.extra[child] + 1
	return child, parent
}

// unlink undoes link.
func (f *forest) unlink(child, parent index.AddrID, childSize uint32) {
	f.parent[child] = 0
	f.extra[parent] -= childSize
	f.extra[child] = childSize - 1
}

// components counts the clusters of two or more addresses and the size of
// the largest.
func (f *forest) components() (n uint64, largest uint32) {
	for id, p := range f.parent {
		if p == 0 && f.extra[id] > 0 {
			n++
			largest = max(largest, f.extra[id]+1)
		}
	}
	return n, largest
}
