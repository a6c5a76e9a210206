package entity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

// EVM answers questions about one EVM chain's index with the tags: address
// pages with a ledger per asset, transactions with every move, screening.
// Amounts are exact decimal strings in base units (wei, or the token's
// smallest unit) beside the same amount in whole units of the asset's
// decimals.
type EVM struct {
	Index *evmindex.Index
	Tags  *tags.Store // nil: no tags
	Log   *slog.Logger
}

// AssetRef names an asset in answers.
type AssetRef struct {
	ID       evmindex.AssetID `json:"id"`
	Symbol   string           `json:"symbol"`
	Name     string           `json:"name,omitempty"`
	Decimals uint8            `json:"decimals"`
	// Contract is the token's contract (empty for the native coin).
	Contract   string   `json:"contract,omitempty"`
	MetadataOK bool     `json:"metadata_ok"`
	Problems   []string `json:"problems,omitempty"`
}

// Position places a ledger entry or a transaction in the chain.
type Position struct {
	Height uint64    `json:"height"`
	Time   time.Time `json:"time"`
	// Tx is the transaction's hash; empty for a block's opening and end
	// slots (Slot says which).
	Tx   string `json:"tx,omitempty"`
	Slot string `json:"slot"` // "tx", "opening" or "block-end"
}

// LedgerLine is one entry of an address's ledger.
type LedgerLine struct {
	Position
	Asset     AssetRef `json:"asset"`
	Kind      string   `json:"kind"`
	Direction string   `json:"direction"` // "in" or "out"
	// Counterparty is empty for nobody (fees, withdrawals, openings).
	Counterparty string `json:"counterparty,omitempty"`
	Amount       string `json:"amount"`
	AmountUnits  string `json:"amount_units"`
	BalanceAfter string `json:"balance_after"`
	BalanceUnits string `json:"balance_after_units"`
}

// HoldingLine is an address's ledger in one asset.
type HoldingLine struct {
	Asset         AssetRef  `json:"asset"`
	Balance       string    `json:"balance"`
	BalanceUnits  string    `json:"balance_units"`
	Received      string    `json:"received"`
	Sent          string    `json:"sent"`
	ReceivedUnits string    `json:"received_units"`
	SentUnits     string    `json:"sent_units"`
	Entries       uint64    `json:"entries"`
	First         *Position `json:"first"`
	Last          *Position `json:"last"`
}

// EVMAddressReport is the page of one address.
type EVMAddressReport struct {
	ChainID  uint64 `json:"chain_id"`
	Chain    string `json:"chain"`
	Address  string `json:"address"` // EIP-55
	Contract bool   `json:"contract"`
	// CreatedAt and Creator are set for a contract created in the index.
	CreatedAt  *Position       `json:"created_at,omitempty"`
	Creator    string          `json:"creator,omitempty"`
	FirstSeen  Position        `json:"first_seen"`
	Holdings   []HoldingLine   `json:"holdings"`
	Ledger     []LedgerLine    `json:"ledger"`
	Offset     int             `json:"offset"`
	Limit      int             `json:"limit"`
	TotalLines uint64          `json:"total_lines"`
	Tags       []Tag           `json:"tags"`
	Sanctioned bool            `json:"sanctioned"`
	Categories []string        `json:"categories"`
	Conflicts  []tags.Conflict `json:"conflicts"`
	// Incomplete says why balances may lack moves (blocks the node could not
	// trace); empty when the index is complete.
	Incomplete string `json:"incomplete,omitempty"`
}

// EVMAddressQuery pages an address's ledger.
type EVMAddressQuery struct {
	Offset, Limit int
	NewestFirst   bool
	// Asset restricts the ledger to one asset; nil: every asset.
	Asset *evmindex.AssetID
}

// assets caches asset lookups for one answer.
type assetCache struct {
	ix *evmindex.Index
	m  map[evmindex.AssetID]AssetRef
}

func (c *assetCache) get(id evmindex.AssetID) (AssetRef, error) {
	if r, ok := c.m[id]; ok {
		return r, nil
	}
	a, err := c.ix.Asset(id)
	if err != nil {
		return AssetRef{}, err
	}
	r := AssetRef{ID: id, Symbol: a.Symbol, Name: a.Name, Decimals: a.Decimals, MetadataOK: a.MetadataOK, Problems: a.Problems}
	if id != evmindex.Native {
		r.Contract = a.Contract.String()
	}
	if c.m == nil {
		c.m = map[evmindex.AssetID]AssetRef{}
	}
	c.m[id] = r
	return r, nil
}

