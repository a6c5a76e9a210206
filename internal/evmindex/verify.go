package evmindex

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/cockroachdb/pebble"
)

// Verify re-derives the index's invariants from its records: blocks
// contiguous up to the tip and findable by hash, transactions findable by
// hash, the counters, every move in both sides' ledgers, every ledger's
// running balance, totals and summary, the address and asset tables dense
// and two-way. It returns every problem found (at most 100), joined; nil
// when the index is sound.
func (ix *Index) Verify(ctx context.Context) error {
	problems, err := ix.Check(ctx)
	if err != nil {
		return err
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = fmt.Errorf("evmindex: verify: %s", p)
	}
	return errors.Join(errs...)
}

// Checks names what Verify and Check re-derive.
var Checks = []string{
	"blocks contiguous and linked by parent hash up to the tip, each found by its hash",
	"the tip's counters equal the blocks' and the transactions'",
	"every transaction found by its hash; every move in both sides' ledgers with its kind, amount and counterparty",
	"every ledger's running balance, totals, entry count, first and last key equal its summary",
	"the ledger table holds exactly the moves' entries",
	"address and token tables dense and two-way",
}

// Check is Verify returning the problems as lines (at most 100); the
// error is only for a failure to read the store or a cancelled context.
func (ix *Index) Check(ctx context.Context) ([]string, error) {
	v := &verifier{ix: ix}
	v.run(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]string, len(v.problems))
	for i, p := range v.problems {
		out[i] = p.Error()
	}
	return out, nil
}

type verifier struct {
	ix       *Index
	problems []error
}

func (v *verifier) fail(format string, args ...any) {
	if len(v.problems) < 100 {
		v.problems = append(v.problems, fmt.Errorf(format, args...))
	}
}

