package workspace

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

// Selector restricts resolution to a chain and network ("" = any).
type Selector struct {
	Chain   chain.Chain
	Network chain.Network
	// ChainID chooses an EVM chain (0: any).
	ChainID uint64
}

func (s Selector) check() error {
	switch s.Chain {
	case "", chain.Bitcoin:
	case chain.Ethereum:
		return fmt.Errorf("workspace: %w: --chain eth takes EVM input (0x addresses and hashes); this input is Bitcoin's", chain.ErrInvalid)
	default:
		return fmt.Errorf("workspace: %w: chain %q is not supported (btc, eth)", chain.ErrInvalid, s.Chain)
	}
	if s.Network != "" {
		if _, err := btc.ParamsFor(s.Network); err != nil {
			return err
		}
	}
	return nil
}

// ParseHash parses a 64-hex-digit txid or block hash.
func ParseHash(s string) (chainhash.Hash, error) {
	if len(s) != 64 {
		return chainhash.Hash{}, fmt.Errorf("workspace: %w: %q is not a hash (64 hex digits)", chain.ErrInvalid, s)
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return chainhash.Hash{}, fmt.Errorf("workspace: %w: %q is not a hash (64 hex digits)", chain.ErrInvalid, s)
	}
	return *h, nil
}

// Address resolves a textual address to the index that holds it.
func (w *Workspace) Address(s string, sel Selector) (*index.Index, btc.Addr, error) {
	if err := sel.check(); err != nil {
		return nil, btc.Addr{}, err
	}
	s = strings.TrimSpace(s)
	valid := map[chain.Network]btc.Addr{}
	for _, p := range btc.NetworksOf(s) {
		a, _ := p.DecodeAddr(s)
		valid[p.Network] = a
	}
	if len(valid) == 0 {
		if sel.Network != "" {
			p, _ := btc.ParamsFor(sel.Network)
			_, err := p.DecodeAddr(s)
			return nil, btc.Addr{}, err
		}
		return nil, btc.Addr{}, fmt.Errorf("workspace: %w: %q is not a Bitcoin address", chain.ErrInvalid, s)
	}
	if sel.Network != "" {
		if _, ok := valid[sel.Network]; !ok {
			return nil, btc.Addr{}, fmt.Errorf("workspace: %w: %q is not a %s address", chain.ErrInvalid, s, sel.Network)
		}
	}
	cands, err := w.candidates(sel.Network, func(l chain.Ledger) bool { _, ok := valid[l.Network]; return ok })
	if err != nil {
		return nil, btc.Addr{}, err
	}
	ix, a, err := lookup(cands, "address "+s, func(ix *index.Index) (btc.Addr, error) {
		a := valid[ix.Params().Network]
		_, err := ix.AddrIDOf(a)
		return a, err
	})
	return ix, a, err
}

// AddressAnywhere resolves a textual address like Address, and when no
// index holds it, to the one index of a network it is valid on (its tags
// can be known before it appears on chain). Several such indexes are
// ErrAmbiguous.
func (w *Workspace) AddressAnywhere(s string, sel Selector) (*index.Index, btc.Addr, error) {
	ix, a, err := w.Address(s, sel)
	if !errors.Is(err, chain.ErrNotFound) {
		return ix, a, err
	}
	s = strings.TrimSpace(s)
	var found []*index.Index
	var addr btc.Addr
	for _, p := range btc.NetworksOf(s) {
		if sel.Network != "" && p.Network != sel.Network {
			continue
		}
		cands, cerr := w.candidates(p.Network, nil)
		if cerr != nil {
			return nil, btc.Addr{}, cerr
		}
		for _, c := range cands {
			found = append(found, c)
			addr, _ = p.DecodeAddr(s)
		}
	}
	switch len(found) {
	case 0:
		return nil, btc.Addr{}, err
	case 1:
		return found[0], addr, nil
	}
	return nil, btc.Addr{}, fmt.Errorf("workspace: %w: %s is valid on several indexed networks; choose one with --network", ErrAmbiguous, s)
}

// Only returns the one index the selector leaves (ErrAmbiguous if several).
func (w *Workspace) Only(sel Selector) (*index.Index, error) {
	if err := sel.check(); err != nil {
		return nil, err
	}
	cands, err := w.candidates(sel.Network, nil)
	if err != nil {
		return nil, err
	}
	switch len(cands) {
	case 0:
		return nil, fmt.Errorf("workspace: %w: no %s index in %s", ErrNoData, sel.Network, w.dir)
	case 1:
		return cands[0], nil
	}
	return nil, fmt.Errorf("workspace: %w: %d indexes; choose one with --network", ErrAmbiguous, len(cands))
}

// Tx resolves a txid to the index that holds it.
func (w *Workspace) Tx(s string, sel Selector) (*index.Index, chainhash.Hash, error) {
	if err := sel.check(); err != nil {
		return nil, chainhash.Hash{}, err
	}
	h, err := ParseHash(strings.TrimSpace(s))
	if err != nil {
		return nil, h, err
	}
	cands, err := w.candidates(sel.Network, nil)
	if err != nil {
		return nil, h, err
	}
	ix, _, err := lookup(cands, "transaction "+h.String(), func(ix *index.Index) (*index.TxRecord, error) {
		return ix.Record(h)
	})
	return ix, h, err
}

