package trace

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Step is one transfer of a path: transaction Tx spent funds of From and
// paid Amount to To.
type Step struct {
	From, To index.AddrID
	Tx       index.TxKey
	Amount   uint64
}

// Path is a chain of transfers from one address to another.
type Path []Step

// PathParams bound a path search.
type PathParams struct {
	// Hops is the longest path, in transactions (default 6, at most 16).
	Hops int
	// K is how many paths to return, shortest first (default 3).
	K int
	// MaxFanout bounds the spending transactions read per address (default
	// 1,000): the outgoing transfers of busier addresses are summarised.
	MaxFanout int
	// MaxStates bounds the partial paths held (default 200,000).
	MaxStates int
}

// PathResult is the answer of a path search.
type PathResult struct {
	Paths []Path
	// Summarised is set when a fan-out or state limit cut the search: a
	// path may exist that was not found.
	Summarised bool
}

func (p *PathParams) check() error {
	if p.Hops == 0 {
		p.Hops = 6
	}
	if p.K == 0 {
		p.K = 3
	}
	if p.MaxFanout == 0 {
		p.MaxFanout = 1000
	}
	if p.MaxStates == 0 {
		p.MaxStates = 200_000
	}
	if p.Hops < 1 || p.Hops > 16 || p.K < 1 || p.K > 100 || p.MaxFanout < 1 || p.MaxStates < 1 {
		return fmt.Errorf("trace: %w: path search limits (hops 1–16, k 1–100)", chain.ErrInvalid)
	}
	return nil
}

// Paths finds up to K shortest forward paths of money from address from to
// address to (fewest transactions first, then chain order), each address
// at most once per path. Every address is entered by at most K partial
// paths, the first K in breadth-first order.
func Paths(r Reader, from, to index.AddrID, p PathParams) (*PathResult, error) {
	if from == to {
		return nil, fmt.Errorf("trace: %w: a path needs two different addresses", chain.ErrInvalid)
	}
	return PathsBetween(r, []index.AddrID{from}, []index.AddrID{to}, p)
}

// PathsBetween finds up to K shortest forward paths of money from any
// address of the set from (an entity) to any address of the set to, under
// the rules of Paths. Transfers among the addresses of from are internal
// to the source and are not paths.
func PathsBetween(r Reader, from, to []index.AddrID, p PathParams) (*PathResult, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if len(from) == 0 || len(to) == 0 {
		return nil, fmt.Errorf("trace: %w: a path needs a source and a target", chain.ErrInvalid)
	}
	source := make(map[index.AddrID]bool, len(from))
	for _, a := range from {
		source[a] = true
	}
	target := make(map[index.AddrID]bool, len(to))
	for _, a := range to {
		if source[a] {
			return nil, fmt.Errorf("trace: %w: the source and the target share address %d", chain.ErrInvalid, a)
		}
		target[a] = true
	}
	type state struct {
		at     index.AddrID
		parent int // index into states, -1 for the start
		step   Step
	}
	res := &PathResult{}
	var states []state
	var level []int
	entered := map[index.AddrID]int{}
	for _, a := range from {
		if entered[a] == 0 {
			entered[a] = 1
			level = append(level, len(states))
			states = append(states, state{at: a, parent: -1})
		}
	}
	out := map[index.AddrID][]Step{}
	onPath := func(i int, a index.AddrID) bool {
		for ; i >= 0; i = states[i].parent {
			if states[i].at == a {
				return true
			}
		}
		return false
	}
	for hop := 1; hop <= p.Hops && len(level) > 0 && len(res.Paths) < p.K; hop++ {
		var next []int
		for _, si := range level {
			u := states[si].at
			steps, ok := out[u]
			if !ok {
				var cut bool
				var err error
				if steps, cut, err = outgoing(r, u, p.MaxFanout); err != nil {
					return nil, err
				}
				res.Summarised = res.Summarised || cut
				out[u] = steps
			}
			for _, st := range steps {
				if source[st.To] || onPath(si, st.To) || entered[st.To] >= p.K {
					continue
				}
				if len(states) >= p.MaxStates {
					res.Summarised = true
					break
				}
				entered[st.To]++
				states = append(states, state{at: st.To, parent: si, step: st})
				if target[st.To] {
					if len(res.Paths) < p.K {
						var path Path
						for i := len(states) - 1; states[i].parent >= 0; i = states[i].parent {
							path = append(path, states[i].step)
						}
						slices.Reverse(path)
						res.Paths = append(res.Paths, path)
					}
					continue
				}
				next = append(next, len(states)-1)
			}
		}
		level = next
	}
	return res, nil
}

// outgoing lists the transfers out of address u: for each transaction that
// spends one of its outputs (at most max, in chain order), every addressed
// output of that transaction, except back to u.
func outgoing(r Reader, u index.AddrID, max int) ([]Step, bool, error) {
	var spenders []index.TxKey
	seen := map[index.TxKey]bool{}
	cut := false
	err := r.Outputs(u, func(e index.OutEntry) bool {
		if !e.Spent || seen[e.Spender] {
			return true
		}
		if len(spenders) == max {
			cut = true
			return false
		}
		seen[e.Spender] = true
		spenders = append(spenders, e.Spender)
		return true
	})
	if err != nil {
		return nil, false, err
	}
	slices.Sort(spenders)
	var steps []Step
	for _, sp := range spenders {
		rec, err := r.RecordByKey(sp)
		if err != nil {
			return nil, false, err
		}
		for _, o := range rec.Out {
			if o.Addr != 0 && o.Addr != u {
				steps = append(steps, Step{From: u, To: o.Addr, Tx: sp, Amount: o.Value})
			}
		}
	}
	slices.SortStableFunc(steps, func(a, b Step) int { return cmp.Or(cmp.Compare(a.Tx, b.Tx), cmp.Compare(a.To, b.To)) })
	return steps, cut, nil
}
