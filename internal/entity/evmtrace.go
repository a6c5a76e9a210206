package entity

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/tags"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

// evmConcept maps the stop categories of DefaultStopAt to the taxonomy
// concepts whose tagged addresses they mean.
func evmConcept(c string) string {
	if c == "sanctioned" {
		return "sanction"
	}
	return c
}

// addressSet holds, for one answer, the tagged EVM addresses of some
// categories: address (lower case) → the first category it matched.
type addressSet map[string]string

// evmSets reads the EVM addresses tagged with each category (in order: an
// address in several keeps the first).
func (e *EVM) evmSets(ctx context.Context, categories []string) (addressSet, error) {
	set := addressSet{}
	if e.Tags == nil {
		return set, nil
	}
	for _, c := range categories {
		addrs, err := e.Tags.AddressesWith(ctx, "ETH", []string{evmConcept(c)})
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			a = strings.ToLower(a)
			if _, ok := set[a]; !ok {
				set[a] = c
			}
		}
	}
	return set, nil
}

// ids returns the index's ids of the set's addresses (those it holds), in
// id order.
func (e *EVM) ids(s addressSet) ([]evmindex.AddrID, error) {
	var out []evmindex.AddrID
	for a := range s {
		addr, err := eth.ParseAddress(a)
		if err != nil {
			continue
		}
		id, err := e.Index.AddrID(addr)
		switch {
		case err == nil:
			out = append(out, id)
		case !errors.Is(err, chain.ErrNotFound):
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// EVMTraceRequest is what to trace on an EVM chain and how.
type EVMTraceRequest struct {
	From  evmindex.AddrID
	Asset evmindex.AssetID
	// Params: direction, model, hops, minimum value, amount, limits. The
	// window is FromBlock..ToBlock (ToBlock 0: the tip) or Since..Until.
	Params             trace.AccountParams
	FromBlock, ToBlock uint64
	Since, Until       time.Time
	// StopAt lists categories (GraphSense concepts, or "sanctioned") whose
	// tagged addresses end the trail as destinations (none: no stop).
	StopAt []string
}

// EVMTraceParams echoes the parameters.
type EVMTraceParams struct {
	From      string   `json:"from"`
	Asset     AssetRef `json:"asset"`
	Direction string   `json:"direction"`
	Model     string   `json:"model"`
	Hops      int      `json:"hops"`
	MinValue  string   `json:"min_value"`
	Amount    string   `json:"amount,omitempty"`
	FromBlock uint64   `json:"from_block"`
	ToBlock   uint64   `json:"to_block,omitempty"`
	Since     string   `json:"since,omitempty"`
	Until     string   `json:"until,omitempty"`
	StopAt    []string `json:"stop_at"`
}

// EVMTraceDest is a destination (origin, backward) of traced funds.
type EVMTraceDest struct {
	Address     string   `json:"address"`
	Labels      []string `json:"labels"`
	Category    string   `json:"category"`
	Contract    bool     `json:"contract"`
	Amount      string   `json:"amount"`
	AmountUnits string   `json:"amount_units"`
	// Share is Amount over the traced source (for display; Amount is exact).
	Share  float64  `json:"share"`
	Hops   int      `json:"hops"`
	Reason string   `json:"reason"`
	First  Position `json:"first"`
	Last   Position `json:"last"`
}

// EVMTraceEdge is one tainted move.
type EVMTraceEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Position
	Seq         uint16 `json:"seq"`
	Kind        string `json:"kind"`
	Amount      string `json:"amount"`
	AmountUnits string `json:"amount_units"`
	Hop         int    `json:"hop"`
}

// EVMTraceReport is an account trace as shown to the investigator.
type EVMTraceReport struct {
	ChainID      uint64         `json:"chain_id"`
	Chain        string         `json:"chain"`
	Params       EVMTraceParams `json:"params"`
	IndexTip     TipRef         `json:"index_tip"`
	Source       string         `json:"source"`
	SourceUnits  string         `json:"source_units"`
	Destinations []EVMTraceDest `json:"destinations"`
	StoppedAt    []EVMTraceDest `json:"stopped_at"`
	Edges        []EVMTraceEdge `json:"edges"`
	Fees         string         `json:"fees"`
	Dropped      string         `json:"dropped_below_min_value"`
	Summarised   bool           `json:"summarised"`
	EdgesCut     bool           `json:"edges_cut"`
	Entries      int            `json:"entries_read"`
	Incomplete   string         `json:"incomplete,omitempty"`
}

// blockAt returns the first block at or after time t (ok false: none up
// to the tip).
func (e *EVM) blockAt(t time.Time, tip uint64) (uint64, bool, error) {
	first, err := e.Index.FirstBlock()
	if err != nil {
		return 0, false, err
	}
	lo, hi := first, tip+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		b, err := e.Index.Block(mid)
		if err != nil {
			return 0, false, err
		}
		if time.Unix(int64(b.Time), 0).Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo <= tip, nil
}

// Trace follows one asset from an address, with the tags' stop rules, and
// labels the destinations.
func (e *EVM) Trace(ctx context.Context, req EVMTraceRequest) (*EVMTraceReport, error) {
	ix := e.Index
	tip, has, err := ix.Tip()
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, fmt.Errorf("entity: %w: the index of %s holds no block", chain.ErrNotFound, ix.Meta().Name)
	}
	p := req.Params
	from, to := req.FromBlock, req.ToBlock
	if !req.Since.IsZero() {
		h, ok, err := e.blockAt(req.Since, tip.Height)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("entity: %w: no block after %s", chain.ErrInvalid, req.Since.UTC().Format(time.RFC3339))
		}
		from = max(from, h)
	}
	if !req.Until.IsZero() {
		h, _, err := e.blockAt(req.Until, tip.Height)
		if err != nil {
			return nil, err
		}
		if h == 0 {
			return nil, fmt.Errorf("entity: %w: no block before %s", chain.ErrInvalid, req.Until.UTC().Format(time.RFC3339))
		}
		if to == 0 || h-1 < to {
			to = h - 1
		}
	}
	if to != 0 && to < from {
		return nil, fmt.Errorf("entity: %w: the window ends (block %d) before it starts (block %d)", chain.ErrInvalid, to, from)
	}
	p.FromKey = evmindex.MakeTxKey(from, 0)
	if to != 0 {
		p.ToKey = evmindex.MakeTxKey(to, evmindex.SlotBlockEnd)
	}
	stopAt := req.StopAt
	stops, err := e.evmSets(ctx, stopAt)
	if err != nil {
		return nil, err
	}
	lk := newLookups(ix)
	if len(stops) > 0 {
		p.Stop = func(id evmindex.AddrID) (bool, string, error) {
			if id == req.From {
				return false, "", nil
			}
			s, err := lk.addr(id)
			if err != nil {
				return false, "", err
			}
			c, ok := stops[strings.ToLower(s)]
			return ok, c, nil
		}
	}
	res, err := trace.TraceAccounts(ix, req.From, req.Asset, p)
	if err != nil {
		return nil, err
	}
	ac := &assetCache{ix: ix}
	asset, err := ac.get(req.Asset)
	if err != nil {
		return nil, err
	}
	meta := ix.Meta()
	src, err := lk.addr(req.From)
	if err != nil {
		return nil, err
	}
	units := func(a chain.Amount) string { return chain.FormatUnits(a, asset.Decimals) }
	r := &EVMTraceReport{ChainID: meta.ChainID, Chain: meta.Name, IndexTip: TipRef{Height: int64(tip.Height), Hash: tip.Hash.String()},
		Params: EVMTraceParams{From: src, Asset: asset, Direction: string(res.Params.Direction), Model: string(res.Params.Model), Hops: res.Params.Hops,
			MinValue: res.Params.MinValue.String(), FromBlock: from, ToBlock: to, StopAt: append([]string{}, stopAt...)},
		Source: res.Source.String(), SourceUnits: units(res.Source), Destinations: []EVMTraceDest{}, StoppedAt: []EVMTraceDest{}, Edges: []EVMTraceEdge{},
		Fees: res.Fees.String(), Dropped: res.Dropped.String(), Summarised: res.Summarised, EdgesCut: res.EdgesCut, Entries: res.Entries}
	if !p.Amount.IsZero() {
		r.Params.Amount = p.Amount.String()
	}
	if !req.Since.IsZero() {
		r.Params.Since = req.Since.UTC().Format(time.RFC3339)
	}
	if !req.Until.IsZero() {
		r.Params.Until = req.Until.UTC().Format(time.RFC3339)
	}
	var addrs []string
	for _, d := range res.Destinations {
		s, err := lk.addr(d.Addr)
		if err != nil {
			return nil, err
		}
		a, err := ix.Address(d.Addr)
		if err != nil {
			return nil, err
		}
		first, err := lk.position(d.First)
		if err != nil {
			return nil, err
		}
		last, err := lk.position(d.Last)
		if err != nil {
			return nil, err
		}
		td := EVMTraceDest{Address: s, Labels: []string{}, Contract: a.Contract, Amount: d.Amount.String(), AmountUnits: units(d.Amount),
			Share: share(d.Amount, res.Source), Hops: d.Hops, Reason: d.Reason, First: first, Last: last}
		r.Destinations = append(r.Destinations, td)
		addrs = append(addrs, strings.ToLower(s))
	}
	if e.Tags != nil && len(addrs) > 0 {
		m, err := e.Tags.ByAddress(ctx, slices.Compact(slices.Sorted(slices.Values(addrs))))
		if err != nil {
			return nil, err
		}
		for i := range r.Destinations {
			d := &r.Destinations[i]
			ts := m[strings.ToLower(d.Address)]
			d.Labels, d.Category = labelsOf(ts)
		}
	}
	for _, d := range r.Destinations {
		if slices.Contains(stopAt, d.Reason) {
			r.StoppedAt = append(r.StoppedAt, d)
		}
	}
	for _, ed := range res.Edges {
		f, err := lk.addr(ed.From)
		if err != nil {
			return nil, err
		}
		t, err := lk.addr(ed.To)
		if err != nil {
			return nil, err
		}
		pos, err := lk.position(ed.Key)
		if err != nil {
			return nil, err
		}
		r.Edges = append(r.Edges, EVMTraceEdge{From: f, To: t, Position: pos, Seq: ed.Seq, Kind: ed.Kind.String(),
			Amount: ed.Amount.String(), AmountUnits: units(ed.Amount), Hop: ed.Hop})
	}
	if tip.Untraced > 0 {
		r.Incomplete = fmt.Sprintf("%d blocks were imported without call traces: internal transfers in them are missing from the trail", tip.Untraced)
	}
	return r, nil
}

