package coinjoin

import (
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// bufN is how many values the scratch buffers of one Detect call hold;
// larger transactions (big batches, WabiSabi rounds) allocate.
const bufN = 256

// scratch is the memory of one Detect call, reused through scratchPool.
type scratch struct {
	outs  [bufN]uint64
	addrs [bufN]uint64
	view  view
	part  partition
}

// view is what the detectors share about one transaction. Fields that not
// every path needs are computed on first use.
type view struct {
	tx   *chain.FlowTx
	s    *scratch
	outs []uint64 // values of the non-OP_RETURN outputs, ascending

	nOpRet  int    // OP_RETURN outputs
	d       uint64 // most frequent output value (ties: the larger)
	k       int    // its count
	groups  int    // distinct values that occur two or more times
	singles int    // outputs whose value occurs once

	inAddrs int // distinct input addresses; -1 until computed

	splitDone  bool
	splitRes   feasibility
	splitCoord uint64 // the coordinator-fee output the split set aside
}

// init fills v for tx, with s as its scratch memory.
func (v *view) init(tx *chain.FlowTx, s *scratch) {
	*v = view{tx: tx, s: s, inAddrs: -1}
	outs := s.outs[:0]
	if len(tx.Out) > bufN {
		outs = make([]uint64, 0, len(tx.Out))
	}
	for i := range tx.Out {
		if tx.Out[i].Type == chain.OpReturn {
			v.nOpRet++
			continue
		}
		outs = append(outs, tx.Out[i].Value)
	}
	slices.Sort(outs)
	v.outs = outs
	for i := 0; i < len(outs); {
		j := i + 1
		for j < len(outs) && outs[j] == outs[i] {
			j++
		}
		c := j - i
		switch {
		case c == 1:
			v.singles++
		default:
			v.groups++
		}
		if c >= v.k { // ascending: ties go to the larger value
			v.k, v.d = c, outs[i]
		}
		i = j
	}
	if v.k < 2 {
		v.k, v.d = min(v.k, 1), 0
	}
}

// m is the number of non-OP_RETURN outputs that are not the equal value.
func (v *view) m() int { return len(v.outs) - v.k }

// inputAddrs counts the distinct input addresses; address 0 (unknown)
// counts once per input.
func (v *view) inputAddrs() int {
	if v.inAddrs >= 0 {
		return v.inAddrs
	}
	in := v.tx.In
	buf := v.s.addrs[:0]
	if len(in) > bufN {
		buf = make([]uint64, 0, len(in))
	}
	zero := 0
	for i := range in {
		if in[i].Addr == 0 {
			zero++
			continue
		}
		buf = append(buf, in[i].Addr)
	}
	v.inAddrs = zero + countDistinct(buf)
	return v.inAddrs
}

// outputAddrs counts the distinct addresses of the outputs of value val
// (OP_RETURN outputs excluded); address 0 counts once per output.
func (v *view) outputAddrs(val uint64) int {
	out := v.tx.Out
	buf := v.s.addrs[:0]
	if len(out) > bufN {
		buf = make([]uint64, 0, len(out))
	}
	zero := 0
	for i := range out {
		if out[i].Value != val || out[i].Type == chain.OpReturn {
			continue
		}
		if out[i].Addr == 0 {
			zero++
			continue
		}
		buf = append(buf, out[i].Addr)
	}
	return zero + countDistinct(buf)
}

// countDistinct sorts xs and counts its distinct values.
func countDistinct(xs []uint64) int {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := 1
	for i := 1; i < len(xs); i++ {
		if xs[i] != xs[i-1] {
			n++
		}
	}
	return n
}

// allTypes reports whether every coin has one of the script types.
func allTypes(cs []chain.Coin, a, b chain.ScriptType) bool {
	for i := range cs {
		if t := cs[i].Type; t != a && t != b {
			return false
		}
	}
	return true
}

// countTypes counts the coins of script type a or b.
func countTypes(cs []chain.Coin, a, b chain.ScriptType) int {
	n := 0
	for i := range cs {
		if t := cs[i].Type; t == a || t == b {
			n++
		}
	}
	return n
}

// descending reports whether the coins are in non-increasing value order.
func descending(cs []chain.Coin) bool {
	for i := 1; i < len(cs); i++ {
		if cs[i].Value > cs[i-1].Value {
			return false
		}
	}
	return true
}

// maxInput is the largest input value.
func maxInput(cs []chain.Coin) uint64 {
	var m uint64
	for i := range cs {
		m = max(m, cs[i].Value)
	}
	return m
}

// addSat adds without wrapping around.
func addSat(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// subSat subtracts, stopping at zero.
func subSat(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}
