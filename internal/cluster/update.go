package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Reader is what clustering reads of an index; *index.Index is one.
type Reader interface {
	Ledger() chain.Ledger
	Tip() index.Tip
	BlockHash(height int64) (chainhash.Hash, error)
	Scan(from, to int64, fn func(*index.TxRecord) error) error
	Outputs(id index.AddrID, fn func(index.OutEntry) bool) error
	SpentBy(id index.AddrID, key index.TxKey, vout uint32) (spender index.TxKey, vin uint32, ok bool, err error)
	RecordByKey(key index.TxKey) (*index.TxRecord, error)
}

// Stats describes one Update.
type Stats struct {
	From, To   int64 // heights clustered (From > To: nothing new)
	RolledBack int64 // blocks undone first (a reorg)
	Blocks     uint64
	Txs        uint64
	Inputs     uint64
	// Edges counts co-spend edges: for each multi-input transaction that is
	// not a CoinJoin, its distinct input addresses minus one.
	Edges     uint64
	Merges    uint64 // merges that joined two clusters (co-spend and change)
	CoinJoins uint64 // multi-input transactions left unmerged as CoinJoins
	// ChangeMerges and ChangeRefused count change merges made and refused
	// by the collapse guard (UseChange only).
	ChangeMerges, ChangeRefused uint64
	Duration                    time.Duration
}

// Progress is reported once per committed batch.
type Progress struct {
	Height, Target int64
	Txs            uint64
}

// Update brings the store to the index's tip: it first undoes the blocks
// the index no longer has (a reorg), then clusters every new block, in
// atomic batches of whole blocks that carry the tip. A killed update
// resumes from the last committed batch.
func (s *Store) Update(ctx context.Context, ix Reader, progress func(Progress)) (Stats, error) {
	t0 := time.Now()
	st := Stats{From: s.tip.Height + 1}
	if s.opt.ReadOnly {
		return st, fmt.Errorf("cluster: the store is open read-only")
	}
	if ix.Ledger() != s.ledger {
		return st, fmt.Errorf("cluster: %w: index of %s, store of %s", ErrMismatch, ix.Ledger(), s.ledger)
	}
	itip := ix.Tip()
	fork, err := s.forkPoint(ix, itip.Height)
	if err != nil {
		return st, err
	}
	if err := s.loadForest(uint64(itip.NextAddr)); err != nil {
		return st, err
	}
	if fork < s.tip.Height {
		st.RolledBack = s.tip.Height - fork
		if err := s.rollback(fork); err != nil {
			return st, err
		}
	}
	st.From = s.tip.Height + 1
	st.To = itip.Height
	if st.From > st.To {
		st.Duration = time.Since(t0)
		return st, nil
	}
	u := &updater{s: s, ix: ix, st: &st, height: -1, tip: s.tip}
	u.stage.reset(s.tip.Seq)
	err = ix.Scan(st.From, st.To, func(r *index.TxRecord) error {
		if h := r.Key.Height(); h != u.height {
			if u.height >= 0 {
				if err := u.endBlock(); err != nil {
					return err
				}
				if len(u.stage.merges) >= batchMerges {
					if err := u.commit(pebble.NoSync); err != nil {
						return err
					}
					if progress != nil {
						progress(Progress{Height: s.tip.Height, Target: st.To, Txs: st.Txs})
					}
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			u.height = h
			st.Blocks++
		}
		return u.tx(r)
	})
	if err == nil && u.height >= 0 {
		err = u.endBlock()
	}
	if err == nil {
		err = u.commit(pebble.Sync)
		if progress != nil {
			progress(Progress{Height: s.tip.Height, Target: st.To, Txs: st.Txs})
		}
	}
	if err != nil {
		if u.dirty {
			// The forest holds merges that were not committed (commits are
			// atomic, so the store has none of them): read it again next
			// time.
			s.f = nil
		}
		return st, err
	}
	st.Duration = time.Since(t0)
	return st, nil
}

// forkPoint returns the highest height at which the store and the index
// agree on the block (-1 if none).
func (s *Store) forkPoint(ix Reader, indexTip int64) (int64, error) {
	h := min(s.tip.Height, indexTip)
	for ; h >= 0; h-- {
		want, err := ix.BlockHash(h)
		if err != nil {
			return 0, err
		}
		have := s.tip.Hash
		if h != s.tip.Height {
			var ok bool
			have, ok, err = s.BlockHash(h)
			if err != nil {
				return 0, err
			}
			if !ok {
				return 0, fmt.Errorf("cluster: %w: no block hash recorded at height %d", ErrCorrupt, h)
			}
		}
		if have == want {
			return h, nil
		}
	}
	return -1, nil
}

// loadForest reads the parent pointers and sizes into memory once.
func (s *Store) loadForest(n uint64) error {
	if s.f == nil {
		f := &forest{}
		if err := f.grow(n); err != nil {
			return err
		}
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tParent}, UpperBound: []byte{tParent + 1}})
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		for ok := it.First(); ok; ok = it.Next() {
			k, v := it.Key(), it.Value()
			if len(k) != 1+idLen || len(v) != mergeLen {
				it.Close()
				return fmt.Errorf("cluster: %w: merge record %x", ErrCorrupt, k)
			}
			child, parent := getID(k[1:]), getID(v)
			if err := f.grow(uint64(max(child, parent)) + 1); err != nil {
				it.Close()
				return err
			}
			f.parent[child] = uint32(parent)
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tSize}, UpperBound: []byte{tSize + 1}})
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		for ok := it.First(); ok; ok = it.Next() {
			k := it.Key()
			n, w := binary.Uvarint(it.Value())
			if len(k) != 1+idLen || w <= 0 || n < 2 || n > maxAddrs {
				it.Close()
				return fmt.Errorf("cluster: %w: size record %x", ErrCorrupt, k)
			}
			root := getID(k[1:])
			if err := f.grow(uint64(root) + 1); err != nil {
				it.Close()
				return err
			}
			f.extra[root] = uint32(n - 1)
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		s.f = f
	}
	return s.f.grow(n)
}

