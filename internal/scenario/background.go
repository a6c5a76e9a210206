package scenario

// The background economy: what users, merchants, pools and the exchange do
// in every block, whatever the scenario.

import (
	"github.com/btcsuite/btcd/wire"
)

// Block capacity kept free for the coinbase and header, and for the
// largest transaction the economy plans (a 150-input P2PKH consolidation
// weighs < 90,000; a 150-output payout costs < 700 sigop units).
const (
	maxBlockWeight  = 4_000_000
	maxBlockSigOps  = 80_000
	weightReserve   = 4_000 + 100_000
	sigOpsReserve   = 100 + 1_000
	maxTxsPerBlock  = 2_500
	maxInputs       = 150
	maxPayoutOuts   = 150
	sweepEvery      = 3
	consolidateAt   = 12
	merchantConsAt  = 20
	hotConsolidate  = 100
	exchangeMinHot  = 10 * 100_000_000
	poolPayoutMin   = 100_000_000
	withdrawMinSats = 200_000
	withdrawMaxSats = 50_000_000
)

// roundValues are payment amounts a person types in BTC.
var roundValues = []uint64{
	10_000, 20_000, 25_000, 50_000, 100_000, 200_000, 250_000, 500_000,
	1_000_000, 2_000_000, 2_500_000, 5_000_000, 10_000_000, 20_000_000,
	25_000_000, 50_000_000, 100_000_000, 200_000_000, 500_000_000,
}

// fiatValues are round prices in US cents: paid in BTC at the day's rate,
// they are not round in satoshis.
var fiatValues = []uint64{
	500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000,
	200000, 500000, 1000000,
}

// full reports whether the block being planned has no room for another
// background transaction.
func (b *blockPlan) full() bool {
	return b.weight > maxBlockWeight-weightReserve || b.sigops > maxBlockSigOps-sigOpsReserve ||
		len(b.txs) >= maxTxsPerBlock
}

// add appends a planned transaction to the block.
func (b *blockPlan) add(t *txb) {
	t.seq = len(b.txs)
	b.txs = append(b.txs, t)
	b.weight += t.weight
	b.sigops += t.sigops
	b.fees += t.fee
}

// background plans up to quota transactions of the background economy in
// the current block and returns how many it planned.
func (g *generator) background(quota int) int {
	b := g.blk
	made := 0
	add := func(t *txb) bool {
		if t == nil {
			return false
		}
		b.add(t)
		made++
		return true
	}
	room := func() bool { return made < quota && !b.full() }

	// Miners pay out their matured rewards.
	if room() {
		add(g.earlyPayout())
	}
	for _, pi := range g.pools {
		if !room() {
			break
		}
		add(g.poolPayout(g.wallets[pi]))
	}
	// The exchange sweeps deposits into its hot wallet; a sweep the
	// scenario waits for is made even when the budget is spent.
	due := b.height%sweepEvery == 0 && len(g.exchange.deposits) > 0
	if due && (room() || (g.scen != nil && g.scen.waitsForSweep() && !b.full())) {
		for _, t := range g.sweep() {
			if made < quota {
				add(t)
			} else {
				t.forced = true
				b.add(t)
			}
		}
	}
	if room() && len(g.exchange.utxos) > hotConsolidate {
		add(g.consolidate(g.exchange))
	}
	if room() {
		add(g.withdrawals(quota))
	}
	// Users and merchants.
	for tries := 0; room() && tries < 4*quota+16 && len(g.funded) > 0; tries++ {
		w := g.wallets[g.funded[g.rng.IntN(len(g.funded))]]
		add(g.userAction(w))
	}
	return made
}

// earlyPayout spends one of the early miner's P2PK coinbase coins in a
// batch payout, like the first transactions of 2009.
func (g *generator) earlyPayout() *txb {
	w := g.early
	if len(w.utxos) == 0 || w.balance < poolPayoutMin {
		return nil
	}
	return g.payout(w, 10+g.rng.IntN(30))
}

