package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/trace"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// Bounds of the analyses a request may ask for: the command line's
// documented limits, and no more work per request than its defaults where
// it has no limit of its own.
const (
	maxTraceHops     = 64
	maxPathHops      = 16
	maxPathK         = 100
	maxFanout        = 1000
	maxFrontier      = 10_000
	maxPatternBlocks = 10_000
	maxPageSize      = 1000
	maxScreen        = 10_000
	maxUnspentListed = 10_000
)

// analysis is a request for one of the analyses a finding can snapshot:
// trace, path, exposure, patterns or risk. The same type is filled from a
// GET's query, a POST's JSON body and a finding's parameters, then
// normalised (defaults made explicit, bounds checked), so that a finding
// records exactly what ran.
type analysis interface {
	normalise() error
	run(ctx context.Context, s *Server) (result any, src workspace.Source, err error)
}

// analyses are the names a finding may ask for.
var analyses = map[string]func() analysis{
	"trace":    func() analysis { return &traceReq{} },
	"path":     func() analysis { return &pathReq{} },
	"exposure": func() analysis { return &exposureReq{} },
	"patterns": func() analysis { return &patternsReq{} },
	"risk":     func() analysis { return &riskReq{} },
	"screen":   func() analysis { return &screenReq{} },
	"deposits": func() analysis { return &depositsReq{} },
}

func analysisNames() string { return "trace, path, exposure, patterns, risk, screen or deposits" }

// strictJSON decodes raw into dst, refusing unknown fields and trailing
// data.
func strictJSON(raw []byte, dst any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(dst); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("more than one JSON value")
	}
	return nil
}

// bound checks an integer parameter, applying its default when zero.
func bound(name string, v *int, def, min, max int) error {
	if *v == 0 {
		*v = def
	}
	if *v < min || *v > max {
		return badRequest("%s: %d is out of range (%d to %d)", name, *v, min, max)
	}
	return nil
}

func required(name, v string) error {
	if strings.TrimSpace(v) == "" {
		return badRequest("%s is required", name)
	}
	if len(v) > maxParamLen {
		return badRequest("%s is too long", name)
	}
	return nil
}

func checkNetwork(n string) error {
	if n == "" {
		return nil
	}
	if _, err := btc.ParamsFor(chain.Network(n)); err != nil {
		return badRequest("network %q is not one of mainnet, testnet, testnet4, signet, regtest", clip(n))
	}
	return nil
}

// traceReq is a trace: vestigo trace FROM with its flags.
type traceReq struct {
	From      string `json:"from"`
	Network   string `json:"network,omitempty"`
	Direction string `json:"direction"`
	Model     string `json:"model"`
	Hops      int    `json:"hops"`
	MinValue  uint64 `json:"min_value"`
	Since     string `json:"since,omitempty"`
	Until     string `json:"until,omitempty"`
	// StopAt is a comma-separated list of categories, "none", or absent
	// for the default list.
	StopAt      *string `json:"stop_at,omitempty"`
	Level       string  `json:"level"`
	MaxFrontier int     `json:"max_frontier"`
	// FollowChange follows only detected change (forward); ChangeConfidence
	// is the least consensus confidence (default 0.75).
	FollowChange     bool    `json:"follow_change,omitempty"`
	ChangeConfidence float64 `json:"change_confidence,omitempty"`
	// EVM traces (from a 0x address): the chain (when several are
	// indexed), the asset (its id, a token contract or symbol; empty: the
	// native coin), a source amount in base units, and a block window.
	ChainID   uint64 `json:"chain_id,omitempty"`
	Asset     string `json:"asset,omitempty"`
	Amount    string `json:"amount,omitempty"`
	FromBlock uint64 `json:"from_block,omitempty"`
	ToBlock   uint64 `json:"to_block,omitempty"`

	since, until time.Time
	amount       chain.Amount
	stopAt       []string
	// progress, when set, hears of each hop (GET /trace/{from}/events).
	progress func(trace.Progress) error
}

