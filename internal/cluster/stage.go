package cluster

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/sstable"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/vestigo-forensics/vestigo/internal/index"
)

// batchMerges is how many merges Update stages before it commits (a
// variable for tests); ingestMin is the number of staged writes from which
// a commit goes to pebble as one sorted table, ingested, rather than as a
// batch (pebble would sort a large batch itself, key by key).
var (
	batchMerges = 1 << 20
	ingestMin   = 1 << 16
)

// stage holds the writes of the blocks since the last commit. They are
// sorted at commit time by their table's natural key, which costs far less
// than handing pebble unsorted keys.
type stage struct {
	merges  []Merge
	seq0    uint64 // the sequence number of merges[0]
	blocks  []stagedBlock
	touched []index.AddrID // roots whose size changed (parents), and former roots (children of size > 1)
}

type stagedBlock struct {
	height int64
	hash   chainhash.Hash
}

func (st *stage) reset(seq uint64) {
	st.merges, st.blocks, st.touched = st.merges[:0], st.blocks[:0], st.touched[:0]
	st.seq0 = seq
}

func (st *stage) writes() int { return 3*len(st.merges) + len(st.blocks) + len(st.touched) + 1 }

// emit calls fn with the stage's writes in key order (tip the new tip; a
// nil value with del set is a deletion). The slices are reused: fn copies.
func (st *stage) emit(f *forest, opt []byte, tip Tip, fn func(k, v []byte, del bool) error) error {
	if opt != nil {
		if err := fn(keyOpt, opt, false); err != nil {
			return err
		}
	}
	if err := fn(keyTip, tip.encode(), false); err != nil {
		return err
	}
	// Sort small keys that point at the merges, not the merges.
	type pair struct {
		hi, lo uint64
		i      int32
	}
	keys := make([]pair, len(st.merges))
	for i := range st.merges {
		keys[i] = pair{uint64(st.merges[i].Parent), uint64(st.merges[i].Child), int32(i)}
	}
	slices.SortFunc(keys, func(a, b pair) int {
		if c := cmp.Compare(a.hi, b.hi); c != 0 {
			return c
		}
		return cmp.Compare(a.lo, b.lo)
	})
	var k [16]byte
	var v [mergeLen]byte
	k[0] = tChild
	for _, p := range keys { // c: parent, child
		putID(k[1:], index.AddrID(p.hi))
		putID(k[6:], index.AddrID(p.lo))
		if err := fn(k[:11], nil, false); err != nil {
			return err
		}
	}
	for _, b := range st.blocks { // h: heights, staged in order
		if err := fn(heightKey(b.height), b.hash[:], false); err != nil {
			return err
		}
	}
	k[0] = tLog
	for i := range st.merges { // m: height, seq, staged in order
		binary.BigEndian.PutUint32(k[1:], uint32(st.merges[i].Tx.Height()))
		binary.BigEndian.PutUint64(k[5:], st.seq0+uint64(i))
		putID(v[:], st.merges[i].Child)
		if err := fn(k[:13], v[:idLen], false); err != nil {
			return err
		}
	}
	for i := range keys {
		keys[i].hi, keys[i].lo = uint64(st.merges[keys[i].i].Child), 0
	}
	slices.SortFunc(keys, func(a, b pair) int { return cmp.Compare(a.hi, b.hi) })
	k[0] = tParent
	for _, p := range keys { // p: child
		m := &st.merges[p.i]
		putID(k[1:], m.Child)
		if err := fn(k[:1+idLen], m.encodeTo(v[:]), false); err != nil {
			return err
		}
	}
	slices.Sort(st.touched)
	k[0] = tSize
	var n [binary.MaxVarintLen64]byte
	for _, id := range slices.Compact(st.touched) { // z: every touched id, as it ends up
		putID(k[1:], id)
		var err error
		if f.parentOf(id) == 0 && f.size(id) > 1 {
			err = fn(k[:1+idLen], n[:binary.PutUvarint(n[:], uint64(f.size(id)))], false)
		} else {
			err = fn(k[:1+idLen], nil, true)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// commitStage writes the stage's sorted writes atomically: as a batch, or
// for many writes as one table ingested into the store.
func (s *Store) commitStage(st *stage, tip Tip, sync *pebble.WriteOptions) error {
	var opt []byte
	if s.fresh {
		opt = s.optRecord()
	}
	if err := s.writeStage(st, opt, tip, sync); err != nil {
		return err
	}
	s.fresh = false
	return nil
}

func (s *Store) writeStage(st *stage, opt []byte, tip Tip, sync *pebble.WriteOptions) error {
	if st.writes() < ingestMin {
		b := s.db.NewBatch()
		defer b.Close()
		err := st.emit(s.f, opt, tip, func(k, v []byte, del bool) error {
			if del {
				return b.Delete(k, nil)
			}
			return b.Set(k, v, nil)
		})
		if err != nil {
			return err
		}
		return b.Commit(sync)
	}
	s.ingests++
	path := filepath.Join(s.dir, "ingest", fmt.Sprintf("%d.sst", s.ingests))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	defer os.Remove(path) // pebble links it into the store
	f, err := vfs.Default.Create(path)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f),
		s.opts.MakeWriterOptions(len(s.opts.Levels)-1, s.db.FormatMajorVersion().MaxTableFormat()))
	err = st.emit(s.f, opt, tip, func(k, v []byte, del bool) error {
		if del {
			return w.Delete(k)
		}
		return w.Set(k, v)
	})
	if err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return s.db.Ingest([]string{path})
}