// lookups caches block times and address strings for one answer.
type lookups struct {
	ix     *evmindex.Index
	times  map[uint64]time.Time
	addrs  map[evmindex.AddrID]string
	hashes map[evmindex.TxKey]string
}

func newLookups(ix *evmindex.Index) *lookups {
	return &lookups{ix: ix, times: map[uint64]time.Time{}, addrs: map[evmindex.AddrID]string{}, hashes: map[evmindex.TxKey]string{}}
}

func (l *lookups) addr(id evmindex.AddrID) (string, error) {
	if id == 0 {
		return "", nil
	}
	if s, ok := l.addrs[id]; ok {
		return s, nil
	}
	a, err := l.ix.Address(id)
	if err != nil {
		return "", err
	}
	l.addrs[id] = a.Address.String()
	return l.addrs[id], nil
}

func (l *lookups) position(k evmindex.TxKey) (Position, error) {
	p := Position{Height: k.Height(), Slot: "tx"}
	t, ok := l.times[p.Height]
	if !ok {
		b, err := l.ix.Block(p.Height)
		if err != nil {
			return p, err
		}
		t = time.Unix(int64(b.Time), 0).UTC()
		l.times[p.Height] = t
	}
	p.Time = t
	switch k.Slot() {
	case evmindex.SlotOpening:
		p.Slot = "opening"
		return p, nil
	case evmindex.SlotBlockEnd:
		p.Slot = "block-end"
		return p, nil
	}
	if h, ok := l.hashes[k]; ok {
		p.Tx = h
		return p, nil
	}
	tx, err := l.ix.TxByKey(k)
	if err != nil {
		return p, err
	}
	p.Tx = tx.Hash.String()
	l.hashes[k] = p.Tx
	return p, nil
}

func balanceUnits(b evmindex.Balance, decimals uint8) string {
	return chain.FormatBigUnits(b.Big(), decimals)
}

// MaxLedgerPage bounds one page of an address's ledger.
const MaxLedgerPage = 10_000