func (q *traceReq) normalise() error {
	if err := required("from", q.From); err != nil {
		return err
	}
	q.From = strings.TrimSpace(q.From)
	if err := checkNetwork(q.Network); err != nil {
		return err
	}
	switch q.Direction {
	case "":
		q.Direction = string(trace.Forward)
	case string(trace.Forward), string(trace.Backward):
	default:
		return badRequest("direction %q is not forward or backward", clip(q.Direction))
	}
	switch q.Model {
	case "":
		q.Model = string(trace.Haircut)
	case string(trace.Haircut), string(trace.FIFO), string(trace.Poison):
	default:
		return badRequest("model %q is not haircut, fifo or poison", clip(q.Model))
	}
	switch q.Level {
	case "":
		q.Level = "address"
	case "address", "entity":
	default:
		return badRequest("level %q is not address or entity", clip(q.Level))
	}
	if workspace.IsEVMInput(q.From) {
		if q.Level != "address" || q.FollowChange {
			return badRequest("level entity and follow_change are for Bitcoin traces")
		}
		if q.ToBlock != 0 && q.ToBlock < q.FromBlock {
			return badRequest("to_block %d is below from_block %d", q.ToBlock, q.FromBlock)
		}
		if len(q.Asset) > maxParamLen {
			return badRequest("asset is too long")
		}
		if q.Amount != "" {
			a, err := chain.ParseAmount(q.Amount)
			if err != nil {
				return badRequest("amount %q is not a whole number of base units", clip(q.Amount))
			}
			q.amount = a
		}
	} else if q.ChainID != 0 || q.Asset != "" || q.Amount != "" || q.FromBlock != 0 || q.ToBlock != 0 {
		return badRequest("chain_id, asset, amount, from_block and to_block are for EVM (0x) traces")
	}
	if err := bound("hops", &q.Hops, 6, 1, maxTraceHops); err != nil {
		return err
	}
	if q.ChangeConfidence == 0 {
		q.ChangeConfidence = 0.75
	}
	if q.ChangeConfidence < 0.5 || q.ChangeConfidence > 1 {
		return badRequest("change_confidence %v is not between 0.5 and 1", q.ChangeConfidence)
	}
	if q.FollowChange && q.Direction != string(trace.Forward) {
		return badRequest("follow_change goes with direction forward")
	}
	if !q.FollowChange {
		q.ChangeConfidence = 0
	}
	if err := bound("max_frontier", &q.MaxFrontier, maxFrontier, 1, maxFrontier); err != nil {
		return err
	}
	var err error
	if q.since, err = parseWhen("since", q.Since); err != nil {
		return err
	}
	if q.until, err = parseWhen("until", q.Until); err != nil {
		return err
	}
	stop := strings.Join(entity.DefaultStopAt, ",")
	if q.StopAt != nil {
		stop = *q.StopAt
	}
	q.stopAt = nil
	if stop != "none" {
		for _, c := range strings.Split(stop, ",") {
			if c = strings.TrimSpace(c); c != "" {
				q.stopAt = append(q.stopAt, c)
			}
		}
	}
	if len(q.stopAt) == 0 {
		stop = "none"
	} else {
		stop = strings.Join(q.stopAt, ",")
	}
	q.StopAt = &stop
	return nil
}

func parseWhen(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badRequest("%s: %q is not a time (RFC 3339 or YYYY-MM-DD)", name, clip(s))
}

