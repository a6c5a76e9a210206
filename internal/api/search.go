package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// Bounds of a search.
const (
	maxSearchQuery   = 200
	maxSearchResults = 50
	// searchCaseScan bounds the cases a search looks through.
	searchCaseScan = 1000
)

// searchHit is one answer of the search box: what it found and how to name
// it. Ref opens it: an address, a txid, a block height, an entity id, a
// case id; for a tag, the address (or txid) the tag is on.
type searchHit struct {
	Kind    string `json:"kind"` // address, tx, block, entity, tag, case
	Ref     string `json:"ref"`
	Network string `json:"network,omitempty"`
	Label   string `json:"label"`
	// Detail is the tag's category and source or the case's title.
	Detail string `json:"detail,omitempty"`
	// Target is what a tag is on: "address" or "tx".
	Target string `json:"target,omitempty"`
	// Size is an entity's number of addresses.
	Size uint64 `json:"size,omitempty"`
}

type searchAnswer struct {
	Query   string      `json:"query"`
	Results []searchHit `json:"results"`
}

// search answers the workspace's search box: an exact address, txid,
// block height or hash, entity id (or entity:ADDRESS), then tag labels
// and case references or titles that contain the text. Lookups that find
// nothing are not errors; a failing store is.
func (s *Server) search(c *call) error {
	q := strings.TrimSpace(c.v.str("q", ""))
	if q == "" {
		return badRequest("q is empty")
	}
	if len(q) > maxSearchQuery {
		return badRequest("q is longer than %d bytes", maxSearchQuery)
	}
	limit := int(c.v.int("limit", 8))
	sel := selector(c.v.str("network", ""))
	var hits []searchHit
	add := func(h searchHit) {
		if len(hits) < limit {
			hits = append(hits, h)
		}
	}
	// found keeps a lookup's answer, drops "not found" and "not an address
	// or id" and passes on a failure of the index.
	found := func(err error) (bool, error) {
		if err == nil {
			return true, nil
		}
		if errors.Is(err, chain.ErrNotFound) || errors.Is(err, chain.ErrInvalid) ||
			errors.Is(err, workspace.ErrNoData) || errors.Is(err, workspace.ErrAmbiguous) || errors.Is(err, entity.ErrNoClusters) {
			return false, nil
		}
		return false, err
	}
	if rest, ok := strings.CutPrefix(q, "entity:"); ok && rest != "" {
		h, ok, err := s.searchEntity(rest, sel, found)
		if err != nil {
			return err
		}
		if ok {
			add(h)
		}
	}
	if workspace.IsEVMInput(q) {
		// An EVM address or transaction: network is "evm-<chain id>".
		esel := workspace.Selector{ChainID: uint64(c.v.int("chain_id", 0))}
		if len(q) == 42 {
			if ix, _, a, err := s.ws.EVMAddress(q, esel); err != nil {
				if _, err := found(err); err != nil {
					return err
				}
			} else {
				add(searchHit{Kind: "address", Ref: a.String(), Network: fmt.Sprintf("evm-%d", ix.Meta().ChainID), Label: a.String()})
			}
		} else if ix, tx, err := s.ws.EVMTx(q, esel); err != nil {
			if _, err := found(err); err != nil {
				return err
			}
		} else {
			add(searchHit{Kind: "tx", Ref: tx.Hash.String(), Network: fmt.Sprintf("evm-%d", ix.Meta().ChainID), Label: tx.Hash.String()})
		}
	}
	if isHash(q) {
		if ix, h, err := s.ws.Tx(q, sel); err != nil {
			if _, err := found(err); err != nil {
				return err
			}
		} else {
			add(searchHit{Kind: "tx", Ref: h.String(), Network: string(ix.Ledger().Network), Label: h.String()})
		}
	}
	if isHash(q) || isHeight(q) {
		if ix, height, err := s.ws.Block(q, sel); err != nil {
			if _, err := found(err); err != nil {
				return err
			}
		} else {
			add(searchHit{Kind: "block", Ref: strconv.FormatInt(height, 10), Network: string(ix.Ledger().Network),
				Label: strconv.FormatInt(height, 10)})
		}
	}
	if isHeight(q) {
		h, ok, err := s.searchEntity(q, sel, found)
		if err != nil {
			return err
		}
		if ok {
			add(h)
		}
	}
	if !isHash(q) && !isHeight(q) && !workspace.IsEVMInput(q) && !strings.ContainsAny(q, " \t") {
		if ix, a, err := s.ws.Address(q, sel); err != nil {
			if _, err := found(err); err != nil {
				return err
			}
		} else {
			add(searchHit{Kind: "address", Ref: ix.Params().EncodeAddr(a), Network: string(ix.Ledger().Network),
				Label: ix.Params().EncodeAddr(a)})
		}
	}
	if err := s.searchCases(c.ctx, c.p, q, add); err != nil {
		return err
	}
	if err := s.searchTags(c.ctx, q, limit, add); err != nil {
		return err
	}
	if hits == nil {
		hits = []searchHit{}
	}
	return c.ok(searchAnswer{Query: q, Results: hits})
}

