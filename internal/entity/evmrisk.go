package entity

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/tags"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

// EVMCategoryExposure is the exposure of one asset's funds to one
// category, in base units (exact strings) and as a share of the traced
// amount.
type EVMCategoryExposure struct {
	Direct   string  `json:"direct"`
	Indirect string  `json:"indirect"`
	Share    float64 `json:"share"`
}

// EVMAssetExposure is the exposure of an address's funds in one asset.
type EVMAssetExposure struct {
	Asset    AssetRef                       `json:"asset"`
	Incoming map[string]EVMCategoryExposure `json:"incoming"`
	Outgoing map[string]EVMCategoryExposure `json:"outgoing"`
	// Traced is what each direction started from: everything the address
	// received (incoming) and everything it sent (outgoing).
	Traced map[string]string `json:"traced"`
}

// EVMExposure is an EVM address's exposure to each tagged category, per
// asset it holds.
type EVMExposure struct {
	ChainID  uint64             `json:"chain_id"`
	Address  string             `json:"address"`
	Hops     int                `json:"hops"`
	Model    string             `json:"model"`
	IndexTip TipRef             `json:"index_tip"`
	Assets   []EVMAssetExposure `json:"assets"`
}

// exposureCategories are the categories exposure looks for: those of the
// default risk weights and the default stop list.
func exposureCategories(w *Weights) []string {
	set := map[string]bool{}
	for c := range w.Categories {
		set[c] = true
	}
	for _, c := range DefaultStopAt {
		set[evmConcept(c)] = true
	}
	return slices.Sorted(func(yield func(string) bool) {
		for c := range set {
			if !yield(c) {
				return
			}
		}
	})
}

// Exposure traces an address's funds in each asset it holds backward
// (incoming) and forward (outgoing) with the haircut model up to hops
// moves, stopping at the first tagged address of a category of the weights
// or the default stop list; what reaches one counts for its first category
// (in sorted order), at one hop as direct, beyond as indirect.
func (e *EVM) Exposure(ctx context.Context, id evmindex.AddrID, hops int, w *Weights) (*EVMExposure, error) {
	if w == nil {
		var err error
		if w, err = ParseWeights(defaultWeights); err != nil {
			return nil, err
		}
	}
	ix := e.Index
	tip, has, err := ix.Tip()
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, fmt.Errorf("entity: %w: the index of %s holds no block", chain.ErrNotFound, ix.Meta().Name)
	}
	cats, err := e.evmSets(ctx, exposureCategories(w))
	if err != nil {
		return nil, err
	}
	lk := newLookups(ix)
	ac := &assetCache{ix: ix}
	self, err := lk.addr(id)
	if err != nil {
		return nil, err
	}
	category := func(a evmindex.AddrID) (string, error) {
		if a == id {
			return "", nil
		}
		s, err := lk.addr(a)
		if err != nil {
			return "", err
		}
		return cats[strings.ToLower(s)], nil
	}
	hs, err := ix.Holdings(id)
	if err != nil {
		return nil, err
	}
	ex := &EVMExposure{ChainID: ix.Meta().ChainID, Address: self, Model: string(trace.Haircut),
		IndexTip: TipRef{Height: int64(tip.Height), Hash: tip.Hash.String()}, Assets: []EVMAssetExposure{}}
	for _, h := range hs {
		ref, err := ac.get(h.Asset)
		if err != nil {
			return nil, err
		}
		ae := EVMAssetExposure{Asset: ref, Incoming: map[string]EVMCategoryExposure{}, Outgoing: map[string]EVMCategoryExposure{}, Traced: map[string]string{}}
		for _, dir := range []trace.Direction{trace.Backward, trace.Forward} {
			p := trace.AccountParams{Direction: dir, Model: trace.Haircut, Hops: hops, Stop: func(a evmindex.AddrID) (bool, string, error) {
				c, err := category(a)
				return c != "", c, err
			}}
			res, err := trace.TraceAccounts(ix, id, h.Asset, p)
			if err != nil {
				return nil, err
			}
			ex.Hops = res.Params.Hops
			into, name := ae.Outgoing, "outgoing"
			if dir == trace.Backward {
				into, name = ae.Incoming, "incoming"
			}
			ae.Traced[name] = res.Source.String()
			sums := map[string][2]*big.Int{}
			for _, d := range res.Destinations {
				c, err := category(d.Addr)
				if err != nil {
					return nil, err
				}
				if c == "" || c != d.Reason {
					continue // not stopped at a tagged address
				}
				v, ok := sums[c]
				if !ok {
					v = [2]*big.Int{new(big.Int), new(big.Int)}
					sums[c] = v
				}
				if d.Hops <= 1 {
					v[0].Add(v[0], d.Amount.Big())
				} else {
					v[1].Add(v[1], d.Amount.Big())
				}
			}
			for c, v := range sums {
				ce := EVMCategoryExposure{Direct: v[0].String(), Indirect: v[1].String()}
				if !res.Source.IsZero() {
					f, _ := new(big.Rat).SetFrac(new(big.Int).Add(v[0], v[1]), res.Source.Big()).Float64()
					ce.Share = math.Round(f*1e6) / 1e6
				}
				into[c] = ce
			}
		}
		ex.Assets = append(ex.Assets, ae)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return ex, nil
}