func (q *traceReq) run(ctx context.Context, s *Server) (any, workspace.Source, error) {
	if workspace.IsEVMInput(q.From) {
		ix, id, _, err := s.ws.EVMAddress(q.From, workspace.Selector{ChainID: q.ChainID})
		if err != nil {
			return nil, nil, err
		}
		svc, err := s.ws.EVMAttribution(ix)
		if err != nil {
			return nil, nil, err
		}
		req := entity.EVMTraceRequest{From: id, Params: trace.AccountParams{Direction: trace.Direction(q.Direction), Model: trace.Model(q.Model),
			Hops: q.Hops, MinValue: chain.Sats(q.MinValue), Amount: q.amount, MaxFrontier: q.MaxFrontier, Progress: q.progress},
			FromBlock: q.FromBlock, ToBlock: q.ToBlock, Since: q.since, Until: q.until, StopAt: q.stopAt}
		if q.Asset != "" {
			if req.Asset, err = svc.ResolveAsset(q.Asset); err != nil {
				return nil, nil, err
			}
		}
		r, err := svc.Trace(ctx, req)
		if err != nil {
			return nil, nil, err
		}
		return r, ix, nil
	}
	req := entity.TraceRequest{
		Params: trace.Params{Direction: trace.Direction(q.Direction), Model: trace.Model(q.Model), Hops: q.Hops,
			MinValue: q.MinValue, MaxFrontier: q.MaxFrontier, Progress: q.progress},
		Since: q.since, Until: q.until, StopAt: q.stopAt, Level: q.Level,
		FollowChange: q.FollowChange, MinChangeConfidence: q.ChangeConfidence,
	}
	return s.ws.Trace(ctx, q.From, selector(q.Network), req)
}

// pathReq is vestigo path FROM TO.
type pathReq struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Network   string `json:"network,omitempty"`
	ChainID   uint64 `json:"chain_id,omitempty"`
	Hops      int    `json:"hops"`
	K         int    `json:"k"`
	MaxFanout int    `json:"max_fanout"`
}

func (q *pathReq) normalise() error {
	if err := required("from", q.From); err != nil {
		return err
	}
	if err := required("to", q.To); err != nil {
		return err
	}
	if err := checkNetwork(q.Network); err != nil {
		return err
	}
	if err := bound("hops", &q.Hops, 6, 1, maxPathHops); err != nil {
		return err
	}
	if err := bound("k", &q.K, 3, 1, maxPathK); err != nil {
		return err
	}
	return bound("max_fanout", &q.MaxFanout, maxFanout, 1, maxFanout)
}

func (q *pathReq) run(ctx context.Context, s *Server) (any, workspace.Source, error) {
	if workspace.IsEVMInput(q.From) || workspace.IsEVMInput(q.To) {
		ix, from, _, err := s.ws.EVMAddress(q.From, workspace.Selector{ChainID: q.ChainID})
		if err != nil {
			return nil, nil, err
		}
		_, to, _, err := s.ws.EVMAddress(q.To, workspace.Selector{ChainID: ix.Meta().ChainID})
		if err != nil {
			return nil, nil, err
		}
		svc, err := s.ws.EVMAttribution(ix)
		if err != nil {
			return nil, nil, err
		}
		r, err := svc.Paths(ctx, from, to, trace.AccountPathParams{Hops: q.Hops, K: q.K, MaxFanout: q.MaxFanout})
		if err != nil {
			return nil, nil, err
		}
		return r, ix, nil
	}
	return s.ws.Paths(q.From, q.To, selector(q.Network), trace.PathParams{Hops: q.Hops, K: q.K, MaxFanout: q.MaxFanout})
}

// exposureReq is vestigo exposure ADDRESS.
type exposureReq struct {
	Address string `json:"address"`
	Network string `json:"network,omitempty"`
	ChainID uint64 `json:"chain_id,omitempty"`
	Hops    int    `json:"hops"`
}

func (q *exposureReq) normalise() error {
	if err := required("address", q.Address); err != nil {
		return err
	}
	if err := checkNetwork(q.Network); err != nil {
		return err
	}
	return bound("hops", &q.Hops, 4, 1, maxTraceHops)
}

func (q *exposureReq) run(ctx context.Context, s *Server) (any, workspace.Source, error) {
	if workspace.IsEVMInput(q.Address) {
		svc, id, err := s.evmAttributionOf(q.Address, q.ChainID)
		if err != nil {
			return nil, nil, err
		}
		ex, err := svc.Exposure(ctx, id, q.Hops, nil)
		return ex, svc.Index, err
	}
	svc, addr, err := s.attributionOf(q.Address, q.Network, false)
	if err != nil {
		return nil, nil, err
	}
	ex, err := svc.Exposure(ctx, addr, q.Hops)
	return ex, svc.Index, err
}