// Address answers the page of an address id.
func (e *EVM) Address(ctx context.Context, id evmindex.AddrID, q EVMAddressQuery) (*EVMAddressReport, error) {
	if q.Offset < 0 || q.Limit < 0 || q.Limit > MaxLedgerPage {
		return nil, fmt.Errorf("entity: %w: offset %d, limit %d (at most %d)", chain.ErrInvalid, q.Offset, q.Limit, MaxLedgerPage)
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	ix := e.Index
	a, err := ix.Address(id)
	if err != nil {
		return nil, err
	}
	meta := ix.Meta()
	lk := newLookups(ix)
	ac := &assetCache{ix: ix}
	r := &EVMAddressReport{ChainID: meta.ChainID, Chain: meta.Name, Address: a.Address.String(), Contract: a.Contract,
		Holdings: []HoldingLine{}, Ledger: []LedgerLine{}, Offset: q.Offset, Limit: q.Limit, Tags: []Tag{}, Categories: []string{}, Conflicts: []tags.Conflict{}}
	if r.FirstSeen, err = lk.position(a.FirstSeen); err != nil {
		return nil, err
	}
	if a.CreatedAt != 0 {
		p, err := lk.position(a.CreatedAt)
		if err != nil {
			return nil, err
		}
		r.CreatedAt = &p
		if r.Creator, err = lk.addr(a.Creator); err != nil {
			return nil, err
		}
	}
	hs, err := ix.Holdings(id)
	if err != nil {
		return nil, err
	}
	var assets []evmindex.AssetID
	for _, h := range hs {
		ref, err := ac.get(h.Asset)
		if err != nil {
			return nil, err
		}
		first, err := lk.position(h.First)
		if err != nil {
			return nil, err
		}
		last, err := lk.position(h.Last)
		if err != nil {
			return nil, err
		}
		r.Holdings = append(r.Holdings, HoldingLine{Asset: ref, Balance: h.Balance.String(), BalanceUnits: balanceUnits(h.Balance, ref.Decimals),
			Received: h.In.String(), Sent: h.Out.String(), ReceivedUnits: chain.FormatBigUnits(h.In, ref.Decimals), SentUnits: chain.FormatBigUnits(h.Out, ref.Decimals),
			Entries: h.Entries, First: &first, Last: &last})
		if q.Asset == nil || *q.Asset == h.Asset {
			assets = append(assets, h.Asset)
			r.TotalLines += h.Entries
		}
	}
	// One page of the ledger, merged across assets in chain order.
	want := q.Offset + q.Limit
	var entries []evmindex.Entry
	for _, asset := range assets {
		n := 0
		collect := func(en evmindex.Entry) bool {
			entries = append(entries, en)
			n++
			return n < want
		}
		if q.NewestFirst {
			err = ix.LedgerDesc(id, asset, 0, collect)
		} else {
			err = ix.Ledger(id, asset, 0, collect)
		}
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(entries, func(x, y evmindex.Entry) int {
		c := cmp.Or(cmp.Compare(x.Key, y.Key), cmp.Compare(x.Seq, y.Seq), cmp.Compare(x.Asset, y.Asset), boolCmp(x.In, y.In))
		if q.NewestFirst {
			return -c
		}
		return c
	})
	if q.Offset < len(entries) {
		entries = entries[q.Offset:min(len(entries), want)]
	} else {
		entries = nil
	}
	for _, en := range entries {
		line, err := ledgerLine(lk, ac, en)
		if err != nil {
			return nil, err
		}
		r.Ledger = append(r.Ledger, line)
	}
	if err := e.tagsOf(ctx, a.Address, &r.Tags, &r.Sanctioned, &r.Categories, &r.Conflicts); err != nil {
		return nil, err
	}
	if tip, _, _ := ix.Tip(); tip.Untraced > 0 {
		r.Incomplete = fmt.Sprintf("%d blocks of this index were imported without call traces (the node did not offer debug_traceBlockByNumber): their internal transfers are missing, and balances of contracts and of the addresses they paid may be wrong", tip.Untraced)
	}
	return r, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func ledgerLine(lk *lookups, ac *assetCache, en evmindex.Entry) (LedgerLine, error) {
	ref, err := ac.get(en.Asset)
	if err != nil {
		return LedgerLine{}, err
	}
	pos, err := lk.position(en.Key)
	if err != nil {
		return LedgerLine{}, err
	}
	cp, err := lk.addr(en.Counterparty)
	if err != nil {
		return LedgerLine{}, err
	}
	dir := "out"
	if en.In {
		dir = "in"
	}
	return LedgerLine{Position: pos, Asset: ref, Kind: en.Kind.String(), Direction: dir, Counterparty: cp,
		Amount: en.Amount.String(), AmountUnits: chain.FormatUnits(en.Amount, ref.Decimals),
		BalanceAfter: en.Balance.String(), BalanceUnits: balanceUnits(en.Balance, ref.Decimals)}, nil
}

// tagsOf fills the direct tags of an address (every EVM currency's: the
// chains share 0x addresses), whether any is a sanction, the categories and
// conflicts.
func (e *EVM) tagsOf(ctx context.Context, a eth.Address, out *[]Tag, sanctioned *bool, cats *[]string, conflicts *[]tags.Conflict) error {
	if e.Tags == nil {
		return nil
	}
	key := strings.ToLower(a.String())
	m, err := e.Tags.ByAddress(ctx, []string{key})
	if err != nil {
		return err
	}
	for _, t := range ordered(m, key) {
		*out = append(*out, t)
		if t.Sanctioned {
			*sanctioned = true
		}
	}
	*cats, _, *conflicts = summarize(m)
	return nil
}

// EVMMove is one move of a transaction in answers.
type EVMMove struct {
	Seq         uint16   `json:"seq"`
	Kind        string   `json:"kind"`
	Asset       AssetRef `json:"asset"`
	From        string   `json:"from,omitempty"`
	To          string   `json:"to,omitempty"`
	Amount      string   `json:"amount"`
	AmountUnits string   `json:"amount_units"`
	// Frame is an internal move's call path, LogIndex a token transfer's log.
	Frame    string  `json:"frame,omitempty"`
	LogIndex *uint64 `json:"log_index,omitempty"`
}

// EVMSwap is a DEX swap event in answers.
type EVMSwap struct {
	Pool      string   `json:"pool"`
	Version   string   `json:"version"`
	LogIndex  uint64   `json:"log_index"`
	Sender    string   `json:"sender"`
	Recipient string   `json:"recipient"`
	Amounts   []string `json:"amounts"`
}

// EVMTxReport is one transaction with every move it made.
type EVMTxReport struct {
	ChainID uint64 `json:"chain_id"`
	Chain   string `json:"chain"`
	Position
	Index             int       `json:"index"`
	From              string    `json:"from"`
	To                string    `json:"to,omitempty"`
	Created           string    `json:"created,omitempty"`
	Nonce             uint64    `json:"nonce"`
	Type              uint8     `json:"type"`
	Status            string    `json:"status"`
	Value             string    `json:"value"`
	ValueUnits        string    `json:"value_units"`
	GasUsed           uint64    `json:"gas_used"`
	EffectiveGasPrice string    `json:"effective_gas_price"`
	Fee               string    `json:"fee"`
	FeeUnits          string    `json:"fee_units"`
	Tip               string    `json:"tip"`
	Burnt             string    `json:"burnt"`
	Selector          string    `json:"selector,omitempty"`
	InputLen          uint32    `json:"input_len"`
	Moves             []EVMMove `json:"moves"`
	Swaps             []EVMSwap `json:"swaps"`
	Contracts         []string  `json:"contracts_created"`
	// Tags are the tags of the addresses the transaction touched, by
	// address.
	Tags map[string][]Tag `json:"tags"`
}

// Tx answers a transaction record (a transaction, or a block's opening or
// end slot).
func (e *EVM) Tx(ctx context.Context, t *evmindex.Tx) (*EVMTxReport, error) {
	ix := e.Index
	meta := ix.Meta()
	lk := newLookups(ix)
	ac := &assetCache{ix: ix}
	pos, err := lk.position(t.Key)
	if err != nil {
		return nil, err
	}
	native, _ := ac.get(evmindex.Native)
	burnt, err := t.Fee.Sub(t.Tip)
	if err != nil {
		return nil, fmt.Errorf("entity: %w: transaction %s: tip above fee", evmindex.ErrCorrupt, t.Hash)
	}
	r := &EVMTxReport{ChainID: meta.ChainID, Chain: meta.Name, Position: pos, Nonce: t.Nonce, Type: t.Type, Status: t.Status.String(),
		Value: t.Value.String(), ValueUnits: chain.FormatUnits(t.Value, native.Decimals), GasUsed: t.GasUsed,
		EffectiveGasPrice: t.EffectiveGasPrice.String(), Fee: t.Fee.String(), FeeUnits: chain.FormatUnits(t.Fee, native.Decimals),
		Tip: t.Tip.String(), Burnt: burnt.String(), InputLen: t.InputLen, Moves: []EVMMove{}, Swaps: []EVMSwap{}, Contracts: []string{}, Tags: map[string][]Tag{}}
	if p, ok := t.Key.Pos(); ok {
		r.Index = p
	} else {
		r.Index = -1
	}
	if t.InputLen >= 4 {
		r.Selector = fmt.Sprintf("0x%x", t.Selector[:])
	}
	if r.From, err = lk.addr(t.From); err != nil {
		return nil, err
	}
	if r.To, err = lk.addr(t.To); err != nil {
		return nil, err
	}
	if r.Created, err = lk.addr(t.Created); err != nil {
		return nil, err
	}
	touched := map[string]bool{}
	for _, s := range []string{r.From, r.To, r.Created} {
		if s != "" {
			touched[s] = true
		}
	}
	for _, m := range t.Moves {
		ref, err := ac.get(m.Asset)
		if err != nil {
			return nil, err
		}
		mv := EVMMove{Seq: m.Seq, Kind: m.Kind.String(), Asset: ref, Amount: m.Amount.String(), AmountUnits: chain.FormatUnits(m.Amount, ref.Decimals), Frame: m.Frame}
		if m.Kind == evmindex.KindToken {
			li := m.LogIndex
			mv.LogIndex = &li
		}
		if mv.From, err = lk.addr(m.From); err != nil {
			return nil, err
		}
		if mv.To, err = lk.addr(m.To); err != nil {
			return nil, err
		}
		for _, s := range []string{mv.From, mv.To} {
			if s != "" {
				touched[s] = true
			}
		}
		r.Moves = append(r.Moves, mv)
	}
	for _, s := range t.Swaps {
		sw := EVMSwap{Version: fmt.Sprintf("uniswap-v%d", s.Version), LogIndex: s.LogIndex, Amounts: []string{}}
		if sw.Pool, err = lk.addr(s.Pool); err != nil {
			return nil, err
		}
		if sw.Sender, err = lk.addr(s.Sender); err != nil {
			return nil, err
		}
		if sw.Recipient, err = lk.addr(s.Recipient); err != nil {
			return nil, err
		}
		for _, a := range s.Amounts {
			sw.Amounts = append(sw.Amounts, a.String())
		}
		r.Swaps = append(r.Swaps, sw)
	}
	for _, c := range t.Contracts {
		s, err := lk.addr(c)
		if err != nil {
			return nil, err
		}
		r.Contracts = append(r.Contracts, s)
	}
	if e.Tags != nil && len(touched) > 0 {
		keys := make([]string, 0, len(touched))
		back := map[string]string{}
		for s := range touched {
			k := strings.ToLower(s)
			keys = append(keys, k)
			back[k] = s
		}
		sort := slices.Sorted(slices.Values(keys))
		m, err := e.Tags.ByAddress(ctx, sort)
		if err != nil {
			return nil, err
		}
		for k, ts := range m {
			for _, t := range ts {
				r.Tags[back[k]] = append(r.Tags[back[k]], view(t, "direct"))
			}
		}
	}
	return r, nil
}

// ScreenEVM screens 0x addresses against the tags (every EVM currency's
// tags: OFAC lists ETH, USDT and USDC addresses, which are the same
// accounts) and says which of the given indexes hold each (EVMChains;
// OnChain when any does). An address in mixed case with a wrong EIP-55
// checksum is invalid: a typing error must not screen clean. The answers
// have the shape of Bitcoin screenings, without clusters.
func ScreenEVM(ctx context.Context, ts *tags.Store, indexes []*evmindex.Index, inputs []string) ([]Screening, Summary, error) {
	out := make([]Screening, 0, len(inputs))
	var sum Summary
	e := &EVM{Tags: ts}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, sum, err
		}
		sum.Screened++
		r := Screening{Input: in, DirectTags: []Tag{}, ClusterTags: []Tag{}, Categories: []string{}, Conflicts: []tags.Conflict{}, EVMChains: []uint64{}}
		a, err := eth.ParseAddress(strings.TrimSpace(in))
		if err != nil {
			r.Error = err.Error()
			sum.Invalid++
			out = append(out, r)
			continue
		}
		r.Valid, r.Address = true, a.String()
		for _, ix := range indexes {
			_, err := ix.AddrID(a)
			switch {
			case err == nil:
				r.EVMChains = append(r.EVMChains, ix.Meta().ChainID)
			case !errors.Is(err, chain.ErrNotFound):
				return nil, sum, err
			}
		}
		if len(r.EVMChains) > 0 {
			r.OnChain = true
			sum.OnChain++
		}
		if err := e.tagsOf(ctx, a, &r.DirectTags, &r.Sanctioned, &r.Categories, &r.Conflicts); err != nil {
			return nil, sum, err
		}
		if r.Sanctioned {
			r.SanctionedVia = "direct"
			sum.Sanctioned++
		}
		if len(r.DirectTags) > 0 {
			sum.Tagged++
		}
		out = append(out, r)
	}
	return out, sum, nil
}

// ResolveAsset finds an asset of the index by what a user typed: the
// native coin's symbol (or "native"), a token's contract address, a
// token's symbol when only one token has it, or an asset id. Anything else
// wraps chain.ErrInvalid (or chain.ErrNotFound for a token contract the
// index has not seen).
func (e *EVM) ResolveAsset(s string) (evmindex.AssetID, error) {
	ix := e.Index
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "native") || strings.EqualFold(s, ix.Meta().Symbol) {
		return evmindex.Native, nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		c, err := eth.ParseAddress(s)
		if err != nil {
			return 0, err
		}
		a, err := ix.AssetByContract(c)
		if err != nil {
			return 0, fmt.Errorf("entity: no token %s in the index of %s: %w", c, ix.Meta().Name, err)
		}
		return a.ID, nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		if _, err := ix.Asset(evmindex.AssetID(n)); err != nil {
			return 0, err
		}
		return evmindex.AssetID(n), nil
	}
	var found []evmindex.Asset
	err := ix.Assets(func(a evmindex.Asset) bool {
		if a.ID != evmindex.Native && strings.EqualFold(a.Symbol, s) {
			found = append(found, a)
		}
		return len(found) < 10
	})
	if err != nil {
		return 0, err
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("entity: %w: no asset %q in the index of %s (give the native symbol %s, a token contract or an asset id)", chain.ErrInvalid, s, ix.Meta().Name, ix.Meta().Symbol)
	case 1:
		return found[0].ID, nil
	}
	var cs []string
	for _, a := range found {
		cs = append(cs, a.Contract.String())
	}
	return 0, fmt.Errorf("entity: %w: %d tokens call themselves %q (%s): give the contract address", chain.ErrInvalid, len(found), s, strings.Join(cs, ", "))
}
