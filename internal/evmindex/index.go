package evmindex

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
)

// schemaVersion is stored in every index; another version is refused
// rather than misread.
const schemaVersion = "evm-1"

// Errors of the index.
var (
	// ErrCorrupt wraps a record that does not decode.
	ErrCorrupt = errors.New("corrupt record")
	// ErrInconsistent wraps a write that does not fit the index.
	ErrInconsistent = errors.New("inconsistent with the index")
	// ErrWrongChain wraps an index opened for another chain id.
	ErrWrongChain = errors.New("index of another chain")
)

// Options of Open.
type Options struct {
	// ChainID is the chain the index holds. Creating an index needs it; an
	// existing index of another chain id is refused. 0 opens an existing
	// index whatever its chain.
	ChainID uint64
	// Name and Symbol describe a new index's chain (default "evm-<id>" and
	// "ETH"); an existing index keeps its own.
	Name, Symbol string
	ReadOnly     bool
	// CacheBytes is pebble's block cache (default 64 MiB).
	CacheBytes int64
	Logger     *slog.Logger
}

// Index is the pebble store of one EVM chain. Readers may be used from many
// goroutines; Apply and Rollback are serialised.
type Index struct {
	dir  string
	db   *pebble.DB
	log  *slog.Logger
	meta Meta

	write sync.Mutex // serialises Apply and Rollback

	mu    sync.Mutex // guards tip
	tip   Tip
	empty bool
	// next ids, guarded by write
	nextAddr  AddrID
	nextAsset AssetID

	readOnly bool

	closeOnce sync.Once
	closeErr  error
}

// Dir is the directory of the index of chainID under root.
func Dir(root string, chainID uint64) string {
	return filepath.Join(root, fmt.Sprintf("evm-%d", chainID))
}

// Open opens (creating if needed) the index in dir.
func Open(dir string, opt Options) (*Index, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if !opt.ReadOnly {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("evmindex: %w", err)
		}
	} else if _, err := os.Stat(filepath.Join(dir, "CURRENT")); err != nil {
		return nil, fmt.Errorf("evmindex: %s holds no index", dir)
	}
	cacheBytes := opt.CacheBytes
	if cacheBytes <= 0 {
		cacheBytes = 64 << 20
	}
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:                       cache,
		ReadOnly:                    opt.ReadOnly,
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		MaxConcurrentCompactions:    func() int { return 2 },
		Logger:                      pebbleLogger{log},
	}
	po.Levels = make([]pebble.LevelOptions, 7)
	for i := range po.Levels {
		l := &po.Levels[i]
		l.BlockSize = 32 << 10
		l.FilterPolicy = bloom.FilterPolicy(10)
		l.FilterType = pebble.TableFilter
		l.Compression = pebble.ZstdCompression
		l.TargetFileSize = 64 << 20
	}
	po.EnsureDefaults()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("evmindex: open %s: %w", dir, err)
	}
	ix := &Index{dir: dir, db: db, log: log, readOnly: opt.ReadOnly}
	if err := ix.load(opt); err != nil {
		db.Close()
		return nil, err
	}
	return ix, nil
}

func (ix *Index) load(opt Options) error {
	v, closer, err := ix.db.Get(keyMeta)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if opt.ReadOnly {
			return fmt.Errorf("evmindex: %s holds no index", ix.dir)
		}
		if opt.ChainID == 0 {
			return fmt.Errorf("evmindex: %s holds no index, and a new one needs its chain id", ix.dir)
		}
		m := Meta{ChainID: opt.ChainID, Name: opt.Name, Symbol: opt.Symbol}
		if m.Name == "" {
			m.Name = fmt.Sprintf("evm-%d", m.ChainID)
		}
		if m.Symbol == "" {
			m.Symbol = "ETH"
		}
		ix.meta = m
		ix.empty = true
		ix.nextAddr, ix.nextAsset = 1, 1
		b := ix.db.NewBatch()
		b.Set(keyMeta, encodeMeta(m), nil)
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("evmindex: initialise %s: %w", ix.dir, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("evmindex: %w", err)
	}
	m, err := decodeMeta(v)
	closer.Close()
	if err != nil {
		return err
	}
	if opt.ChainID != 0 && m.ChainID != opt.ChainID {
		return fmt.Errorf("evmindex: %w: %s holds chain %d (%s), not chain %d", ErrWrongChain, ix.dir, m.ChainID, m.Name, opt.ChainID)
	}
	ix.meta = m
	v, closer, err = ix.db.Get(keyTip)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		ix.empty = true
		ix.nextAddr, ix.nextAsset = 1, 1
		return nil
	case err != nil:
		return fmt.Errorf("evmindex: read tip: %w", err)
	}
	defer closer.Close()
	t, err := decodeTip(v)
	if err != nil {
		return err
	}
	ix.tip = t
	ix.nextAddr = AddrID(t.Addresses + 1)
	ix.nextAsset = AssetID(t.Assets + 1)
	return nil
}

// Close closes the store; closing again does nothing.
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() {
		if err := ix.db.Close(); err != nil {
			ix.closeErr = fmt.Errorf("evmindex: close: %w", err)
		}
	})
	return ix.closeErr
}

// Meta returns the chain the index holds.
func (ix *Index) Meta() Meta { return ix.meta }

// Dir returns the store's directory.
func (ix *Index) Dir() string { return ix.dir }

// Tip returns the last committed block and the counters; false when the
// index holds no block yet.
func (ix *Index) Tip() (Tip, bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.tip, !ix.empty, nil
}

// Compact compacts the whole store.
func (ix *Index) Compact() error {
	if err := ix.db.Compact([]byte{0}, []byte{0xff, 0xff}, true); err != nil {
		return fmt.Errorf("evmindex: compact: %w", err)
	}
	return nil
}

// Metrics returns pebble's metrics, for benchmarks and status.
func (ix *Index) Metrics() *pebble.Metrics { return ix.db.Metrics() }

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("evmindex: pebble: " + msg)
}
