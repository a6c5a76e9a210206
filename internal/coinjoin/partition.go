package coinjoin

import "github.com/vestigo-forensics/vestigo/internal/chain"

// The value split: can the inputs, grouped by address (one address has one
// owner), be divided among the participants of an equal-output CoinJoin so
// that each participant pays its equal output and its own change? This is
// BlockSci's isCoinjoinExtra (bucket filling with a search-depth limit),
// with the changes as the buckets' extra goals.
//
// Every participant pays at least d + its change, minus what a JoinMarket
// maker may earn (tolerance); what participants pay beyond that is the
// miner fee, the coordinator fee and the makers' tolerance, so the total
// overpayment ("slack") is known in advance and small. The search fills
// one participant at a time, the largest first, with a set of address
// groups whose sum reaches its goal without exceeding the slack left
// (bin completion): a wrong choice shows at once, where assigning single
// inputs would notice it only deep in the search.

type feasibility uint8

const (
	infeasible feasibility = iota
	feasible
	undecided // the search limit was reached, or the transaction is too large to try
)

const (
	// maxPartitionItems and maxPartitionBins bound the search: input
	// address groups (a bit set of them) and participants.
	maxPartitionItems = 64
	maxPartitionBins  = 32
	// partitionBudget is the number of search steps of one transaction
	// (BlockSci bounds its search by maxDepth the same way).
	partitionBudget = 50_000
	// makerFeeAbs and makerFeePerMil bound what one participant may
	// receive beyond what it paid: a JoinMarket maker's fee, which takers
	// cap at max(max_cj_fee_abs, max_cj_fee_rel × amount). The caps in the
	// JoinMarket documentation and clients are a few hundred to a few
	// thousand sats and 0.002%–0.1% (JoinMarket-NG defaults: 500 sats,
	// 0.1%), so 10,000 sats or 0.1% covers them.
	makerFeeAbs    = 10_000
	makerFeePerMil = 1
)

// coordinatorCap is the largest coordinator-fee output of a round of k
// participants at denomination d: 5% of d per participant, Whirlpool's
// pool fee (0.0005 BTC for 0.01 BTC), the highest rate of the known
// coordinators (Wasabi 1: 0.003% × anonymity set, 0.3% at 100).
func coordinatorCap(k int, d uint64) uint64 {
	c := d / 20
	if k > 0 && c > ^uint64(0)/uint64(k) {
		return ^uint64(0)
	}
	return c * uint64(k)
}

// tolerance is what one participant may receive beyond what it paid.
func tolerance(d uint64) uint64 {
	return max(makerFeeAbs, d/1000*makerFeePerMil)
}

// split runs the value split once per transaction for the equal-output
// set (d, k) and the m other outputs. With m = k+1 one of the others is
// a coordinator fee that no participant receives; each one within
// coordinatorCap is tried, smallest first, and the one that works is
// returned.
func (v *view) split() (feasibility, uint64) {
	if !v.splitDone {
		v.splitDone = true
		v.splitRes, v.splitCoord = v.doSplit()
	}
	return v.splitRes, v.splitCoord
}

func (v *view) doSplit() (feasibility, uint64) {
	k, m := v.k, v.m()
	if k < 2 || m > k+1 {
		return undecided, 0
	}
	p := &v.s.part
	p.steps = 0
	if k > maxPartitionBins || !p.load(v.tx.In) {
		return v.roughSplit(), 0
	}
	var changes [maxPartitionBins + 1]uint64
	nc := 0
	for _, x := range v.outs { // ascending
		if x != v.d {
			changes[nc] = x
			nc++
		}
	}
	eps := tolerance(v.d)
	if m <= k {
		return p.run(changes[:nc], -1, k, v.d, eps), 0
	}
	limit := coordinatorCap(k, v.d)
	for c := 0; c < nc && changes[c] <= limit; c++ {
		if c > 0 && changes[c] == changes[c-1] {
			continue
		}
		switch p.run(changes[:nc], c, k, v.d, eps) {
		case feasible:
			return feasible, changes[c]
		case undecided:
			return undecided, 0
		}
	}
	return infeasible, 0
}

// roughSplit is the check of a transaction too large to search: no
// single input may pay more than one participant can, its equal output
// and the largest other output plus everything that is overpaid (the fee,
// a coordinator output within coordinatorCap, and the makers'
// tolerance). Dumplings uses the same shortcut ("I don't want to
// run expensive subset sum").
func (v *view) roughSplit() feasibility {
	var maxOther uint64
	if len(v.outs) > 0 && v.outs[len(v.outs)-1] != v.d {
		maxOther = v.outs[len(v.outs)-1]
	} else {
		for _, x := range v.outs {
			if x != v.d {
				maxOther = x
			}
		}
	}
	coord := uint64(0)
	if v.m() > v.k {
		coord = min(maxOther, coordinatorCap(v.k, v.d))
	}
	bound := addSat(addSat(v.d, maxOther), addSat(v.tx.Fee(), coord))
	for range v.k {
		bound = addSat(bound, tolerance(v.d))
	}
	if maxInput(v.tx.In) > bound {
		return infeasible
	}
	return undecided
}

