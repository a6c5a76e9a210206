package detect

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// EVMReader is what the EVM detectors read of an account-model index;
// *evmindex.Index is one.
type EVMReader interface {
	Scan(from, to uint64, fn func(*evmindex.Tx) error) error
	TxByKey(k evmindex.TxKey) (*evmindex.Tx, error)
	Ledger(id evmindex.AddrID, asset evmindex.AssetID, from evmindex.TxKey, fn func(evmindex.Entry) bool) error
	AddrID(a eth.Address) (evmindex.AddrID, error)
	Address(id evmindex.AddrID) (evmindex.Address, error)
	Asset(id evmindex.AssetID) (evmindex.Asset, error)
}

// EVM typology names (FanOut, FanIn, PassThrough and MixerUse are shared
// with the UTXO detectors).
const (
	BridgeDeposit = "bridge_deposit"
	DEXSwap       = "dex_swap"
)

// EVMOptions are the EVM detectors' thresholds and address sets; zero
// thresholds take the defaults.
type EVMOptions struct {
	// MixerPools are the pool contracts of a mixer (Tornado Cash's pools,
	// from the tags): every move into or out of one is mixer use.
	MixerPools []evmindex.AddrID
	// Bridges are labelled bridge contracts (and their escrows): every move
	// into one is a possible chain hop.
	Bridges []evmindex.AddrID
	// MinFanOut distinct recipients paid by one address in one asset
	// within FanBlocks blocks are a fan-out (default 20); MinFanIn distinct
	// senders paying one address are a fan-in (default 20). FanBlocks
	// defaults to 300 (about an hour on Ethereum).
	MinFanOut int
	MinFanIn  int
	FanBlocks uint64
	// PassBlocks is how soon incoming value must leave again to pass
	// through (default 25 blocks, about five minutes); MinPassTransfers
	// incoming transfers (default 3) of which at most MaxResidualPct
	// percent (default 5) is left behind or leaves later.
	PassBlocks       uint64
	MinPassTransfers int
	MaxResidualPct   uint64
}

func (o *EVMOptions) check() error {
	if o.MinFanOut == 0 {
		o.MinFanOut = 20
	}
	if o.MinFanIn == 0 {
		o.MinFanIn = 20
	}
	if o.FanBlocks == 0 {
		o.FanBlocks = 300
	}
	if o.PassBlocks == 0 {
		o.PassBlocks = 25
	}
	if o.MinPassTransfers == 0 {
		o.MinPassTransfers = 3
	}
	if o.MaxResidualPct == 0 {
		o.MaxResidualPct = 5
	}
	if o.MinFanOut < 2 || o.MinFanIn < 2 || o.MinPassTransfers < 2 {
		return fmt.Errorf("detect: %w: thresholds below 2", chain.ErrInvalid)
	}
	if o.MaxResidualPct >= 100 {
		return fmt.Errorf("detect: %w: percentages must be below 100", chain.ErrInvalid)
	}
	return nil
}

// EVMFinding is one typology found in an account-model index: the EVM
// counterpart of Finding, with the asset and exact amounts.
type EVMFinding struct {
	Type string
	// Txs are the transactions of the finding in chain order.
	Txs []evmindex.TxKey
	// Addresses: the actors first (the subject of a fan-out, fan-in or
	// pass-through; a mixer's or bridge's users; a swap's trader), then the
	// counterparties (recipients, senders, pool, bridge).
	Addresses []evmindex.AddrID
	// Asset and Amount: the asset moved and the exact total in its base
	// units (a swap: what went into the pool). AmountOverflow is set when
	// the total does not fit 256 bits (hostile tokens); Amount is then 0.
	Asset          evmindex.AssetID
	Amount         chain.Amount
	AmountOverflow bool
	// Conversion is set for a DEX swap.
	Conversion *Conversion
	// Params holds the thresholds met and the measured values (amounts as
	// decimal strings of base units, exact).
	Params      map[string]any
	Confidence  float64
	Explanation string
}