func (v *verifier) run(ctx context.Context) {
	ix := v.ix
	tip, has, _ := ix.Tip()
	if !has {
		return
	}
	// Blocks: contiguous from the first to the tip.
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tBlock}, UpperBound: []byte{tBlock + 1}})
	if err != nil {
		v.fail("%v", err)
		return
	}
	var first, prev uint64
	var prevHash [32]byte
	var n, txs, moves, untraced uint64
	for it.First(); it.Valid(); it.Next() {
		if n%1000 == 0 && ctx.Err() != nil {
			it.Close()
			v.fail("%v", ctx.Err())
			return
		}
		h := binary.BigEndian.Uint64(it.Key()[1:])
		rec, err := decodeBlock(h, it.Value())
		if err != nil {
			v.fail("%v", err)
			continue
		}
		if n == 0 {
			first = h
		} else {
			if h != prev+1 {
				v.fail("block %d follows block %d", h, prev)
			}
			if rec.Parent != prevHash {
				v.fail("block %d's parent %s is not block %d's hash", h, rec.Parent, prev)
			}
		}
		if b, err := ix.BlockByHash(rec.Hash); err != nil || b.Height != h {
			v.fail("block %d is not found by its hash (%v)", h, err)
		}
		prev, prevHash = h, rec.Hash
		n++
		txs += uint64(rec.TxCount)
		moves += rec.Moves
		if !rec.Traced {
			untraced++
		}
	}
	it.Close()
	if prev != tip.Height || prevHash != tip.Hash {
		v.fail("the tip is block %d %s, the last block %d %s", tip.Height, tip.Hash, prev, prevHash)
	}
	if txs != tip.Txs || moves != tip.Moves || untraced != tip.Untraced {
		v.fail("the tip counts %d transactions, %d moves, %d untraced blocks; the blocks %d, %d, %d", tip.Txs, tip.Moves, tip.Untraced, txs, moves, untraced)
	}

	// Transactions: each move in both ledgers; counts per block.
	var entries uint64
	var scanned, scannedMoves uint64
	err = ix.Scan(first, tip.Height, func(t *Tx) error {
		if t.Hash != ([32]byte{}) {
			scanned++
			if k, err := ix.TxKeyOfHash(t.Hash); err != nil || k != t.Key {
				v.fail("transaction %s at %s is not found by its hash (%v)", t.Hash, t.Key, err)
			}
		}
		for _, m := range t.Moves {
			scannedMoves++
			for _, side := range []struct {
				id, cp AddrID
				in     bool
			}{{m.From, m.To, false}, {m.To, m.From, true}} {
				if side.id == 0 {
					continue
				}
				entries++
				var e *Entry
				key := entryKey(side.id, m.Asset, t.Key, m.Seq, side.in)
				if val, closer, err := ix.db.Get(key); err != nil {
					v.fail("move %s#%d: no ledger entry for address %d", t.Key, m.Seq, side.id)
					continue
				} else {
					got, err := decodeEntry(key, val)
					closer.Close()
					if err != nil {
						v.fail("%v", err)
						continue
					}
					e = &got
				}
				if e.Kind != m.Kind || e.Counterparty != side.cp || e.Amount.Cmp(m.Amount) != 0 {
					v.fail("move %s#%d: the ledger entry of address %d says %s %s with %d", t.Key, m.Seq, side.id, e.Kind, e.Amount, e.Counterparty)
				}
			}
		}
		return nil
	})
	if err != nil {
		v.fail("%v", err)
	}
	if scanned != tip.Txs || scannedMoves != tip.Moves {
		v.fail("%d transactions and %d moves recorded, the tip counts %d and %d", scanned, scannedMoves, tip.Txs, tip.Moves)
	}

	// Ledgers: running balances and summaries.
	var ledgerEntries uint64
	hit, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tHolding}, UpperBound: []byte{tHolding + 1}})
	if err != nil {
		v.fail("%v", err)
		return
	}
	holdings := 0
	for hit.First(); hit.Valid(); hit.Next() {
		holdings++
		if holdings%1000 == 0 && ctx.Err() != nil {
			break
		}
		k := hit.Key()
		id, asset := AddrID(binary.BigEndian.Uint64(k[1:9])), AssetID(binary.BigEndian.Uint32(k[9:]))
		h, err := decodeHolding(hit.Value())
		if err != nil {
			v.fail("%v", err)
			continue
		}
		bal, in, out := new(big.Int), new(big.Int), new(big.Int)
		var count uint64
		var firstKey, lastKey TxKey
		err = ix.Ledger(id, asset, 0, func(e Entry) bool {
			if count == 0 {
				firstKey = e.Key
			}
			count++
			lastKey = e.Key
			if e.In {
				bal.Add(bal, e.Amount.Big())
				in.Add(in, e.Amount.Big())
			} else {
				bal.Sub(bal, e.Amount.Big())
				out.Add(out, e.Amount.Big())
			}
			if e.Balance.Big().Cmp(bal) != 0 {
				v.fail("address %d asset %d at %s: balance %s, the entries add up to %s", id, asset, e.Key, e.Balance, bal)
			}
			return true
		})
		if err != nil {
			v.fail("%v", err)
			continue
		}
		ledgerEntries += count
		if count != h.Entries || h.In.Cmp(in) != 0 || h.Out.Cmp(out) != 0 || h.Balance.Big().Cmp(bal) != 0 || h.First != firstKey || h.Last != lastKey {
			v.fail("address %d asset %d: the summary says %d entries, in %s, out %s, balance %s; the ledger %d, %s, %s, %s",
				id, asset, h.Entries, h.In, h.Out, h.Balance, count, in, out, bal)
		}
		if uint64(id) > tip.Addresses || uint64(asset) > tip.Assets {
			v.fail("a ledger of address %d in asset %d, beyond the tip's counters", id, asset)
		}
	}
	hit.Close()
	if ledgerEntries != entries {
		v.fail("the ledgers hold %d entries, the moves make %d", ledgerEntries, entries)
	}
	if allEntries, err := ix.count(tEntry); err != nil {
		v.fail("%v", err)
	} else if allEntries != entries {
		v.fail("the ledger table holds %d entries, the moves make %d", allEntries, entries)
	}

	// Addresses and assets: dense and two-way.
	for id := AddrID(1); uint64(id) <= tip.Addresses; id++ {
		a, err := ix.Address(id)
		if err != nil {
			v.fail("address id %d: %v", id, err)
			continue
		}
		if got, err := ix.AddrID(a.Address); err != nil || got != id {
			v.fail("address %s is id %d, its lookup gives %d (%v)", a.Address, id, got, err)
		}
	}
	for id := AssetID(1); uint64(id) <= tip.Assets; id++ {
		a, err := ix.Asset(id)
		if err != nil {
			v.fail("asset %d: %v", id, err)
			continue
		}
		if got, err := ix.AssetByContract(a.Contract); err != nil || got.ID != id {
			v.fail("token %s is asset %d, its lookup gives %d (%v)", a.Contract, id, got.ID, err)
		}
	}
	for _, t := range []struct {
		table byte
		want  uint64
		what  string
	}{{tAddr, tip.Addresses, "addresses"}, {tAddrID, tip.Addresses, "address ids"}, {tAsset, tip.Assets, "assets"}, {tAssetAddr, tip.Assets, "token contracts"}, {tTxHash, tip.Txs, "transaction hashes"}, {tBlockHash, n, "block hashes"}} {
		c, err := ix.count(t.table)
		if err != nil {
			v.fail("%v", err)
		} else if c != t.want {
			v.fail("%d %s stored, %d expected", c, t.what, t.want)
		}
	}
}

func (ix *Index) count(table byte) (uint64, error) {
	var n uint64
	err := ix.each([]byte{table}, []byte{table + 1}, false, func(k, v []byte) (bool, error) { n++; return true, nil })
	return n, err
}
