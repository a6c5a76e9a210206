// Package entity answers an investigator's attribution questions about an
// address or a transaction by combining the chain index, the cluster store
// and the tag store: who is behind this address (its cluster, with every
// tag and where each came from), is it sanctioned, and what do the
// heuristics say about a transaction (CoinJoin, change).
//
// Concepts:
//
//   - Entity: a cluster with its tags: size, addresses (paged), totals,
//     first and last activity, categories, and the tags that define it.
//   - Direct and cluster tags: a tag on the address itself is "direct"; a
//     tag on another address of its cluster is "cluster" (indirect: it
//     holds only as far as the clustering does). Every tag is shown, none
//     is chosen as "best"; disagreeing tags are flagged as conflicts.
//   - Sanctioned: an address with a sanctioned tag, directly or through
//     its cluster (SanctionedVia says which).
//
// Errors: addresses unknown to the index wrap chain.ErrNotFound; invalid
// input wraps chain.ErrInvalid; without a cluster store the questions that
// need one fail with ErrNoClusters.
package entity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/change"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/coinjoin"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

// ErrNoClusters reports an index whose clusters were never built.
var ErrNoClusters = errors.New("no cluster store (run vestigo cluster build)")

// Service is the attribution view of one ledger.
type Service struct {
	Index    *index.Index
	Clusters *cluster.Store // nil: not built
	Tags     *tags.Store    // nil: no tags imported
	// Labels, when set, caches the cluster labels between queries;
	// Summaries the entities' totals and tags.
	Labels    *LabelCache
	Summaries *SummaryCache
}

// Tag is one tag as shown for an address.
type Tag struct {
	Address string `json:"address,omitempty"`
	// AddressProblem says why the source's address did not validate (the
	// tag is kept as the source gives it).
	AddressProblem string `json:"address_problem,omitempty"`
	Label          string `json:"label"`
	Category       string `json:"category"`
	Abuse          string `json:"abuse,omitempty"`
	Source         string `json:"source"`
	Confidence     int    `json:"confidence"` // 0..100
	// ConfidenceName is the taxonomy id of the confidence (for example
	// "forensic" or "ownership").
	ConfidenceName string `json:"confidence_name,omitempty"`
	Creator        string `json:"creator,omitempty"`
	LastMod        string `json:"lastmod,omitempty"`
	Actor          string `json:"actor,omitempty"`
	Sanctioned     bool   `json:"sanctioned"`
	// Origin is "direct" (a tag on this address) or "cluster" (a tag on
	// another address of its cluster).
	Origin string `json:"origin"`
	Pack   string `json:"pack"`
	// PackSHA256 is the hash of the file the tag came from.
	PackSHA256 string `json:"pack_sha256"`
	Line       int    `json:"line,omitempty"`
}

func view(t tags.Tag, origin string) Tag {
	return Tag{Address: t.Address, AddressProblem: t.AddressProblem, Label: t.Label, Category: t.Category, Abuse: t.Abuse, Source: t.Source,
		Confidence: t.ConfidenceLevel, ConfidenceName: t.Confidence, Creator: t.Creator, LastMod: t.LastMod,
		Actor: t.Actor, Sanctioned: t.Sanctioned, Origin: origin, Pack: t.Pack.Name, PackSHA256: t.Pack.SHA256, Line: t.Line}
}

// clusterOf returns the cluster root and size of the address id; without
// a cluster store every address is alone.
func (s *Service) clusterOf(id index.AddrID) (index.AddrID, uint64, error) {
	if s.Clusters == nil {
		return id, 1, nil
	}
	root, err := s.Clusters.Root(id)
	if err != nil {
		return 0, 0, err
	}
	n, err := s.Clusters.Size(root)
	return root, n, err
}

