package index

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

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// schemaVersion is stored in every index; an index of another version is
// refused rather than misread.
const schemaVersion = "2"

// Options tune an index. The zero value is fine for queries.
type Options struct {
	// CacheBytes is the size of pebble's block cache (default 64 MiB).
	CacheBytes int64
	// Bulk sizes memtables and compactions for a long import.
	Bulk bool
	// ReadOnly opens the store without write access.
	ReadOnly bool
	Logger   *slog.Logger
}

// Index is the pebble store of one ledger. Readers may be used from many
// goroutines; there is at most one Writer at a time.
type Index struct {
	dir    string
	params *btc.Params
	db     *pebble.DB
	log    *slog.Logger

	mu      sync.Mutex // guards tip and writer
	tip     Tip
	writing bool

	opts    *pebble.Options
	ingests int // tables ingested, for unique file names

	headers headerCache

	readOnly bool
}

// Open opens (creating if needed) the index of network p in dir.
func Open(dir string, p *btc.Params, opt Options) (*Index, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if !opt.ReadOnly {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
	}
	cacheBytes := opt.CacheBytes
	if cacheBytes <= 0 {
		cacheBytes = 64 << 20
	}
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		Comparer:                    comparer,
		Cache:                       cache,
		ReadOnly:                    opt.ReadOnly,
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		LBaseMaxBytes:               256 << 20,
		MaxConcurrentCompactions:    func() int { return 2 },
		Logger:                      pebbleLogger{log},
	}
	if opt.Bulk {
		po.MemTableSize = 256 << 20
		po.L0CompactionThreshold = 8
		po.L0StopWritesThreshold = 48
		po.LBaseMaxBytes = 1 << 30
	}
	po.Levels = make([]pebble.LevelOptions, 7)
	for i := range po.Levels {
		l := &po.Levels[i]
		l.BlockSize = 32 << 10
		l.IndexBlockSize = 256 << 10
		l.FilterPolicy = bloom.FilterPolicy(10)
		l.FilterType = pebble.TableFilter
		// zstd keeps the store about a sixth smaller than snappy; files
		// flushed to level 0 move down unchanged when nothing overlaps
		// them, so every level uses it.
		l.Compression = pebble.ZstdCompression
		l.TargetFileSize = 64 << 20
	}
	po.EnsureDefaults()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", dir, err)
	}
	ix := &Index{dir: dir, params: p, db: db, log: log, opts: po, readOnly: opt.ReadOnly}
	ix.headers.init()
	if err := ix.load(opt.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	return ix, nil
}

func (ix *Index) load(readOnly bool) error {
	want := schemaVersion + " " + ix.params.Ledger().String()
	v, closer, err := ix.db.Get(keySchema)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if readOnly {
			return fmt.Errorf("index: %s holds no index", ix.dir)
		}
		ix.tip = Tip{Height: -1, NextAddr: 1}
		b := ix.db.NewBatch()
		b.Set(keySchema, []byte(want), nil)
		b.Set(keyTip, ix.tip.encode(), nil)
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("index: initialise %s: %w", ix.dir, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("index: %w", err)
	}
	got := string(v)
	closer.Close()
	if got != want {
		return fmt.Errorf("index: %s holds %q, not an index of %q", ix.dir, got, want)
	}
	v, closer, err = ix.db.Get(keyTip)
	if err != nil {
		return fmt.Errorf("index: read tip: %w", err)
	}
	defer closer.Close()
	ix.tip, err = decodeTip(v)
	return err
}

// Close closes the store. Pending writes of a Writer must be flushed first.
func (ix *Index) Close() error {
	if err := ix.db.Close(); err != nil {
		return fmt.Errorf("index: close: %w", err)
	}
	return nil
}

// Params returns the network parameters of the index.
func (ix *Index) Params() *btc.Params { return ix.params }

// Ledger returns the chain and network of the index.
func (ix *Index) Ledger() chain.Ledger { return ix.params.Ledger() }

// Dir returns the store's directory.
func (ix *Index) Dir() string { return ix.dir }

// Tip returns the last committed tip.
func (ix *Index) Tip() Tip {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.tip
}

// Compact compacts the whole store, dropping overwritten and deleted data.
func (ix *Index) Compact() error {
	if err := ix.db.Compact([]byte{0}, []byte{0xff, 0xff}, true); err != nil {
		return fmt.Errorf("index: compact: %w", err)
	}
	return nil
}

// DiskSize returns the bytes the store's files take on disk.
func (ix *Index) DiskSize() (int64, error) { return DiskSize(ix.dir) }

// DiskSize returns the bytes the files of a (closed) store take on disk.
// An open store also keeps obsolete write-ahead logs for reuse and deletes
// replaced tables in the background, so this is its size at rest.
func DiskSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("index: size of %s: %w", dir, err)
	}
	return total, nil
}

// Metrics returns pebble's metrics, for benchmarks and status.
func (ix *Index) Metrics() *pebble.Metrics { return ix.db.Metrics() }

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("index: pebble: " + msg)
}
