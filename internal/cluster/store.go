package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// ErrMismatch reports a store of another ledger or other options.
var ErrMismatch = errors.New("cluster store mismatch")

// ErrCorrupt reports a record that cannot be decoded.
var ErrCorrupt = errors.New("cluster store corrupt")

const (
	tMeta   = 0x00
	tHash   = 'h'
	tParent = 'p'
	tChild  = 'c'
	tSize   = 'z'
	tLog    = 'm'

	idLen = 5
)

var (
	keyTip = []byte{tMeta, 't', 'i', 'p'}
	keyOpt = []byte{tMeta, 'o', 'p', 't'}
)

// Kind says which heuristic made a merge.
type Kind uint8

// Merge kinds.
const (
	CoSpend Kind = 1 // inputs of one transaction
	Change  Kind = 2 // an input and the transaction's change output
)

func (k Kind) String() string {
	switch k {
	case CoSpend:
		return "co-spend"
	case Change:
		return "change"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Options of a cluster store.
type Options struct {
	Logger *slog.Logger
	// ReadOnly opens the store for queries only.
	ReadOnly bool
	// Adopt takes the options an existing store was built with instead of
	// requiring these (read-only stores always do).
	Adopt bool
	// UseChange also merges each transaction's consensus change output
	// into its inputs' cluster. It is fixed when the store is created.
	UseChange bool
	// CollapseLimit: a change merge of two clusters that both have more
	// addresses than this is refused (default 1000).
	CollapseLimit uint32
	// MinChangeConfidence is the consensus confidence a change verdict
	// needs to merge (default 0.75).
	MinChangeConfidence float64
}

// Merge is the record of one merge: the transaction at Tx joined From
// (whose cluster was the smaller, rooted at Child) to To (in the cluster
// rooted at Parent).
type Merge struct {
	Child, Parent index.AddrID
	ChildSize     uint32
	Tx            index.TxKey
	From, To      index.AddrID
	Kind          Kind
}

const mergeLen = idLen + 4 + 8 + idLen + idLen + 1

func (m *Merge) encode() []byte { return m.encodeTo(make([]byte, mergeLen)) }

// encodeTo encodes m into b (mergeLen bytes) and returns it.
func (m *Merge) encodeTo(b []byte) []byte {
	b = b[:mergeLen]
	putID(b, m.Parent)
	binary.BigEndian.PutUint32(b[5:], m.ChildSize)
	binary.BigEndian.PutUint64(b[9:], uint64(m.Tx))
	putID(b[17:], m.From)
	putID(b[22:], m.To)
	b[27] = byte(m.Kind)
	return b
}

func decodeMerge(child index.AddrID, v []byte) (Merge, error) {
	if len(v) != mergeLen || (v[27] != byte(CoSpend) && v[27] != byte(Change)) {
		return Merge{}, fmt.Errorf("cluster: %w: merge record of %d (%d bytes)", ErrCorrupt, child, len(v))
	}
	return Merge{Child: child, Parent: getID(v), ChildSize: binary.BigEndian.Uint32(v[5:]),
		Tx: index.TxKey(binary.BigEndian.Uint64(v[9:])), From: getID(v[17:]), To: getID(v[22:]), Kind: Kind(v[27])}, nil
}

func putID(b []byte, id index.AddrID) {
	b[0] = byte(id >> 32)
	binary.BigEndian.PutUint32(b[1:], uint32(id))
}

func getID(b []byte) index.AddrID {
	return index.AddrID(b[0])<<32 | index.AddrID(binary.BigEndian.Uint32(b[1:]))
}

func idKey(t byte, id index.AddrID) []byte {
	k := make([]byte, 1+idLen)
	k[0] = t
	putID(k[1:], id)
	return k
}

func childKey(parent, child index.AddrID) []byte {
	k := make([]byte, 1+2*idLen)
	k[0] = tChild
	putID(k[1:], parent)
	putID(k[6:], child)
	return k
}

func heightKey(h int64) []byte {
	k := make([]byte, 5)
	k[0] = tHash
	binary.BigEndian.PutUint32(k[1:], uint32(h))
	return k
}

func logKey(h int64, seq uint64) []byte {
	k := make([]byte, 13)
	k[0] = tLog
	binary.BigEndian.PutUint32(k[1:], uint32(h))
	binary.BigEndian.PutUint64(k[5:], seq)
	return k
}

// Tip is how far the store has clustered its index.
type Tip struct {
	Height int64 // -1 when nothing is clustered yet
	Hash   chainhash.Hash
	Merges uint64 // merges in the store (parent pointers)
	Seq    uint64 // the next merge's sequence number
}

func (t *Tip) encode() []byte {
	b := make([]byte, 8+32+8+8)
	binary.BigEndian.PutUint64(b, uint64(t.Height))
	copy(b[8:], t.Hash[:])
	binary.BigEndian.PutUint64(b[40:], t.Merges)
	binary.BigEndian.PutUint64(b[48:], t.Seq)
	return b
}

func decodeTip(v []byte) (Tip, error) {
	if len(v) != 56 {
		return Tip{}, fmt.Errorf("cluster: %w: tip of %d bytes", ErrCorrupt, len(v))
	}
	var t Tip
	t.Height = int64(binary.BigEndian.Uint64(v))
	copy(t.Hash[:], v[8:40])
	t.Merges = binary.BigEndian.Uint64(v[40:])
	t.Seq = binary.BigEndian.Uint64(v[48:])
	return t, nil
}

// Store is the cluster store of one ledger.
type Store struct {
	db      *pebble.DB
	opts    *pebble.Options
	ingests int
	dir     string
	ledger  chain.Ledger
	opt     Options
	tip     Tip

	closed bool
	fresh  bool // nothing committed yet: the next commit writes the options

	// f is the in-memory forest while the store is writable and loaded;
	// nil after a failed update (it is read again).
	f *forest
}

// Open opens (creating unless read-only) the cluster store in dir for
// ledger l.
func Open(dir string, l chain.Ledger, opt Options) (*Store, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.CollapseLimit == 0 {
		opt.CollapseLimit = 1000
	}
	if opt.MinChangeConfidence == 0 {
		opt.MinChangeConfidence = 0.75
	}
	if opt.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("cluster: no cluster store for %s (run vestigo cluster build): %w", l, chain.ErrNotFound)
		}
	}
	popts := (&pebble.Options{ReadOnly: opt.ReadOnly, Logger: quiet{}}).EnsureDefaults()
	for i := range popts.Levels {
		// Merge records are ids and keys of high entropy: compression
		// saves little and costs most of a build's table writing.
		popts.Levels[i].Compression = pebble.NoCompression
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("cluster: open %s: %w", dir, err)
	}
	s := &Store{db: db, opts: popts, dir: dir, ledger: l, opt: opt, tip: Tip{Height: -1}}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("cluster: pebble: "+format, args...))
}

