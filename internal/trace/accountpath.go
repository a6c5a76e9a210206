package trace

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// AccountStep is one move of an account path: From paid To Amount of Asset
// in the move (Key, Seq).
type AccountStep struct {
	From, To evmindex.AddrID
	Asset    evmindex.AssetID
	Key      evmindex.TxKey
	Seq      uint16
	Kind     evmindex.Kind
	Amount   chain.Amount
}

// AccountPath is a chain of moves from one address to another, each later
// in the chain than the one before.
type AccountPath []AccountStep

// AccountPathParams bound an account path search.
type AccountPathParams struct {
	// Direction forward (the default) searches from the source along its
	// outgoing moves; backward from the target along its incoming moves
	// (cheaper when the source is busier than the target). The paths
	// found are the same kind: money paths from source to target.
	Direction Direction
	// Assets are the ledgers searched; empty: every asset each address
	// holds.
	Assets []evmindex.AssetID
	// FromKey and ToKey bound the moves (ToKey 0: no bound).
	FromKey, ToKey evmindex.TxKey
	// Hops is the longest path, in moves (default 6, at most 16).
	Hops int
	// K is how many paths to return, shortest first (default 3).
	K int
	// MaxFanout bounds the ledger entries read per address and asset
	// (default 10,000): the moves of busier addresses are summarised.
	MaxFanout int
	// MaxStates bounds the partial paths held (default 200,000).
	MaxStates int
}

// AccountPathResult is the answer of an account path search.
type AccountPathResult struct {
	Paths []AccountPath
	// Summarised is set when a fan-out or state limit cut the search: a
	// path may exist that was not found.
	Summarised bool
	// Entries counts the ledger entries read.
	Entries int
}

func (p *AccountPathParams) check() error {
	switch p.Direction {
	case Forward, Backward:
	case "":
		p.Direction = Forward
	default:
		return fmt.Errorf("trace: %w: direction %q (forward or backward)", chain.ErrInvalid, p.Direction)
	}
	if p.MaxFanout == 0 {
		p.MaxFanout = 10_000
	}
	up := PathParams{Hops: p.Hops, K: p.K, MaxFanout: p.MaxFanout, MaxStates: p.MaxStates}
	if err := up.check(); err != nil {
		return err
	}
	p.Hops, p.K, p.MaxStates = up.Hops, up.K, up.MaxStates
	if p.ToKey != 0 && p.ToKey < p.FromKey {
		return fmt.Errorf("trace: %w: an empty window", chain.ErrInvalid)
	}
	return nil
}

// moment is a point of the chain: a move's key and seq.
type moment struct {
	key evmindex.TxKey
	seq uint16
}

func (m moment) cmp(o moment) int {
	return cmp.Or(cmp.Compare(m.key, o.key), cmp.Compare(m.seq, o.seq))
}

// AccountPaths finds up to K shortest money paths from address from to
// address to over the ledgers: breadth-first by hops, each path's moves in
// chain order (a move leaves an address after the move that reached it),
// each address at most once per path. From each address the search takes,
// per counterparty, the first move after the one that reached it (the
// last before, searching backward), and every address is entered by at
// most K partial paths, the first K in breadth-first order. Paths come
// fewest moves first, then in the search's order.
func AccountPaths(r AccountReader, from, to evmindex.AddrID, p AccountPathParams) (*AccountPathResult, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if from == 0 || to == 0 || from == to {
		return nil, fmt.Errorf("trace: %w: a path needs two different addresses", chain.ErrInvalid)
	}
	fwd := p.Direction == Forward
	start, goal := from, to
	if !fwd {
		start, goal = to, from
	}
	type state struct {
		at     evmindex.AddrID
		parent int
		step   AccountStep
		when   moment
	}
	res := &AccountPathResult{}
	begin := moment{p.FromKey, 0}
	if !fwd {
		begin = moment{^evmindex.TxKey(0), ^uint16(0)}
		if p.ToKey != 0 {
			begin = moment{p.ToKey, ^uint16(0)}
		}
	}
	states := []state{{at: start, parent: -1, when: begin}}
	level := []int{0}
	entered := map[evmindex.AddrID]int{start: 1}
	cache := map[evmindex.AddrID][]AccountStep{}
	onPath := func(i int, a evmindex.AddrID) bool {
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
			moves, ok := cache[u]
			if !ok {
				var err error
				if moves, err = accountMoves(r, u, fwd, &p, res); err != nil {
					return nil, err
				}
				cache[u] = moves
			}
			// Moves are in search order (forward: chain order; backward:
			// newest first); those after (before) the arrival count, the
			// first per counterparty.
			when := states[si].when
			i, _ := slices.BinarySearchFunc(moves, when, func(s AccountStep, m moment) int {
				c := moment{s.Key, s.Seq}.cmp(m)
				if !fwd {
					c = -c
				}
				if c == 0 && si != 0 {
					return -1 // strictly after the arrival
				}
				return c
			})
			seen := map[evmindex.AddrID]bool{}
			for _, st := range moves[i:] {
				v := st.To
				if !fwd {
					v = st.From
				}
				if seen[v] || v == start || onPath(si, v) || entered[v] >= p.K {
					continue
				}
				seen[v] = true
				if len(states) >= p.MaxStates {
					res.Summarised = true
					break
				}
				entered[v]++
				states = append(states, state{at: v, parent: si, step: st, when: moment{st.Key, st.Seq}})
				if v == goal {
					if len(res.Paths) < p.K {
						var path AccountPath
						for j := len(states) - 1; states[j].parent >= 0; j = states[j].parent {
							path = append(path, states[j].step)
						}
						if fwd {
							slices.Reverse(path)
						}
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

// accountMoves lists the moves out of u (forward, chain order) or into u
// (backward, newest first) within the window, to and from addresses only,
// reading at most MaxFanout entries per asset.
func accountMoves(r AccountReader, u evmindex.AddrID, fwd bool, p *AccountPathParams, res *AccountPathResult) ([]AccountStep, error) {
	assets := p.Assets
	if len(assets) == 0 {
		hs, err := r.Holdings(u)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			assets = append(assets, h.Asset)
		}
	}
	var moves []AccountStep
	for _, asset := range assets {
		read := 0
		fn := func(e evmindex.Entry) bool {
			if (fwd && p.ToKey != 0 && e.Key > p.ToKey) || (!fwd && e.Key < p.FromKey) {
				return false
			}
			if read == p.MaxFanout {
				res.Summarised = true
				return false
			}
			read++
			if e.In == fwd || e.Counterparty == 0 || e.Counterparty == u {
				return true
			}
			st := AccountStep{From: u, To: e.Counterparty, Asset: asset, Key: e.Key, Seq: e.Seq, Kind: e.Kind, Amount: e.Amount}
			if !fwd {
				st.From, st.To = e.Counterparty, u
			}
			moves = append(moves, st)
			return true
		}
		var err error
		if fwd {
			err = r.Ledger(u, asset, p.FromKey, fn)
		} else {
			before := evmindex.TxKey(0)
			if p.ToKey != 0 {
				before = p.ToKey + 1
			}
			err = r.LedgerDesc(u, asset, before, fn)
		}
		res.Entries += read
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(moves, func(a, b AccountStep) int {
		c := moment{a.Key, a.Seq}.cmp(moment{b.Key, b.Seq})
		if !fwd {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.Asset, b.Asset))
	})
	return moves, nil
}