// share is a/b as a float for display (0 when b is 0).
func share(a, b chain.Amount) float64 {
	if b.IsZero() {
		return 0
	}
	f, _ := new(big.Rat).SetFrac(a.Big(), b.Big()).Float64()
	return f
}

// labelsOf lists the distinct labels of tags and their first category.
func labelsOf(ts []tags.Tag) ([]string, string) {
	labels := []string{}
	cat := ""
	for _, t := range ts {
		if !slices.Contains(labels, t.Label) {
			labels = append(labels, t.Label)
		}
		if cat == "" {
			cat = t.Category
		}
	}
	return labels, cat
}

// EVMPathStep is one move of a path between two addresses.
type EVMPathStep struct {
	From string `json:"from"`
	To   string `json:"to"`
	Position
	Seq         uint16   `json:"seq"`
	Kind        string   `json:"kind"`
	Asset       AssetRef `json:"asset"`
	Amount      string   `json:"amount"`
	AmountUnits string   `json:"amount_units"`
}

// EVMPathReport lists the shortest money paths between two addresses.
type EVMPathReport struct {
	ChainID    uint64          `json:"chain_id"`
	From       string          `json:"from"`
	To         string          `json:"to"`
	Paths      [][]EVMPathStep `json:"paths"`
	Summarised bool            `json:"summarised"`
	Entries    int             `json:"entries_read"`
}