// poolPayout pays a pool's matured rewards to its members.
func (g *generator) poolPayout(w *wallet) *txb {
	if w.balance < poolPayoutMin {
		return nil
	}
	return g.payout(w, 10+g.rng.IntN(maxPayoutOuts-20))
}

// payout plans a batch payment of 60–95% of w's balance to n users, with
// part sold to the exchange.
func (g *generator) payout(w *wallet, n int) *txb {
	total := w.balance / 100 * uint64(60+g.rng.IntN(36))
	pays := make([]payment, 0, n+1)
	if g.rng.IntN(100) < 60 {
		// The miner sells part of its reward at the exchange.
		v := total / 100 * uint64(20+g.rng.IntN(21))
		pays = append(pays, payment{addr: g.depositAddr(w), value: v})
		total -= v
	}
	weights := make([]uint64, n)
	var sum uint64
	for i := range weights {
		weights[i] = logUniform(g.rng, 1, 1000)
		sum += weights[i]
	}
	for i := range weights {
		v := total / sum * weights[i]
		if v < 10*dust {
			continue
		}
		u := g.wallets[g.users[g.rng.IntN(len(g.users))]]
		pays = append(pays, payment{addr: g.receiveAddr(u), value: v})
	}
	if len(pays) == 0 {
		return nil
	}
	g.rng.Shuffle(len(pays), func(i, j int) { pays[i], pays[j] = pays[j], pays[i] })
	return g.payTo(w, txBatch, pays, 50)
}

// depositAddr returns the exchange deposit address of customer w, making
// it on first use.
func (g *generator) depositAddr(w *wallet) *addrInfo {
	if w.deposit == nil {
		a := g.newAddr(g.exchange, stP2WPKH)
		a.role = roleDeposit
		a.customer = w.idx
		w.deposit = a
	}
	return w.deposit
}

// sweep moves confirmed deposits into the exchange's hot wallet, at most
// maxInputs per transaction, while the block has room; the rest wait.
func (g *generator) sweep() []*txb {
	ex := g.exchange
	var out []*txb
	weight, sigops := g.blk.weight, g.blk.sigops
	for len(ex.deposits) > 0 && weight <= maxBlockWeight-weightReserve && sigops <= maxBlockSigOps-sigOpsReserve {
		n := min(len(ex.deposits), maxInputs-1)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		hot := ex.hot[g.rng.IntN(len(ex.hot))]
		t := g.sweepTx(ex, idx, hot, g.feeRate(ex))
		if t == nil {
			break // dust deposits wait until more arrive
		}
		out = append(out, t)
		weight += t.weight
		sigops += t.sigops
	}
	return out
}

// sweepTx spends the deposits idx together with the hot wallet's smallest
// coin, if it has one, to the hot address: exchanges consolidate their
// small hot-wallet coins into sweeps, and that co-spend is what ties
// deposit addresses to the hot wallet's cluster on a real chain.
func (g *generator) sweepTx(ex *wallet, idx []int, hot *addrInfo, rate uint32) *txb {
	var s sizer
	var sum uint64
	for _, i := range idx {
		s.addIn(ex.deposits[i].addr.typ)
		sum += ex.deposits[i].value
	}
	own := -1
	for i, u := range ex.utxos {
		if own < 0 || u.value < ex.utxos[own].value {
			own = i
		}
	}
	if own >= 0 {
		s.addIn(ex.utxos[own].addr.typ)
		sum += ex.utxos[own].value
	}
	s.addOut(hot.typ.scriptLen())
	fee := feeFor(&s, rate)
	if sum < fee+dust {
		return nil
	}
	ins := removeCoins(&ex.deposits, idx)
	if own >= 0 {
		ins = append(ins, g.spend(ex, []int{own})...)
	}
	return g.build(ex, txSweep, ins, []payment{{addr: hot, value: sum - fee}}, 0, nil, fee, rate, s)
}