// patternsReq is vestigo patterns ADDRESS, or a block range.
type patternsReq struct {
	Address        string `json:"address,omitempty"`
	Network        string `json:"network,omitempty"`
	FromHeight     *int64 `json:"from_height,omitempty"`
	ToHeight       *int64 `json:"to_height,omitempty"`
	MinPeelHops    int    `json:"min_peel_hops"`
	MinConsolidate int    `json:"min_consolidation_inputs"`
	MinFanOut      int    `json:"min_fan_out"`
	MinFanIn       int    `json:"min_fan_in"`
	FanInBlocks    int    `json:"fan_in_blocks"`
	// Structuring and pass-through thresholds (see vestigo patterns --help).
	StructuringValue   int `json:"structuring_value"`
	StructuringBandPct int `json:"structuring_band"`
	MinStructured      int `json:"min_structured"`
	PassBlocks         int `json:"pass_blocks"`
	MinPassTransfers   int `json:"min_pass_transfers"`
	MaxResidualPct     int `json:"max_residual"`
	// ChainID runs the EVM detectors on that chain's index over
	// from_height..to_height (blocks).
	ChainID uint64 `json:"chain_id,omitempty"`
}

func (q *patternsReq) normalise() error {
	if (q.Address == "") == (q.FromHeight == nil) {
		return badRequest("give an address or from_height (and to_height), not both")
	}
	if q.Address == "" && q.ToHeight == nil {
		return badRequest("to_height is required with from_height (at most %d blocks)", maxPatternBlocks)
	}
	if q.Address != "" && q.ToHeight != nil {
		return badRequest("to_height goes with from_height, not with an address")
	}
	if len(q.Address) > maxParamLen {
		return badRequest("address is too long")
	}
	if err := checkNetwork(q.Network); err != nil {
		return err
	}
	if q.FromHeight != nil {
		from, to := *q.FromHeight, *q.ToHeight
		if from < 0 || to < from || to-from >= maxPatternBlocks {
			return badRequest("from_height %d to to_height %d: a range of 1 to %d blocks", from, to, maxPatternBlocks)
		}
	}
	for _, b := range []struct {
		name          string
		v             *int
		def, min, max int
	}{
		{"min_peel_hops", &q.MinPeelHops, 3, 2, 1000},
		{"min_consolidation_inputs", &q.MinConsolidate, 10, 2, 100_000},
		{"min_fan_out", &q.MinFanOut, 20, 2, 100_000},
		{"min_fan_in", &q.MinFanIn, 20, 2, 100_000},
		{"fan_in_blocks", &q.FanInBlocks, 144, 1, maxPatternBlocks},
		{"structuring_value", &q.StructuringValue, 1_000_000, 1, 1 << 50},
		{"structuring_band", &q.StructuringBandPct, 20, 1, 99},
		{"min_structured", &q.MinStructured, 5, 2, 100_000},
		{"pass_blocks", &q.PassBlocks, 6, 1, maxPatternBlocks},
		{"min_pass_transfers", &q.MinPassTransfers, 3, 2, 100_000},
		{"max_residual", &q.MaxResidualPct, 5, 1, 99},
	} {
		if err := bound(b.name, b.v, b.def, b.min, b.max); err != nil {
			return err
		}
	}
	return nil
}

