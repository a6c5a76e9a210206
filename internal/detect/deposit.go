package detect

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// DepositOptions are the deposit-address heuristic's parameters; zero
// values take the defaults.
type DepositOptions struct {
	// MaxSweepBlocks: a sweep forwards only payments received at most this
	// many blocks before it (default 300, about an hour on Ethereum).
	MaxSweepBlocks uint64
	// MaxResidualPct: a sweep leaves at most this percent of the amount it
	// swept on the address (default 1).
	MaxResidualPct uint64
	// MinSweeps an address must make to be reported (default 1).
	MinSweeps int
	// FastSweepBlocks: sweeps at most this many blocks after the earliest
	// payment they forward raise the confidence (default 30, about six
	// minutes).
	FastSweepBlocks uint64
	// SharePct: forwarding at least this percent of what others paid in,
	// in every asset, raises the confidence (default 95; on the native coin
	// the sweeps' fees are paid from the deposits, so 100 is never met).
	SharePct uint64
}

func (o *DepositOptions) check() error {
	if o.MaxSweepBlocks == 0 {
		o.MaxSweepBlocks = 300
	}
	if o.MaxResidualPct == 0 {
		o.MaxResidualPct = 1
	}
	if o.MinSweeps == 0 {
		o.MinSweeps = 1
	}
	if o.FastSweepBlocks == 0 {
		o.FastSweepBlocks = 30
	}
	if o.SharePct == 0 {
		o.SharePct = 95
	}
	if o.MinSweeps < 1 || o.MaxResidualPct >= 100 || o.SharePct > 100 || o.FastSweepBlocks > o.MaxSweepBlocks {
		return fmt.Errorf("detect: %w: deposit options (min sweeps ≥ 1, residual below 100%%, share at most 100%%, fast sweep within the sweep window)", chain.ErrInvalid)
	}
	return nil
}

// Sweep is one forwarding of a deposit address's balance to a hot wallet.
type Sweep struct {
	Tx        evmindex.TxKey
	Asset     evmindex.AssetID
	HotWallet evmindex.AddrID
	// Amount is what went to the hot wallet; Residual the balance left on
	// the deposit address after the transaction (a negative ledger balance,
	// a sign of missing moves, counts as zero left).
	Amount   chain.Amount
	Residual chain.Amount
	// Deposits are the payments from others it forwarded, Received their
	// total; Blocks how long after the earliest of them the sweep came.
	Deposits []evmindex.TxKey
	Senders  []evmindex.AddrID
	Received chain.Amount
	Blocks   uint64
	firsts   []evmindex.TxKey // each sender's first payment
}

// DepositAddress is an address that behaves as an exchange deposit
// address: it received payments from others and forwarded (nearly) all of
// it to an exchange hot wallet within a few blocks.
type DepositAddress struct {
	Addr evmindex.AddrID
	// HotWallet is the hot wallet of its first sweep; HotWallets every hot
	// wallet it swept to.
	HotWallet  evmindex.AddrID
	HotWallets []evmindex.AddrID
	// Sweeps are the sweeps' transactions in chain order; SweepDetails the
	// sweeps with their amounts.
	Sweeps       []evmindex.TxKey
	SweepDetails []Sweep
	// Senders paid into it (payments that were swept), in order of their
	// first payment; Deposits are those payments' transactions.
	Senders  []evmindex.AddrID
	Deposits []evmindex.TxKey
	Assets   []evmindex.AssetID
	// PartialPayments counts payments to a hot wallet that left more than
	// MaxResidualPct behind (not sweeps).
	PartialPayments int
	// Confidence, 0..100: 40 for one sweep, +15 for each further sweep up
	// to two, +15 when in every asset the sweeps forwarded at least
	// SharePct percent of what others paid in, +10 when every sweep came
	// within FastSweepBlocks blocks, +5 when it swept more than one asset,
	// −15 for each partial payment to a hot wallet; between 5 and 100.
	Confidence  int
	Params      map[string]any
	Explanation string
}

// UserLink links the senders of one deposit address as one exchange user.
type UserLink struct {
	Deposit   evmindex.AddrID
	HotWallet evmindex.AddrID
	Senders   []evmindex.AddrID
	// Txs are the senders' payments into the deposit address.
	Txs []evmindex.TxKey
	// Confidence, 0..100: the deposit address's, times 3/4 (rounded down):
	// the link rests on the deposit address being one customer's, and
	// deposit addresses are sometimes reused or shared.
	Confidence  int
	Explanation string
}

