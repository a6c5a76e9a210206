package cluster

import (
	"fmt"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/change"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// ChangeContext answers the change heuristics' questions about one
// transaction from the index and (if not nil) a cluster store.
type ChangeContext struct {
	ix    Reader
	s     *Store
	r     *index.TxRecord
	in0   index.AddrID
	root0 index.AddrID
	flow  chain.FlowTx
}

// NewChangeContext returns the context of transaction r. s may be nil:
// then no address counts as in the inputs' cluster.
func NewChangeContext(ix Reader, s *Store, r *index.TxRecord) *ChangeContext {
	c := &ChangeContext{ix: ix, s: s, r: r}
	for i := range r.In {
		if r.In[i].Addr != 0 {
			c.in0 = r.In[i].Addr
			break
		}
	}
	return c
}

// PriorUses counts the transactions before this one that paid to or spent
// from addr (transactions paying it several outputs count once).
func (c *ChangeContext) PriorUses(addr uint64) (int, error) {
	if addr == 0 {
		return 0, nil
	}
	n := 0
	var last index.TxKey
	spends := map[index.TxKey]struct{}{}
	err := c.ix.Outputs(index.AddrID(addr), func(e index.OutEntry) bool {
		if e.Key >= c.r.Key {
			return false
		}
		if e.Key != last || n == 0 {
			n++
			last = e.Key
		}
		if e.Spent && e.Spender < c.r.Key {
			spends[e.Spender] = struct{}{}
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	return n + len(spends), nil
}

// Spender returns the transaction that spends output vout, or nil.
func (c *ChangeContext) Spender(vout int) (*chain.FlowTx, int64, error) {
	if vout < 0 || vout >= len(c.r.Out) {
		return nil, 0, fmt.Errorf("cluster: output %d of %d", vout, len(c.r.Out))
	}
	addr := c.r.Out[vout].Addr
	if addr == 0 {
		return nil, 0, nil
	}
	key, _, ok, err := c.ix.SpentBy(addr, c.r.Key, uint32(vout))
	if err != nil || !ok {
		return nil, 0, err
	}
	rec, err := c.ix.RecordByKey(key)
	if err != nil {
		return nil, 0, err
	}
	tx := &chain.FlowTx{}
	rec.Flow(tx)
	return tx, key.Height(), nil
}

// SameCluster reports whether addr is already in the cluster of the
// transaction's first input address.
func (c *ChangeContext) SameCluster(addr uint64) (bool, error) {
	if c.s == nil || c.in0 == 0 || addr == 0 {
		return false, nil
	}
	if c.root0 == 0 {
		r, err := c.s.Root(c.in0)
		if err != nil {
			return false, err
		}
		c.root0 = r
	}
	r, err := c.s.Root(index.AddrID(addr))
	if err != nil {
		return false, err
	}
	return r == c.root0, nil
}

// changeMerge joins r's consensus change output to its inputs' cluster
// unless the verdict is weak or the merge would fuse two large clusters.
func (u *updater) changeMerge(r *index.TxRecord) error {
	res, err := change.Analyze(&u.e.flow, r.Key.Height(), NewChangeContext(u.ix, u.s, r))
	if err != nil {
		return err
	}
	if res.Change < 0 || res.Outputs[res.Change].Confidence < u.s.opt.MinChangeConfidence {
		return nil
	}
	addr := r.Out[res.Change].Addr
	in0 := u.e.ins[0]
	if addr == 0 {
		return nil
	}
	f := u.s.f
	if err := f.grow(uint64(max(addr, in0)) + 1); err != nil {
		return err
	}
	ra, rb := f.find(in0), f.find(addr)
	if ra == rb {
		return nil
	}
	if lim := u.s.opt.CollapseLimit; f.size(ra) > lim && f.size(rb) > lim {
		u.st.ChangeRefused++
		return nil
	}
	if _, err := u.union(in0, addr, r.Key, Change); err != nil {
		return err
	}
	u.st.ChangeMerges++
	return nil
}
