package trace

import (
	"context"
	"fmt"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Scanner reads every transaction's money flows in chain order;
// *index.Index is one (ScanFlows).
type Scanner interface {
	ScanFlows(from, to int64, fn func(*index.TxRecord) error) error
}

// Propagation is the result of Propagate.
type Propagation struct {
	Seeds  int
	Source uint64 // what the seeds received
	// Unspent is the taint resting in unspent outputs at the end, by
	// address; Fees what went to miners and rounding.
	Unspent map[index.AddrID]uint64
	Fees    uint64
	Txs     uint64 // transactions read
	Tainted uint64 // transactions that carried taint
}

// Propagate spreads haircut taint from every output the seed addresses
// received, through the whole chain in one pass in chain order (no hop
// limit): each transaction gives its outputs the tainted share of its
// inputs. It is the linear-time form of a forward haircut trace from many
// seeds at once; value is conserved exactly (unspent + fees = source).
func Propagate(ctx context.Context, s Scanner, seeds []index.AddrID) (*Propagation, error) {
	if len(seeds) == 0 {
		return nil, fmt.Errorf("trace: %w: no seeds", chain.ErrInvalid)
	}
	seed := make(map[index.AddrID]bool, len(seeds))
	for _, a := range seeds {
		seed[a] = true
	}
	p := &Propagation{Seeds: len(seeds), Unspent: map[index.AddrID]uint64{}}
	type held struct {
		v    uint64
		addr index.AddrID
	}
	// Outpoints packed into one word (txkey << 20 | vout) for the map's
	// fast path: heights below 2^24 and vouts below 2^20.
	taint := map[uint64]held{}
	pack := func(k index.TxKey, vout uint32) (uint64, error) {
		if uint64(k) >= 1<<44 || vout >= 1<<20 {
			return 0, fmt.Errorf("trace: %w: outpoint %d:%d beyond the propagation's packing", chain.ErrInvalid, k, vout)
		}
		return uint64(k)<<20 | uint64(vout), nil
	}
	var outs []uint64
	err := s.ScanFlows(0, -1, func(r *index.TxRecord) error {
		p.Txs++
		if p.Txs%(1<<16) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var tainted, total uint64
		for i := range r.In {
			in := &r.In[i]
			total += in.Value
			if len(taint) == 0 {
				continue
			}
			o, err := pack(in.PrevKey, in.Vout)
			if err != nil {
				return err
			}
			if t, ok := taint[o]; ok {
				tainted += t.v
				delete(taint, o)
			}
		}
		// Each output carries its haircut share of the tainted inputs;
		// an output paid to a seed is taint at the source, in full.
		outs = outs[:0]
		var share uint64
		for j := range r.Out {
			var sh uint64
			if tainted > 0 && total > 0 {
				sh = mulDiv(r.Out[j].Value, tainted, total)
			}
			share += sh
			v := sh
			if a := r.Out[j].Addr; a != 0 && seed[a] {
				p.Source += r.Out[j].Value - sh
				v = r.Out[j].Value
			}
			outs = append(outs, v)
		}
		if tainted > 0 {
			p.Tainted++
			p.Fees += tainted - share
		}
		for j, v := range outs {
			if v > 0 {
				o, err := pack(r.Key, uint32(j))
				if err != nil {
					return err
				}
				taint[o] = held{v, r.Out[j].Addr}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, t := range taint {
		p.Unspent[t.addr] += t.v
	}
	return p, nil
}