func (q *patternsReq) run(ctx context.Context, s *Server) (any, workspace.Source, error) {
	if q.ChainID != 0 {
		if q.Address != "" {
			return nil, nil, badRequest("on an EVM chain give from_height and to_height, not an address")
		}
		ix, err := s.ws.EVMIndex(q.ChainID, false, "", "")
		if err != nil {
			return nil, nil, err
		}
		svc, err := s.ws.EVMAttribution(ix)
		if err != nil {
			return nil, nil, err
		}
		o := detect.EVMOptions{MinFanOut: q.MinFanOut, MinFanIn: q.MinFanIn, FanBlocks: uint64(q.FanInBlocks),
			PassBlocks: uint64(q.PassBlocks), MinPassTransfers: q.MinPassTransfers, MaxResidualPct: uint64(q.MaxResidualPct)}
		r, err := svc.Patterns(ctx, uint64(*q.FromHeight), uint64(*q.ToHeight), o)
		if err != nil {
			return nil, nil, err
		}
		return r, ix, nil
	}
	opt := detect.Options{MinPeelHops: q.MinPeelHops, MinConsolidate: q.MinConsolidate, MinFanOut: q.MinFanOut,
		MinFanIn: q.MinFanIn, FanInBlocks: int64(q.FanInBlocks), StructuringValue: uint64(q.StructuringValue),
		StructuringBandPct: uint64(q.StructuringBandPct), MinStructured: q.MinStructured, PassBlocks: int64(q.PassBlocks),
		MinPassTransfers: q.MinPassTransfers, MaxResidualPct: uint64(q.MaxResidualPct)}
	var svc *entity.Service
	var fs []detect.Finding
	if q.Address != "" {
		sv, addr, err := s.attributionOf(q.Address, q.Network, false)
		if err != nil {
			return nil, nil, err
		}
		svc = sv
		id, err := svc.Index.AddrIDOf(addr)
		if err != nil {
			return nil, nil, err
		}
		if fs, err = detect.Address(svc.Index, id, opt); err != nil {
			return nil, nil, err
		}
		mix, err := svc.MixerUse(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		fs = append(fs, mix...)
	} else {
		ix, err := s.ws.Only(selector(q.Network))
		if err != nil {
			return nil, nil, err
		}
		if svc, err = s.ws.Attribution(ix); err != nil {
			return nil, nil, err
		}
		if *q.FromHeight > ix.Tip().Height {
			return nil, nil, fmt.Errorf("api: block %d: %w", *q.FromHeight, chain.ErrNotFound)
		}
		to := min(*q.ToHeight, ix.Tip().Height)
		if fs, err = detect.Range(ix, *q.FromHeight, to, opt); err != nil {
			return nil, nil, err
		}
		mix, err := svc.MixerUseRange(ctx, *q.FromHeight, to)
		if err != nil {
			return nil, nil, err
		}
		fs = append(fs, mix...)
	}
	detect.Sort(fs)
	ps, err := svc.Patterns(fs)
	return ps, svc.Index, err
}

// riskReq is vestigo risk ADDRESS [--weights FILE].
type riskReq struct {
	Address string `json:"address"`
	Network string `json:"network,omitempty"`
	ChainID uint64 `json:"chain_id,omitempty"`
	// Weights replaces the default weights (the same JSON as the file).
	Weights json.RawMessage `json:"weights,omitempty"`

	weights *entity.Weights
}

func (q *riskReq) normalise() error {
	if err := required("address", q.Address); err != nil {
		return err
	}
	if err := checkNetwork(q.Network); err != nil {
		return err
	}
	raw := []byte(q.Weights)
	if len(raw) == 0 || string(raw) == "null" {
		raw = entity.DefaultWeights()
	}
	w, err := entity.ParseWeights(raw)
	if err != nil {
		return err
	}
	q.weights = w
	// The finding records the weights that were used, default or not.
	if q.Weights, err = json.Marshal(w); err != nil {
		return fmt.Errorf("api: encode weights: %w", err)
	}
	return nil
}

func (q *riskReq) run(ctx context.Context, s *Server) (any, workspace.Source, error) {
	if workspace.IsEVMInput(q.Address) {
		svc, id, err := s.evmAttributionOf(q.Address, q.ChainID)
		if err != nil {
			return nil, nil, err
		}
		r, err := svc.Risk(ctx, id, q.weights)
		return r, svc.Index, err
	}
	svc, addr, err := s.attributionOf(q.Address, q.Network, false)
	if err != nil {
		return nil, nil, err
	}
	r, err := svc.Risk(ctx, addr, q.weights)
	return r, svc.Index, err
}

// screenReq is vestigo screen: a list of addresses.
type screenReq struct {
	Addresses []string `json:"addresses"`
	Network   string   `json:"network,omitempty"`
	// ChainID chooses the EVM index that 0x addresses are looked up in
	// (0: every one).
	ChainID uint64 `json:"chain_id,omitempty"`
}

// screenAnswer is vestigo screen --json.
type screenAnswer struct {
	Results []entity.Screening `json:"results"`
	Summary entity.Summary     `json:"summary"`
}

func (q *screenReq) normalise() error {
	if len(q.Addresses) == 0 {
		return badRequest("nothing to screen: addresses is empty")
	}
	if len(q.Addresses) > maxScreen {
		return badRequest("%d addresses; at most %d per request", len(q.Addresses), maxScreen)
	}
	return checkNetwork(q.Network)
}

func (q *screenReq) run(ctx context.Context, s *Server) (any, workspace.Source, error) {
	sel := selector(q.Network)
	sel.ChainID = q.ChainID
	res, sum, _, err := s.ws.Screen(ctx, sel, q.Addresses)
	if err != nil {
		return nil, nil, err
	}
	return screenAnswer{res, sum}, s.ws.ScreenSource(sel, q.Addresses), nil
}

func selector(network string) workspace.Selector {
	return workspace.Selector{Network: chain.Network(network)}
}

// attributionOf resolves an address (with anywhere, also one not yet on
// chain) and returns the attribution service of its index.
func (s *Server) attributionOf(arg, network string, anywhere bool) (*entity.Service, btc.Addr, error) {
	resolve := s.ws.Address
	if anywhere {
		resolve = s.ws.AddressAnywhere
	}
	ix, addr, err := resolve(arg, selector(network))
	if err != nil {
		return nil, btc.Addr{}, err
	}
	svc, err := s.ws.Attribution(ix)
	return svc, addr, err
}

// depositsReq is vestigo deposits: the deposit-address heuristic on an EVM
// chain.
type depositsReq struct {
	ChainID uint64 `json:"chain_id,omitempty"`
	// HotWallets are the exchange's hot wallets; empty: every address the
	// tags call an exchange.
	HotWallets     []string `json:"hot_wallets,omitempty"`
	FromBlock      uint64   `json:"from_block,omitempty"`
	ToBlock        uint64   `json:"to_block,omitempty"`
	MaxSweepBlocks uint64   `json:"max_sweep_blocks,omitempty"`
	MaxResidualPct uint64   `json:"max_residual_pct,omitempty"`
	MinSweeps      int      `json:"min_sweeps,omitempty"`
}

func (q *depositsReq) normalise() error {
	if len(q.HotWallets) > maxScreen {
		return badRequest("%d hot wallets; at most %d", len(q.HotWallets), maxScreen)
	}
	for _, h := range q.HotWallets {
		if !workspace.IsEVMInput(h) {
			return badRequest("hot wallet %q is not a 0x address", clip(h))
		}
	}
	if q.ToBlock != 0 && q.ToBlock < q.FromBlock {
		return badRequest("to_block %d is below from_block %d", q.ToBlock, q.FromBlock)
	}
	return nil
}

func (q *depositsReq) run(ctx context.Context, s *Server) (any, workspace.Source, error) {
	ix, err := s.ws.EVMOnly(workspace.Selector{ChainID: q.ChainID})
	if err != nil {
		return nil, nil, err
	}
	var hot []evmindex.AddrID
	for _, h := range q.HotWallets {
		_, id, _, err := s.ws.EVMAddress(h, workspace.Selector{ChainID: ix.Meta().ChainID})
		if err != nil {
			return nil, nil, err
		}
		hot = append(hot, id)
	}
	svc, err := s.ws.EVMAttribution(ix)
	if err != nil {
		return nil, nil, err
	}
	r, err := svc.Deposits(ctx, hot, q.FromBlock, q.ToBlock, detect.DepositOptions{MaxSweepBlocks: q.MaxSweepBlocks,
		MaxResidualPct: q.MaxResidualPct, MinSweeps: q.MinSweeps})
	if err != nil {
		return nil, nil, err
	}
	return r, ix, nil
}

// evmAttributionOf resolves a 0x address to its EVM index's answers.
func (s *Server) evmAttributionOf(addr string, chainID uint64) (*entity.EVM, evmindex.AddrID, error) {
	ix, id, _, err := s.ws.EVMAddress(addr, workspace.Selector{ChainID: chainID})
	if err != nil {
		return nil, 0, err
	}
	svc, err := s.ws.EVMAttribution(ix)
	return svc, id, err
}
