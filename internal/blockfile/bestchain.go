package blockfile

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Heights of blocks not (yet) placed in the tree.
const (
	unknown  = -1 // not visited
	orphan   = -2 // ancestry does not reach genesis
	visiting = -3 // on the walk being resolved
)

// buildChain links the scanned blocks by prev-hash from genesis, picks the
// tip with the most cumulative work (the first seen on a tie), checks the
// proof of work of the chain, cuts it at maxHeight and stores it in r.
func (r *Reader) buildChain(s *scanner, maxHeight int64) error {
	recs := s.recs
	p := s.params
	g, ok := s.seen[p.GenesisHash()]
	if !ok {
		hint := ""
		if r.files[0].num != 0 {
			hint = fmt.Sprintf("; the lowest block file is blk%05d.dat (pruned node?)", r.files[0].num)
		}
		return fmt.Errorf("blockfile: %w: %s holds no %s genesis block %s%s", chain.ErrInvalid, r.dir, p.Network, p.GenesisHash(), hint)
	}

	parent := make([]int32, len(recs))
	for i := range recs {
		parent[i] = -1
		if prev, ok := s.seen[chainhash.Hash(recs[i].hdr[4:36])]; ok && int32(i) != g {
			parent[i] = prev
		}
	}
	height := make([]int32, len(recs))
	for i := range height {
		height[i] = unknown
	}
	works := make([]work, len(recs))
	perBits := make(map[uint32]work)
	workOf := func(i int32) work {
		b := binary.LittleEndian.Uint32(recs[i].hdr[72:76])
		w, ok := perBits[b]
		if !ok {
			w = workFromBig(btc.Work(b).FillBytes(make([]byte, 32)))
			perBits[b] = w
		}
		return w
	}
	height[g] = 0
	works[g] = workOf(g)

	// Walk up from every block to a placed ancestor, then place the walk's
	// blocks top-down. Each block is placed once, so this is linear.
	var stack []int32
	for i := range recs {
		stack = stack[:0]
		j := int32(i)
		for height[j] == unknown {
			height[j] = visiting
			stack = append(stack, j)
			if j = parent[j]; j < 0 {
				break
			}
		}
		if j < 0 || height[j] < 0 { // no parent, an orphan, or a cycle
			for _, k := range stack {
				height[k] = orphan
			}
			continue
		}
		for k := len(stack) - 1; k >= 0; k-- {
			x := stack[k]
			px := parent[x]
			height[x] = height[px] + 1
			works[x] = works[px].add(workOf(x))
		}
	}

	best := g
	orphans := 0
	for i := range recs {
		switch {
		case height[i] == orphan:
			orphans++
		case works[i].cmp(works[best]) > 0:
			best = int32(i)
		}
	}
	n := int64(height[best]) + 1
	idx := make([]int32, n)
	for j, h := best, n-1; h >= 0; h-- {
		idx[h] = j
		j = parent[j]
	}
	for h, i := range idx {
		rec := &recs[i]
		hdr := parseHeader(&rec.hdr)
		if err := btc.CheckProofOfWork(&hdr, p); err != nil {
			return fmt.Errorf("blockfile: %s offset %d: block at height %d: %w", r.files[rec.file].path, rec.off, h, err)
		}
	}
	if maxHeight >= 0 && maxHeight < n-1 {
		r.stats.AboveMax = int(n - 1 - maxHeight)
		idx = idx[:maxHeight+1]
	}
	r.stats.Orphans = orphans
	r.stats.Stale = len(recs) - orphans - int(n)
	r.chain = make([]record, len(idx))
	for h, i := range idx {
		r.chain[h] = recs[i]
		r.stats.Bytes += int64(recs[i].size)
	}
	return nil
}

// work is an unsigned 256-bit integer, most significant word first.
type work [4]uint64

func workFromBig(be []byte) work {
	var w work
	for i := range w {
		w[i] = binary.BigEndian.Uint64(be[8*i:])
	}
	return w
}

// add returns w+v, saturating at 2^256-1 (a chain of headers claiming that
// much work cannot pass proof of work anyway).
func (w work) add(v work) work {
	var sum work
	var carry uint64
	for i := 3; i >= 0; i-- {
		sum[i], carry = bits.Add64(w[i], v[i], carry)
	}
	if carry != 0 {
		return work{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	}
	return sum
}

func (w work) cmp(v work) int {
	for i := range w {
		switch {
		case w[i] < v[i]:
			return -1
		case w[i] > v[i]:
			return 1
		}
	}
	return 0
}