// rollback undoes every merge above height fork.
func (s *Store) rollback(fork int64) error {
	b := s.db.NewBatch()
	defer b.Close()
	lo := heightKey(fork + 1)
	lo[0] = tLog
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: []byte{tLog + 1}})
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	tip := s.tip
	type undo struct {
		m   Merge
		key []byte
	}
	var undos []undo
	for ok := it.Last(); ok; ok = it.Prev() {
		child := getID(it.Value())
		m, found, err := s.Record(child)
		if err == nil && !found {
			err = fmt.Errorf("cluster: %w: merge log names %d, which has no merge record", ErrCorrupt, child)
		}
		if err != nil {
			it.Close()
			return err
		}
		undos = append(undos, undo{m, bytes.Clone(it.Key())})
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	f := s.f
	for _, u := range undos {
		m := u.m
		if f.parentOf(m.Child) != m.Parent {
			return fmt.Errorf("cluster: %w: merge of %d under %d does not match memory", ErrCorrupt, m.Child, m.Parent)
		}
		f.unlink(m.Child, m.Parent, m.ChildSize)
		b.Delete(u.key, nil)
		b.Delete(idKey(tParent, m.Child), nil)
		b.Delete(childKey(m.Parent, m.Child), nil)
		putSize(b, m.Parent, f.size(m.Parent))
		putSize(b, m.Child, m.ChildSize)
		tip.Merges--
		tip.Seq-- // the undone merges are the latest: sequence numbers are reused exactly
	}
	if err := b.DeleteRange(heightKey(fork+1), []byte{tHash + 1}, nil); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	tip.Height = fork
	tip.Hash = chainhash.Hash{}
	if fork >= 0 {
		h, ok, err := s.BlockHash(fork)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("cluster: %w: no block hash recorded at height %d", ErrCorrupt, fork)
		}
		tip.Hash = h
	}
	b.Set(keyTip, tip.encode(), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		s.f = nil // the forest was undone in memory only: read it again
		return fmt.Errorf("cluster: rollback to %d: %w", fork, err)
	}
	s.opt.Logger.Info("cluster: rolled back", "to", fork, "merges", len(undos))
	s.tip = tip
	return nil
}

func putSize(b *pebble.Batch, root index.AddrID, size uint32) {
	if size <= 1 {
		b.Delete(idKey(tSize, root), nil)
		return
	}
	b.Set(idKey(tSize, root), binary.AppendUvarint(nil, uint64(size)), nil)
}

// updater clusters the blocks of one Update.
type updater struct {
	s      *Store
	ix     Reader
	st     *Stats
	stage  stage
	height int64
	dirty  bool // the forest holds merges not yet committed

	tip   Tip // the tip as of the last finished block
	ended bool
	e     edger
}

func (u *updater) tx(r *index.TxRecord) error {
	ins := u.e.coSpend(r, u.st, u.s.opt.UseChange)
	for _, a := range ins[min(1, len(ins)):] {
		if _, err := u.union(ins[0], a, r.Key, CoSpend); err != nil {
			return err
		}
	}
	if u.s.opt.UseChange && !r.Coinbase && (len(ins) > 0 || len(u.e.ins) == 1) {
		return u.changeMerge(r)
	}
	return nil
}

// distinctInputs returns the distinct input address ids in order of first
// appearance.
func distinctInputs(dst []index.AddrID, r *index.TxRecord) []index.AddrID {
outer:
	for i := range r.In {
		a := r.In[i].Addr
		if a == 0 {
			continue
		}
		for _, b := range dst {
			if b == a {
				continue outer
			}
		}
		dst = append(dst, a)
	}
	return dst
}

// union joins the clusters of from and to, recording the merge; it
// returns false when they were already one.
func (u *updater) union(from, to index.AddrID, tx index.TxKey, kind Kind) (bool, error) {
	f := u.s.f
	if err := f.grow(uint64(max(from, to)) + 1); err != nil {
		return false, err
	}
	ra, rb := f.find(from), f.find(to)
	if ra == rb {
		return false, nil
	}
	child, parent := f.link(ra, rb)
	if child != ra {
		from, to = to, from
	}
	childSize := f.size(child) // link changes only the parent's size
	u.dirty = true
	u.stage.merges = append(u.stage.merges, Merge{Child: child, Parent: parent, ChildSize: childSize, Tx: tx, From: from, To: to, Kind: kind})
	u.stage.touched = append(u.stage.touched, parent)
	if childSize > 1 {
		u.stage.touched = append(u.stage.touched, child)
	}
	u.tip.Seq++
	u.tip.Merges++
	u.st.Merges++
	return true, nil
}

// endBlock records the finished block's hash and moves the batch's tip.
func (u *updater) endBlock() error {
	hash, err := u.ix.BlockHash(u.height)
	if err != nil {
		return err
	}
	u.stage.blocks = append(u.stage.blocks, stagedBlock{u.height, hash})
	u.tip.Height, u.tip.Hash = u.height, hash
	u.ended = true
	return nil
}

func (u *updater) commit(sync *pebble.WriteOptions) error {
	if !u.ended {
		return nil
	}
	if err := u.s.commitStage(&u.stage, u.tip, sync); err != nil {
		return fmt.Errorf("cluster: commit at height %d: %w", u.tip.Height, err)
	}
	u.stage.reset(u.tip.Seq)
	u.s.tip = u.tip
	u.dirty = false
	u.ended = false
	return nil
}
