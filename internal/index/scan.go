package index

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// Scan calls fn for every transaction from height from to height to
// (inclusive; to < 0 means the tip), in chain order, with its whole record.
// The record and its slices are reused: fn must copy what it keeps. Scan
// stops at the first error fn returns and returns it.
func (ix *Index) Scan(from, to int64, fn func(*TxRecord) error) error {
	return ix.scan(from, to, true, fn)
}

// ScanFlows is Scan for whole-chain analyses of money flows: it fills
// only each record's Key, Coinbase, and the inputs' PrevKey, Vout, Value
// and Addr and the outputs' Value and Addr (0 for OP_RETURN), and is about
// twice as fast.
func (ix *Index) ScanFlows(from, to int64, fn func(*TxRecord) error) error {
	return ix.scan(from, to, false, fn)
}

func (ix *Index) scan(from, to int64, full bool, fn func(*TxRecord) error) error {
	tip := ix.Tip().Height
	if to < 0 || to > tip {
		to = tip
	}
	if from < 0 {
		from = 0
	}
	if from > to {
		return nil
	}
	return ix.scanBlocks(from, to, full, fn)
}

func (ix *Index) scanBlocks(from, to int64, full bool, fn func(*TxRecord) error) error {
	lo := chunkKey(nil, from, 0)
	hi := make([]byte, 5)
	hi[0] = tChunk
	binary.BigEndian.PutUint32(hi[1:], uint32(to+1))
	if to+1 > 0xffffffff {
		hi = []byte{tChunk + 1}
	}
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer it.Close()
	var r TxRecord
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 7 {
			return fmt.Errorf("index: %w: chunk key %x", ErrCorrupt, k)
		}
		height := int64(binary.BigEndian.Uint32(k[1:]))
		chunk := int(binary.BigEndian.Uint16(k[5:]))
		c, err := openChunk(it.Value(), MakeTxKey(height, chunk*chunkTxs))
		if err != nil {
			return err
		}
		for c.i < c.n {
			if err := c.next(&r, full); err != nil {
				return err
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
		if err := c.done(); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}
