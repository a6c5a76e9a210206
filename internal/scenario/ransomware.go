package scenario

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/btcsuite/btcd/wire"
)

// ransomUSD are the ransom demands, in dollars.
var ransomUSD = []uint64{25_000, 40_000, 50_000, 75_000, 100_000, 150_000, 250_000}

const (
	coinJoinDenomination = 10_000_000 // 0.1 BTC, like Wasabi 1.0
	coordinatorFeePerMil = 3          // 0.3% of the denomination per participant
)

// Phases of the ransomware scenario.
const (
	phFund = iota
	phRansom
	phConsolidate
	phPeel
	phCoinJoin
	phSweep
)

// ransomware is the state machine of the ransomware scenario. Each phase
// waits for its earliest economy block and for its preconditions, so the
// story stays intact whatever the background economy does.
type ransomware struct {
	par        RansomwareParams
	attacker   *wallet
	victims    []*wallet
	mules      []*wallet
	parts      []*wallet // CoinJoin participants besides the attacker
	coord      *wallet
	amounts    []uint64
	toExchange []bool

	phase   int
	sub     int
	nextAt  int  // earliest economy block of the next action
	chain   *txb // transaction holding the laundered coin
	chainAt int  // its output index
	pend    []func()
	deps    []wire.OutPoint // outpoints of peels paid to the exchange
	truth   RansomwareTruth
	started int
	err     error
}

// chainOutpoint is the outpoint of the laundered coin.
func (s *ransomware) chainOutpoint() wire.OutPoint {
	return wire.OutPoint{Hash: s.chain.txid, Index: uint32(s.chainAt)}
}

func newRansomware(g *generator) *ransomware {
	r := g.rng
	s := &ransomware{}
	s.par = RansomwareParams{
		Victims:              5 + r.IntN(4),
		PeelHops:             6 + r.IntN(7),
		Mules:                2,
		CoinJoinParticipants: 5,
		CoinJoinDenomination: coinJoinDenomination,
	}
	s.par.ExchangePeels = max(2, s.par.PeelHops/3)
	g.par.Ransomware = &s.par

	s.attacker = g.newWallet("attacker", kindAttacker)
	a := s.attacker
	a.mixed, a.reuse, a.changeToRecv, a.matchChange, a.changeLast = false, false, false, false, false
	a.sel, a.customer = selLargest, false
	switch x := r.IntN(100); {
	case x < 60:
		a.typ = stP2WPKH
	case x < 85:
		a.typ = stP2TR
	default:
		a.typ = stP2PKH
	}
	for i := range s.par.Mules {
		m := g.newWallet("attacker-mule-"+strconv.Itoa(i+1), kindAttacker)
		m.passive() // an exchange account only: it holds no keys
		m.customer = true
		s.mules = append(s.mules, m)
	}
	for i := range s.par.Victims {
		v := g.newWallet("victim-"+strconv.Itoa(i+1), kindVictim)
		s.victims = append(s.victims, v)
		s.truth.Victims = append(s.truth.Victims, v.id)
	}
	s.coord = g.newWallet("coinjoin-coordinator", kindCoinJoin)
	s.coord.typ, s.coord.reuse, s.coord.mixed, s.coord.version = stP2WPKH, true, false, 1
	s.coord.recv = g.newAddr(s.coord, stP2WPKH)
	for i := range s.par.CoinJoinParticipants - 1 {
		w := g.newWallet("coinjoin-participant-"+strconv.Itoa(i+1), kindCoinJoin)
		w.reuse, w.changeToRecv, w.mixed = false, false, false
		s.parts = append(s.parts, w)
	}
	s.toExchange = make([]bool, s.par.PeelHops)
	for _, i := range r.Perm(s.par.PeelHops)[:s.par.ExchangePeels] {
		s.toExchange[i] = true
	}
	s.started = max(8, g.par.PlannedBlocks*15/100)
	s.nextAt = s.started
	s.truth.Attacker = a.id
	s.truth.RansomAddresses = []string{}
	s.truth.RansomPayments = []RansomPayment{}
	s.truth.ExchangeDeposits = []ExchangeDeposit{}
	s.truth.ExchangeSweepTxids = []string{}
	s.truth.PeelChain = []PeelHop{}
	return s
}

