package entity

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/change"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/coinjoin"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/tags"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

// DefaultStopAt are the categories a trace stops at unless told otherwise:
// services that can answer a legal request or that break the trail
// (GraphSense concept ids), and anything sanctioned.
var DefaultStopAt = []string{"exchange", "mixing_service", "defi_bridge", "sanctioned"}

// TraceRequest is what to trace and how.
type TraceRequest struct {
	Params trace.Params
	// Since and Until bound the transactions followed by block time (zero:
	// no bound); they are turned into heights.
	Since, Until time.Time
	// StopAt lists categories (GraphSense concepts, or "sanctioned") whose
	// addresses or entities end the trail as destinations.
	StopAt []string
	// Level is "address" or "entity" (destinations summed per cluster).
	Level string
	// FollowChange follows only the detected change of each transaction
	// (forward): the other outputs are payments, destinations not followed
	// further. Change is the consensus of the change heuristics at
	// MinChangeConfidence or above; CoinJoins have none.
	FollowChange bool
	// MinChangeConfidence defaults to 0.75.
	MinChangeConfidence float64
}

// TraceReport is a trace as shown to the investigator.
type TraceReport struct {
	Params       TraceParams  `json:"params"`
	IndexTip     TipRef       `json:"index_tip"`
	ClusteredTo  int64        `json:"clustered_to"`
	Source       chain.Amount `json:"source"`
	Destinations []TraceDest  `json:"destinations"`
	Edges        []TraceEdge  `json:"edges"`
	StoppedAt    []TraceDest  `json:"stopped_at"`
	Fees         chain.Amount `json:"fees_and_rounding"`
	Dropped      chain.Amount `json:"dropped_below_min_value"`
	Summarised   bool         `json:"summarised"`
	Txs          int          `json:"txs_read"`
}

// TraceParams echoes the parameters, with the time window as heights.
type TraceParams struct {
	From       string   `json:"from"`
	Direction  string   `json:"direction"`
	Model      string   `json:"model"`
	Hops       int      `json:"hops"`
	MinValue   uint64   `json:"min_value"`
	Since      string   `json:"since,omitempty"`
	Until      string   `json:"until,omitempty"`
	FromHeight int64    `json:"from_height"`
	ToHeight   int64    `json:"to_height,omitempty"`
	StopAt     []string `json:"stop_at"`
	Level      string   `json:"level"`
	// FollowChange and MinChangeConfidence are set when only detected
	// change was followed.
	FollowChange        bool    `json:"follow_change,omitempty"`
	MinChangeConfidence float64 `json:"min_change_confidence,omitempty"`
}

// TipRef names the index tip a result belongs to.
type TipRef struct {
	Height int64  `json:"height"`
	Hash   string `json:"hash"`
}

// TraceDest is one destination (origin, backward) of traced funds.
type TraceDest struct {
	Address  string       `json:"address"`
	EntityID uint64       `json:"entity_id"`
	Labels   []string     `json:"labels"`
	Category string       `json:"category"`
	Amount   chain.Amount `json:"amount"`
	// Share is Amount over the traced source.
	Share  float64 `json:"share"`
	Hops   int     `json:"hops"`
	Reason string  `json:"reason"`
}

// TraceEdge is one tainted transfer.
type TraceEdge struct {
	From   string       `json:"from"`
	To     string       `json:"to"`
	Txid   string       `json:"txid"`
	Amount chain.Amount `json:"amount"`
	Hop    int          `json:"hop"`
}

// labelled is what the tags say about one cluster.
type labelled struct {
	labels, categories []string
	sanctioned         bool
}

// LabelCache keeps the cluster labels a trace's stop rules use between
// queries; it is rebuilt when the tags or the clusters change. One cache
// serves one ledger; it is safe for concurrent use.
type LabelCache struct {
	mu     sync.Mutex
	key    string
	labels map[index.AddrID]*labelled
}

