package entity

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// MixerCategory is the GraphSense concept of mixing services.
const MixerCategory = "mixing_service"

// maxMixerTxs bounds the transactions of one address that MixerUse reads.
const maxMixerTxs = 100_000

// mixers returns the tagged clusters of the mixing category.
func (s *Service) mixers(ctx context.Context) (map[index.AddrID]*labelled, error) {
	labels, err := s.clusterLabels(ctx)
	if err != nil {
		return nil, err
	}
	out := map[index.AddrID]*labelled{}
	for root, l := range labels {
		if slices.Contains(l.categories, MixerCategory) {
			out[root] = l
		}
	}
	return out, nil
}

// mixerRule finds, in one transaction, transfers between the addresses
// that interest(addr) accepts and tagged mixing services.
type mixerRule struct {
	s      *Service
	mixers map[index.AddrID]*labelled
	roots  map[index.AddrID]index.AddrID
}

func (m *mixerRule) mixer(a index.AddrID) (*labelled, index.AddrID, error) {
	if a == 0 {
		return nil, 0, nil
	}
	r, ok := m.roots[a]
	if !ok {
		var err error
		if r, _, err = m.s.clusterOf(a); err != nil {
			return nil, 0, err
		}
		if len(m.roots) < 1_000_000 {
			m.roots[a] = r
		}
	}
	return m.mixers[r], r, nil
}

// findings reports the transfers of rec from interesting addresses into a
// mixer ("to mixer") and from a mixer to interesting addresses ("from
// mixer"); a mixer's own internal moves are not reported.
func (m *mixerRule) findings(rec *index.TxRecord, interest func(index.AddrID) bool) ([]detect.Finding, error) {
	var inMixer *labelled
	var inMixerAddr index.AddrID
	var senders []index.AddrID
	for _, in := range rec.In {
		l, _, err := m.mixer(in.Addr)
		if err != nil {
			return nil, err
		}
		if l != nil {
			inMixer, inMixerAddr = l, in.Addr
		} else if interest(in.Addr) && !slices.Contains(senders, in.Addr) {
			senders = append(senders, in.Addr)
		}
	}
	var out []detect.Finding
	for _, o := range rec.Out {
		l, _, err := m.mixer(o.Addr)
		if err != nil {
			return nil, err
		}
		switch {
		case l != nil && inMixer == nil && len(senders) > 0:
			out = append(out, mixerFinding(rec.Key, append(slices.Clone(senders), o.Addr), l, "to mixer", o.Value))
		case l == nil && inMixer != nil && o.Addr != 0 && interest(o.Addr):
			out = append(out, mixerFinding(rec.Key, []index.AddrID{inMixerAddr, o.Addr}, inMixer, "from mixer", o.Value))
		}
	}
	return out, nil
}

func mixerFinding(tx index.TxKey, addrs []index.AddrID, l *labelled, direction string, value uint64) detect.Finding {
	label := strings.Join(l.labels, "; ")
	return detect.Finding{Type: detect.MixerUse, Txs: []index.TxKey{tx}, Addresses: addrs, Confidence: 0.9,
		Params:      map[string]any{"mixer": label, "direction": direction, "amount_sats": value, "category": MixerCategory},
		Explanation: fmt.Sprintf("%d sats went %s: the other side's entity is tagged %s (%s)", value, direction, MixerCategory, label)}
}

// MixerUse finds the transfers between address id and entities tagged as
// mixing services, in every transaction it received or spent in.
func (s *Service) MixerUse(ctx context.Context, id index.AddrID) ([]detect.Finding, error) {
	mixers, err := s.mixers(ctx)
	if err != nil || len(mixers) == 0 {
		return nil, err
	}
	own, _, err := s.clusterOf(id)
	if err != nil {
		return nil, err
	}
	if mixers[own] != nil {
		return nil, nil // the address is itself a mixer's
	}
	seen := map[index.TxKey]bool{}
	var keys []index.TxKey
	err = s.Index.Outputs(id, func(e index.OutEntry) bool {
		for _, k := range []index.TxKey{e.Key, e.Spender} {
			if (k != e.Spender || e.Spent) && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		return len(keys) < maxMixerTxs
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	m := &mixerRule{s: s, mixers: mixers, roots: map[index.AddrID]index.AddrID{}}
	var out []detect.Finding
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := s.Index.RecordByKey(k)
		if err != nil {
			return nil, err
		}
		fs, err := m.findings(rec, func(a index.AddrID) bool { return a == id })
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// MixerUseRange finds every transfer into or out of an entity tagged as a
// mixing service in the blocks from height from to to.
func (s *Service) MixerUseRange(ctx context.Context, from, to int64) ([]detect.Finding, error) {
	mixers, err := s.mixers(ctx)
	if err != nil || len(mixers) == 0 {
		return nil, err
	}
	m := &mixerRule{s: s, mixers: mixers, roots: map[index.AddrID]index.AddrID{}}
	var out []detect.Finding
	any := func(index.AddrID) bool { return true }
	err = s.Index.Scan(from, to, func(rec *index.TxRecord) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		fs, err := m.findings(rec, any)
		out = append(out, fs...)
		return err
	})
	return out, err
}
