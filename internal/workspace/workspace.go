// Package workspace is Vestigo's composition root: it opens a data
// directory and hands out the stores in it, and it resolves what a user
// typed (an address, a txid, a block hash or height) to the index that
// holds it.
//
// Concepts:
//
//   - A data directory holds one index per ledger under index/<chain>-<net>
//     (for example index/btc-regtest). The directory is chosen with --data
//     or $VESTIGO_DATA and defaults to ./vestigo-data.
//   - EVM chains (Ethereum and its peers) have one index each under
//     index/evm-<chain id>; 0x addresses and hashes are resolved against
//     them (--chain-id chooses when several hold the input).
//   - Resolution: a Bitcoin address is valid on one or more networks
//     (testnet3, testnet4 and signet share their encodings); a txid or a
//     block hash looks the same on every network. The workspace asks every
//     index that could hold it, and answers only when exactly one does;
//     otherwise it says which networks to choose from (--network).
//
// Errors: ErrNoData when the directory holds no index; lookups wrap
// chain.ErrNotFound and chain.ErrInvalid; ErrAmbiguous when several indexes
// match.
package workspace

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

// ErrNoData reports a data directory without any index.
var ErrNoData = errors.New("no index in the data directory")

// ErrInUse reports an index that another Vestigo process holds open.
var ErrInUse = errors.New("in use by another Vestigo process")

// ErrAmbiguous reports input that more than one index can answer.
var ErrAmbiguous = errors.New("ambiguous")

// EnvData names the environment variable that sets the data directory.
const EnvData = "VESTIGO_DATA"

// DefaultDir returns the data directory: $VESTIGO_DATA or ./vestigo-data.
func DefaultDir() string {
	if d := os.Getenv(EnvData); d != "" {
		return d
	}
	return "vestigo-data"
}

// Options of a workspace.
type Options struct {
	Logger *slog.Logger
	// CacheBytes is the block cache of each index.
	CacheBytes int64
	// Bulk opens indexes for a long import.
	Bulk bool
	// ReadOnly opens indexes without write access: a query never changes
	// the store it reads.
	ReadOnly bool
}

// Workspace is an open data directory.
type Workspace struct {
	dir string
	opt Options

	mu       sync.Mutex
	indexes  map[chain.Ledger]*index.Index
	evm      map[uint64]*evmindex.Index
	clusters map[chain.Ledger]*cluster.Store
	tags     *tags.Store
	labels   map[chain.Ledger]*entity.LabelCache
	sums     map[chain.Ledger]*entity.SummaryCache
}

// Open opens the data directory dir; it need not exist yet.
func Open(dir string, opt Options) (*Workspace, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	return &Workspace{dir: abs, opt: opt, indexes: map[chain.Ledger]*index.Index{}, evm: map[uint64]*evmindex.Index{}, clusters: map[chain.Ledger]*cluster.Store{},
		labels: map[chain.Ledger]*entity.LabelCache{}, sums: map[chain.Ledger]*entity.SummaryCache{}}, nil
}

// Dir returns the absolute data directory.
func (w *Workspace) Dir() string { return w.dir }

// Close closes every open store.
func (w *Workspace) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for l, s := range w.clusters {
		errs = append(errs, s.Close())
		delete(w.clusters, l)
	}
	if w.tags != nil {
		errs = append(errs, w.tags.Close())
		w.tags = nil
	}
	for l, ix := range w.indexes {
		errs = append(errs, ix.Close())
		delete(w.indexes, l)
	}
	for id, ix := range w.evm {
		errs = append(errs, ix.Close())
		delete(w.evm, id)
	}
	return errors.Join(errs...)
}

func (w *Workspace) indexDir(l chain.Ledger) string {
	return filepath.Join(w.dir, "index", l.String())
}