// Conversion is a DEX swap as an asset-conversion edge: Trader (the
// transaction's sender) had Pool turn AmountIn of AssetIn into AmountOut
// of AssetOut. Payer sent the input to the pool, Recipient got the output
// (a router or the next pool of a multi-hop swap, or the trader).
type Conversion struct {
	Trader, Payer, Recipient evmindex.AddrID
	Pool                     evmindex.AddrID
	Version                  evmindex.SwapVersion
	LogIndex                 uint64
	AssetIn                  evmindex.AssetID
	AmountIn                 chain.Amount
	AssetOut                 evmindex.AssetID
	AmountOut                chain.Amount
	// EventAgrees is true when the Swap event's own amounts match the
	// token transfers (a fee-on-transfer token makes them differ).
	EventAgrees bool
}

// transfer reports whether a move is a transfer between two parties: a
// transaction's value, an internal move or a token transfer (not a fee,
// opening, tip or withdrawal).
func transfer(m *evmindex.Move) bool {
	return (m.Kind == evmindex.KindValue || m.Kind == evmindex.KindInternal || m.Kind == evmindex.KindToken) &&
		m.From != 0 && m.To != 0 && m.From != m.To
}

// sum adds amounts exactly; over is set once the total exceeds 256 bits.
type sum struct {
	v    chain.Amount
	over bool
}

func (s *sum) add(a chain.Amount) {
	if s.over {
		return
	}
	v, err := s.v.Add(a)
	if err != nil {
		s.over = true
		s.v = chain.Amount{}
		return
	}
	s.v = v
}

// atLeastPct reports whether a ≥ pct percent of b, exactly.
func atLeastPct(a, b chain.Amount, pct uint64) bool {
	l := new(big.Int).Mul(a.Big(), big.NewInt(100))
	r := new(big.Int).Mul(b.Big(), new(big.Int).SetUint64(pct))
	return l.Cmp(r) >= 0
}

// pctOf returns floor(100 × a / b) (b > 0), capped at 100.
func pctOf(a, b chain.Amount) uint64 {
	if b.IsZero() {
		return 0
	}
	q := new(big.Int).Mul(a.Big(), big.NewInt(100))
	q.Quo(q, b.Big())
	if !q.IsUint64() || q.Uint64() > 100 {
		return 100
	}
	return q.Uint64()
}

// namer writes addresses, assets and amounts for explanations, reading
// each address and asset once.
type namer struct {
	rd     EVMReader
	addrs  map[evmindex.AddrID]evmindex.Address
	assets map[evmindex.AssetID]evmindex.Asset
	txs    map[evmindex.TxKey]eth.Hash
}

func newNamer(rd EVMReader) *namer {
	return &namer{rd: rd, addrs: map[evmindex.AddrID]evmindex.Address{}, assets: map[evmindex.AssetID]evmindex.Asset{},
		txs: map[evmindex.TxKey]eth.Hash{}}
}

func (n *namer) address(id evmindex.AddrID) (evmindex.Address, error) {
	if a, ok := n.addrs[id]; ok {
		return a, nil
	}
	a, err := n.rd.Address(id)
	if err != nil {
		return evmindex.Address{}, err
	}
	n.addrs[id] = a
	return a, nil
}

func (n *namer) addr(id evmindex.AddrID) (string, error) {
	a, err := n.address(id)
	if err != nil {
		return "", err
	}
	return a.Address.String(), nil
}

func (n *namer) addrList(ids []evmindex.AddrID) (string, error) {
	var s []string
	for _, id := range ids {
		a, err := n.addr(id)
		if err != nil {
			return "", err
		}
		s = append(s, a)
	}
	return strings.Join(s, ", "), nil
}

func (n *namer) asset(id evmindex.AssetID) (evmindex.Asset, error) {
	if a, ok := n.assets[id]; ok {
		return a, nil
	}
	a, err := n.rd.Asset(id)
	if err != nil {
		return evmindex.Asset{}, err
	}
	n.assets[id] = a
	return a, nil
}

// amount writes v of asset exactly: "1.5 ETH (1500000000000000000 base
// units)", or base units of a token named by its contract when its
// metadata is missing or its symbol is not plain (token symbols are the
// token's own, untrusted words).
func (n *namer) amount(v chain.Amount, id evmindex.AssetID) (string, error) {
	a, err := n.asset(id)
	if err != nil {
		return "", err
	}
	if id != evmindex.Native && (!a.MetadataOK || !plainSymbol(a.Symbol)) {
		return fmt.Sprintf("%s base units of the token %s", v, a.Contract), nil
	}
	sym := a.Symbol
	if id != evmindex.Native {
		sym += " (token " + a.Contract.String() + ")"
	}
	return fmt.Sprintf("%s %s [%s base units]", chain.FormatUnits(v, a.Decimals), sym, v), nil
}