// Risk scores an EVM address as Service.Risk scores a Bitcoin one:
// sanctioned tags on it, its exposure share to each weighted category (the
// largest over its assets and directions), and the typologies of its
// moves (mixer use, bridge deposits, swaps, fans, pass-through), each
// factor with its evidence.
func (e *EVM) Risk(ctx context.Context, id evmindex.AddrID, w *Weights) (*Risk, error) {
	ix := e.Index
	a, err := ix.Address(id)
	if err != nil {
		return nil, err
	}
	tip, _, err := ix.Tip()
	if err != nil {
		return nil, err
	}
	r := &Risk{Address: a.Address.String(), Factors: []RiskFactor{}, Weights: w, IndexTip: TipRef{Height: int64(tip.Height), Hash: tip.Hash.String()}}
	add := func(f RiskFactor) {
		f.Contribution = math.Round(f.Weight*f.Value*1e4) / 1e4
		r.Factors = append(r.Factors, f)
		r.Score += f.Contribution
	}
	var ts []Tag
	var sanctioned bool
	var cats []string
	var conf []tags.Conflict
	if err := e.tagsOf(ctx, a.Address, &ts, &sanctioned, &cats, &conf); err != nil {
		return nil, err
	}
	var evidence []string
	for _, t := range ts {
		if t.Sanctioned {
			evidence = append(evidence, fmt.Sprintf("tag %q on %s (%s:%d)", t.Label, r.Address, t.Pack, t.Line))
		}
	}
	if len(evidence) > 0 {
		add(RiskFactor{Name: "sanctioned", Weight: w.Sanctioned, Value: 1, Evidence: evidence})
	}
	ex, err := e.Exposure(ctx, id, w.Hops, w)
	if err != nil {
		return nil, err
	}
	weighted := slices.Sorted(func(yield func(string) bool) {
		for c := range w.Categories {
			if !yield(c) {
				return
			}
		}
	})
	for _, c := range weighted {
		var v float64
		var ev []string
		for _, ae := range ex.Assets {
			in, out := ae.Incoming[c], ae.Outgoing[c]
			if in.Share == 0 && out.Share == 0 {
				continue
			}
			v = max(v, in.Share, out.Share)
			ev = append(ev, fmt.Sprintf("%s: incoming %s direct, %s indirect (share %.4f); outgoing %s direct, %s indirect (share %.4f), in base units",
				assetName(ae.Asset), in.Direct, in.Indirect, in.Share, out.Direct, out.Indirect, out.Share))
		}
		if v > 0 {
			add(RiskFactor{Name: "exposure:" + c, Weight: w.Categories[c], Value: v, Evidence: ev})
		}
	}
	// Typologies in the blocks the address was active in.
	hs, err := ix.Holdings(id)
	if err != nil {
		return nil, err
	}
	if len(hs) > 0 {
		first, last := hs[0].First.Height(), hs[0].Last.Height()
		for _, h := range hs[1:] {
			first, last = min(first, h.First.Height()), max(last, h.Last.Height())
		}
		pr, err := e.Patterns(ctx, first, last, detect.EVMOptions{})
		if err != nil {
			return nil, err
		}
		byType := map[string][]string{}
		for _, p := range pr.Findings {
			if slices.Contains(p.Addresses, r.Address) {
				tx := ""
				if len(p.Txs) > 0 {
					tx = " (" + p.Txs[0] + ")"
				}
				byType[p.Type] = append(byType[p.Type], p.Explanation+tx)
			}
		}
		typologyFactors(byType, w, add)
	}
	r.Score = math.Round(r.Score*1e4) / 1e4
	return r, nil
}

func assetName(a AssetRef) string {
	if a.Contract == "" {
		return a.Symbol
	}
	return a.Symbol + " (" + a.Contract + ")"
}
