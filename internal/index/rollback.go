package index

import (
	"fmt"
)

// Rollback removes every block above height, newest first, each in its own
// atomic batch with the tip it leaves, so that an interrupted rollback
// resumes cleanly. It uses only what the index holds: the inputs' resolved
// previous outputs restore the unspent set. height may be -1 to empty the
// index.
func (w *Writer) Rollback(height int64) error {
	if w.failed != nil {
		return w.failed
	}
	if height < -1 {
		height = -1
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for w.tip.Height > height {
		if err := w.disconnect(); err != nil {
			// Nothing of a half-staged disconnect may be committed.
			w.batch.Reset()
			w.stage = &stager{}
			w.failed = err
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	// The caches may describe removed blocks.
	w.utxo = newUtxoCache(w.opt.CacheTxs)
	w.addrs = newAddrCache(w.opt.CacheAddrs)
	w.ix.headers.reset()
	// Dropped addresses stay in the filter as harmless false positives.
	return w.loadTail()
}

// disconnect stages the removal of the tip block.
func (w *Writer) disconnect() error {
	h := w.tip.Height
	br, err := w.ix.blockRecord(h)
	if err != nil {
		return err
	}
	if br.Hash != w.tip.Hash {
		return fmt.Errorf("index: %w: block record at height %d is %s, tip is %s", ErrCorrupt, h, br.Hash, w.tip.Hash)
	}
	del := func(k []byte) { w.batch.Delete(k, nil) }
	var key []byte
	ntx := 0
	err = w.ix.scanBlocks(h, h, true, func(r *TxRecord) error {
		ntx++
		key = txidKey(key, r.Txid[:], r.Key)
		del(key)
		// The outputs this transaction spent become unspent again (unless
		// they are from this block too, and about to go).
		for _, in := range r.In {
			if in.PrevKey.Height() < h {
				key = outKey(key, in.Addr, in.PrevKey, in.Vout)
				w.val = appendOutValue(w.val[:0], in.Value, 0, 0)
				w.set(key, w.val)
			}
		}
		for j, o := range r.Out {
			if o.Addr != 0 {
				key = outKey(key, o.Addr, r.Key, uint32(j))
				del(key)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ntx != br.TxCount {
		return fmt.Errorf("index: %w: block at height %d holds %d of its %d transactions", ErrCorrupt, h, ntx, br.TxCount)
	}
	for c := 0; c*chunkTxs < ntx; c++ {
		del(chunkKey(key, h, c))
	}
	if err := w.dropAddrs(br.FirstAddr); err != nil {
		return err
	}
	del(blockKey(h))
	del(hashKey(br.Hash[:]))
	w.tip.Height = h - 1
	w.tip.Hash = br.Prev
	if h == 0 {
		w.tip.Hash = [32]byte{}
	}
	w.tip.NextAddr = br.FirstAddr
	w.tip.Txs -= uint64(ntx)
	w.tip.Inputs -= br.Inputs
	w.tip.Outputs -= br.Outputs
	w.ix.headers.reset()
	return nil
}