// Paths finds the shortest money paths from one address to another.
func (e *EVM) Paths(ctx context.Context, from, to evmindex.AddrID, p trace.AccountPathParams) (*EVMPathReport, error) {
	res, err := trace.AccountPaths(e.Index, from, to, p)
	if err != nil {
		return nil, err
	}
	lk := newLookups(e.Index)
	ac := &assetCache{ix: e.Index}
	r := &EVMPathReport{ChainID: e.Index.Meta().ChainID, Paths: [][]EVMPathStep{}, Summarised: res.Summarised, Entries: res.Entries}
	if r.From, err = lk.addr(from); err != nil {
		return nil, err
	}
	if r.To, err = lk.addr(to); err != nil {
		return nil, err
	}
	for _, path := range res.Paths {
		steps := []EVMPathStep{}
		for _, s := range path {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ref, err := ac.get(s.Asset)
			if err != nil {
				return nil, err
			}
			pos, err := lk.position(s.Key)
			if err != nil {
				return nil, err
			}
			st := EVMPathStep{Position: pos, Seq: s.Seq, Kind: s.Kind.String(), Asset: ref, Amount: s.Amount.String(), AmountUnits: chain.FormatUnits(s.Amount, ref.Decimals)}
			if st.From, err = lk.addr(s.From); err != nil {
				return nil, err
			}
			if st.To, err = lk.addr(s.To); err != nil {
				return nil, err
			}
			steps = append(steps, st)
		}
		r.Paths = append(r.Paths, steps)
	}
	return r, nil
}