func (s *Store) optRecord() []byte {
	b := []byte(s.ledger.String())
	b = append(b, 0)
	if s.opt.UseChange {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint32(b, s.opt.CollapseLimit)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(s.opt.MinChangeConfidence))
	return b
}

func (s *Store) load() error {
	v, closer, err := s.db.Get(keyOpt)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		// A new store: its options are written with its first commit, so
		// that a first build's table is ingested into an empty store,
		// straight to the bottom level.
		s.fresh = !s.opt.ReadOnly
		return nil
	case err != nil:
		return fmt.Errorf("cluster: %w", err)
	}
	stored := string(v)
	closer.Close()
	if s.opt.ReadOnly || s.opt.Adopt {
		// Take the options the store was built with.
		var l string
		var rest []byte
		if i := strings.IndexByte(stored, 0); i >= 0 {
			l, rest = stored[:i], []byte(stored[i+1:])
		}
		if l != s.ledger.String() || len(rest) != 13 {
			return fmt.Errorf("cluster: %w: the store in %s is for %q, not %s", ErrMismatch, s.dir, l, s.ledger)
		}
		s.opt.UseChange = rest[0] == 1
		s.opt.CollapseLimit = binary.BigEndian.Uint32(rest[1:])
		s.opt.MinChangeConfidence = math.Float64frombits(binary.BigEndian.Uint64(rest[5:]))
	} else if stored != string(s.optRecord()) {
		return fmt.Errorf("cluster: %w: the store in %s was built for another ledger or with other options; remove it and build again", ErrMismatch, s.dir)
	}
	v, closer, err = s.db.Get(keyTip)
	if err != nil {
		return fmt.Errorf("cluster: tip: %w", err)
	}
	defer closer.Close()
	s.tip, err = decodeTip(v)
	return err
}