// done reports whether the story is complete: every phase ran and every
// peel deposited at the exchange was swept.
func (s *ransomware) done() bool { return s.phase == phSweep && !s.waitsForSweep() }

// waitsForSweep reports whether a peel deposit has not been swept yet.
func (s *ransomware) waitsForSweep() bool {
	for _, d := range s.truth.ExchangeDeposits {
		if d.SweepTxid == "" {
			return true
		}
	}
	return false
}

// step plans the scenario's transactions of economy block econ and
// returns how many it planned.
func (s *ransomware) step(g *generator, econ int) (int, error) {
	if econ < s.nextAt || s.phase == phSweep {
		return 0, nil
	}
	if econ > s.started+1000 {
		return 0, fmt.Errorf("scenario: ransomware stuck in phase %d at economy block %d (generator bug)", s.phase, econ)
	}
	var t *txb
	switch s.phase {
	case phFund:
		t = s.fund(g)
	case phRansom:
		t = s.ransom(g)
	case phConsolidate:
		t = s.consolidate(g)
	case phPeel:
		t = s.peel(g)
	case phCoinJoin:
		t = s.coinJoin(g)
	}
	if s.err != nil {
		return 0, s.err
	}
	if t == nil {
		return 0, nil // preconditions not met yet: retry next block
	}
	t.scen = true
	g.blk.add(t)
	return 1, nil
}

// fund: victims buy the ransom at the exchange, CoinJoin participants
// withdraw their coins, in one batch withdrawal.
func (s *ransomware) fund(g *generator) *txb {
	ex := g.exchange
	amounts := make([]uint64, 0, len(s.victims))
	values := make([]uint64, 0, len(s.victims)+len(s.parts))
	var total uint64
	for range s.victims {
		// The demand, negotiated down by up to 30%, in round $500 steps.
		usd := ransomUSD[g.rng.IntN(len(ransomUSD))] * uint64(70+g.rng.IntN(31)) / 100 / 500 * 500
		amt := usd * 100 * 100_000_000 / g.price
		v := amt + logUniform(g.rng, 200_000, 2_000_000)
		amounts = append(amounts, amt)
		values = append(values, v)
		total += v
	}
	for range s.parts {
		v := coinJoinDenomination + logUniform(g.rng, 2_000_000, 40_000_000)
		values = append(values, v)
		total += v
	}
	if ex.balance < total+100_000_000 {
		return nil
	}
	pays := make([]payment, 0, len(values))
	for i, w := range append(slices.Clip(s.victims), s.parts...) {
		pays = append(pays, payment{addr: g.receiveAddr(w), value: values[i]})
	}
	g.rng.Shuffle(len(pays), func(i, j int) { pays[i], pays[j] = pays[j], pays[i] })
	t := g.payTo(ex, txWithdrawal, pays, 100)
	if t == nil {
		return nil
	}
	s.amounts = amounts
	s.phase, s.nextAt = phRansom, g.econ()+1+g.rng.IntN(2)
	return t
}

// ransom: the next victim pays its ransom to a fresh attacker address.
func (s *ransomware) ransom(g *generator) *txb {
	i := s.sub
	v := s.victims[i]
	to := g.newAddr(s.attacker, s.attacker.typ)
	amt := s.amounts[i]
	t := g.payTo(v, txRansom, []payment{{addr: to, value: amt}}, 20)
	if t == nil {
		return nil
	}
	vout := uint32(slices.Index(t.outAddr, to))
	s.pend = append(s.pend, func() {
		s.truth.RansomAddresses = append(s.truth.RansomAddresses, to.str)
		s.truth.RansomPayments = append(s.truth.RansomPayments, RansomPayment{
			Txid: t.txid.String(), Height: int64(g.blk.height), Victim: v.id, Address: to.str, Vout: vout, Value: amt,
		})
	})
	s.sub++
	s.nextAt = g.econ() + 1 + g.rng.IntN(3)
	if s.sub == len(s.victims) {
		s.phase, s.sub = phConsolidate, 0
	}
	return t
}