// withdrawals plans one batch of customer withdrawals from the hot wallet.
func (g *generator) withdrawals(quota int) *txb {
	ex := g.exchange
	if ex.balance < exchangeMinHot || len(g.customers) == 0 {
		return nil
	}
	n := 1 + g.rng.IntN(1+min(quota/40, 60))
	budget := ex.balance / 4
	pays := make([]payment, 0, n)
	var total uint64
	for range n {
		v := logUniform(g.rng, withdrawMinSats, withdrawMaxSats)
		if total+v > budget {
			break
		}
		u := g.wallets[g.customers[g.rng.IntN(len(g.customers))]]
		pays = append(pays, payment{addr: g.receiveAddr(u), value: v})
		total += v
	}
	if len(pays) == 0 {
		return nil
	}
	return g.payTo(ex, txWithdrawal, pays, 20)
}

// consolidate merges up to maxInputs of w's coins into one fresh address
// at a low fee rate.
func (g *generator) consolidate(w *wallet) *txb {
	n := min(len(w.utxos), maxInputs)
	if n < 2 {
		return nil
	}
	idx := g.coinOrder(w, w.utxos)[:n]
	t := g.freshType(w)
	rate := min(g.feeRate(w), 2000)
	return g.sendAll(w, &w.utxos, txConsolidation, idx, t, func() *addrInfo { return g.newAddr(w, t) }, rate)
}

// userAction plans what a funded user or merchant does now.
func (g *generator) userAction(w *wallet) *txb {
	r := g.rng.IntN(1000)
	switch {
	case w.kind == kindMerchant && len(w.utxos) >= merchantConsAt:
		return g.consolidate(w)
	case len(w.utxos) >= consolidateAt && r < 300:
		return g.consolidate(w)
	case w.customer && (r >= 300 && r < 420 || w.kind == kindMerchant && r < 700):
		return g.deposit(w)
	case r >= 960:
		return g.batchPayment(w)
	}
	return g.payment(w)
}

// deposit sends part or all of w's coins to its exchange deposit address.
func (g *generator) deposit(w *wallet) *txb {
	to := g.depositAddr(w)
	if g.rng.IntN(100) < 40 {
		// "Send max": no change.
		n := min(len(w.utxos), 50)
		idx := g.coinOrder(w, w.utxos)[:n]
		return g.sendAll(w, &w.utxos, txDeposit, idx, to.typ, func() *addrInfo { return to }, g.feeRate(w))
	}
	v := w.balance / 100 * uint64(20+g.rng.IntN(70))
	if v < 10_000 {
		return nil
	}
	return g.payTo(w, txDeposit, []payment{{addr: to, value: v}}, 100)
}

// payValue draws the amount of a payment by w: round in BTC, round in
// dollars, or arbitrary.
func (g *generator) payValue(w *wallet) uint64 {
	avail := w.balance / 100 * 85
	if avail < 10_000 {
		return 0
	}
	switch r := g.rng.IntN(100); {
	case r < 30:
		n := 0
		for n < len(roundValues) && roundValues[n] <= avail {
			n++
		}
		if n > 0 {
			return roundValues[g.rng.IntN(n)]
		}
	case r < 60:
		cents := fiatValues[g.rng.IntN(len(fiatValues))]
		v := cents * 100_000_000 / g.price
		if v >= 10_000 && v <= avail {
			return v
		}
	}
	return logUniform(g.rng, 10_000, avail)
}

// recipient picks who w pays: usually another user, sometimes a merchant.
func (g *generator) recipient(w *wallet) *wallet {
	for range 4 {
		var u *wallet
		if g.rng.IntN(100) < 30 && len(g.merchants) > 0 {
			u = g.wallets[g.merchants[g.rng.IntN(len(g.merchants))]]
		} else {
			u = g.wallets[g.users[g.rng.IntN(len(g.users))]]
		}
		if u != w {
			return u
		}
	}
	return nil
}

// externalAddr returns a fresh address of the external entity: script
// types that the simulated wallets pay to but never spend.
func (g *generator) externalAddr(t scriptType) *addrInfo {
	return g.newAddr(g.external, t)
}