// EntityHeader names the entity numbered id (the id of any of its
// addresses) without reading its members: its root, size and root address.
func (s *Service) EntityHeader(id uint64) (root index.AddrID, size uint64, name string, err error) {
	if s.Clusters == nil {
		return 0, 0, "", fmt.Errorf("entity: %w", ErrNoClusters)
	}
	if id == 0 || id >= uint64(s.Index.Tip().NextAddr) {
		return 0, 0, "", fmt.Errorf("entity: entity %d: %w", id, chain.ErrNotFound)
	}
	if root, size, err = s.clusterOf(index.AddrID(id)); err != nil {
		return 0, 0, "", err
	}
	name, err = s.Index.Address(root)
	return root, size, name, err
}

// tagBatch is how many addresses one tag-store query asks about (a
// variable for tests).
var tagBatch = 1000

// clusterTags returns the tags of every address of the cluster rooted at
// root, by address.
func (s *Service) clusterTags(ctx context.Context, root index.AddrID, size uint64) (map[string][]tags.Tag, error) {
	if s.Tags == nil {
		return nil, nil
	}
	if s.Clusters == nil || size == 1 {
		a, err := s.Index.Address(root)
		if err != nil {
			return nil, err
		}
		return s.Tags.ByAddress(ctx, []string{a})
	}
	out := map[string][]tags.Tag{}
	batch := make([]string, 0, tagBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		m, err := s.Tags.ByAddress(ctx, batch)
		if err != nil {
			return err
		}
		for a, ts := range m {
			out[a] = ts
		}
		batch = batch[:0]
		return nil
	}
	var ierr error
	err := s.Clusters.Members(root, 0, func(id index.AddrID) bool {
		a, err := s.Index.Address(id)
		if err != nil {
			ierr = err
			return false
		}
		if batch = append(batch, a); len(batch) == tagBatch {
			ierr = flush()
		}
		return ierr == nil
	})
	if err = errors.Join(err, ierr); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// TagsOf returns every tag of address a: its own (origin "direct") and
// those of the other addresses of its cluster (origin "cluster"), direct
// first, each group in the tag store's order. An address that is not on
// chain has only its direct tags.
func (s *Service) TagsOf(ctx context.Context, a btc.Addr) ([]Tag, error) {
	out := []Tag{}
	if s.Tags == nil {
		return out, nil
	}
	addr := s.Index.Params().EncodeAddr(a)
	id, err := s.Index.AddrIDOf(a)
	if errors.Is(err, chain.ErrNotFound) {
		m, err := s.Tags.ByAddress(ctx, []string{addr})
		if err != nil {
			return nil, err
		}
		for _, t := range m[addr] {
			out = append(out, view(t, "direct"))
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	root, size, err := s.clusterOf(id)
	if err != nil {
		return nil, err
	}
	m, err := s.clusterTags(ctx, root, size)
	if err != nil {
		return nil, err
	}
	return ordered(m, addr), nil
}

// ordered lists the direct tags of addr, then the other addresses' tags as
// cluster tags, by address.
func ordered(m map[string][]tags.Tag, addr string) []Tag {
	out := []Tag{}
	for _, t := range m[addr] {
		out = append(out, view(t, "direct"))
	}
	others := make([]string, 0, len(m))
	for a := range m {
		if a != addr {
			others = append(others, a)
		}
	}
	sort.Strings(others)
	for _, a := range others {
		for _, t := range m[a] {
			out = append(out, view(t, "cluster"))
		}
	}
	return out
}

// Entity is a cluster with its tags.
type Entity struct {
	Ledger    chain.Ledger `json:"ledger"`
	Address   string       `json:"address"` // the address asked about
	ClusterID uint64       `json:"cluster_id"`
	Size      uint64       `json:"size"`
	// Addresses is one page of the cluster's addresses.
	Addresses []string `json:"addresses"`
	Offset    uint64   `json:"offset"`
	Limit     uint64   `json:"limit"`
	// Tags are every tag of any address of the cluster; Origin is relative
	// to Address.
	Tags       []Tag           `json:"tags"`
	Categories []string        `json:"categories"`
	Conflicts  []tags.Conflict `json:"conflicts"`
	Sanctioned bool            `json:"sanctioned"`
	// Totals sum the member addresses' own totals, so transfers between
	// members (change) count as both received and sent.
	TotalReceived   chain.Amount `json:"total_received"`
	TotalSent       chain.Amount `json:"total_sent"`
	Balance         chain.Amount `json:"balance"`
	TxCount         int          `json:"tx_count"`
	FirstSeenHeight int64        `json:"first_seen_height"`
	LastSeenHeight  int64        `json:"last_seen_height"`
	// ClusteredTo is the height the clusters are built to; blocks above it
	// are not clustered yet.
	ClusteredTo int64 `json:"clustered_to"`
}

// maxTotalsMembers bounds the members whose histories Entity sums.
const maxTotalsMembers = 1_000_000

// Entity returns the entity of address a with one page of its addresses.
func (s *Service) Entity(ctx context.Context, a btc.Addr, offset, limit uint64) (*Entity, error) {
	if s.Clusters == nil {
		return nil, fmt.Errorf("entity: %w", ErrNoClusters)
	}
	id, err := s.Index.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	return s.entity(ctx, id, a, offset, limit)
}

// EntityPage returns the entity numbered id (the id of any of its
// addresses, as entity:ID names it) with one page of its addresses;
// Address is then the entity's root.
func (s *Service) EntityPage(ctx context.Context, id uint64, offset, limit uint64) (*Entity, error) {
	if s.Clusters == nil {
		return nil, fmt.Errorf("entity: %w", ErrNoClusters)
	}
	if id == 0 || id >= uint64(s.Index.Tip().NextAddr) {
		return nil, fmt.Errorf("entity: entity %d: %w", id, chain.ErrNotFound)
	}
	root, _, err := s.clusterOf(index.AddrID(id))
	if err != nil {
		return nil, err
	}
	name, err := s.Index.Address(root)
	if err != nil {
		return nil, err
	}
	a, err := s.Index.Params().DecodeAddr(name)
	if err != nil {
		return nil, fmt.Errorf("entity: entity %d: root %s: %w", id, name, err)
	}
	return s.entity(ctx, root, a, offset, limit)
}

func (s *Service) entity(ctx context.Context, id index.AddrID, a btc.Addr, offset, limit uint64) (*Entity, error) {
	root, size, err := s.clusterOf(id)
	if err != nil {
		return nil, err
	}
	if size > maxTotalsMembers {
		return nil, fmt.Errorf("entity: the cluster has %d addresses; totals over more than %d are not computed", size, maxTotalsMembers)
	}
	e := &Entity{Ledger: s.Index.Ledger(), Address: s.Index.Params().EncodeAddr(a), ClusterID: uint64(root), Size: size,
		Addresses: []string{}, Offset: offset, Limit: limit, FirstSeenHeight: -1, LastSeenHeight: -1,
		ClusteredTo: s.Clusters.Tip().Height}
	key, err := s.summaryKey(ctx, root)
	if err != nil {
		return nil, err
	}
	sum := s.Summaries.get(key)
	fresh := sum == nil
	if fresh {
		sum = &entitySummary{first: -1, last: -1}
	}
	txs := map[index.TxKey]struct{}{}
	var n uint64
	var ierr error
	err = s.Clusters.Members(root, 0, func(m index.AddrID) bool {
		if n%4096 == 0 {
			if ierr = ctx.Err(); ierr != nil {
				return false
			}
		}
		if n >= offset && (limit == 0 || n < offset+limit) {
			addr, err := s.Index.Address(m)
			if err != nil {
				ierr = err
				return false
			}
			e.Addresses = append(e.Addresses, addr)
		}
		n++
		if !fresh {
			// The totals are known: read members only up to the page's end.
			return limit == 0 || n < offset+limit
		}
		hist, _, err := s.Index.History(m)
		if err != nil {
			ierr = err
			return false
		}
		for _, h := range hist {
			sum.recv += h.Received
			sum.sent += h.Sent
			txs[h.Key] = struct{}{}
			if hh := h.Key.Height(); sum.first < 0 || hh < sum.first {
				sum.first = hh
			}
			sum.last = max(sum.last, h.Key.Height())
		}
		return true
	})
	if err = errors.Join(err, ierr); err != nil {
		return nil, err
	}
	if fresh {
		sum.txs = len(txs)
		if sum.tags, err = s.clusterTags(ctx, root, size); err != nil {
			return nil, err
		}
		s.Summaries.put(key, sum)
	}
	e.TotalReceived, e.TotalSent, e.Balance = chain.Sats(sum.recv), chain.Sats(sum.sent), chain.Sats(sum.recv-sum.sent)
	e.TxCount = sum.txs
	e.FirstSeenHeight, e.LastSeenHeight = sum.first, sum.last
	e.Tags = ordered(sum.tags, e.Address)
	e.Categories, e.Sanctioned, e.Conflicts = summarize(sum.tags)
	return e, nil
}

// entitySummary is what an entity's page does not change: its totals and
// the tags of its members.
type entitySummary struct {
	recv, sent  uint64
	txs         int
	first, last int64
	tags        map[string][]tags.Tag
}

// SummaryCache keeps entity totals and tags between queries, for the
// state of the index, the clusters and the tags they were computed at. It
// is safe for concurrent use; a nil cache keeps nothing.
type SummaryCache struct {
	mu sync.Mutex
	m  map[string]*entitySummary
}

// maxSummaries bounds the cache (it is emptied when full).
const maxSummaries = 4096

func (c *SummaryCache) get(key string) *entitySummary {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *SummaryCache) put(key string, s *entitySummary) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSummaries {
		c.m = map[string]*entitySummary{}
	}
	c.m[key] = s
}

// summaryKey names the state an entity summary depends on.
func (s *Service) summaryKey(ctx context.Context, root index.AddrID) (string, error) {
	tv := "-"
	if s.Tags != nil {
		v, err := s.Tags.Version(ctx)
		if err != nil {
			return "", err
		}
		tv = v
	}
	it, ct := s.Index.Tip(), s.Clusters.Tip()
	return fmt.Sprintf("%d|%d:%s|%d:%s|%s", root, it.Height, it.Hash, ct.Height, ct.Hash, tv), nil
}

// summarize returns the categories (and abuses) of the tags, sorted,
// whether any is sanctioned, and their conflicts.
func summarize(m map[string][]tags.Tag) ([]string, bool, []tags.Conflict) {
	var all []tags.Tag
	addrs := make([]string, 0, len(m))
	for a := range m {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		all = append(all, m[a]...)
	}
	cats := []string{}
	sanctioned := false
	for _, t := range all {
		for _, c := range []string{t.Category, t.Abuse} {
			if c != "" && !slices.Contains(cats, c) {
				cats = append(cats, c)
			}
		}
		sanctioned = sanctioned || t.Sanctioned
	}
	sort.Strings(cats)
	conflicts := tags.Conflicts(all)
	if conflicts == nil {
		conflicts = []tags.Conflict{}
	}
	return cats, sanctioned, conflicts
}

// Explanation says how two addresses are linked.
type Explanation struct {
	Linked bool   `json:"linked"`
	Path   []Link `json:"path"`
}

// Link is one transaction of an explanation.
type Link struct {
	Txid        string `json:"txid"`
	Height      int64  `json:"height"`
	AddressFrom string `json:"address_from"`
	AddressTo   string `json:"address_to"`
	// Heuristic is "co-spend" (both addresses are inputs of the
	// transaction) or "change" (To received the transaction's change).
	Heuristic string `json:"heuristic"`
}

// Explain returns the chain of transactions that links a and b.
func (s *Service) Explain(a, b btc.Addr) (*Explanation, error) {
	if s.Clusters == nil {
		return nil, fmt.Errorf("entity: %w", ErrNoClusters)
	}
	ia, err := s.Index.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	ib, err := s.Index.AddrIDOf(b)
	if err != nil {
		return nil, err
	}
	linked, path, err := s.Clusters.Explain(ia, ib)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Linked: linked, Path: []Link{}}
	for _, l := range path {
		txid, from, to, err := s.transfer(l.Tx, l.From, l.To)
		if err != nil {
			return nil, err
		}
		ex.Path = append(ex.Path, Link{Txid: txid, Height: l.Tx.Height(), AddressFrom: from, AddressTo: to, Heuristic: l.Kind.String()})
	}
	return ex, nil
}

// transfer names a transfer for people: the txid and both addresses (""
// for address id 0, an output without an address).
func (s *Service) transfer(tx index.TxKey, from, to index.AddrID) (txid, fromAddr, toAddr string, err error) {
	h, err := s.Index.TxidOf(tx)
	if err != nil {
		return "", "", "", err
	}
	name := func(a index.AddrID) (string, error) {
		if a == 0 {
			return "", nil
		}
		return s.Index.Address(a)
	}
	if fromAddr, err = name(from); err != nil {
		return "", "", "", err
	}
	if toAddr, err = name(to); err != nil {
		return "", "", "", err
	}
	return h.String(), fromAddr, toAddr, nil
}

// TxAttribution is what the heuristics and the tags say about a
// transaction.
type TxAttribution struct {
	// Tags are the tags on the transaction itself (TagPacks can tag
	// transactions), origin "direct".
	Tags     []Tag            `json:"tags"`
	CoinJoin coinjoin.Verdict `json:"coinjoin"`
	// Change has one verdict per output; nil for coinbases and CoinJoins.
	Change []change.OutputVerdict `json:"change,omitempty"`
}

// AnalyzeTx runs the CoinJoin detectors and the change heuristics on the
// transaction txid.
func (s *Service) AnalyzeTx(ctx context.Context, txid chainhash.Hash) (*TxAttribution, error) {
	r, err := s.Index.Record(txid)
	if err != nil {
		return nil, err
	}
	var flow chain.FlowTx
	r.Flow(&flow)
	out := &TxAttribution{Tags: []Tag{}, CoinJoin: coinjoin.Verdict{Detectors: []coinjoin.Finding{}}}
	if s.Tags != nil {
		m, err := s.Tags.ByTx(ctx, []string{txid.String()})
		if err != nil {
			return nil, err
		}
		for _, t := range m[txid.String()] {
			out.Tags = append(out.Tags, view(t, "direct"))
		}
	}
	if r.Coinbase {
		return out, nil
	}
	out.CoinJoin = coinjoin.Detect(&flow)
	if out.CoinJoin.IsCoinJoin {
		return out, nil
	}
	res, err := change.Analyze(&flow, r.Key.Height(), cluster.NewChangeContext(s.Index, s.Clusters, r))
	if err != nil {
		return nil, err
	}
	out.Change = res.Outputs
	return out, nil
}

// TxView is a transaction as vestigo tx --json and the API show it: the
// transaction with its tags, the CoinJoin verdict and per output the
// change verdict.
type TxView struct {
	*chain.Tx
	Tags     []Tag            `json:"tags"`
	CoinJoin coinjoin.Verdict `json:"coinjoin"`
	Outputs  []OutputView     `json:"outputs"`
}

// OutputView is an output with its change verdict.
type OutputView struct {
	chain.Output
	// Change is absent for coinbases and CoinJoins.
	Change *change.OutputVerdict `json:"change,omitempty"`
}

// ViewTx joins a transaction and its attribution.
func ViewTx(tx *chain.Tx, attr *TxAttribution) TxView {
	v := TxView{Tx: tx, Tags: attr.Tags, CoinJoin: attr.CoinJoin, Outputs: make([]OutputView, len(tx.Outputs))}
	for i, o := range tx.Outputs {
		v.Outputs[i].Output = o
		if i < len(attr.Change) {
			v.Outputs[i].Change = &attr.Change[i]
		}
	}
	return v
}