// Close closes the store; closing it again does nothing.
func (s *Store) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return nil
}

// Tip returns how far the store has clustered.
func (s *Store) Tip() Tip { return s.tip }

// Options returns the options the store was built with.
func (s *Store) Options() Options { return s.opt }

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Record returns the merge record that attached id under its parent; ok is
// false when id is a root.
func (s *Store) Record(id index.AddrID) (m Merge, ok bool, err error) {
	v, closer, err := s.db.Get(idKey(tParent, id))
	if errors.Is(err, pebble.ErrNotFound) {
		return Merge{}, false, nil
	}
	if err != nil {
		return Merge{}, false, fmt.Errorf("cluster: %w", err)
	}
	defer closer.Close()
	m, err = decodeMerge(id, v)
	return m, err == nil, err
}

func (s *Store) parentOf(id index.AddrID) (index.AddrID, error) {
	if s.f != nil {
		return s.f.parentOf(id), nil
	}
	m, ok, err := s.Record(id)
	if err != nil || !ok {
		return 0, err
	}
	return m.Parent, nil
}

// Root returns the cluster id (root address id) of id. An address that
// was never merged is its own cluster.
func (s *Store) Root(id index.AddrID) (index.AddrID, error) {
	for depth := 0; ; depth++ {
		p, err := s.parentOf(id)
		if err != nil {
			return 0, err
		}
		if p == 0 {
			return id, nil
		}
		if depth > 64 {
			return 0, fmt.Errorf("cluster: %w: parent chain of %d longer than 64", ErrCorrupt, id)
		}
		id = p
	}
}

// Size returns the number of addresses in the cluster rooted at root.
func (s *Store) Size(root index.AddrID) (uint64, error) {
	if s.f != nil {
		return uint64(s.f.size(root)), nil
	}
	v, closer, err := s.db.Get(idKey(tSize, root))
	if errors.Is(err, pebble.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: %w", err)
	}
	defer closer.Close()
	n, k := binary.Uvarint(v)
	if k <= 0 {
		return 0, fmt.Errorf("cluster: %w: size of %d", ErrCorrupt, root)
	}
	return n, nil
}

// Members calls fn for the addresses of the cluster rooted at root, in a
// fixed order (depth first, children by id), skipping the first offset,
// until fn returns false.
func (s *Store) Members(root index.AddrID, offset uint64, fn func(index.AddrID) bool) error {
	stack := []index.AddrID{root}
	var n uint64
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n >= offset && !fn(id) {
			return nil
		}
		n++
		kids, err := s.children(id)
		if err != nil {
			return err
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return nil
}

func (s *Store) children(id index.AddrID) ([]index.AddrID, error) {
	lo := idKey(tChild, id)
	hi := idKey(tChild, id+1)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	defer it.Close()
	var out []index.AddrID
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 1+2*idLen {
			return nil, fmt.Errorf("cluster: %w: child key %x", ErrCorrupt, k)
		}
		out = append(out, getID(k[6:]))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// BlockHash returns the hash the store recorded for the block at height.
func (s *Store) BlockHash(h int64) (chainhash.Hash, bool, error) {
	v, closer, err := s.db.Get(heightKey(h))
	if errors.Is(err, pebble.ErrNotFound) {
		return chainhash.Hash{}, false, nil
	}
	if err != nil {
		return chainhash.Hash{}, false, fmt.Errorf("cluster: %w", err)
	}
	defer closer.Close()
	if len(v) != 32 {
		return chainhash.Hash{}, false, fmt.Errorf("cluster: %w: block hash at %d", ErrCorrupt, h)
	}
	var hash chainhash.Hash
	copy(hash[:], v)
	return hash, true, nil
}