// Deposits is what DepositAddresses found.
type Deposits struct {
	Addresses []DepositAddress
	Links     []UserLink
}

// DepositAddresses finds, in blocks from..to, the addresses that behave as
// deposit addresses of the exchange whose hot wallets are given, per asset
// (ether and each token):
//
//   - A sweep is a transfer from the address to a hot wallet that leaves at
//     most MaxResidualPct percent of the amount swept on the address (its
//     balance after the transaction), after at least one payment from
//     another address (not a hot wallet) since the previous sweep, the
//     earliest of them at most MaxSweepBlocks blocks before.
//   - An address is reported when it made at least MinSweeps sweeps and,
//     in each asset it swept, paid no one but hot wallets in the range
//     (fees aside). Hot wallets themselves are never reported.
//
// Senders of one deposit address are linked as one exchange user
// (UserLink) when there are two or more. Results are in address id order
// and deterministic.
func DepositAddresses(rd EVMReader, hot []evmindex.AddrID, from, to uint64, o DepositOptions) (*Deposits, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if len(hot) == 0 {
		return nil, fmt.Errorf("detect: %w: no hot wallets", chain.ErrInvalid)
	}
	if from > to {
		return nil, fmt.Errorf("detect: %w: range %d..%d", chain.ErrInvalid, from, to)
	}
	hotSet := set(hot)
	cands := map[holdingKey]bool{}
	err := rd.Scan(from, to, func(t *evmindex.Tx) error {
		for i := range t.Moves {
			m := &t.Moves[i]
			if transfer(m) && hotSet[m.To] && !hotSet[m.From] {
				cands[holdingKey{m.From, m.Asset}] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	keys := make([]holdingKey, 0, len(cands))
	for k := range cands {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b holdingKey) int { return cmp.Or(cmp.Compare(a.addr, b.addr), cmp.Compare(a.asset, b.asset)) })

	n := newNamer(rd)
	out := &Deposits{}
	for i := 0; i < len(keys); {
		addr := keys[i].addr
		var sweeps []Sweep
		partial := 0
		var assets []evmindex.AssetID
		for ; i < len(keys) && keys[i].addr == addr; i++ {
			sw, part, ok, err := assetSweeps(rd, hotSet, keys[i], from, to, &o)
			if err != nil {
				return nil, err
			}
			if ok && len(sw) > 0 {
				sweeps = append(sweeps, sw...)
				partial += part
				assets = append(assets, keys[i].asset)
			}
		}
		if len(sweeps) < o.MinSweeps {
			continue
		}
		d, err := depositAddress(n, addr, sweeps, assets, partial, &o)
		if err != nil {
			return nil, err
		}
		out.Addresses = append(out.Addresses, d)
		if len(d.Senders) >= 2 {
			l, err := userLink(n, &d)
			if err != nil {
				return nil, err
			}
			out.Links = append(out.Links, l)
		}
	}
	return out, nil
}

// payment is a payment from another address awaiting a sweep.
type payment struct {
	key    evmindex.TxKey
	sender evmindex.AddrID
	amt    chain.Amount
}

// assetSweeps reads one address's ledger of one asset in the range and
// returns its sweeps and partial payments to hot wallets; ok is false when
// it paid anyone else than a hot wallet.
func assetSweeps(rd EVMReader, hot map[evmindex.AddrID]bool, k holdingKey, from, to uint64, o *DepositOptions) ([]Sweep, int, bool, error) {
	var entries []evmindex.Entry
	err := rd.Ledger(k.addr, k.asset, evmindex.MakeTxKey(from, evmindex.SlotOpening), func(e evmindex.Entry) bool {
		if e.Key.Height() > to {
			return false
		}
		entries = append(entries, e)
		return true
	})
	if err != nil {
		return nil, 0, false, err
	}
	var (
		sweeps  []Sweep
		pending []payment
		partial int
	)
	for i := 0; i < len(entries); {
		key := entries[i].Key
		toHot := map[evmindex.AddrID]*sum{}
		var hots []evmindex.AddrID
		var bal evmindex.Balance
		for ; i < len(entries) && entries[i].Key == key; i++ {
			e := &entries[i]
			bal = e.Balance
			if e.Kind != evmindex.KindValue && e.Kind != evmindex.KindInternal && e.Kind != evmindex.KindToken {
				continue
			}
			if e.Counterparty == k.addr || e.Counterparty == 0 {
				continue
			}
			switch {
			case e.In && !hot[e.Counterparty]:
				pending = append(pending, payment{key, e.Counterparty, e.Amount})
			case !e.In && hot[e.Counterparty]:
				s := toHot[e.Counterparty]
				if s == nil {
					s = &sum{}
					toHot[e.Counterparty] = s
					hots = append(hots, e.Counterparty)
				}
				s.add(e.Amount)
			case !e.In:
				return nil, 0, false, nil // it paid someone else: not an exchange's deposit address
			}
		}
		if len(hots) == 0 {
			continue
		}
		var swept sum
		for _, h := range hots {
			swept.add(toHot[h].v)
		}
		residual := bal.Abs
		if bal.Neg {
			residual = chain.Amount{}
		}
		if swept.over || len(pending) == 0 || !withinPct(residual, swept.v, o.MaxResidualPct) ||
			key.Height()-pending[0].key.Height() > o.MaxSweepBlocks {
			partial++
			continue
		}
		sw := Sweep{Tx: key, Asset: k.asset, HotWallet: hots[0], Amount: swept.v, Residual: residual, Blocks: key.Height() - pending[0].key.Height()}
		var rec sum
		for _, p := range pending {
			if len(sw.Deposits) == 0 || sw.Deposits[len(sw.Deposits)-1] != p.key {
				sw.Deposits = append(sw.Deposits, p.key)
			}
			if !slices.Contains(sw.Senders, p.sender) {
				sw.Senders = append(sw.Senders, p.sender)
				sw.firsts = append(sw.firsts, p.key)
			}
			rec.add(p.amt)
		}
		if rec.over {
			partial++
			continue
		}
		sw.Received = rec.v
		sweeps = append(sweeps, sw)
		pending = nil
	}
	return sweeps, partial, true, nil
}

// withinPct reports whether a ≤ pct percent of b, exactly.
func withinPct(a, b chain.Amount, pct uint64) bool {
	l := new(big.Int).Mul(a.Big(), big.NewInt(100))
	r := new(big.Int).Mul(b.Big(), new(big.Int).SetUint64(pct))
	return l.Cmp(r) <= 0
}

// depositAddress scores and explains one deposit address.
func depositAddress(n *namer, addr evmindex.AddrID, sweeps []Sweep, assets []evmindex.AssetID, partial int, o *DepositOptions) (DepositAddress, error) {
	slices.SortStableFunc(sweeps, func(a, b Sweep) int { return cmp.Or(cmp.Compare(a.Tx, b.Tx), cmp.Compare(a.Asset, b.Asset)) })
	d := DepositAddress{Addr: addr, HotWallet: sweeps[0].HotWallet, SweepDetails: sweeps, Assets: assets, PartialPayments: partial}
	type pay struct {
		key    evmindex.TxKey
		sender evmindex.AddrID
	}
	var pays []pay
	share := true
	fast := true
	var slowest uint64
	minShare := uint64(100)
	for _, a := range assets {
		var rec, swept sum
		for _, s := range sweeps {
			if s.Asset == a {
				rec.add(s.Received)
				swept.add(s.Amount)
			}
		}
		p := uint64(100)
		if !rec.over && !swept.over {
			p = pctOf(swept.v, rec.v)
		}
		minShare = min(minShare, p)
		share = share && p >= o.SharePct
	}
	for _, s := range sweeps {
		if len(d.Sweeps) == 0 || d.Sweeps[len(d.Sweeps)-1] != s.Tx {
			d.Sweeps = append(d.Sweeps, s.Tx)
		}
		d.HotWallets = addUnique(d.HotWallets, s.HotWallet)
		slowest = max(slowest, s.Blocks)
		fast = fast && s.Blocks <= o.FastSweepBlocks
		d.Deposits = append(d.Deposits, s.Deposits...)
		for j, snd := range s.Senders {
			pays = append(pays, pay{s.firsts[j], snd})
		}
	}
	slices.Sort(d.Deposits)
	d.Deposits = slices.Compact(d.Deposits)
	slices.SortStableFunc(pays, func(a, b pay) int { return cmp.Compare(a.key, b.key) })
	for _, p := range pays {
		d.Senders = addUnique(d.Senders, p.sender)
	}

	c := 40 + 15*min(len(sweeps)-1, 2)
	if share {
		c += 15
	}
	if fast {
		c += 10
	}
	if len(assets) > 1 {
		c += 5
	}
	c -= 15 * partial
	d.Confidence = max(5, min(100, c))
	d.Params = map[string]any{"sweeps": len(sweeps), "min_sweeps": o.MinSweeps, "max_sweep_blocks": o.MaxSweepBlocks,
		"slowest_sweep_blocks": slowest, "max_residual_pct": o.MaxResidualPct, "share_swept_pct": minShare, "share_pct": o.SharePct,
		"fast_sweep_blocks": o.FastSweepBlocks, "all_fast": fast, "assets": len(assets), "partial_payments": partial}

	self, err := n.addr(addr)
	if err != nil {
		return d, err
	}
	senders, err := n.addrList(d.Senders)
	if err != nil {
		return d, err
	}
	var parts []string
	for _, s := range sweeps {
		h, err := n.tx(s.Tx)
		if err != nil {
			return d, err
		}
		hw, err := n.addr(s.HotWallet)
		if err != nil {
			return d, err
		}
		amt, err := n.amount(s.Amount, s.Asset)
		if err != nil {
			return d, err
		}
		recv, err := n.amount(s.Received, s.Asset)
		if err != nil {
			return d, err
		}
		left, err := n.amount(s.Residual, s.Asset)
		if err != nil {
			return d, err
		}
		parts = append(parts, fmt.Sprintf("transaction %s in block %d sent %s to the hot wallet %s, %s after the earliest of the %s it forwarded (%s in all), leaving %s",
			h, s.Tx.Height(), amt, hw, plural(int(s.Blocks), "block"), plural(len(s.Deposits), "payment"), recv, left))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s received payments from %s (%s) and forwarded them to the exchange's hot wallet in %s: %s. ",
		self, plural(len(d.Senders), "address"), senders, plural(len(sweeps), "sweep"), strings.Join(parts, "; "))
	fmt.Fprintf(&b, "Each sweep came at most %d blocks after the payments it forwarded and left at most %d%% of the amount swept behind, and in the swept assets the address paid no one but the exchange's hot wallets. ",
		o.MaxSweepBlocks, o.MaxResidualPct)
	b.WriteString("Exchanges give each customer an address of their own and move what arrives there to a hot wallet; this is that pattern, so the address is most likely a deposit address of the exchange, and whoever paid into it paid into an exchange account. ")
	fmt.Fprintf(&b, "Confidence %d of 100 (40 for one sweep, +15 per further sweep up to two, +15 when at least %d%% of the payments was forwarded in every asset, +10 when every sweep came within %d blocks, +5 for more than one asset, −15 per partial payment to a hot wallet)",
		d.Confidence, o.SharePct, o.FastSweepBlocks)
	if partial > 0 {
		fmt.Fprintf(&b, "; it also made %d payment(s) to a hot wallet that left more behind, which lowers it", partial)
	}
	b.WriteString(".")
	d.Explanation = b.String()
	return d, nil
}

// plural writes "1 block", "2 blocks", "2 addresses".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// userLink links a deposit address's senders.
func userLink(n *namer, d *DepositAddress) (UserLink, error) {
	l := UserLink{Deposit: d.Addr, HotWallet: d.HotWallet, Senders: slices.Clone(d.Senders), Txs: slices.Clone(d.Deposits), Confidence: d.Confidence * 3 / 4}
	senders, err := n.addrList(d.Senders)
	if err != nil {
		return l, err
	}
	dep, err := n.addr(d.Addr)
	if err != nil {
		return l, err
	}
	l.Explanation = fmt.Sprintf("%s all paid into %s, which behaves as an exchange deposit address (confidence %d of 100). "+
		"An exchange gives a deposit address to one customer, so these %d addresses most likely belong to one exchange user, "+
		"or paid that user. Caveat: exchanges may reuse a deposit address for another customer or share one, and anyone can pay into it, "+
		"so the link should be confirmed with the exchange's records. Confidence %d of 100 (the deposit address's, times 3/4).",
		senders, dep, d.Confidence, len(d.Senders), l.Confidence)
	return l, nil
}