// searchEntity finds the entity of an id or an address without reading
// its members.
func (s *Server) searchEntity(q string, sel workspace.Selector, found func(error) (bool, error)) (searchHit, bool, error) {
	var (
		ix  *index.Index
		id  uint64
		err error
	)
	if isHeight(q) {
		ix, err = s.ws.Only(sel)
		if ok, err := found(err); !ok {
			return searchHit{}, false, err
		}
		id, _ = strconv.ParseUint(q, 10, 64)
	} else {
		var a btc.Addr
		ix, a, err = s.ws.Address(q, sel)
		if ok, err := found(err); !ok {
			return searchHit{}, false, err
		}
		aid, err := ix.AddrIDOf(a)
		if ok, err := found(err); !ok {
			return searchHit{}, false, err
		}
		id = uint64(aid)
	}
	svc, err := s.ws.Attribution(ix)
	if err != nil {
		return searchHit{}, false, err
	}
	root, size, name, err := svc.EntityHeader(id)
	if ok, err := found(err); !ok {
		return searchHit{}, false, err
	}
	return searchHit{Kind: "entity", Ref: strconv.FormatUint(uint64(root), 10), Network: string(ix.Ledger().Network),
		Label: "entity:" + name, Size: size}, true, nil
}

// searchTags adds the tags whose label contains q.
func (s *Server) searchTags(ctx context.Context, q string, limit int, add func(searchHit)) error {
	st, err := s.ws.Tags()
	if err != nil {
		return err
	}
	if st == nil { // no tags imported yet
		return nil
	}
	ts, err := st.SearchLabels(ctx, q, limit)
	if err != nil {
		return err
	}
	for _, t := range ts {
		ref, target := t.Address, "address"
		if ref == "" {
			ref, target = t.TxHash, "tx"
		}
		detail := strings.Join(nonEmpty(t.Category, t.Abuse, t.Source), " · ")
		add(searchHit{Kind: "tag", Ref: ref, Target: target, Label: t.Label, Detail: detail})
	}
	return nil
}

// searchCases adds the principal's agency's cases whose reference or
// title contains q (without case), exact references first.
func (s *Server) searchCases(ctx context.Context, p casestore.Principal, q string, add func(searchHit)) error {
	cs, err := s.store.ListCases(ctx, p, casestore.CaseFilter{Limit: searchCaseScan, NewestFirst: true})
	if err != nil {
		return err
	}
	fold := strings.ToLower(q)
	for _, exact := range []bool{true, false} {
		for _, cs := range cs {
			ref := strings.ToLower(cs.Reference)
			match := ref == fold
			if !exact {
				match = ref != fold && (strings.Contains(ref, fold) || strings.Contains(strings.ToLower(cs.Title), fold))
			}
			if match {
				add(searchHit{Kind: "case", Ref: strconv.FormatInt(cs.ID, 10), Label: cs.Reference, Detail: cs.Title})
			}
		}
	}
	return nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isHash reports 64 hex digits: a txid or a block hash.
func isHash(q string) bool {
	if len(q) != 64 {
		return false
	}
	_, err := hex.DecodeString(q)
	return err == nil
}

// isHeight reports a decimal number that fits a height or an entity id.
func isHeight(q string) bool {
	if q == "" || len(q) > 18 {
		return false
	}
	for _, r := range q {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// entityPage is GET /entity/{id}: the entity's JSON of GET /cluster.
func (s *Server) entityPage(c *call) error {
	ix, err := s.ws.Only(selector(c.v.str("network", "")))
	if err != nil {
		return err
	}
	svc, err := s.ws.Attribution(ix)
	if err != nil {
		return err
	}
	e, err := svc.EntityPage(c.ctx, uint64(c.v.int("id", 0)), uint64(c.v.int("offset", 0)), uint64(c.v.int("limit", 100)))
	if err != nil {
		return err
	}
	return c.ok(e)
}