// consolidate: the attacker merges every ransom into one address.
func (s *ransomware) consolidate(g *generator) *txb {
	a := s.attacker
	if len(a.utxos) != len(s.victims) {
		return nil // a ransom is not confirmed yet
	}
	idx := make([]int, len(a.utxos))
	for i := range idx {
		idx[i] = i
	}
	var to *addrInfo
	t := g.sendAll(a, &a.utxos, txConsolidation, idx, a.typ, func() *addrInfo { to = g.newAddr(a, a.typ); return to }, g.feeRate(a))
	if t == nil {
		return nil
	}
	s.chain, s.chainAt = t, 0
	s.pend = append(s.pend, func() {
		s.truth.ConsolidationTxid = t.txid.String()
		s.truth.ConsolidationAddress = to.str
		s.truth.ConsolidationValue = uint64(t.msg.TxOut[0].Value)
	})
	s.phase, s.nextAt = phPeel, g.econ()+1+g.rng.IntN(2)
	return t
}

// peel: one hop of the peel chain. A small peel goes to an exchange
// deposit address of a mule account or to someone else; the remainder to a
// fresh attacker address.
func (s *ransomware) peel(g *generator) *txb {
	a := s.attacker
	if len(a.utxos) != 1 || a.utxos[0].op != s.chainOutpoint() {
		return nil
	}
	hop := s.sub + 1
	rem := a.utxos[0].value
	v := rem / 10_000 * uint64(300+g.rng.IntN(900)) / 10_000 * 10_000 // 3–12%, to 0.0001 BTC
	var to *addrInfo
	toEx := s.toExchange[s.sub]
	var mule *wallet
	if toEx {
		mule = s.mules[len(s.truth.ExchangeDeposits)%len(s.mules)]
		to = g.depositAddr(mule)
	} else {
		u := g.recipient(a)
		if u == nil {
			return nil
		}
		to = g.receiveAddr(u)
	}
	t := g.payTo(a, txPeel, []payment{{addr: to, value: v}}, 1)
	if t == nil || len(t.change) != 1 {
		// Unreachable: the remainder is at least 88% of the coin.
		s.err = fmt.Errorf("scenario: ransomware peel hop %d has no remainder (generator bug)", hop)
		return nil
	}
	peelVout := uint32(slices.Index(t.outAddr, to))
	remVout := t.change[0]
	s.chain, s.chainAt = t, int(remVout)
	s.pend = append(s.pend, func() {
		owner := g.wallets[to.wallet].id
		s.truth.PeelChain = append(s.truth.PeelChain, PeelHop{
			Hop: hop, Txid: t.txid.String(), Height: int64(g.blk.height),
			PeelVout: peelVout, PeelAddress: to.str, PeelValue: v, PeelOwner: owner, ToExchange: toEx,
			RemainderVout: remVout, RemainderAddress: t.outAddr[remVout].str,
			RemainderValue: uint64(t.msg.TxOut[remVout].Value),
		})
		if toEx {
			s.truth.ExchangeDeposits = append(s.truth.ExchangeDeposits, ExchangeDeposit{
				Address: to.str, Customer: mule.id, Txid: t.txid.String(), Vout: peelVout, Value: v,
			})
			s.deps = append(s.deps, wire.OutPoint{Hash: t.txid, Index: peelVout})
		}
	})
	s.sub++
	s.nextAt = g.econ() + 1 + g.rng.IntN(2)
	if s.sub == s.par.PeelHops {
		s.phase, s.sub = phCoinJoin, 0
	}
	return t
}

