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
	// The seeds as a bitset: one test per output.
	var maxSeed index.AddrID
	for _, a := range seeds {
		maxSeed = max(maxSeed, a)
	}
	seed := make([]uint64, maxSeed/64+1)
	for _, a := range seeds {
		seed[a/64] |= 1 << (a % 64)
	}
	isSeed := func(a index.AddrID) bool { return a != 0 && a <= maxSeed && seed[a/64]&(1<<(a%64)) != 0 }
	p := &Propagation{Seeds: len(seeds), Unspent: map[index.AddrID]uint64{}}
	// The tainted unspent outputs, keyed by outpoint packed into one word
	// (txkey << 20 | vout: heights below 2^24 and vouts below 2^20).
	taint := newOutTable(1 << 16)
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
			if taint.n == 0 {
				continue
			}
			o, err := pack(in.PrevKey, in.Vout)
			if err != nil {
				return err
			}
			if v, _, ok := taint.take(o); ok {
				tainted += v
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
			if isSeed(r.Out[j].Addr) {
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
				taint.put(o, v, r.Out[j].Addr)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, sl := range taint.slots {
		if sl.key != 0 {
			p.Unspent[sl.addr] += sl.v
		}
	}
	return p, nil
}

// outTable is an open-addressing hash table of tainted outputs with linear
// probing and backward-shift deletion: no tombstones, so lookups stay
// short however many outputs are spent (a Go map slows down under this
// churn). Keys are packed outpoints plus one (0 marks an empty slot).
type outTable struct {
	slots []outSlot
	n     int
	shift uint
}

type outSlot struct {
	key, v uint64
	addr   index.AddrID
}

func newOutTable(size int) *outTable {
	bits := uint(4)
	for 1<<bits < size {
		bits++
	}
	return &outTable{slots: make([]outSlot, 1<<bits), shift: 64 - bits}
}

func (t *outTable) home(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> t.shift }

// put stores a new key (each outpoint is created once).
func (t *outTable) put(o, v uint64, addr index.AddrID) {
	if (t.n+1)*10 > len(t.slots)*7 {
		t.grow()
	}
	key := o + 1
	mask := uint64(len(t.slots) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		if t.slots[i].key == 0 {
			t.slots[i] = outSlot{key, v, addr}
			t.n++
			return
		}
	}
}

// take removes key o and returns what it held.
func (t *outTable) take(o uint64) (uint64, index.AddrID, bool) {
	key := o + 1
	mask := uint64(len(t.slots) - 1)
	i := t.home(key)
	for ; t.slots[i].key != key; i = (i + 1) & mask {
		if t.slots[i].key == 0 {
			return 0, 0, false
		}
	}
	v, addr := t.slots[i].v, t.slots[i].addr
	// Shift back the entries after i whose home lies at or before i.
	for j := (i + 1) & mask; t.slots[j].key != 0; j = (j + 1) & mask {
		h := t.home(t.slots[j].key)
		if (j-h)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = outSlot{}
	t.n--
	return v, addr, true
}

func (t *outTable) grow() {
	old := t.slots
	t.slots = make([]outSlot, 2*len(old))
	t.shift--
	t.n = 0
	for _, s := range old {
		if s.key != 0 {
			t.put(s.key-1, s.v, s.addr)
		}
	}
}
