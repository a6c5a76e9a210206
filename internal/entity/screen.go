package entity

import (
	"context"
	"errors"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

// Screening is the answer for one screened address.
type Screening struct {
	Input   string `json:"input"`
	Address string `json:"address,omitempty"` // normalised
	Valid   bool   `json:"valid"`
	Error   string `json:"error,omitempty"`
	// OnChain is false for a valid address the index has never seen: only
	// its direct tags can be known.
	OnChain     bool   `json:"on_chain"`
	ClusterID   uint64 `json:"cluster_id,omitempty"`
	ClusterSize uint64 `json:"cluster_size,omitempty"`
	DirectTags  []Tag  `json:"direct_tags"`
	ClusterTags []Tag  `json:"cluster_tags"`
	Sanctioned  bool   `json:"sanctioned"`
	// SanctionedVia is "direct", "cluster" or empty.
	SanctionedVia string          `json:"sanctioned_via,omitempty"`
	Categories    []string        `json:"categories"`
	Conflicts     []tags.Conflict `json:"conflicts"`
	// EVMChains lists, for a 0x address, the chain ids of the EVM indexes
	// that hold it (see ScreenEVM).
	EVMChains []uint64 `json:"evm_chains,omitempty"`
}

// Summary counts a screening's results.
type Summary struct {
	Screened   int `json:"screened"`
	Invalid    int `json:"invalid"`
	OnChain    int `json:"on_chain"`
	Tagged     int `json:"tagged"`
	Sanctioned int `json:"sanctioned"`
}

// Screen answers, for each input, its direct tags, its cluster's tags and
// whether it is sanctioned. Invalid inputs are reported, not fatal.
func (s *Service) Screen(ctx context.Context, inputs []string) ([]Screening, Summary, error) {
	out := make([]Screening, 0, len(inputs))
	var sum Summary
	clusterCache := map[index.AddrID]map[string][]tags.Tag{}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, sum, err
		}
		sum.Screened++
		r := Screening{Input: in, DirectTags: []Tag{}, ClusterTags: []Tag{}, Categories: []string{}, Conflicts: []tags.Conflict{}}
		a, err := s.Index.Params().DecodeAddr(in)
		if err != nil {
			r.Error = err.Error()
			sum.Invalid++
			out = append(out, r)
			continue
		}
		r.Valid = true
		r.Address = s.Index.Params().EncodeAddr(a)
		var m map[string][]tags.Tag
		id, err := s.Index.AddrIDOf(a)
		switch {
		case errors.Is(err, chain.ErrNotFound):
			if s.Tags != nil {
				if m, err = s.Tags.ByAddress(ctx, []string{r.Address}); err != nil {
					return nil, sum, err
				}
			}
		case err != nil:
			return nil, sum, err
		default:
			r.OnChain = true
			sum.OnChain++
			root, size, err := s.clusterOf(id)
			if err != nil {
				return nil, sum, err
			}
			r.ClusterID, r.ClusterSize = uint64(root), size
			var ok bool
			if m, ok = clusterCache[root]; !ok {
				if m, err = s.clusterTags(ctx, root, size); err != nil {
					return nil, sum, err
				}
				clusterCache[root] = m
			}
		}
		for _, t := range ordered(m, r.Address) {
			if t.Origin == "direct" {
				r.DirectTags = append(r.DirectTags, t)
			} else {
				r.ClusterTags = append(r.ClusterTags, t)
			}
			if t.Sanctioned && !r.Sanctioned {
				r.Sanctioned, r.SanctionedVia = true, t.Origin
			}
		}
		r.Categories, _, r.Conflicts = summarize(m)
		if len(r.DirectTags)+len(r.ClusterTags) > 0 {
			sum.Tagged++
		}
		if r.Sanctioned {
			sum.Sanctioned++
		}
		out = append(out, r)
	}
	return out, sum, nil
}
