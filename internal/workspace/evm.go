package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// IsEVMInput reports whether s looks like an EVM address (0x and 40 hex
// digits) or hash (0x and 64): input the EVM indexes answer.
func IsEVMInput(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 42 && len(s) != 66 || !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return false
	}
	return strings.Trim(strings.ToLower(s[2:]), "0123456789abcdef") == ""
}

// EVMChains lists the chain ids that have an index, sorted.
func (w *Workspace) EVMChains() ([]uint64, error) {
	entries, err := os.ReadDir(filepath.Join(w.dir, "index"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	var out []uint64
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), "evm-")
		if !e.IsDir() || !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil || id == 0 || strconv.FormatUint(id, 10) != name {
			continue
		}
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// EVMIndex opens the index of chain chainID. With create, a missing index
// is created with name and symbol (see evmindex.Options); without, it is
// ErrNoData.
func (w *Workspace) EVMIndex(chainID uint64, create bool, name, symbol string) (*evmindex.Index, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ix, ok := w.evm[chainID]; ok {
		return ix, nil
	}
	if chainID == 0 {
		return nil, fmt.Errorf("workspace: %w: chain id 0", chain.ErrInvalid)
	}
	dir := evmindex.Dir(filepath.Join(w.dir, "index"), chainID)
	if !create {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("workspace: %w: no index of EVM chain %d in %s", ErrNoData, chainID, w.dir)
		}
	}
	if create && w.opt.ReadOnly {
		return nil, fmt.Errorf("workspace: %s is opened read-only", w.dir)
	}
	ix, err := evmindex.Open(dir, evmindex.Options{ChainID: chainID, Name: name, Symbol: symbol, ReadOnly: w.opt.ReadOnly,
		CacheBytes: w.opt.CacheBytes, Logger: w.opt.Logger})
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || strings.Contains(err.Error(), "could not lock") {
			return nil, fmt.Errorf("workspace: the index of EVM chain %d in %s is %w (%v)", chainID, w.dir, ErrInUse, err)
		}
		return nil, err
	}
	w.evm[chainID] = ix
	return ix, nil
}

