package evmindex

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// Rollback removes every block above height, from the tip down, one
// atomic batch per block, using only what the index holds. Rolling back
// below the index's first block empties it.
func (ix *Index) Rollback(height uint64) error {
	if ix.readOnly {
		return fmt.Errorf("evmindex: the index is open read-only")
	}
	ix.write.Lock()
	defer ix.write.Unlock()
	for {
		tip, has, _ := ix.Tip()
		if !has || tip.Height <= height {
			return nil
		}
		if err := ix.rollbackTip(tip); err != nil {
			return err
		}
	}
}

func (ix *Index) rollbackTip(tip Tip) error {
	rec, err := ix.blockRecord(tip.Height)
	if err != nil {
		return err
	}
	b := ix.db.NewBatch()
	defer b.Close()
	type delta struct{ in, out *big.Int }
	touched := map[holdingKeyT]*delta{}
	unmark := map[AddrID]bool{}
	err = ix.Scan(tip.Height, tip.Height, func(t *Tx) error {
		if t.Hash != (eth.Hash{}) {
			b.Delete(txHashKey(t.Hash), nil)
		}
		b.Delete(txKey(t.Key), nil)
		for _, m := range t.Moves {
			for _, side := range []struct {
				id AddrID
				in bool
			}{{m.From, false}, {m.To, true}} {
				if side.id == 0 {
					continue
				}
				b.Delete(entryKey(side.id, m.Asset, t.Key, m.Seq, side.in), nil)
				k := holdingKeyT{side.id, m.Asset}
				d := touched[k]
				if d == nil {
					d = &delta{new(big.Int), new(big.Int)}
					touched[k] = d
				}
				if side.in {
					d.in.Add(d.in, m.Amount.Big())
				} else {
					d.out.Add(d.out, m.Amount.Big())
				}
			}
		}
		if t.Created != 0 && t.Created < rec.FirstAddr {
			unmark[t.Created] = true
		}
		for _, c := range t.Contracts {
			if c < rec.FirstAddr {
				unmark[c] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	start := MakeTxKey(tip.Height, 0)
	for k, d := range touched {
		if k.id >= rec.FirstAddr {
			b.Delete(holdingKey(k.id, k.asset), nil)
			continue
		}
		h, err := ix.Holding(k.id, k.asset)
		if err != nil {
			return fmt.Errorf("evmindex: roll back block %d: %w", tip.Height, err)
		}
		var last *Entry
		var n uint64
		if err := ix.LedgerDesc(k.id, k.asset, start, func(e Entry) bool { last = &e; n++; return false }); err != nil {
			return err
		}
		if last == nil {
			b.Delete(holdingKey(k.id, k.asset), nil)
			continue
		}
		in, out := new(big.Int).Sub(h.In, d.in), new(big.Int).Sub(h.Out, d.out)
		if in.Sign() < 0 || out.Sign() < 0 {
			return fmt.Errorf("evmindex: %w: roll back block %d: ledger of address %d has less than the block's moves", ErrCorrupt, tip.Height, k.id)
		}
		removed, err := ix.countEntries(k.id, k.asset, start)
		if err != nil {
			return err
		}
		nh := holding{Entries: h.Entries - removed, In: in, Out: out, Balance: last.Balance, First: h.First, Last: last.Key}
		b.Set(holdingKey(k.id, k.asset), encodeHolding(&nh), nil)
	}
	for id := range unmark {
		a, err := ix.Address(id)
		if err != nil {
			return err
		}
		if a.CreatedAt.Height() == tip.Height {
			a.Contract, a.CreatedAt, a.Creator = false, 0, 0
			b.Set(addrIDKey(id), encodeAddress(&a), nil)
		}
	}
	for id := rec.FirstAddr; uint64(id) <= tip.Addresses; id++ {
		a, err := ix.Address(id)
		if err != nil {
			return err
		}
		b.Delete(addrKey(a.Address), nil)
		b.Delete(addrIDKey(id), nil)
	}
	for id := rec.FirstAsset; uint64(id) <= tip.Assets; id++ {
		a, err := ix.Asset(id)
		if err != nil {
			return err
		}
		b.Delete(assetAddrKey(a.Contract), nil)
		b.Delete(assetKey(id), nil)
	}
	b.Delete(blockKey(tip.Height), nil)
	b.Delete(blockHashKey(rec.Hash), nil)

	nt := Tip{Txs: tip.Txs - uint64(rec.TxCount), Moves: tip.Moves - rec.Moves,
		Addresses: uint64(rec.FirstAddr - 1), Assets: uint64(rec.FirstAsset - 1), Untraced: tip.Untraced}
	if !rec.Traced {
		nt.Untraced--
	}
	empty := false
	prev, err := ix.blockRecord(tip.Height - 1)
	switch {
	case tip.Height > 0 && err == nil:
		nt.Height, nt.Hash = prev.Height, prev.Hash
		b.Set(keyTip, encodeTip(nt), nil)
	case tip.Height == 0 || errors.Is(err, chain.ErrNotFound):
		empty = true
		b.Delete(keyTip, nil)
	default:
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("evmindex: roll back block %d: %w", tip.Height, err)
	}
	ix.mu.Lock()
	ix.tip, ix.empty = nt, empty
	if empty {
		ix.tip = Tip{}
	}
	ix.mu.Unlock()
	ix.nextAddr, ix.nextAsset = rec.FirstAddr, rec.FirstAsset
	return nil
}

// countEntries counts address id's entries in asset at or after from.
func (ix *Index) countEntries(id AddrID, asset AssetID, from TxKey) (uint64, error) {
	var n uint64
	err := ix.Ledger(id, asset, from, func(Entry) bool { n++; return true })
	return n, err
}
