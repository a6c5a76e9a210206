package index

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// Scan calls fn for every transaction from height from to height to
// (inclusive; to < 0 means the tip), in chain order. The record and its
// slices are reused: fn must copy what it keeps. Scan stops at the first
// error fn returns and returns it.
func (ix *Index) Scan(from, to int64, fn func(*TxRecord) error) error {
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
	return ix.scanBlocks(from, to, fn)
}

func (ix *Index) scanBlocks(from, to int64, fn func(*TxRecord) error) error {
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
		n, rest, err := decodeChunkHeader(it.Value())
		if err != nil {
			return fmt.Errorf("%w at height %d chunk %d", err, height, chunk)
		}
		base := MakeTxKey(height, chunk*chunkTxs)
		for i := 0; i < n; i++ {
			if rest, err = decodeTx(rest, base+TxKey(i), &r); err != nil {
				return err
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
		if len(rest) != 0 {
			return fmt.Errorf("index: %w: %d trailing bytes in chunk %d of height %d", ErrCorrupt, len(rest), chunk, height)
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}
