package index

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/btc"
)

// Address records are stored 64 to a key, in id order, so that the
// per-key cost of the store is paid once per chunk rather than once per
// address. The writer keeps the last, partial chunk in memory and writes it
// again whenever a block adds to it.

// appendAddr appends an address record: kind, payload length, payload, and
// for script addresses the script (uvarint length + bytes).
func appendAddr(dst []byte, a *btc.Addr, script []byte) []byte {
	dst = append(dst, byte(a.Kind), a.Len)
	dst = append(dst, a.Bytes()...)
	if a.Kind == btc.KindScript {
		dst = appendUvarint(dst, uint64(len(script)))
		dst = append(dst, script...)
	}
	return dst
}

// decodeAddr decodes one address record from v and returns the rest.
func decodeAddr(v []byte) (btc.Addr, []byte, []byte, error) {
	if len(v) < 2 || int(v[1]) > btc.MaxAddrData || len(v) < 2+int(v[1]) {
		return btc.Addr{}, nil, nil, fmt.Errorf("index: %w: address record", ErrCorrupt)
	}
	a, ok := btc.MakeAddr(btc.AddrKind(v[0]), v[2:2+int(v[1])])
	if !ok {
		return btc.Addr{}, nil, nil, fmt.Errorf("index: %w: address record of kind %d", ErrCorrupt, v[0])
	}
	rest := v[2+int(v[1]):]
	var script []byte
	if a.Kind == btc.KindScript {
		d := decoder{b: rest}
		script = d.bytes(d.uvarint())
		if d.bad {
			return btc.Addr{}, nil, nil, fmt.Errorf("index: %w: script address record", ErrCorrupt)
		}
		rest = d.b
	}
	return a, script, rest, nil
}

// addrRecords decodes the records of a chunk.
func addrRecords(v []byte, fn func(i int, a btc.Addr, script []byte) bool) (int, error) {
	n := 0
	for len(v) > 0 {
		a, script, rest, err := decodeAddr(v)
		if err != nil {
			return n, err
		}
		if !fn(n, a, script) {
			return n + 1, nil
		}
		n++
		v = rest
	}
	return n, nil
}

// addrByID reads the address record of id.
func (ix *Index) addrByID(id AddrID) (btc.Addr, []byte, error) {
	chunk := uint64(id) / addrChunk
	v, closer, err := ix.db.Get(addrChunkKey(nil, chunk))
	if err != nil {
		// Ids come from stored records: a missing one is damage.
		return btc.Addr{}, nil, fmt.Errorf("index: %w: address %d has no record: %v", ErrCorrupt, id, err)
	}
	defer closer.Close()
	want := int(id - firstOfChunk(chunk))
	var out btc.Addr
	var script []byte
	found := false
	_, err = addrRecords(v, func(i int, a btc.Addr, s []byte) bool {
		if i == want {
			out, script, found = a, slices.Clone(s), true
			return false
		}
		return true
	})
	if err != nil {
		return btc.Addr{}, nil, fmt.Errorf("%w (address %d)", err, id)
	}
	if !found {
		return btc.Addr{}, nil, fmt.Errorf("index: %w: address %d: %w", ErrCorrupt, id, errNoAddr)
	}
	return out, script, nil
}

var errNoAddr = errors.New("no such address record")

// lookupAddr returns the id of a stored address, or 0 if it is new.
func (ix *Index) lookupAddr(a *btc.Addr) (AddrID, error) {
	prefix := addrKey(nil, a.Bytes(), 0)
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixUpperBound(prefix)})
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	defer it.Close()
	for ok := it.SeekPrefixGE(prefix); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != addrKeyLen {
			return 0, fmt.Errorf("index: %w: address key %x", ErrCorrupt, k)
		}
		id := getAddrID(k[len(prefix):])
		stored, _, err := ix.addrByID(id)
		if err != nil {
			return 0, err
		}
		if stored == *a {
			return id, nil
		}
	}
	return 0, it.Error()
}

// addrTail is the writer's copy of the last, partial chunk of address
// records.
type addrTail struct {
	chunk uint64
	buf   []byte
	dirty bool
}

// loadTail reads the chunk that the next new address will join.
func (w *Writer) loadTail() error {
	next := w.tip.NextAddr
	w.tail = addrTail{chunk: uint64(next) / addrChunk}
	if next == firstOfChunk(w.tail.chunk) {
		return nil // the next address starts a chunk
	}
	v, closer, err := w.ix.db.Get(addrChunkKey(nil, w.tail.chunk))
	if err != nil {
		return fmt.Errorf("index: address chunk %d: %w", w.tail.chunk, notFound(err))
	}
	defer closer.Close()
	n, err := addrRecords(v, func(int, btc.Addr, []byte) bool { return true })
	if err != nil {
		return err
	}
	if want := int(next - firstOfChunk(w.tail.chunk)); n != want {
		return fmt.Errorf("index: %w: address chunk %d holds %d records, the tip says %d", ErrCorrupt, w.tail.chunk, n, want)
	}
	w.tail.buf = append(w.tail.buf[:0], v...)
	return nil
}