// evmCandidates opens the EVM indexes the selector leaves.
func (w *Workspace) evmCandidates(sel Selector) ([]*evmindex.Index, error) {
	ids, err := w.EVMChains()
	if err != nil {
		return nil, err
	}
	if sel.ChainID != 0 {
		if !containsID(ids, sel.ChainID) {
			return nil, fmt.Errorf("workspace: %w: no index of EVM chain %d in %s (run vestigo import eth first)", ErrNoData, sel.ChainID, w.dir)
		}
		ids = []uint64{sel.ChainID}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("workspace: %w: no EVM chain in %s (run vestigo import eth --rpc URL first)", ErrNoData, w.dir)
	}
	out := make([]*evmindex.Index, 0, len(ids))
	for _, id := range ids {
		ix, err := w.EVMIndex(id, false, "", "")
		if err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, nil
}

func containsID(ids []uint64, id uint64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// evmLookup runs find on each candidate and returns the one answer, or
// chain.ErrNotFound / ErrAmbiguous naming the chains.
func evmLookup[T any](cands []*evmindex.Index, what string, find func(*evmindex.Index) (T, error)) (*evmindex.Index, T, error) {
	var zero, val T
	var found []*evmindex.Index
	for _, ix := range cands {
		v, err := find(ix)
		if errors.Is(err, chain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, zero, err
		}
		if len(found) == 0 {
			val = v
		}
		found = append(found, ix)
	}
	names := func(ixs []*evmindex.Index) string {
		var s []string
		for _, ix := range ixs {
			s = append(s, fmt.Sprintf("%s (chain id %d)", ix.Meta().Name, ix.Meta().ChainID))
		}
		return strings.Join(s, " and ")
	}
	switch len(found) {
	case 0:
		return nil, zero, fmt.Errorf("workspace: %s is not in the index of %s: %w", what, names(cands), chain.ErrNotFound)
	case 1:
		return found[0], val, nil
	}
	return nil, zero, fmt.Errorf("workspace: %w: %s is in %s; choose one with --chain-id", ErrAmbiguous, what, names(found))
}

// EVMAddress resolves an EVM address (EIP-55 checked when in mixed case) to
// the one EVM index that holds it.
func (w *Workspace) EVMAddress(s string, sel Selector) (*evmindex.Index, evmindex.AddrID, eth.Address, error) {
	a, err := eth.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return nil, 0, eth.Address{}, err
	}
	cands, err := w.evmCandidates(sel)
	if err != nil {
		return nil, 0, a, err
	}
	ix, id, err := evmLookup(cands, "address "+a.String(), func(ix *evmindex.Index) (evmindex.AddrID, error) { return ix.AddrID(a) })
	return ix, id, a, err
}

// EVMTx resolves a transaction hash to the one EVM index that holds it.
func (w *Workspace) EVMTx(s string, sel Selector) (*evmindex.Index, *evmindex.Tx, error) {
	h, err := eth.ParseHash(strings.TrimSpace(s))
	if err != nil {
		return nil, nil, err
	}
	cands, err := w.evmCandidates(sel)
	if err != nil {
		return nil, nil, err
	}
	return evmLookup(cands, "transaction "+h.String(), func(ix *evmindex.Index) (*evmindex.Tx, error) { return ix.Tx(h) })
}

// EVMOnly returns the one EVM index the selector leaves (a usage error
// wrapping ErrAmbiguous when several do).
func (w *Workspace) EVMOnly(sel Selector) (*evmindex.Index, error) {
	cands, err := w.evmCandidates(sel)
	if err != nil {
		return nil, err
	}
	if len(cands) > 1 {
		var ids []string
		for _, ix := range cands {
			ids = append(ids, strconv.FormatUint(ix.Meta().ChainID, 10))
		}
		return nil, fmt.Errorf("workspace: %w: the data directory holds EVM chains %s; choose one with --chain-id", ErrAmbiguous, strings.Join(ids, ", "))
	}
	return cands[0], nil
}

// EVMIndexes opens every EVM index the selector leaves; none is no error.
func (w *Workspace) EVMIndexes(sel Selector) ([]*evmindex.Index, error) {
	ids, err := w.EVMChains()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if sel.ChainID != 0 && !containsID(ids, sel.ChainID) {
		return nil, nil
	}
	return w.evmCandidates(sel)
}

// EVMAttribution returns the answers of the EVM index ix with the tag store
// (nil if none).
func (w *Workspace) EVMAttribution(ix *evmindex.Index) (*entity.EVM, error) {
	t, err := w.Tags()
	if err != nil {
		return nil, err
	}
	return &entity.EVM{Index: ix, Tags: t, Log: w.opt.Logger}, nil
}

// Screen screens Bitcoin inputs against the one Bitcoin index the
// selector leaves and 0x inputs against the tags and the EVM indexes, keeping the
// order of the inputs. where names what was screened against.
func (w *Workspace) Screen(ctx context.Context, sel Selector, inputs []string) ([]entity.Screening, entity.Summary, string, error) {
	var btcIn, evmIn []string
	for _, in := range inputs {
		if IsEVMInput(in) {
			evmIn = append(evmIn, in)
		} else {
			btcIn = append(btcIn, in)
		}
	}
	var sum entity.Summary
	var where []string
	byInput := map[string][]entity.Screening{}
	keep := func(rs []entity.Screening, s entity.Summary) {
		for _, r := range rs {
			byInput[r.Input] = append(byInput[r.Input], r)
		}
		sum.Screened += s.Screened
		sum.Invalid += s.Invalid
		sum.OnChain += s.OnChain
		sum.Tagged += s.Tagged
		sum.Sanctioned += s.Sanctioned
	}
	if len(btcIn) > 0 {
		ix, err := w.Only(sel)
		if err != nil {
			return nil, sum, "", err
		}
		svc, err := w.Attribution(ix)
		if err != nil {
			return nil, sum, "", err
		}
		res, s, err := svc.Screen(ctx, btcIn)
		if err != nil {
			return nil, sum, "", err
		}
		keep(res, s)
		where = append(where, ix.Ledger().String())
	}
	if len(evmIn) > 0 {
		ixs, err := w.EVMIndexes(sel)
		if err != nil {
			return nil, sum, "", err
		}
		ts, err := w.Tags()
		if err != nil {
			return nil, sum, "", err
		}
		res, s, err := entity.ScreenEVM(ctx, ts, ixs, evmIn)
		if err != nil {
			return nil, sum, "", err
		}
		keep(res, s)
		names := []string{}
		for _, ix := range ixs {
			names = append(names, fmt.Sprintf("evm-%d", ix.Meta().ChainID))
		}
		if len(names) == 0 {
			names = append(names, "the EVM tags")
		}
		where = append(where, strings.Join(names, ", "))
	}
	out := make([]entity.Screening, 0, len(inputs))
	for _, in := range inputs {
		rs := byInput[in]
		out = append(out, rs[0])
		byInput[in] = rs[1:]
	}
	return out, sum, strings.Join(where, " and "), nil
}

// EVMStatus is what one EVM index holds.
type EVMStatus struct {
	ChainID uint64 `json:"chain_id"`
	Name    string `json:"name"`
	Symbol  string `json:"symbol"`
	// TipHeight is nil for an index without blocks yet.
	TipHeight *uint64    `json:"tip_height"`
	TipHash   string     `json:"tip_hash,omitempty"`
	TipTime   *time.Time `json:"tip_time,omitempty"`
	Txs       uint64     `json:"txs"`
	Moves     uint64     `json:"moves"`
	Addresses uint64     `json:"addresses"`
	Tokens    uint64     `json:"tokens"`
	// UntracedBlocks were imported without internal transfers.
	UntracedBlocks uint64 `json:"untraced_blocks"`
	Dir            string `json:"dir"`
}

// EVMStatuses describes every EVM index the selector leaves.
func (w *Workspace) EVMStatuses(sel Selector) ([]EVMStatus, error) {
	ixs, err := w.EVMIndexes(sel)
	if err != nil {
		return nil, err
	}
	out := []EVMStatus{}
	for _, ix := range ixs {
		m := ix.Meta()
		st := EVMStatus{ChainID: m.ChainID, Name: m.Name, Symbol: m.Symbol, Dir: ix.Dir()}
		t, has, err := ix.Tip()
		if err != nil {
			return nil, err
		}
		if has {
			h := t.Height
			st.TipHeight, st.TipHash = &h, t.Hash.String()
			b, err := ix.Block(h)
			if err != nil {
				return nil, err
			}
			tt := time.Unix(int64(b.Time), 0).UTC()
			st.TipTime = &tt
			st.Txs, st.Moves, st.Addresses, st.Tokens, st.UntracedBlocks = t.Txs, t.Moves, t.Addresses, t.Assets, t.Untraced
		}
		out = append(out, st)
	}
	return out, nil
}

// ScreenSource is the index whose provenance a screening of inputs
// carries: the Bitcoin index when any input is a Bitcoin address, else the
// one EVM index left by the selector, else nil (tags alone).
func (w *Workspace) ScreenSource(sel Selector, inputs []string) Source {
	for _, in := range inputs {
		if !IsEVMInput(in) {
			if ix, err := w.Only(sel); err == nil {
				return ix
			}
			break
		}
	}
	if ix, err := w.EVMOnly(sel); err == nil {
		return ix
	}
	return nil
}