// clusterLabels maps every cluster holding a tagged address of this
// ledger to its labels and categories (the map is shared: read only).
func (s *Service) clusterLabels(ctx context.Context) (map[index.AddrID]*labelled, error) {
	if s.Tags == nil {
		return map[index.AddrID]*labelled{}, nil
	}
	if s.Labels == nil {
		return s.buildClusterLabels(ctx)
	}
	v, err := s.Tags.Version(ctx)
	if err != nil {
		return nil, err
	}
	key := v + "|-"
	if s.Clusters != nil {
		tip := s.Clusters.Tip()
		key = fmt.Sprintf("%s|%d:%s", v, tip.Height, tip.Hash)
	}
	c := s.Labels
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.labels != nil && c.key == key {
		return c.labels, nil
	}
	m, err := s.buildClusterLabels(ctx)
	if err != nil {
		return nil, err
	}
	c.key, c.labels = key, m
	return m, nil
}

func (s *Service) buildClusterLabels(ctx context.Context) (map[index.AddrID]*labelled, error) {
	out := map[index.AddrID]*labelled{}
	addrs, err := s.Tags.Addresses(ctx, "BTC")
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(addrs); i += tagBatch {
		batch := addrs[i:min(i+tagBatch, len(addrs))]
		var onChain []string
		roots := map[string]index.AddrID{}
		for _, a := range batch {
			addr, err := s.Index.Params().DecodeAddr(a)
			if err != nil {
				continue // another network's address
			}
			id, err := s.Index.AddrIDOf(addr)
			if err != nil {
				continue // never on this chain
			}
			root, _, err := s.clusterOf(id)
			if err != nil {
				return nil, err
			}
			roots[a] = root
			onChain = append(onChain, a)
		}
		if len(onChain) == 0 {
			continue
		}
		m, err := s.Tags.ByAddress(ctx, onChain)
		if err != nil {
			return nil, err
		}
		for _, a := range onChain {
			l := out[roots[a]]
			if l == nil {
				l = &labelled{}
				out[roots[a]] = l
			}
			for _, t := range m[a] {
				l.labels = appendNew(l.labels, t.Label)
				l.categories = appendNew(appendNew(l.categories, t.Category), t.Abuse)
				if t.Sanctioned {
					l.sanctioned = true
					l.categories = appendNew(l.categories, "sanctioned")
				}
			}
		}
	}
	for _, l := range out {
		sort.Strings(l.labels)
		sort.Strings(l.categories)
	}
	return out, nil
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// heightAt returns the first height whose block time is at or after t.
func (s *Service) heightAt(t time.Time) (int64, error) {
	lo, hi := int64(0), s.Index.Tip().Height+1
	for lo < hi {
		mid := (lo + hi) / 2
		bt, err := s.Index.BlockTime(mid)
		if err != nil {
			return 0, err
		}
		if bt.Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// TraceAddress traces the funds address a received.
func (s *Service) TraceAddress(ctx context.Context, a btc.Addr, req TraceRequest) (*TraceReport, error) {
	id, err := s.Index.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	return s.runTrace(ctx, s.Index.Params().EncodeAddr(a), req, func(p trace.Params) (*trace.Result, error) {
		return trace.FromAddress(s.Index, id, p)
	})
}

// maxEndpointMembers bounds the addresses of an entity used as the start
// of a trace or an end of a path search.
const maxEndpointMembers = 100_000

// Endpoint is an entity as the start of a trace or an end of a path: the
// members of one cluster.
type Endpoint struct {
	// Name is how reports show it: "entity:<root address>".
	Name  string
	Root  index.AddrID
	Addrs []index.AddrID
}

// EntityOf returns the entity (cluster) of address a as an endpoint.
func (s *Service) EntityOf(a btc.Addr) (*Endpoint, error) {
	id, err := s.Index.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	return s.EntityByID(uint64(id))
}

// EntityByID returns the entity with the given id (any member's address
// id; reports show the root's, as entity_id).
func (s *Service) EntityByID(id uint64) (*Endpoint, error) {
	if s.Clusters == nil {
		return nil, fmt.Errorf("entity: %w", ErrNoClusters)
	}
	if id == 0 || id >= uint64(s.Index.Tip().NextAddr) {
		return nil, fmt.Errorf("entity: entity %d: %w", id, chain.ErrNotFound)
	}
	root, size, err := s.clusterOf(index.AddrID(id))
	if err != nil {
		return nil, err
	}
	if size > maxEndpointMembers {
		return nil, fmt.Errorf("entity: %w: entity %d has %d addresses; traces and paths start from at most %d (trace one of its addresses instead)",
			chain.ErrInvalid, root, size, maxEndpointMembers)
	}
	name, err := s.Index.Address(root)
	if err != nil {
		return nil, err
	}
	e := &Endpoint{Name: "entity:" + name, Root: root, Addrs: make([]index.AddrID, 0, size)}
	err = s.Clusters.Members(root, 0, func(m index.AddrID) bool {
		e.Addrs = append(e.Addrs, m)
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(e.Addrs)
	return e, nil
}

// TraceEndpoint traces the funds an address or an entity received from
// outside it.
func (s *Service) TraceEndpoint(ctx context.Context, e *Endpoint, req TraceRequest) (*TraceReport, error) {
	from := e.Name
	if strings.HasPrefix(e.Name, "entity:") {
		from = fmt.Sprintf("%s (%d addresses)", e.Name, len(e.Addrs))
	}
	return s.runTrace(ctx, from, req, func(p trace.Params) (*trace.Result, error) {
		return trace.FromAddresses(s.Index, e.Addrs, p)
	})
}

// TraceOutputs traces the given outputs (from names them for the report).
func (s *Service) TraceOutputs(ctx context.Context, from string, outs []trace.Outpoint, req TraceRequest) (*TraceReport, error) {
	return s.runTrace(ctx, from, req, func(p trace.Params) (*trace.Result, error) {
		return trace.FromOutputs(s.Index, outs, p)
	})
}

func (s *Service) runTrace(ctx context.Context, from string, req TraceRequest, run func(trace.Params) (*trace.Result, error)) (*TraceReport, error) {
	p := req.Params
	if req.Level == "" {
		req.Level = "address"
	}
	if req.Level != "address" && req.Level != "entity" {
		return nil, fmt.Errorf("entity: %w: level %q (address or entity)", chain.ErrInvalid, req.Level)
	}
	for _, c := range req.StopAt {
		if c != "sanctioned" && !tags.IsConcept(c) {
			return nil, fmt.Errorf("entity: %w: --stop-at %q is not a GraphSense category or abuse concept, nor \"sanctioned\"", chain.ErrInvalid, c)
		}
	}
	var err error
	if !req.Since.IsZero() {
		if p.FromHeight, err = s.heightAt(req.Since); err != nil {
			return nil, err
		}
	}
	if !req.Until.IsZero() {
		h, err := s.heightAt(req.Until.Add(time.Second))
		if err != nil {
			return nil, err
		}
		if h == 0 {
			return nil, fmt.Errorf("entity: %w: --until is before the first block", chain.ErrInvalid)
		}
		p.ToHeight = h - 1
	}
	if req.FollowChange {
		if req.MinChangeConfidence == 0 {
			req.MinChangeConfidence = 0.75
		}
		if req.MinChangeConfidence < 0 || req.MinChangeConfidence > 1 {
			return nil, fmt.Errorf("entity: %w: change confidence %v (0 to 1)", chain.ErrInvalid, req.MinChangeConfidence)
		}
		p.Change = s.changeOf(req.MinChangeConfidence)
	}
	labels, err := s.clusterLabels(ctx)
	if err != nil {
		return nil, err
	}
	rootOf := map[index.AddrID]index.AddrID{}
	root := func(a index.AddrID) (index.AddrID, error) {
		if r, ok := rootOf[a]; ok {
			return r, nil
		}
		r, _, err := s.clusterOf(a)
		if err == nil {
			rootOf[a] = r
		}
		return r, err
	}
	if len(req.StopAt) > 0 {
		p.Stop = func(a index.AddrID) (bool, string, error) {
			r, err := root(a)
			if err != nil {
				return false, "", err
			}
			if l := labels[r]; l != nil {
				for _, c := range req.StopAt {
					if slices.Contains(l.categories, c) {
						return true, c, nil
					}
				}
			}
			return false, "", nil
		}
	}
	res, err := run(p)
	if err != nil {
		return nil, err
	}
	tip := s.Index.Tip()
	rep := &TraceReport{
		Params: TraceParams{From: from, Direction: string(res.Params.Direction), Model: string(res.Params.Model), Hops: res.Params.Hops,
			MinValue: p.MinValue, FromHeight: p.FromHeight, ToHeight: p.ToHeight, StopAt: append([]string{}, req.StopAt...), Level: req.Level},
		IndexTip: TipRef{Height: tip.Height, Hash: tip.Hash.String()}, ClusteredTo: -1,
		Source: chain.Sats(res.Source), Fees: chain.Sats(res.Fees), Dropped: chain.Sats(res.Dropped),
		Summarised: res.Summarised, Txs: res.Txs, Destinations: []TraceDest{}, Edges: []TraceEdge{}, StoppedAt: []TraceDest{},
	}
	if req.FollowChange {
		rep.Params.FollowChange, rep.Params.MinChangeConfidence = true, req.MinChangeConfidence
	}
	if !req.Since.IsZero() {
		rep.Params.Since = req.Since.UTC().Format(time.RFC3339)
	}
	if !req.Until.IsZero() {
		rep.Params.Until = req.Until.UTC().Format(time.RFC3339)
	}
	if s.Clusters != nil {
		rep.ClusteredTo = s.Clusters.Tip().Height
	}
	addrStr := func(a index.AddrID) (string, error) {
		if a == 0 {
			return "", nil // OP_RETURN
		}
		return s.Index.Address(a)
	}
	dests := res.Destinations
	if req.Level == "entity" {
		if dests, err = byEntity(dests, root); err != nil {
			return nil, err
		}
	}
	for _, d := range dests {
		td := TraceDest{Amount: chain.Sats(d.Amount), Hops: d.Hops, Reason: d.Reason, Labels: []string{}}
		if res.Source > 0 {
			td.Share = math.Round(float64(d.Amount)/float64(res.Source)*1e6) / 1e6
		}
		if td.Address, err = addrStr(d.Addr); err != nil {
			return nil, err
		}
		if d.Addr != 0 {
			r, err := root(d.Addr)
			if err != nil {
				return nil, err
			}
			td.EntityID = uint64(r)
			if l := labels[r]; l != nil {
				td.Labels = append(td.Labels, l.labels...)
				if len(l.categories) > 0 {
					td.Category = l.categories[0]
				}
			}
		}
		if slices.Contains(req.StopAt, d.Reason) {
			td.Category = d.Reason
			rep.StoppedAt = append(rep.StoppedAt, td)
		}
		rep.Destinations = append(rep.Destinations, td)
	}
	for _, e := range res.Edges {
		te := TraceEdge{Amount: chain.Sats(e.Amount), Hop: e.Hop}
		if te.Txid, te.From, te.To, err = s.transfer(e.Tx, e.From, e.To); err != nil {
			return nil, err
		}
		rep.Edges = append(rep.Edges, te)
	}
	return rep, nil
}

// changeOf returns the change rule of a trace that follows change: the
// consensus change output at confidence min or above; none in a CoinJoin.
func (s *Service) changeOf(min float64) func(*index.TxRecord) (int, bool, error) {
	var flow chain.FlowTx
	return func(r *index.TxRecord) (int, bool, error) {
		if r.Coinbase {
			return 0, false, nil
		}
		r.Flow(&flow)
		if coinjoin.Detect(&flow).IsCoinJoin {
			return 0, false, nil
		}
		res, err := change.Analyze(&flow, r.Key.Height(), cluster.NewChangeContext(s.Index, s.Clusters, r))
		if err != nil {
			return 0, false, err
		}
		if res.Change < 0 || res.Outputs[res.Change].Confidence < min {
			return 0, false, nil
		}
		return res.Change, true, nil
	}
}

// byEntity sums destinations per cluster; each entity is named by its
// root address and keeps the fewest hops and that destination's reason.
func byEntity(ds []trace.Destination, root func(index.AddrID) (index.AddrID, error)) ([]trace.Destination, error) {
	sum := map[index.AddrID]*trace.Destination{}
	var order []index.AddrID
	for _, d := range ds {
		r := d.Addr
		if r != 0 {
			var err error
			if r, err = root(d.Addr); err != nil {
				return nil, err
			}
		}
		e, ok := sum[r]
		if !ok {
			e = &trace.Destination{Addr: r, Hops: d.Hops, Reason: d.Reason}
			sum[r] = e
			order = append(order, r)
		}
		e.Amount += d.Amount
		if d.Hops < e.Hops {
			e.Hops, e.Reason = d.Hops, d.Reason
		}
	}
	out := make([]trace.Destination, 0, len(order))
	for _, r := range order {
		out = append(out, *sum[r])
	}
	slices.SortStableFunc(out, func(a, b trace.Destination) int {
		if a.Amount != b.Amount {
			if a.Amount > b.Amount {
				return -1
			}
			return 1
		}
		if a.Addr < b.Addr {
			return -1
		}
		if a.Addr > b.Addr {
			return 1
		}
		return 0
	})
	return out, nil
}

// PathReport answers "how did money get from A to B".
type PathReport struct {
	From       string     `json:"from"`
	To         string     `json:"to"`
	MaxHops    int        `json:"max_hops"`
	K          int        `json:"k"`
	IndexTip   TipRef     `json:"index_tip"`
	Paths      []PathView `json:"paths"`
	Summarised bool       `json:"summarised"`
}

// PathView is one path: its transactions and the amounts each paid to the
// next address.
type PathView struct {
	Hops    int            `json:"hops"`
	Txids   []string       `json:"txids"`
	Amounts []chain.Amount `json:"amounts"`
	Steps   []TraceEdge    `json:"steps"`
}

// Paths finds up to p.K shortest forward paths of money from a to b.
func (s *Service) Paths(a, b btc.Addr, p trace.PathParams) (*PathReport, error) {
	ea, err := s.addressEndpoint(a)
	if err != nil {
		return nil, err
	}
	eb, err := s.addressEndpoint(b)
	if err != nil {
		return nil, err
	}
	if ea.Root == eb.Root {
		return nil, fmt.Errorf("entity: %w: a path needs two different addresses", chain.ErrInvalid)
	}
	return s.PathsBetween(ea, eb, p)
}

// addressEndpoint is one address as a path end.
func (s *Service) addressEndpoint(a btc.Addr) (*Endpoint, error) {
	id, err := s.Index.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	return &Endpoint{Name: s.Index.Params().EncodeAddr(a), Root: id, Addrs: []index.AddrID{id}}, nil
}

// AddressEndpoint is address a as the start of a trace or an end of a
// path.
func (s *Service) AddressEndpoint(a btc.Addr) (*Endpoint, error) { return s.addressEndpoint(a) }

// PathsBetween finds up to p.K shortest forward paths of money from any
// address of a to any address of b (addresses or entities).
func (s *Service) PathsBetween(a, b *Endpoint, p trace.PathParams) (*PathReport, error) {
	res, err := trace.PathsBetween(s.Index, a.Addrs, b.Addrs, p)
	if err != nil {
		return nil, err
	}
	tip := s.Index.Tip()
	rep := &PathReport{From: a.Name, To: b.Name, MaxHops: p.Hops, K: p.K,
		IndexTip: TipRef{Height: tip.Height, Hash: tip.Hash.String()}, Paths: []PathView{}, Summarised: res.Summarised}
	for _, path := range res.Paths {
		v := PathView{Hops: len(path), Txids: []string{}, Amounts: []chain.Amount{}, Steps: []TraceEdge{}}
		for i, st := range path {
			txid, from, to, err := s.transfer(st.Tx, st.From, st.To)
			if err != nil {
				return nil, err
			}
			v.Txids = append(v.Txids, txid)
			v.Amounts = append(v.Amounts, chain.Sats(st.Amount))
			v.Steps = append(v.Steps, TraceEdge{From: from, To: to, Txid: txid, Amount: chain.Sats(st.Amount), Hop: i + 1})
		}
		rep.Paths = append(rep.Paths, v)
	}
	return rep, nil
}

// Exposure is the share of an address's funds that came from (incoming)
// or went to (outgoing) entities of each category, directly (one
// transaction) or indirectly (within the hop limit).
type Exposure struct {
	Address  string                      `json:"address"`
	EntityID uint64                      `json:"entity_id"`
	Hops     int                         `json:"hops"`
	Model    string                      `json:"model"`
	IndexTip TipRef                      `json:"index_tip"`
	Incoming map[string]CategoryExposure `json:"incoming"`
	Outgoing map[string]CategoryExposure `json:"outgoing"`
	// Traced is the amount each direction started from: what the address
	// received (incoming) and the same funds followed onwards (outgoing).
	Traced map[string]chain.Amount `json:"traced"`
}

// CategoryExposure is the exposure to one category.
type CategoryExposure struct {
	Direct   chain.Amount `json:"direct"`
	Indirect chain.Amount `json:"indirect"`
	Share    float64      `json:"share"`
}

// Exposure traces a's funds backward (incoming) and forward (outgoing)
// with the haircut model up to hops transactions, stopping at the first
// tagged entity other than a's own; what reaches an entity counts for its
// first category (sorted), at one hop as direct, beyond as indirect.
func (s *Service) Exposure(ctx context.Context, a btc.Addr, hops int) (*Exposure, error) {
	id, err := s.Index.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	own, _, err := s.clusterOf(id)
	if err != nil {
		return nil, err
	}
	labels, err := s.clusterLabels(ctx)
	if err != nil {
		return nil, err
	}
	roots := map[index.AddrID]index.AddrID{}
	category := func(addr index.AddrID) (string, error) {
		r, ok := roots[addr]
		if !ok {
			if r, _, err = s.clusterOf(addr); err != nil {
				return "", err
			}
			roots[addr] = r
		}
		if l := labels[r]; l != nil && r != own && len(l.categories) > 0 {
			return l.categories[0], nil
		}
		return "", nil
	}
	tip := s.Index.Tip()
	ex := &Exposure{Address: s.Index.Params().EncodeAddr(a), EntityID: uint64(own), Model: string(trace.Haircut),
		IndexTip: TipRef{Height: tip.Height, Hash: tip.Hash.String()}, Incoming: map[string]CategoryExposure{},
		Outgoing: map[string]CategoryExposure{}, Traced: map[string]chain.Amount{}}
	for _, dir := range []trace.Direction{trace.Backward, trace.Forward} {
		p := trace.Params{Direction: dir, Model: trace.Haircut, Hops: hops, Stop: func(addr index.AddrID) (bool, string, error) {
			c, err := category(addr)
			return c != "", c, err
		}}
		res, err := trace.FromAddress(s.Index, id, p)
		if err != nil {
			return nil, err
		}
		ex.Hops = res.Params.Hops
		into, name := ex.Outgoing, "outgoing"
		if dir == trace.Backward {
			into, name = ex.Incoming, "incoming"
		}
		ex.Traced[name] = chain.Sats(res.Source)
		sums := map[string][2]uint64{}
		for _, d := range res.Destinations {
			c, err := category(d.Addr)
			if err != nil {
				return nil, err
			}
			if c == "" || c != d.Reason {
				continue // not stopped at a tagged entity
			}
			v := sums[c]
			if d.Hops <= 1 {
				v[0] += d.Amount
			} else {
				v[1] += d.Amount
			}
			sums[c] = v
		}
		for c, v := range sums {
			ce := CategoryExposure{Direct: chain.Sats(v[0]), Indirect: chain.Sats(v[1])}
			if res.Source > 0 {
				ce.Share = math.Round(float64(v[0]+v[1])/float64(res.Source)*1e6) / 1e6
			}
			into[c] = ce
		}
	}
	return ex, nil
}

// Pattern is a typology finding as shown to the investigator.
type Pattern struct {
	Type        string         `json:"type"`
	Txids       []string       `json:"txids"`
	Addresses   []string       `json:"addresses"`
	Params      map[string]any `json:"params"`
	Confidence  float64        `json:"confidence"`
	Explanation string         `json:"explanation"`
}

// Patterns names the findings' transactions and addresses.
func (s *Service) Patterns(fs []detect.Finding) ([]Pattern, error) {
	out := make([]Pattern, 0, len(fs))
	for _, f := range fs {
		p := Pattern{Type: f.Type, Txids: []string{}, Addresses: []string{}, Params: f.Params, Confidence: f.Confidence, Explanation: f.Explanation}
		for _, k := range f.Txs {
			h, err := s.Index.TxidOf(k)
			if err != nil {
				return nil, err
			}
			p.Txids = append(p.Txids, h.String())
		}
		for _, a := range f.Addresses {
			addr, err := s.Index.Address(a)
			if err != nil {
				return nil, err
			}
			p.Addresses = append(p.Addresses, addr)
		}
		out = append(out, p)
	}
	return out, nil
}