// newAddr stores the record of a new address id (the next one).
func (w *Writer) newAddr(id AddrID, a *btc.Addr, script []byte) {
	if chunk := uint64(id) / addrChunk; chunk != w.tail.chunk {
		w.flushTail()
		w.tail = addrTail{chunk: chunk, buf: w.tail.buf[:0]}
	}
	w.tail.buf = appendAddr(w.tail.buf, a, script)
	w.tail.dirty = true
	w.filterAdd(a)
	w.key = addrKey(w.key, a.Bytes(), id)
	w.set(w.key, nil)
}

// flushTail stages the partial chunk if a block added to it.
func (w *Writer) flushTail() {
	if w.tail.dirty {
		w.set(addrChunkKey(w.key, w.tail.chunk), w.tail.buf)
		w.tail.dirty = false
	}
}

// dropAddrs stages the removal of the addresses from id first up to the
// tip's next id (a rollback), and rewrites the chunk they started in.
func (w *Writer) dropAddrs(first AddrID) error {
	next := w.tip.NextAddr
	if first >= next {
		return nil
	}
	for c := uint64(first) / addrChunk; c <= uint64(next-1)/addrChunk; c++ {
		v, closer, err := w.ix.db.Get(addrChunkKey(nil, c))
		if err != nil {
			return fmt.Errorf("index: address chunk %d: %w", c, notFound(err))
		}
		base := firstOfChunk(c)
		keep := -1
		var kept []byte
		_, err = addrRecords(v, func(i int, a btc.Addr, _ []byte) bool {
			id := base + AddrID(i)
			if id >= first && id < next {
				if keep < 0 {
					keep = i
				}
				w.batch.Delete(addrKey(nil, a.Bytes(), id), nil)
			}
			return true
		})
		if err == nil && keep > 0 {
			// Keep the records before the first dropped one.
			n := 0
			rest := v
			for n < keep {
				_, _, r, derr := decodeAddr(rest)
				if derr != nil {
					err = derr
					break
				}
				rest = r
				n++
			}
			kept = slices.Clone(v[:len(v)-len(rest)])
		}
		closer.Close()
		if err != nil {
			return err
		}
		if keep > 0 {
			w.set(addrChunkKey(nil, c), kept)
		} else if keep == 0 {
			w.batch.Delete(addrChunkKey(nil, c), nil)
		}
	}
	return nil
}

// addrFilter tells, without touching the store, that an address is new: a
// Bloom filter over the lookup prefixes of every stored address. It has
// no false negatives; its false positives (about 0.1%) cost a store lookup.
// Without it, every first appearance of an address, most of a chain's
// outputs, would search the store. It is built when the writer starts and
// rebuilt, twice as large, when it fills (at a commit, when the store
// holds everything). Only bulk writers keep one.
type addrFilter struct {
	f        *bloom.BloomFilter
	n, limit uint
}

const minFilterAddrs = 1 << 20

// buildFilter fills a filter sized for twice the stored addresses.
func (w *Writer) buildFilter() error {
	stored := uint(w.tip.NextAddr - 1)
	limit := max(2*stored, w.opt.ExpectedAddrs, minFilterAddrs)
	f := bloom.NewWithEstimates(limit, 0.001)
	it, err := w.ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tAddr}, UpperBound: []byte{tAddr + 1}})
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer it.Close()
	n := uint(0)
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != addrKeyLen {
			return fmt.Errorf("index: %w: address key %x", ErrCorrupt, k)
		}
		f.Add(k[1 : 1+addrPrefix])
		n++
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	w.filter = addrFilter{f: f, n: n, limit: limit}
	return nil
}

// mayExist reports whether a might be stored (false: it is certainly new).
// Without a filter, any address might be.
func (w *Writer) mayExist(a *btc.Addr) bool {
	if w.filter.f == nil {
		return true
	}
	var p [addrPrefix]byte
	copy(p[:], a.Bytes())
	return w.filter.f.Test(p[:])
}

func (w *Writer) filterAdd(a *btc.Addr) {
	if w.filter.f == nil {
		return
	}
	var p [addrPrefix]byte
	copy(p[:], a.Bytes())
	w.filter.f.Add(p[:])
	w.filter.n++
}
