package index

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/sstable"
)

// stager collects the writes of a batch and hands them to pebble sorted
// by key, once each. Pebble sorts every large batch before applying it;
// given sorted input its sort costs one pass, where sorting a million
// random keys by comparison took a fifth of an import's CPU. The stager
// sorts with a radix sort on the keys' first eight bytes (which tell
// nearly all keys apart), and writes a key set twice only once, with its
// last value: an output created and spent in the same batch, the tip, the
// partial address chunk.
type stager struct {
	arena []byte
	kvs   []stagedKV
	tmp   []stagedKV
}

type stagedKV struct {
	k8   uint64 // the key's first 8 bytes, big-endian, zero-padded
	off  uint32 // key then value in arena
	klen uint32
	vlen uint32
	seq  uint32 // order of arrival, for ties
}

func (s *stager) set(key, value []byte) {
	var p [8]byte
	copy(p[:], key)
	s.kvs = append(s.kvs, stagedKV{k8: binary.BigEndian.Uint64(p[:]), off: uint32(len(s.arena)),
		klen: uint32(len(key)), vlen: uint32(len(value)), seq: uint32(len(s.kvs))})
	s.arena = append(s.arena, key...)
	s.arena = append(s.arena, value...)
}

func (s *stager) len() int { return len(s.arena) }

// stageMark is a point to truncate the stager back to.
type stageMark struct{ arena, kvs int }

func (s *stager) mark() stageMark { return stageMark{len(s.arena), len(s.kvs)} }

func (s *stager) truncate(m stageMark) {
	s.arena = s.arena[:m.arena]
	s.kvs = s.kvs[:m.kvs]
}

func (s *stager) key(e *stagedKV) []byte { return s.arena[e.off : e.off+e.klen] }

func (s *stager) value(e *stagedKV) []byte {
	return s.arena[e.off+e.klen : e.off+e.klen+e.vlen]
}

// sortInto writes the staged pairs in key order, the last value of each
// key only, and empties the stager. Keys of table side go to sst when it
// is not nil (a table being written for ingestion), the others to b.
func (s *stager) sortInto(b *pebble.Batch, side byte, sst *sstable.Writer) error {
	kvs := s.radixSort()
	defer func() {
		s.arena = s.arena[:0]
		s.kvs = s.kvs[:0]
	}()
	for i := 0; i < len(kvs); i++ {
		e := &kvs[i]
		k := s.key(e)
		if i+1 < len(kvs) && kvs[i+1].k8 == e.k8 && bytes.Equal(s.key(&kvs[i+1]), k) {
			continue // a later write of the same key follows
		}
		v := s.value(e)
		if sst != nil && k[0] == side {
			if err := sst.Set(k, v); err != nil {
				return err
			}
			continue
		}
		op := b.SetDeferred(len(k), len(v))
		copy(op.Key, k)
		copy(op.Value, v)
		op.Finish()
	}
	return nil
}

// radixSort orders the pairs by key, ties in arrival order: an LSD radix
// sort on k8 in four 16-bit passes (stable), then an insertion sort by the
// full key inside the rare runs of equal k8.
func (s *stager) radixSort() []stagedKV {
	src := s.kvs
	if cap(s.tmp) < len(src) {
		s.tmp = make([]stagedKV, len(src))
	}
	dst := s.tmp[:len(src)]
	var count [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		clear(count[:])
		for i := range src {
			count[(src[i].k8>>shift)&0xffff]++
		}
		if count[(src[0].k8>>shift)&0xffff] == len(src) {
			continue // every key has the same digit here
		}
		pos := 0
		for d := range count {
			c := count[d]
			count[d] = pos
			pos += c
		}
		for i := range src {
			d := (src[i].k8 >> shift) & 0xffff
			dst[count[d]] = src[i]
			count[d]++
		}
		src, dst = dst, src
	}
	// Runs of equal k8 (the outputs of one address within a batch share
	// their first eight bytes) are sorted by full key, ties in arrival
	// order: by insertion when short, by a stable sort when long, so that
	// a busy address costs n log n, not n².
	for i := 0; i < len(src); {
		j := i + 1
		for j < len(src) && src[j].k8 == src[i].k8 {
			j++
		}
		if run := src[i:j]; len(run) > 16 {
			slices.SortStableFunc(run, s.cmp)
		} else {
			for a := 1; a < len(run); a++ {
				for b := a; b > 0 && s.cmp(run[b], run[b-1]) < 0; b-- {
					run[b], run[b-1] = run[b-1], run[b]
				}
			}
		}
		i = j
	}
	if &src[0] != &s.kvs[0] {
		s.tmp, s.kvs = s.kvs, src // keep both buffers for the next batch
	}
	return src
}

func (s *stager) cmp(a, b stagedKV) int {
	if c := bytes.Compare(s.key(&a), s.key(&b)); c != 0 {
		return c
	}
	return int(a.seq) - int(b.seq)
}
