package entity

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

//go:embed risk-weights.json
var defaultWeights []byte

// DefaultWeights returns the default risk weights file.
func DefaultWeights() []byte { return bytes.Clone(defaultWeights) }

// Weights configure the risk score (see risk-weights.json).
type Weights struct {
	About      string             `json:"about,omitempty"`
	Hops       int                `json:"hops"`
	Sanctioned float64            `json:"sanctioned"`
	Categories map[string]float64 `json:"categories"`
	Typologies map[string]float64 `json:"typologies"`
}

// ParseWeights reads a weights file, refusing unknown fields, categories
// and typologies, and negative weights.
func ParseWeights(b []byte) (*Weights, error) {
	var w Weights
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return nil, fmt.Errorf("entity: %w: risk weights: %v", chain.ErrInvalid, err)
	}
	if w.Hops < 1 || w.Hops > 64 || w.Sanctioned < 0 {
		return nil, fmt.Errorf("entity: %w: risk weights: hops 1–64 and weights ≥ 0", chain.ErrInvalid)
	}
	for c, v := range w.Categories {
		if !tags.IsConcept(c) || v < 0 {
			return nil, fmt.Errorf("entity: %w: risk weights: %q is not a GraphSense concept or has a negative weight", chain.ErrInvalid, c)
		}
	}
	known := []string{detect.PeelChain, detect.Consolidation, detect.FanOut, detect.FanIn, detect.Dusting, detect.RoundPayment, detect.CoinJoin,
		detect.MixerUse, detect.BridgeDeposit, detect.DEXSwap}
	for t, v := range w.Typologies {
		ok := false
		for _, k := range known {
			ok = ok || k == t
		}
		if !ok || v < 0 {
			return nil, fmt.Errorf("entity: %w: risk weights: %q is not a typology (%v) or has a negative weight", chain.ErrInvalid, t, known)
		}
	}
	return &w, nil
}

// Risk is an explainable risk score: the sum of its factors.
type Risk struct {
	Address  string       `json:"address"`
	EntityID uint64       `json:"entity_id"`
	Score    float64      `json:"score"`
	Factors  []RiskFactor `json:"factors"`
	Weights  *Weights     `json:"weights"`
	IndexTip TipRef       `json:"index_tip"`
}

// RiskFactor is one term of the score: Weight × Value, with its evidence.
type RiskFactor struct {
	Name         string   `json:"name"`
	Weight       float64  `json:"weight"`
	Value        float64  `json:"value"`
	Contribution float64  `json:"contribution"`
	Evidence     []string `json:"evidence"`
}

// Risk scores address a: sanctioned tags on it or its cluster, its
// exposure share to each weighted category, and the typologies found in
// its transactions. Every factor with a non-zero value is listed, with
// what it rests on; nothing else enters the score.
func (s *Service) Risk(ctx context.Context, a btc.Addr, w *Weights) (*Risk, error) {
	id, err := s.Index.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	root, size, err := s.clusterOf(id)
	if err != nil {
		return nil, err
	}
	tip := s.Index.Tip()
	r := &Risk{Address: s.Index.Params().EncodeAddr(a), EntityID: uint64(root), Factors: []RiskFactor{}, Weights: w,
		IndexTip: TipRef{Height: tip.Height, Hash: tip.Hash.String()}}
	add := func(f RiskFactor) {
		f.Contribution = math.Round(f.Weight*f.Value*1e4) / 1e4
		r.Factors = append(r.Factors, f)
		r.Score += f.Contribution
	}
	m, err := s.clusterTags(ctx, root, size)
	if err != nil {
		return nil, err
	}
	var sanctioned []string
	for _, t := range ordered(m, r.Address) {
		if t.Sanctioned {
			sanctioned = append(sanctioned, fmt.Sprintf("%s tag %q on %s (%s:%d)", t.Origin, t.Label, t.Address, t.Pack, t.Line))
		}
	}
	if len(sanctioned) > 0 {
		add(RiskFactor{Name: "sanctioned", Weight: w.Sanctioned, Value: 1, Evidence: sanctioned})
	}
	ex, err := s.Exposure(ctx, a, w.Hops)
	if err != nil {
		return nil, err
	}
	cats := make([]string, 0, len(w.Categories))
	for c := range w.Categories {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		in, out := ex.Incoming[c], ex.Outgoing[c]
		v := max(in.Share, out.Share)
		if v == 0 {
			continue
		}
		add(RiskFactor{Name: "exposure:" + c, Weight: w.Categories[c], Value: v, Evidence: []string{
			fmt.Sprintf("incoming %s sats direct, %s indirect (share %.4f)", in.Direct, in.Indirect, in.Share),
			fmt.Sprintf("outgoing %s sats direct, %s indirect (share %.4f)", out.Direct, out.Indirect, out.Share)}})
	}
	fs, err := detect.Address(s.Index, id, detect.Options{})
	if err != nil {
		return nil, err
	}
	ps, err := s.Patterns(fs)
	if err != nil {
		return nil, err
	}
	byType := map[string][]string{}
	for _, p := range ps {
		byType[p.Type] = append(byType[p.Type], p.Explanation+" ("+p.Txids[0]+")")
	}
	typologyFactors(byType, w, add)
	r.Score = math.Round(r.Score*1e4) / 1e4
	return r, nil
}

// typologyFactors adds a factor for each weighted typology found, with the
// findings' explanations as evidence, in the order of the names.
func typologyFactors(byType map[string][]string, w *Weights, add func(RiskFactor)) {
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		if wt, ok := w.Typologies[t]; ok {
			add(RiskFactor{Name: "typology:" + t, Weight: wt, Value: 1, Evidence: byType[t]})
		}
	}
}