// payment plans a payment of w to one recipient.
func (g *generator) payment(w *wallet) *txb {
	if len(g.forceExternal) == 0 && g.rng.IntN(100) < 6 {
		return g.sendMax(w)
	}
	v := g.payValue(w)
	if v == 0 {
		return nil
	}
	var to *addrInfo
	r := g.rng.IntN(1000)
	switch {
	case len(g.forceExternal) > 0:
		to = g.externalAddr(g.forceExternal[0])
	case r < 6:
		to = g.externalAddr(stP2SH)
	case r < 9:
		to = g.externalAddr(stP2WSH)
	case r < 10:
		to = g.externalAddr(stBareMS)
	default:
		u := g.recipient(w)
		if u == nil {
			return nil
		}
		to = g.receiveAddr(u)
	}
	pays := []payment{{addr: to, value: v}}
	if g.forcedOpReturn || g.rng.IntN(1000) < 15 {
		pays = append(pays, payment{script: g.opReturn(20 + g.rng.IntN(21))})
	}
	t := g.payTo(w, txPayment, pays, 100)
	if t != nil {
		if len(g.forceExternal) > 0 {
			g.forceExternal = g.forceExternal[1:]
		}
		g.forcedOpReturn = false
	}
	return t
}

// sendMax plans a payment of one to three whole coins of w to another
// wallet, without change (a "send max", or an exact coin match).
func (g *generator) sendMax(w *wallet) *txb {
	u := g.recipient(w)
	if u == nil || len(w.utxos) == 0 {
		return nil
	}
	n := min(len(w.utxos), 1+g.rng.IntN(3))
	idx := g.coinOrder(w, w.utxos)[:n]
	typ := g.freshType(u)
	if u.reuse && u.recv != nil {
		typ = u.recv.typ
	}
	to := func() *addrInfo {
		if u.reuse && u.recv != nil {
			return u.recv
		}
		a := g.newAddr(u, typ)
		if u.reuse {
			u.recv = a
		}
		return a
	}
	return g.sendAll(w, &w.utxos, txPayment, idx, typ, to, g.feeRate(w))
}

// batchPayment plans a payment of w to several recipients at once.
func (g *generator) batchPayment(w *wallet) *txb {
	v := g.payValue(w)
	n := 2 + g.rng.IntN(7)
	if v/uint64(n) < 10_000 {
		return g.payment(w)
	}
	pays := make([]payment, 0, n)
	for range n {
		u := g.recipient(w)
		if u == nil {
			continue
		}
		pays = append(pays, payment{addr: g.receiveAddr(u), value: logUniform(g.rng, 10_000, v/uint64(n))})
	}
	if len(pays) == 0 {
		return nil
	}
	return g.payTo(w, txBatch, pays, 100)
}

// applyOutputs credits the outputs of a finished transaction to their
// owners. Coinbase outputs wait for maturity.
func (g *generator) applyOutputs(t *txb, height int32) {
	for i, a := range t.outAddr {
		if a == nil {
			continue
		}
		w := g.wallets[a.wallet]
		if w.kind == kindExternal {
			continue
		}
		u := utxo{op: wire.OutPoint{Hash: t.txid, Index: uint32(i)}, value: uint64(t.msg.TxOut[i].Value), addr: a, height: height}
		switch {
		case t.kind == txCoinbase:
			if !g.dormant(a) {
				w.immature = append(w.immature, u)
			}
		case a.role == roleDeposit:
			w.deposits = append(w.deposits, u)
		default:
			w.utxos = append(w.utxos, u)
			w.balance += u.value
			g.touch(w)
		}
	}
}

// dormant reports whether a coinbase output stays unspent forever (the
// early miner's later P2PK coins, like the never-moved coins of 2009).
func (g *generator) dormant(a *addrInfo) bool {
	return a.typ == stP2PK && a.index >= earlySpent
}

// mature moves coinbase outputs that reached maturity at height into
// their miners' spendable coins.
func (g *generator) mature(height int32) {
	for _, w := range g.miners {
		n := 0
		for n < len(w.immature) && w.immature[n].height+coinbaseMaturity <= height {
			u := w.immature[n]
			w.utxos = append(w.utxos, u)
			w.balance += u.value
			n++
		}
		if n > 0 {
			w.immature = append(w.immature[:0], w.immature[n:]...)
		}
	}
}