// Ledgers lists the ledgers that have an index, sorted.
func (w *Workspace) Ledgers() ([]chain.Ledger, error) {
	entries, err := os.ReadDir(filepath.Join(w.dir, "index"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	var out []chain.Ledger
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		l, err := chain.ParseLedger(e.Name())
		if err != nil || l.Chain != chain.Bitcoin {
			continue
		}
		if _, err := btc.ParamsFor(l.Network); err != nil {
			continue
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Index opens the index of ledger l. With create false, a missing index is
// ErrNoData.
func (w *Workspace) Index(l chain.Ledger, create bool) (*index.Index, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ix, ok := w.indexes[l]; ok {
		return ix, nil
	}
	if l.Chain != chain.Bitcoin {
		return nil, fmt.Errorf("workspace: %w: chain %q is not supported yet", chain.ErrInvalid, l.Chain)
	}
	p, err := btc.ParamsFor(l.Network)
	if err != nil {
		return nil, err
	}
	dir := w.indexDir(l)
	if !create {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("workspace: %w: no %s index in %s", ErrNoData, l, w.dir)
		}
	}
	if create && w.opt.ReadOnly {
		return nil, fmt.Errorf("workspace: %s is opened read-only", w.dir)
	}
	ix, err := index.Open(dir, p, index.Options{Logger: w.opt.Logger, CacheBytes: w.opt.CacheBytes, Bulk: w.opt.Bulk, ReadOnly: w.opt.ReadOnly})
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || strings.Contains(err.Error(), "could not lock") {
			return nil, fmt.Errorf("workspace: the %s index in %s is %w (%v)", l, w.dir, ErrInUse, err)
		}
		return nil, err
	}
	w.indexes[l] = ix
	return ix, nil
}

// candidates returns the open indexes of the given ledgers that exist,
// restricted to network if it is set.
func (w *Workspace) candidates(network chain.Network, want func(chain.Ledger) bool) ([]*index.Index, error) {
	ls, err := w.Ledgers()
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("workspace: %w %s (run vestigo import or vestigo sync first)", ErrNoData, w.dir)
	}
	var out []*index.Index
	for _, l := range ls {
		if network != "" && l.Network != network {
			continue
		}
		if want != nil && !want(l) {
			continue
		}
		ix, err := w.Index(l, false)
		if err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, nil
}

// Lookup runs find on every candidate index and returns the one answer,
// or ErrAmbiguous / chain.ErrNotFound.
func lookup[T any](cands []*index.Index, what string, find func(*index.Index) (T, error)) (*index.Index, T, error) {
	var zero T
	var found []*index.Index
	var val T
	for _, ix := range cands {
		v, err := find(ix)
		if errors.Is(err, chain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, zero, err
		}
		if len(found) == 0 {
			val = v
		}
		found = append(found, ix)
	}
	switch len(found) {
	case 0:
		var nets []string
		for _, ix := range cands {
			nets = append(nets, string(ix.Params().Network))
		}
		where := "any index"
		if len(nets) > 0 {
			where = "the " + strings.Join(nets, ", ") + " index"
		}
		return nil, zero, fmt.Errorf("workspace: %s is not in %s: %w", what, where, chain.ErrNotFound)
	case 1:
		return found[0], val, nil
	}
	var nets []string
	for _, ix := range found {
		nets = append(nets, string(ix.Params().Network))
	}
	return nil, zero, fmt.Errorf("workspace: %w: %s is in the %s indexes; choose one with --network", ErrAmbiguous, what, strings.Join(nets, " and "))
}

func (w *Workspace) clusterDir(l chain.Ledger) string {
	return filepath.Join(w.dir, "cluster", l.String())
}

// Clusters opens the cluster store of ledger l. Read-only workspaces open
// it read-only (chain.ErrNotFound when it was never built); otherwise it is
// created on first use with opt's settings (opt.UseChange is fixed at
// creation).
func (w *Workspace) Clusters(l chain.Ledger, opt cluster.Options) (*cluster.Store, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.clusters[l]; ok {
		return s, nil
	}
	opt.Logger = w.opt.Logger
	opt.ReadOnly = w.opt.ReadOnly
	if !opt.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(w.clusterDir(l)), 0o755); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
	}
	s, err := cluster.Open(w.clusterDir(l), l, opt)
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("workspace: the %s cluster store in %s is in use by another Vestigo process: %w", l, w.dir, err)
		}
		return nil, err
	}
	w.clusters[l] = s
	return s, nil
}

// HasClusters reports whether the cluster store of l exists.
func (w *Workspace) HasClusters(l chain.Ledger) bool {
	_, err := os.Stat(w.clusterDir(l))
	return err == nil
}

// TagsPath is the tag database of the workspace.
func (w *Workspace) TagsPath() string { return filepath.Join(w.dir, "tags.db") }

// Tags opens the tag store. A read-only workspace without one gets nil
// and no error: there are no tags to show.
func (w *Workspace) Tags() (*tags.Store, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tags != nil {
		return w.tags, nil
	}
	path := w.TagsPath()
	if w.opt.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	} else if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	s, err := tags.Open(path, tags.Options{Logger: w.opt.Logger})
	if err != nil {
		return nil, err
	}
	w.tags = s
	return s, nil
}

// Attribution returns the attribution service of the index ix: its
// cluster store (nil if never built) and the tag store (nil if none).
// Queries use a read-only workspace, whose cluster stores open with the
// options they were built with.
func (w *Workspace) Attribution(ix *index.Index) (*entity.Service, error) {
	w.mu.Lock()
	lc := w.labels[ix.Ledger()]
	if lc == nil {
		lc = &entity.LabelCache{}
		w.labels[ix.Ledger()] = lc
	}
	sc := w.sums[ix.Ledger()]
	if sc == nil {
		sc = &entity.SummaryCache{}
		w.sums[ix.Ledger()] = sc
	}
	w.mu.Unlock()
	svc := &entity.Service{Index: ix, Labels: lc, Summaries: sc}
	if w.HasClusters(ix.Ledger()) {
		s, err := w.Clusters(ix.Ledger(), cluster.Options{})
		if err != nil {
			return nil, err
		}
		svc.Clusters = s
	}
	t, err := w.Tags()
	if err != nil {
		return nil, err
	}
	svc.Tags = t
	return svc, nil
}