// coinJoin: the remainder enters an equal-output CoinJoin with the other
// participants. Every participant gets one denomination output and its
// change; the coordinator takes a fee; inputs and outputs are shuffled.
func (s *ransomware) coinJoin(g *generator) *txb {
	a := s.attacker
	if len(a.utxos) != 1 || a.utxos[0].op != s.chainOutpoint() {
		return nil
	}
	members := append([]*wallet{a}, s.parts...)
	for _, m := range members[1:] {
		if len(m.utxos) != 1 {
			return nil // funding not confirmed yet
		}
	}
	coord := s.coord
	rate := g.feeRate(coord)
	n := len(members)
	var sz sizer
	for _, m := range members {
		sz.addIn(m.utxos[0].addr.typ)
	}
	type outSpec struct {
		addr   *addrInfo
		value  uint64
		member int
		change bool
	}
	outs := make([]outSpec, 0, 2*n+1)
	for _, m := range members {
		sz.addOut(m.typ.scriptLen()) // denomination
		sz.addOut(m.typ.scriptLen()) // change
	}
	sz.addOut(coord.recv.typ.scriptLen())
	fee := feeFor(&sz, rate)
	share := (fee + uint64(n) - 1) / uint64(n)
	coordFee := uint64(coinJoinDenomination) * coordinatorFeePerMil / 1000
	for i, m := range members {
		in := m.utxos[0].value
		if in < coinJoinDenomination+share+coordFee+dust {
			return nil // unreachable with the funding above
		}
		outs = append(outs,
			outSpec{addr: g.newAddr(m, m.typ), value: coinJoinDenomination, member: i},
			outSpec{addr: g.newAddr(m, m.typ), value: in - coinJoinDenomination - share - coordFee, member: i, change: true})
	}
	outs = append(outs, outSpec{addr: coord.recv, value: coordFee * uint64(n), member: -1})
	g.rng.Shuffle(len(outs), func(i, j int) { outs[i], outs[j] = outs[j], outs[i] })
	ins := make([]utxo, 0, n)
	for _, m := range members {
		ins = append(ins, g.spend(m, []int{0})...)
	}
	attackerIn := ins[0]
	g.rng.Shuffle(len(ins), func(i, j int) { ins[i], ins[j] = ins[j], ins[i] })

	t := &txb{wallet: coord.idx, kind: txCoinJoin, fee: share * uint64(n), rate: rate, weight: sz.weight()}
	t.msg.Version = 1
	for _, u := range ins {
		t.msg.TxIn = append(t.msg.TxIn, &wire.TxIn{PreviousOutPoint: u.op, Sequence: wire.MaxTxInSequenceNum})
		t.prev = append(t.prev, prevOut{value: u.value, addr: u.addr})
		if u.addr.typ == stP2WPKH {
			t.sigops++
		}
	}
	for i, o := range outs {
		t.msg.TxOut = append(t.msg.TxOut, &wire.TxOut{Value: int64(o.value)})
		t.outAddr = append(t.outAddr, o.addr)
		t.sigops += 4 * o.addr.typ.outSigOps()
		if o.change {
			t.change = append(t.change, uint32(i))
		}
	}
	s.pend = append(s.pend, func() {
		cj := &s.truth.CoinJoin
		cj.Txid = t.txid.String()
		cj.Height = int64(g.blk.height)
		cj.Denomination = coinJoinDenomination
		cj.Participants = n
		cj.Coordinator = coord.id
		for _, m := range members {
			cj.Wallets = append(cj.Wallets, m.id)
		}
		cj.AttackerInput = Outpoint{Txid: attackerIn.op.Hash.String(), Vout: attackerIn.op.Index}
		for i, o := range outs {
			if o.member != 0 {
				continue
			}
			kind := "denomination"
			if o.change {
				kind = "change"
			}
			cj.AttackerOutputs = append(cj.AttackerOutputs, CoinJoinOutput{
				Vout: uint32(i), Address: o.addr.str, Value: o.value, Kind: kind,
			})
		}
	})
	s.phase = phSweep
	return t
}

// afterBlock completes the ground truth once the block's txids are known.
func (s *ransomware) afterBlock(g *generator, txs []*txb) {
	for _, f := range s.pend {
		f()
	}
	s.pend = s.pend[:0]
	if len(s.deps) == 0 {
		return
	}
	for _, t := range txs {
		if t.kind != txSweep {
			continue
		}
		swept := false
		for _, in := range t.msg.TxIn {
			k := slices.Index(s.deps, in.PreviousOutPoint)
			if k < 0 {
				continue
			}
			s.truth.ExchangeDeposits[k].SweepTxid = t.txid.String()
			swept = true
		}
		if swept {
			s.truth.ExchangeSweepTxids = append(s.truth.ExchangeSweepTxids, t.txid.String())
		}
	}
}