// EVMDeposit is a deposit address of an exchange found by the
// deposit-address heuristic.
type EVMDeposit struct {
	Address         string   `json:"address"`
	HotWallet       string   `json:"hot_wallet"`
	HotWalletLabels []string `json:"hot_wallet_labels"`
	Senders         []string `json:"senders"`
	Deposits        []string `json:"deposit_txs"`
	Sweeps          []string `json:"sweep_txs"`
	Assets          []string `json:"assets"`
	Confidence      int      `json:"confidence"`
	Params          any      `json:"params"`
	Explanation     string   `json:"explanation"`
}

// EVMUserLink links the senders to one deposit address as one exchange
// user.
type EVMUserLink struct {
	Deposit     string   `json:"deposit_address"`
	HotWallet   string   `json:"hot_wallet"`
	Senders     []string `json:"senders"`
	Txs         []string `json:"txs"`
	Confidence  int      `json:"confidence"`
	Explanation string   `json:"explanation"`
}

// EVMDepositReport is the deposit-address heuristic's answer.
type EVMDepositReport struct {
	ChainID    uint64        `json:"chain_id"`
	FromBlock  uint64        `json:"from_block"`
	ToBlock    uint64        `json:"to_block"`
	HotWallets []string      `json:"hot_wallets"`
	Deposits   []EVMDeposit  `json:"deposit_addresses"`
	Links      []EVMUserLink `json:"user_links"`
}