// partition is the state of one value-split search.
type partition struct {
	items  [maxPartitionItems]uint64 // input value per address, descending
	suffix [maxPartitionItems + 1]uint64
	nItems int
	goals  [maxPartitionBins]uint64 // what each participant must pay at least, descending
	nBins  int
	nPos   int // participants with a goal above zero (the first nPos)
	slack  uint64
	steps  int
	// maxSet is how many address groups one participant may have in the
	// current round of the search; limited records that it cut a branch.
	maxSet  int
	limited bool
	// free lists, per participant being filled, the unused address groups
	// (indices into items) and the sums of their tails.
	free    [maxPartitionBins][maxPartitionItems]uint8
	freeSum [maxPartitionBins][maxPartitionItems + 1]uint64
	nFree   [maxPartitionBins]int
}

// load groups the inputs by address (address 0: one group per input). It
// reports false when there are more groups than the search takes.
func (p *partition) load(in []chain.Coin) bool {
	var addrs [maxPartitionItems]uint64
	n := 0
	for i := range in {
		a := in[i].Addr
		j := -1
		if a != 0 {
			for t := 0; t < n; t++ {
				if addrs[t] == a {
					j = t
					break
				}
			}
		}
		if j < 0 {
			if n == maxPartitionItems {
				return false
			}
			addrs[n], p.items[n], j = a, 0, n
			n++
		}
		p.items[j] = addSat(p.items[j], in[i].Value)
	}
	p.nItems = n
	sortDesc(p.items[:n])
	p.suffix[n] = 0
	for i := n - 1; i >= 0; i-- {
		p.suffix[i] = addSat(p.suffix[i+1], p.items[i])
	}
	return true
}

// run searches for a split into k participants: one per change (except
// the change at skip, a coordinator fee), the rest without change.
func (p *partition) run(changes []uint64, skip, k int, d, eps uint64) feasibility {
	p.nBins = 0
	for i, c := range changes {
		if i != skip {
			p.goals[p.nBins] = subSat(addSat(d, c), eps)
			p.nBins++
		}
	}
	for p.nBins < k {
		p.goals[p.nBins] = subSat(d, eps)
		p.nBins++
	}
	sortDesc(p.goals[:p.nBins])
	var need uint64
	p.nPos = 0
	for _, g := range p.goals[:p.nBins] {
		need = addSat(need, g)
		if g > 0 {
			p.nPos++
		}
	}
	if p.suffix[0] < need || p.nItems < p.nPos {
		return infeasible
	}
	p.slack = p.suffix[0] - need
	// Iterative deepening on the number of address groups one participant
	// may have: real participants have one to a few, and a search that
	// allows any number explores every combination of small coins first.
	for p.maxSet = 1; ; p.maxSet++ {
		p.limited = false
		if r := p.bin(0, 0, 0); r != infeasible || !p.limited {
			return r
		}
	}
}

// bin fills participant b and the ones after it from the unused address
// groups; waste is the overpayment so far. Address groups left over at the
// end go to any participant: their sum is exactly the slack not wasted.
func (p *partition) bin(b int, used, waste uint64) feasibility {
	if b >= p.nPos {
		return feasible
	}
	free, sum := &p.free[b], &p.freeSum[b]
	n := 0
	for j := 0; j < p.nItems; j++ {
		if used&(1<<j) == 0 {
			free[n] = uint8(j)
			n++
		}
	}
	p.nFree[b] = n
	sum[n] = 0
	for t := n - 1; t >= 0; t-- {
		sum[t] = addSat(sum[t+1], p.items[free[t]])
	}
	g, room := p.goals[b], p.slack-waste
	switch {
	case n < p.nPos-b, sum[0] < g:
		return infeasible // a participant each needs a group; the largest goal must be reached
	case n > 0 && p.items[free[0]] > room && p.items[free[0]]-room > g:
		return infeasible // the largest group fits no participant and is too large to be fee
	}
	return p.fill(b, 0, 0, used, 0, waste)
}

// fill adds unused address groups from position t of the free list on to
// participant b, which holds size groups of sum so far.
func (p *partition) fill(b, t, size int, used, sum, waste uint64) feasibility {
	p.steps++
	if p.steps > partitionBudget {
		return undecided
	}
	free, tail := &p.free[b], &p.freeSum[b]
	g, room := p.goals[b], p.slack-waste
	last := ^uint64(0)
	for ; t < p.nFree[b]; t++ {
		if addSat(sum, tail[t]) < g {
			break // even every group from here on cannot reach the goal
		}
		j := free[t]
		x := p.items[j]
		if x == last {
			continue // the same value was just tried here
		}
		s := addSat(sum, x)
		if s >= g && s-g > room {
			continue // overshoots; a smaller group may fit
		}
		last = x
		var r feasibility
		switch {
		case s >= g:
			r = p.bin(b+1, used|1<<j, waste+(s-g))
		case size+1 < p.maxSet:
			r = p.fill(b, t+1, size+1, used|1<<j, s, waste)
		default:
			p.limited = true
			continue
		}
		if r != infeasible {
			return r
		}
	}
	return infeasible
}

// sortDesc sorts a short slice in descending order (insertion sort: no
// allocation, at most a few dozen values).
func sortDesc(xs []uint64) {
	for i := 1; i < len(xs); i++ {
		x := xs[i]
		j := i
		for j > 0 && xs[j-1] < x {
			xs[j] = xs[j-1]
			j--
		}
		xs[j] = x
	}
}