// Block resolves a block height or hash to an index and a height.
func (w *Workspace) Block(s string, sel Selector) (*index.Index, int64, error) {
	if err := sel.check(); err != nil {
		return nil, 0, err
	}
	s = strings.TrimSpace(s)
	cands, err := w.candidates(sel.Network, nil)
	if err != nil {
		return nil, 0, err
	}
	if len(s) < 64 {
		height, err := strconv.ParseInt(s, 10, 64)
		if err != nil || height < 0 {
			return nil, 0, fmt.Errorf("workspace: %w: %q is neither a block height nor a block hash", chain.ErrInvalid, s)
		}
		return lookup(cands, fmt.Sprintf("block %d", height), func(ix *index.Index) (int64, error) {
			if height > ix.Tip().Height {
				return 0, chain.ErrNotFound
			}
			return height, nil
		})
	}
	h, err := ParseHash(s)
	if err != nil {
		return nil, 0, fmt.Errorf("workspace: %w: %q is neither a block height nor a block hash", chain.ErrInvalid, s)
	}
	return lookup(cands, "block "+h.String(), func(ix *index.Index) (int64, error) { return ix.HeightOf(h) })
}

// EntityPrefix marks an entity where an address is expected: "entity:"
// followed by one of its addresses or by its id (entity_id in reports).
const EntityPrefix = "entity:"

// Endpoint resolves the start of a trace or an end of a path: an address,
// or an entity written EntityPrefix + address or id. It returns the
// attribution service of the index that holds it.
func (w *Workspace) Endpoint(s string, sel Selector) (*entity.Service, *entity.Endpoint, error) {
	s = strings.TrimSpace(s)
	rest, isEntity := strings.CutPrefix(s, EntityPrefix)
	if isEntity && rest != "" && strings.Trim(rest, "0123456789") == "" {
		id, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("workspace: %w: entity id %q", chain.ErrInvalid, rest)
		}
		ix, err := w.Only(sel)
		if err != nil {
			return nil, nil, err
		}
		svc, err := w.Attribution(ix)
		if err != nil {
			return nil, nil, err
		}
		e, err := svc.EntityByID(id)
		return svc, e, err
	}
	ix, a, err := w.Address(rest, sel)
	if err != nil {
		return nil, nil, err
	}
	svc, err := w.Attribution(ix)
	if err != nil {
		return nil, nil, err
	}
	var e *entity.Endpoint
	if isEntity {
		e, err = svc.EntityOf(a)
	} else {
		e, err = svc.AddressEndpoint(a)
	}
	return svc, e, err
}

// SplitOutpoint recognises TXID or TXID:VOUT (vout -1: every output).
func SplitOutpoint(s string) (txid string, vout int, ok bool) {
	txid, v, hasVout := strings.Cut(s, ":")
	if _, err := ParseHash(txid); err != nil {
		return "", 0, false
	}
	if !hasVout {
		return txid, -1, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return "", 0, false
	}
	return txid, n, true
}

// Trace runs a trace from what a user typed: TXID (every output), TXID:VOUT,
// an address, or an entity (entity:ADDRESS, entity:ID). It returns the
// report and the index it ran on.
func (w *Workspace) Trace(ctx context.Context, from string, sel Selector, req entity.TraceRequest) (*entity.TraceReport, *index.Index, error) {
	from = strings.TrimSpace(from)
	if txid, vout, isTx := SplitOutpoint(from); isTx {
		ix, h, err := w.Tx(txid, sel)
		if err != nil {
			return nil, nil, err
		}
		rec, err := ix.Record(h)
		if err != nil {
			return nil, nil, err
		}
		var outs []trace.Outpoint
		for v := range rec.Out {
			if vout < 0 || v == vout {
				outs = append(outs, trace.Outpoint{Tx: rec.Key, Vout: uint32(v)})
			}
		}
		if len(outs) == 0 {
			return nil, nil, fmt.Errorf("workspace: transaction %s has no output %d: %w", txid, vout, chain.ErrNotFound)
		}
		svc, err := w.Attribution(ix)
		if err != nil {
			return nil, nil, err
		}
		rep, err := svc.TraceOutputs(ctx, from, outs, req)
		return rep, ix, err
	}
	svc, e, err := w.Endpoint(from, sel)
	if err != nil {
		return nil, nil, err
	}
	rep, err := svc.TraceEndpoint(ctx, e, req)
	return rep, svc.Index, err
}

// Paths finds the k shortest money paths between two addresses or
// entities that a user typed.
func (w *Workspace) Paths(from, to string, sel Selector, p trace.PathParams) (*entity.PathReport, *index.Index, error) {
	svc, x, err := w.Endpoint(from, sel)
	if err != nil {
		return nil, nil, err
	}
	sy, y, err := w.Endpoint(to, sel)
	if err != nil {
		return nil, nil, err
	}
	if sy.Index != svc.Index {
		return nil, nil, fmt.Errorf("workspace: %w: %s and %s are on different networks", chain.ErrInvalid, from, to)
	}
	if x.Root == y.Root {
		return nil, nil, fmt.Errorf("workspace: %w: %s and %s are the same address or entity", chain.ErrInvalid, from, to)
	}
	rep, err := svc.PathsBetween(x, y, p)
	return rep, svc.Index, err
}