// Deposits runs the deposit-address heuristic over blocks from..to (to 0:
// the tip) against the hot wallets given, or, when none is given, every
// address the tags call an exchange.
func (e *EVM) Deposits(ctx context.Context, hot []evmindex.AddrID, from, to uint64, o detect.DepositOptions) (*EVMDepositReport, error) {
	from, to, err := e.window(from, to)
	if err != nil {
		return nil, err
	}
	if len(hot) == 0 {
		set, err := e.evmSets(ctx, []string{"exchange"})
		if err != nil {
			return nil, err
		}
		if hot, err = e.ids(set); err != nil {
			return nil, err
		}
		if len(hot) == 0 {
			return nil, fmt.Errorf("entity: %w: no address of this index is tagged as an exchange: import exchange tags or name the hot wallets", chain.ErrNotFound)
		}
	}
	res, err := detect.DepositAddresses(e.Index, hot, from, to, o)
	if err != nil {
		return nil, err
	}
	lk := newLookups(e.Index)
	ac := &assetCache{ix: e.Index}
	r := &EVMDepositReport{ChainID: e.Index.Meta().ChainID, FromBlock: from, ToBlock: to, HotWallets: []string{}, Deposits: []EVMDeposit{}, Links: []EVMUserLink{}}
	names := func(ids []evmindex.AddrID) ([]string, error) {
		out := []string{}
		for _, id := range ids {
			s, err := lk.addr(id)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	hashes := func(ks []evmindex.TxKey) ([]string, error) {
		out := []string{}
		for _, k := range ks {
			p, err := lk.position(k)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Tx)
		}
		return out, nil
	}
	if r.HotWallets, err = names(hot); err != nil {
		return nil, err
	}
	hotLabels := map[string][]string{}
	if e.Tags != nil {
		keys := make([]string, len(r.HotWallets))
		for i, h := range r.HotWallets {
			keys[i] = strings.ToLower(h)
		}
		m, err := e.Tags.ByAddress(ctx, keys)
		if err != nil {
			return nil, err
		}
		for k, ts := range m {
			hotLabels[k], _ = labelsOf(ts)
		}
	}
	for _, d := range res.Addresses {
		var x EVMDeposit
		if x.Address, err = lk.addr(d.Addr); err != nil {
			return nil, err
		}
		if x.HotWallet, err = lk.addr(d.HotWallet); err != nil {
			return nil, err
		}
		x.HotWalletLabels = hotLabels[strings.ToLower(x.HotWallet)]
		if x.HotWalletLabels == nil {
			x.HotWalletLabels = []string{}
		}
		if x.Senders, err = names(d.Senders); err != nil {
			return nil, err
		}
		if x.Deposits, err = hashes(d.Deposits); err != nil {
			return nil, err
		}
		if x.Sweeps, err = hashes(d.Sweeps); err != nil {
			return nil, err
		}
		x.Assets = []string{}
		for _, a := range d.Assets {
			ref, err := ac.get(a)
			if err != nil {
				return nil, err
			}
			x.Assets = append(x.Assets, ref.Symbol)
		}
		x.Confidence, x.Params, x.Explanation = d.Confidence, d.Params, d.Explanation
		r.Deposits = append(r.Deposits, x)
	}
	for _, l := range res.Links {
		var x EVMUserLink
		if x.Deposit, err = lk.addr(l.Deposit); err != nil {
			return nil, err
		}
		if x.HotWallet, err = lk.addr(l.HotWallet); err != nil {
			return nil, err
		}
		if x.Senders, err = names(l.Senders); err != nil {
			return nil, err
		}
		if x.Txs, err = hashes(l.Txs); err != nil {
			return nil, err
		}
		x.Confidence, x.Explanation = l.Confidence, l.Explanation
		r.Links = append(r.Links, x)
	}
	return r, nil
}

// window resolves a block range (to 0: the tip) against the index.
func (e *EVM) window(from, to uint64) (uint64, uint64, error) {
	tip, has, err := e.Index.Tip()
	if err != nil {
		return 0, 0, err
	}
	if !has {
		return 0, 0, fmt.Errorf("entity: %w: the index of %s holds no block", chain.ErrNotFound, e.Index.Meta().Name)
	}
	if to == 0 || to > tip.Height {
		to = tip.Height
	}
	if from > to {
		return 0, 0, fmt.Errorf("entity: %w: blocks %d to %d", chain.ErrInvalid, from, to)
	}
	return from, to, nil
}

// EVMPattern is a typology finding on an EVM chain.
type EVMPattern struct {
	Type        string      `json:"type"`
	Txs         []string    `json:"txs"`
	Addresses   []string    `json:"addresses"`
	Asset       AssetRef    `json:"asset"`
	Amount      string      `json:"amount"`
	AmountUnits string      `json:"amount_units"`
	Conversion  *EVMConvert `json:"conversion,omitempty"`
	Params      any         `json:"params"`
	Confidence  float64     `json:"confidence"`
	Explanation string      `json:"explanation"`
}

// EVMConvert is a DEX swap as an asset conversion.
type EVMConvert struct {
	Trader    string   `json:"trader"`
	Pool      string   `json:"pool"`
	AssetIn   AssetRef `json:"asset_in"`
	AmountIn  string   `json:"amount_in"`
	AssetOut  AssetRef `json:"asset_out"`
	AmountOut string   `json:"amount_out"`
	Agrees    bool     `json:"event_agrees"`
}

// EVMPatternReport lists the typologies found in a block range.
type EVMPatternReport struct {
	ChainID   uint64         `json:"chain_id"`
	FromBlock uint64         `json:"from_block"`
	ToBlock   uint64         `json:"to_block"`
	Findings  []EVMPattern   `json:"findings"`
	Counts    map[string]int `json:"counts"`
}

// Patterns runs the EVM typology detectors over blocks from..to (to 0: the
// tip), with mixer pools and bridges from the tags.
func (e *EVM) Patterns(ctx context.Context, from, to uint64, o detect.EVMOptions) (*EVMPatternReport, error) {
	from, to, err := e.window(from, to)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		concept string
		dst     *[]evmindex.AddrID
	}{{"mixing_service", &o.MixerPools}, {"defi_bridge", &o.Bridges}} {
		if len(*c.dst) > 0 {
			continue
		}
		set, err := e.evmSets(ctx, []string{c.concept})
		if err != nil {
			return nil, err
		}
		if *c.dst, err = e.ids(set); err != nil {
			return nil, err
		}
	}
	fs, err := detect.EVMRange(e.Index, from, to, o)
	if err != nil {
		return nil, err
	}
	lk := newLookups(e.Index)
	ac := &assetCache{ix: e.Index}
	r := &EVMPatternReport{ChainID: e.Index.Meta().ChainID, FromBlock: from, ToBlock: to, Findings: []EVMPattern{}, Counts: map[string]int{}}
	for _, f := range fs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ref, err := ac.get(f.Asset)
		if err != nil {
			return nil, err
		}
		p := EVMPattern{Type: f.Type, Txs: []string{}, Addresses: []string{}, Asset: ref, Amount: f.Amount.String(),
			AmountUnits: chain.FormatUnits(f.Amount, ref.Decimals), Params: f.Params, Confidence: f.Confidence, Explanation: f.Explanation}
		for _, k := range f.Txs {
			pos, err := lk.position(k)
			if err != nil {
				return nil, err
			}
			p.Txs = append(p.Txs, pos.Tx)
		}
		for _, a := range f.Addresses {
			s, err := lk.addr(a)
			if err != nil {
				return nil, err
			}
			p.Addresses = append(p.Addresses, s)
		}
		if c := f.Conversion; c != nil {
			in, err := ac.get(c.AssetIn)
			if err != nil {
				return nil, err
			}
			out, err := ac.get(c.AssetOut)
			if err != nil {
				return nil, err
			}
			cv := &EVMConvert{AssetIn: in, AmountIn: c.AmountIn.String(), AssetOut: out, AmountOut: c.AmountOut.String(), Agrees: c.EventAgrees}
			if cv.Trader, err = lk.addr(c.Trader); err != nil {
				return nil, err
			}
			if cv.Pool, err = lk.addr(c.Pool); err != nil {
				return nil, err
			}
			p.Conversion = cv
		}
		r.Findings = append(r.Findings, p)
		r.Counts[f.Type]++
	}
	return r, nil
}