func (n *namer) sumText(s sum, id evmindex.AssetID) (string, error) {
	if s.over {
		a, err := n.assetName(id)
		return "more than 2^256 base units of " + a, err
	}
	return n.amount(s.v, id)
}

func (n *namer) assetName(id evmindex.AssetID) (string, error) {
	a, err := n.asset(id)
	if err != nil {
		return "", err
	}
	if id == evmindex.Native {
		return a.Symbol, nil
	}
	return "the token " + a.Contract.String(), nil
}

func (n *namer) tx(k evmindex.TxKey) (string, error) {
	if h, ok := n.txs[k]; ok {
		return h.String(), nil
	}
	t, err := n.rd.TxByKey(k)
	if err != nil {
		return "", err
	}
	n.txs[k] = t.Hash
	return t.Hash.String(), nil
}

func (n *namer) note(t *evmindex.Tx) { n.txs[t.Key] = t.Hash }

// plainSymbol accepts short symbols of letters and digits.
func plainSymbol(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// holdingKey names an address's ledger in one asset.
type holdingKey struct {
	addr  evmindex.AddrID
	asset evmindex.AssetID
}

// flow is one transfer seen from one side.
type flow struct {
	key evmindex.TxKey
	cp  evmindex.AddrID
	amt chain.Amount
}

// chunk is incoming value not yet passed on.
type chunk struct {
	height uint64
	amt    chain.Amount
}

// evmPassing accumulates what one address received in one asset and how
// much of it left within PassBlocks blocks, first in first out.
type evmPassing struct {
	transfers        int
	received, passed sum
	queue            []chunk
	txs              []evmindex.TxKey
}

func (p *evmPassing) note(k evmindex.TxKey) {
	if len(p.txs) < maxPassTxs && (len(p.txs) == 0 || p.txs[len(p.txs)-1] != k) {
		p.txs = append(p.txs, k)
	}
}

// out consumes amt from the oldest incoming value; what came in at most
// within blocks before height counts as passed.
func (p *evmPassing) out(k evmindex.TxKey, amt chain.Amount, blocks uint64) {
	h := k.Height()
	for !amt.IsZero() && len(p.queue) > 0 {
		c := &p.queue[0]
		take := chain.Min(c.amt, amt)
		if h-c.height <= blocks {
			p.passed.add(take)
			p.note(k)
		}
		c.amt, _ = c.amt.Sub(take)
		amt, _ = amt.Sub(take)
		if c.amt.IsZero() {
			p.queue = p.queue[1:]
		}
	}
}

// evmScan is the state of one EVMRange pass.
type evmScan struct {
	o       *EVMOptions
	n       *namer
	zero    evmindex.AddrID // the zero address's id (mints, burns), 0 when unseen
	mixers  map[evmindex.AddrID]bool
	bridges map[evmindex.AddrID]bool
	outs    map[holdingKey][]flow
	ins     map[holdingKey][]flow
	pass    map[holdingKey]*evmPassing
	found   []EVMFinding
}

// EVMRange finds the EVM typologies in blocks from..to: mixer use, bridge
// deposits, DEX swaps (as asset conversions), fan-out, fan-in and rapid
// pass-through, per asset. Only transfers count (a transaction's value,
// internal moves, token transfers); fees, openings, tips and withdrawals
// do not, nor do mints from and burns to the zero address in fan-outs,
// fan-ins and pass-throughs.
func EVMRange(rd EVMReader, from, to uint64, o EVMOptions) ([]EVMFinding, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if from > to {
		return nil, fmt.Errorf("detect: %w: range %d..%d", chain.ErrInvalid, from, to)
	}
	s := &evmScan{o: &o, n: newNamer(rd), mixers: set(o.MixerPools), bridges: set(o.Bridges),
		outs: map[holdingKey][]flow{}, ins: map[holdingKey][]flow{}, pass: map[holdingKey]*evmPassing{}}
	zero, err := rd.AddrID(eth.Address{})
	switch {
	case err == nil:
		s.zero = zero
	case !errors.Is(err, chain.ErrNotFound):
		return nil, err
	}
	err = rd.Scan(from, to, func(t *evmindex.Tx) error {
		if _, ok := t.Key.Pos(); !ok {
			return nil
		}
		s.n.note(t)
		if err := s.counterparties(t); err != nil {
			return err
		}
		if err := s.swaps(t); err != nil {
			return err
		}
		s.flows(t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.fans(); err != nil {
		return nil, err
	}
	if err := s.passThrough(); err != nil {
		return nil, err
	}
	SortEVM(s.found)
	return s.found, nil
}

func set(ids []evmindex.AddrID) map[evmindex.AddrID]bool {
	m := make(map[evmindex.AddrID]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// group collects the moves of one transaction between one set member and
// its users in one asset.
type group struct {
	member evmindex.AddrID
	asset  evmindex.AssetID
	in     bool // into the member
	total  sum
	others []evmindex.AddrID // the other sides, in move order
	amts   []chain.Amount
}

// groups returns the moves of t into (and, with outToo, out of) members of
// m, grouped by member, direction and asset, in move order.
func groups(t *evmindex.Tx, m map[evmindex.AddrID]bool, outToo bool) []*group {
	var out []*group
	find := func(member evmindex.AddrID, asset evmindex.AssetID, in bool) *group {
		for _, g := range out {
			if g.member == member && g.asset == asset && g.in == in {
				return g
			}
		}
		g := &group{member: member, asset: asset, in: in}
		out = append(out, g)
		return g
	}
	for i := range t.Moves {
		mv := &t.Moves[i]
		if !transfer(mv) {
			continue
		}
		var g *group
		var other evmindex.AddrID
		switch {
		case m[mv.To] && !m[mv.From]:
			g, other = find(mv.To, mv.Asset, true), mv.From
		case outToo && m[mv.From] && !m[mv.To]:
			g, other = find(mv.From, mv.Asset, false), mv.To
		default:
			continue
		}
		g.total.add(mv.Amount)
		g.others = append(g.others, other)
		g.amts = append(g.amts, mv.Amount)
	}
	return out
}

func addUnique(l []evmindex.AddrID, ids ...evmindex.AddrID) []evmindex.AddrID {
	for _, id := range ids {
		if id != 0 && !slices.Contains(l, id) {
			l = append(l, id)
		}
	}
	return l
}

// counterparties finds mixer deposits and withdrawals and bridge deposits
// in one transaction.
func (s *evmScan) counterparties(t *evmindex.Tx) error {
	n := s.n
	h := t.Hash.String()
	for _, g := range groups(t, s.mixers, true) {
		pool, err := n.addr(g.member)
		if err != nil {
			return err
		}
		amt, err := n.sumText(g.total, g.asset)
		if err != nil {
			return err
		}
		f := EVMFinding{Type: MixerUse, Txs: []evmindex.TxKey{t.Key}, Asset: g.asset, Amount: g.total.v, AmountOverflow: g.total.over,
			Confidence: 0.95, Params: map[string]any{"pool": pool, "mixer_pools": len(s.mixers), "amount": g.total.v.String()}}
		if g.in {
			f.Params["direction"] = "deposit"
			f.Addresses = addUnique(addUnique(nil, t.From), g.others...)
			users, err := n.addrList(f.Addresses)
			if err != nil {
				return err
			}
			f.Addresses = append(f.Addresses, g.member)
			f.Explanation = fmt.Sprintf("transaction %s (sent by %s) paid %s into %s, a pool of the given mixer set (addresses paying: %s). "+
				"A mixer pools many users' deposits: what is withdrawn later cannot be tied to this deposit from the chain alone",
				h, mustAddr(n, t.From), amt, pool, users)
		} else {
			f.Params["direction"] = "withdrawal"
			f.Addresses = addUnique(nil, g.others...)
			var parts []string
			for i, r := range g.others {
				ra, err := n.addr(r)
				if err != nil {
					return err
				}
				ramt, err := n.amount(g.amts[i], g.asset)
				if err != nil {
					return err
				}
				parts = append(parts, ramt+" to "+ra)
			}
			f.Addresses = addUnique(f.Addresses, t.From)
			f.Addresses = append(f.Addresses, g.member)
			f.Explanation = fmt.Sprintf("transaction %s, sent by %s (the withdrawer or a relayer paid by the pool), took %s out of %s, a pool of the given mixer set: %s. "+
				"The money comes from the mixer: its origin before the pool cannot be read from the chain alone",
				h, mustAddr(n, t.From), amt, pool, strings.Join(parts, "; "))
		}
		s.found = append(s.found, f)
	}
	for _, g := range groups(t, s.bridges, false) {
		bridge, err := n.addr(g.member)
		if err != nil {
			return err
		}
		amt, err := n.sumText(g.total, g.asset)
		if err != nil {
			return err
		}
		f := EVMFinding{Type: BridgeDeposit, Txs: []evmindex.TxKey{t.Key}, Asset: g.asset, Amount: g.total.v, AmountOverflow: g.total.over,
			Confidence: 0.8, Params: map[string]any{"bridge": bridge, "bridges": len(s.bridges), "amount": g.total.v.String()}}
		f.Addresses = addUnique(addUnique(nil, t.From), g.others...)
		f.Addresses = append(f.Addresses, g.member)
		f.Explanation = fmt.Sprintf("transaction %s (sent by %s) paid %s into %s, a labelled bridge contract: a possible chain hop. "+
			"The money may continue on another chain; the bridge's records or its event on the other chain show where",
			h, mustAddr(n, t.From), amt, bridge)
		s.found = append(s.found, f)
	}
	return nil
}

// mustAddr writes an address already read by the namer (the sender of a
// transaction being explained); an unreadable one shows as its id.
func mustAddr(n *namer, id evmindex.AddrID) string {
	a, err := n.addr(id)
	if err != nil {
		return fmt.Sprintf("address #%d", id)
	}
	return a
}

// swaps turns each Swap event of t into an asset conversion: the token
// moves into and out of the pool after the pool's previous Swap event in
// the transaction and before this one. A swap is reported when exactly
// one asset went in and one came out.
func (s *evmScan) swaps(t *evmindex.Tx) error {
	n := s.n
	for i, sw := range t.Swaps {
		var lo uint64
		has := false
		for _, p := range t.Swaps[:i] {
			if p.Pool == sw.Pool && p.LogIndex < sw.LogIndex && (!has || p.LogIndex > lo) {
				lo, has = p.LogIndex, true
			}
		}
		var in, out []*evmindex.Move
		for j := range t.Moves {
			m := &t.Moves[j]
			if m.Kind != evmindex.KindToken || m.LogIndex >= sw.LogIndex || (has && m.LogIndex <= lo) || !transfer(m) {
				continue
			}
			switch sw.Pool {
			case m.To:
				in = append(in, m)
			case m.From:
				out = append(out, m)
			}
		}
		if len(in) == 0 || len(out) == 0 {
			continue
		}
		var ain, aout sum
		ok := true
		for _, m := range in {
			ok = ok && m.Asset == in[0].Asset
			ain.add(m.Amount)
		}
		for _, m := range out {
			ok = ok && m.Asset == out[0].Asset
			aout.add(m.Amount)
		}
		if !ok || in[0].Asset == out[0].Asset || ain.over || aout.over {
			continue
		}
		c := &Conversion{Trader: t.From, Payer: in[0].From, Recipient: out[len(out)-1].To, Pool: sw.Pool, Version: sw.Version,
			LogIndex: sw.LogIndex, AssetIn: in[0].Asset, AmountIn: ain.v, AssetOut: out[0].Asset, AmountOut: aout.v}
		c.EventAgrees = eventAgrees(sw, ain.v, aout.v)
		f := EVMFinding{Type: DEXSwap, Txs: []evmindex.TxKey{t.Key}, Asset: c.AssetIn, Amount: c.AmountIn, Conversion: c, Confidence: 0.95,
			Params: map[string]any{"version": int(sw.Version), "log_index": sw.LogIndex, "amount_in": c.AmountIn.String(),
				"amount_out": c.AmountOut.String(), "event_agrees": c.EventAgrees}}
		f.Addresses = addUnique(nil, c.Trader, c.Payer, c.Recipient)
		f.Addresses = append(f.Addresses, c.Pool)
		trader, err := n.addr(c.Trader)
		if err != nil {
			return err
		}
		pool, err := n.addr(c.Pool)
		if err != nil {
			return err
		}
		tin, err := n.amount(c.AmountIn, c.AssetIn)
		if err != nil {
			return err
		}
		tout, err := n.amount(c.AmountOut, c.AssetOut)
		if err != nil {
			return err
		}
		payer, recipient := mustAddr(n, c.Payer), mustAddr(n, c.Recipient)
		f.Explanation = fmt.Sprintf("in transaction %s, sent by %s, the Uniswap V%d-style pool %s converted %s (paid in by %s) into %s (paid out to %s): "+
			"the money changed asset here, and a trace continues in the new asset",
			t.Hash, trader, sw.Version, pool, tin, payer, tout, recipient)
		if !c.EventAgrees {
			f.Confidence = 0.7
			f.Explanation += "; the pool's Swap event states other amounts than the token transfers show (a token that takes a fee on transfer, or a non-standard pool)"
		}
		s.found = append(s.found, f)
	}
	return nil
}

// eventAgrees checks a Swap event's amounts against the transfers: V2
// (amount0In, amount1In, amount0Out, amount1Out) must have in among its
// inputs and out among its outputs; V3 (amount0, amount1, the pool's side)
// must have +in and −out.
func eventAgrees(sw evmindex.Swap, in, out chain.Amount) bool {
	a := sw.Amounts
	switch {
	case sw.Version == evmindex.SwapUniswapV2 && len(a) == 4:
		pos := func(b evmindex.Balance, v chain.Amount) bool { return !b.Neg && b.Abs.Cmp(v) == 0 }
		return (pos(a[0], in) && pos(a[3], out)) || (pos(a[1], in) && pos(a[2], out))
	case sw.Version == evmindex.SwapUniswapV3 && len(a) == 2:
		side := func(b evmindex.Balance, v chain.Amount, neg bool) bool { return b.Neg == neg && b.Abs.Cmp(v) == 0 }
		return (side(a[0], in, false) && side(a[1], out, true)) || (side(a[1], in, false) && side(a[0], out, true))
	}
	return false
}

// flows records t's transfers for fan-out, fan-in and pass-through.
func (s *evmScan) flows(t *evmindex.Tx) {
	for i := range t.Moves {
		m := &t.Moves[i]
		if !transfer(m) || (s.zero != 0 && (m.From == s.zero || m.To == s.zero)) {
			continue
		}
		ko, ki := holdingKey{m.From, m.Asset}, holdingKey{m.To, m.Asset}
		s.outs[ko] = append(s.outs[ko], flow{t.Key, m.To, m.Amount})
		s.ins[ki] = append(s.ins[ki], flow{t.Key, m.From, m.Amount})
		if p := s.pass[ko]; p != nil {
			p.out(t.Key, m.Amount, s.o.PassBlocks)
		}
		p := s.pass[ki]
		if p == nil {
			p = &evmPassing{}
			s.pass[ki] = p
		}
		p.transfers++
		p.received.add(m.Amount)
		p.queue = append(p.queue, chunk{t.Key.Height(), m.Amount})
		p.note(t.Key)
	}
}

// fanWindows calls fn with each maximal run of flows within blocks blocks
// of its first that reaches n distinct counterparties.
func fanWindows(fl []flow, n int, blocks uint64, fn func([]flow)) {
	count := map[evmindex.AddrID]int{}
	for i, j := 0, 0; j < len(fl); j++ {
		for fl[j].key.Height()-fl[i].key.Height() >= blocks {
			if count[fl[i].cp]--; count[fl[i].cp] == 0 {
				delete(count, fl[i].cp)
			}
			i++
		}
		count[fl[j].cp]++
		if len(count) >= n {
			for j+1 < len(fl) && fl[j+1].key.Height()-fl[i].key.Height() < blocks {
				j++
			}
			fn(fl[i : j+1])
			clear(count)
			i = j + 1
		}
	}
}

func sortedKeys(m map[holdingKey][]flow) []holdingKey {
	keys := make([]holdingKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b holdingKey) int { return cmp.Or(cmp.Compare(a.addr, b.addr), cmp.Compare(a.asset, b.asset)) })
	return keys
}

func (s *evmScan) fans() error {
	for _, dir := range []struct {
		typ  string
		m    map[holdingKey][]flow
		min  int
		verb string
	}{{FanOut, s.outs, s.o.MinFanOut, "paid %d different addresses"}, {FanIn, s.ins, s.o.MinFanIn, "was paid by %d different addresses"}} {
		for _, k := range sortedKeys(dir.m) {
			var err error
			fanWindows(dir.m[k], dir.min, s.o.FanBlocks, func(w []flow) {
				if err != nil {
					return
				}
				f := EVMFinding{Type: dir.typ, Asset: k.asset, Addresses: []evmindex.AddrID{k.addr}, Confidence: 0.6}
				var total sum
				for _, fl := range w {
					if len(f.Txs) == 0 || f.Txs[len(f.Txs)-1] != fl.key {
						f.Txs = append(f.Txs, fl.key)
					}
					f.Addresses = addUnique(f.Addresses, fl.cp)
					total.add(fl.amt)
				}
				f.Amount, f.AmountOverflow = total.v, total.over
				cps := len(f.Addresses) - 1
				blocks := w[len(w)-1].key.Height() - w[0].key.Height() + 1
				f.Params = map[string]any{"counterparties": cps, "transfers": len(w), "blocks": blocks, "window_blocks": s.o.FanBlocks, "amount": total.v.String()}
				if dir.typ == FanOut {
					f.Params["min_recipients"] = s.o.MinFanOut
				} else {
					f.Params["min_senders"] = s.o.MinFanIn
				}
				var subj, amt string
				if subj, err = s.n.addr(k.addr); err != nil {
					return
				}
				if amt, err = s.n.sumText(total, k.asset); err != nil {
					return
				}
				f.Explanation = fmt.Sprintf("%s "+dir.verb+" in %d transfers within %s (from block %d to %d), %s in all",
					subj, cps, len(w), plural(int(blocks), "block"), w[0].key.Height(), w[len(w)-1].key.Height(), amt)
				if dir.typ == FanOut {
					f.Explanation += ": a distribution of funds (a payout, or splitting money to hide its trail)"
				} else {
					f.Explanation += ": a collection point (gathering funds from many sources, or many victims paying one account)"
				}
				s.found = append(s.found, f)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *evmScan) passThrough() error {
	keys := make([]holdingKey, 0, len(s.pass))
	for k := range s.pass {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b holdingKey) int { return cmp.Or(cmp.Compare(a.addr, b.addr), cmp.Compare(a.asset, b.asset)) })
	o := s.o
	for _, k := range keys {
		p := s.pass[k]
		if p.transfers < o.MinPassTransfers || p.received.over || p.passed.over || p.received.v.IsZero() ||
			!atLeastPct(p.passed.v, p.received.v, 100-o.MaxResidualPct) {
			continue
		}
		a, err := s.n.address(k.addr)
		if err != nil {
			return err
		}
		residual, _ := p.received.v.Sub(p.passed.v)
		txs := slices.Clone(p.txs)
		slices.Sort(txs)
		txs = slices.Compact(txs)
		f := EVMFinding{Type: PassThrough, Txs: txs, Addresses: []evmindex.AddrID{k.addr}, Asset: k.asset, Amount: p.received.v, Confidence: 0.7,
			Params: map[string]any{"transfers": p.transfers, "received": p.received.v.String(), "passed": p.passed.v.String(),
				"residual": residual.String(), "within_blocks": o.PassBlocks, "min_transfers": o.MinPassTransfers, "max_residual_pct": o.MaxResidualPct}}
		recv, err := s.n.amount(p.received.v, k.asset)
		if err != nil {
			return err
		}
		left, err := s.n.amount(residual, k.asset)
		if err != nil {
			return err
		}
		f.Explanation = fmt.Sprintf("%s received %s in %d transfers and passed all but %s on within %d blocks of receiving it (first in, first out): "+
			"a pass-through (mule or intermediary) address", a.Address, recv, p.transfers, left, o.PassBlocks)
		if a.Contract {
			f.Confidence = 0.4
			f.Explanation += "; it is a contract, and routers, pools and forwarders pass value on by design"
		}
		s.found = append(s.found, f)
	}
	return nil
}

// SortEVM orders findings by their first transaction, then type, first
// address and asset: the order EVMRange returns.
func SortEVM(f []EVMFinding) {
	slices.SortStableFunc(f, func(a, b EVMFinding) int {
		return cmp.Or(cmp.Compare(a.Txs[0], b.Txs[0]), cmp.Compare(a.Type, b.Type), cmp.Compare(firstEVM(a.Addresses), firstEVM(b.Addresses)),
			cmp.Compare(a.Asset, b.Asset))
	})
}

func firstEVM(a []evmindex.AddrID) evmindex.AddrID {
	if len(a) == 0 {
		return 0
	}
	return a[0]
}
