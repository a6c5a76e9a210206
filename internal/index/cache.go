package index

import (
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
)

// The writer's caches hold what recent blocks created, so that resolving
// an input or an address rarely touches the store. Both are generational:
// inserts go to the young generation; when it is full (and only right
// after a commit, so that everything evicted is already in the store) the
// old generation is dropped and the young one becomes old. The maps hold
// no pointers, so the garbage collector does not scan them.

type utxoTx struct {
	key   TxKey
	first uint32 // index of output 0 in outs
	n     uint32
	live  uint32 // unspent outputs left
}

type utxoOut struct {
	value uint64
	addr  AddrID
	typ   uint8
	spent bool
}

// utxoGen keeps its records in fixed-size blocks, so that growing never
// copies what is already there.
type utxoGen struct {
	m    map[chainhash.Hash]uint32
	txs  slab[utxoTx]
	outs slab[utxoOut]
}

const slabBlock = 1 << 16

// slab is an append-only array in blocks of slabBlock elements.
type slab[T any] struct {
	blocks [][]T
	n      int
}

func (s *slab[T]) add(v T) uint32 {
	if s.n%slabBlock == 0 {
		s.blocks = append(s.blocks, make([]T, 0, slabBlock))
	}
	b := &s.blocks[len(s.blocks)-1]
	*b = append(*b, v)
	s.n++
	return uint32(s.n - 1)
}

func (s *slab[T]) at(i uint32) *T { return &s.blocks[i/slabBlock][i%slabBlock] }

func newUtxoGen(hint int) *utxoGen {
	return &utxoGen{m: make(map[chainhash.Hash]uint32, hint/4)}
}

type utxoCache struct {
	young, old *utxoGen
	limit      int // transactions per generation
}

func newUtxoCache(limit int) *utxoCache {
	if limit < 1024 {
		limit = 1024
	}
	hint := min(limit, 1<<16)
	return &utxoCache{young: newUtxoGen(hint), old: newUtxoGen(0), limit: limit}
}

// add records the outputs of a new transaction. Outputs that can never be
// spent (OP_RETURN) are entered as spent.
func (c *utxoCache) add(txid chainhash.Hash, key TxKey, outs []OutRecord) {
	g := c.young
	t := utxoTx{key: key, first: uint32(g.outs.n), n: uint32(len(outs))}
	for i := range outs {
		o := &outs[i]
		spent := o.Type == codeOpReturn
		if !spent {
			t.live++
		}
		g.outs.add(utxoOut{value: o.Value, addr: o.Addr, typ: o.Type, spent: spent})
	}
	if t.live == 0 {
		return
	}
	g.m[txid] = g.txs.add(t)
}

// spend looks up and marks spent output vout of txid. found is false when
// the transaction is not cached; double reports an output already spent.
func (c *utxoCache) spend(txid *chainhash.Hash, vout uint32) (key TxKey, out utxoOut, found, double bool) {
	for _, g := range [2]*utxoGen{c.young, c.old} {
		i, ok := g.m[*txid]
		if !ok {
			continue
		}
		t := g.txs.at(i)
		if vout >= t.n {
			return t.key, utxoOut{}, true, true
		}
		o := g.outs.at(t.first + vout)
		if o.spent {
			return t.key, *o, true, true
		}
		o.spent = true
		t.live--
		if t.live == 0 {
			delete(g.m, *txid)
		}
		return t.key, *o, true, false
	}
	return 0, utxoOut{}, false, false
}

// rotate drops the old generation if the young one is full.
// Before the old generation goes, the transactions in it that still have
// unspent outputs move to the young one, as long as they are fewer than a
// generation: what survives two generations is mostly long-held coins,
// whose eventual spend would otherwise cost a store lookup each.
func (c *utxoCache) rotate() {
	if c.young.txs.n < c.limit {
		return
	}
	if len(c.old.m) < c.limit {
		g := c.young
		for txid, i := range c.old.m {
			t := *c.old.txs.at(i)
			first := uint32(g.outs.n)
			for v := uint32(0); v < t.n; v++ {
				g.outs.add(*c.old.outs.at(t.first + v))
			}
			t.first = first
			g.m[txid] = g.txs.add(t)
		}
	}
	c.old = c.young
	c.young = newUtxoGen(min(c.limit, 1<<16))
}

type addrCache struct {
	young, old map[btc.Addr]AddrID
	limit      int
}

func newAddrCache(limit int) *addrCache {
	if limit < 1024 {
		limit = 1024
	}
	return &addrCache{young: make(map[btc.Addr]AddrID, min(limit, 1<<16)), old: map[btc.Addr]AddrID{}, limit: limit}
}

func (c *addrCache) get(a *btc.Addr) (AddrID, bool) {
	if id, ok := c.young[*a]; ok {
		return id, true
	}
	if id, ok := c.old[*a]; ok {
		c.young[*a] = id // keep busy addresses across rotations
		return id, true
	}
	return 0, false
}

func (c *addrCache) put(a *btc.Addr, id AddrID) { c.young[*a] = id }

func (c *addrCache) rotate() {
	if len(c.young) < c.limit {
		return
	}
	c.old = c.young
	c.young = make(map[btc.Addr]AddrID, min(c.limit, 1<<16))
}
