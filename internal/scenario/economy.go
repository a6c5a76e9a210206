package scenario

import (
	"math/rand/v2"
	"slices"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// walletKind is the role of an entity in the simulated economy.
type walletKind uint8

const (
	kindUser walletKind = iota
	kindMerchant
	kindMiner
	kindExchange
	kindExternal
	kindAttacker
	kindVictim
	kindCoinJoin
)

var walletKindNames = [...]string{
	kindUser:     "user",
	kindMerchant: "merchant",
	kindMiner:    "miner",
	kindExchange: "exchange",
	kindExternal: "external",
	kindAttacker: "attacker",
	kindVictim:   "victim",
	kindCoinJoin: "coinjoin",
}

func (k walletKind) String() string { return walletKindNames[k] }

// txKind is the purpose of a generated transaction, as recorded in the
// ground truth.
type txKind uint8

const (
	txCoinbase txKind = iota
	txPayment
	txConsolidation
	txBatch
	txDeposit
	txSweep
	txWithdrawal
	txRansom
	txPeel
	txCoinJoin
)

var txKindNames = [...]string{
	txCoinbase:      "coinbase",
	txPayment:       "payment",
	txConsolidation: "consolidation",
	txBatch:         "batch",
	txDeposit:       "deposit",
	txSweep:         "sweep",
	txWithdrawal:    "withdrawal",
	txRansom:        "ransom",
	txPeel:          "peel",
	txCoinJoin:      "coinjoin",
}

func (k txKind) String() string { return txKindNames[k] }

// Wallet behaviour switches.
const (
	selLargest uint8 = iota // largest coins first
	selRandom               // random order (like Core's single random draw)
	selOldest               // first in, first out
)

const (
	feeMarket uint8 = iota // follows the block's fee market
	feeFixed               // always the same rate
	feeCheap               // always near the minimum
)

// wallet is one entity of the economy: a user, a service or a miner.
type wallet struct {
	id   string
	idx  int32
	kind walletKind

	typ          scriptType // preferred script type
	mixed        bool       // sometimes uses another type for a new address
	reuse        bool       // receives on one reused address
	changeToRecv bool       // (reusers) sends change back to the reused address
	matchChange  bool       // change has the script type of the payment (Core ≥ 23)
	antiSnipe    bool       // nLockTime = tip height, like Core
	rbf          bool       // signals replace-by-fee (sequence 0xfffffffd)
	changeLast   bool       // change always last instead of at a random position
	version      int32
	sel          uint8
	feeStyle     uint8
	feeFixed     uint32 // milli-sat per vbyte, for feeFixed
	customer     bool   // has an account at the exchange

	recv     *addrInfo // reused receive address (reuse), or pool payout address
	deposit  *addrInfo // its deposit address at the exchange
	next     uint32    // next key index
	utxos    []utxo    // confirmed, spendable
	immature []utxo    // coinbase outputs waiting for maturity
	balance  uint64    // sum of utxos
	deposits []utxo    // exchange only: unswept deposits
	hot      []*addrInfo
	addrs    []string // every address, in creation order (ground truth only)
	deps     []string // exchange: deposit addresses (ground truth only)
	fundedAt int32    // position in generator.funded, -1 if absent
}

// utxo is an unspent output of a wallet.
type utxo struct {
	op     wire.OutPoint
	value  uint64
	addr   *addrInfo
	height int32
}

// payment is one output of a transaction being planned.
type payment struct {
	addr   *addrInfo // nil for an OP_RETURN output
	script []byte    // OP_RETURN script
	value  uint64
}

// prevOut is what the signer needs about a spent output.
type prevOut struct {
	value uint64
	addr  *addrInfo
}

// txb is a transaction being built: its structure is planned serially,
// then it is signed and serialized by a worker.
type txb struct {
	msg     wire.MsgTx
	prev    []prevOut
	outAddr []*addrInfo // per output; nil for OP_RETURN
	wallet  int32
	kind    txKind
	change  []uint32
	fee     uint64
	rate    uint32 // planned fee rate, milli-sat per vbyte
	weight  int    // estimated (upper bound)
	sigops  int    // estimated sigop cost
	seq     int    // creation order in the block
	scen    bool   // created by the scenario, not the background economy
	forced  bool   // a background tx that the scenario required beyond the budget

	raw     []byte
	txid    chainhash.Hash
	wtxid   chainhash.Hash
	witness bool
}

// sizer accumulates the serialized size of a planned transaction.
type sizer struct {
	nin, nout int
	base, wit int
	segwit    bool
}

func varIntLen(n int) int {
	switch {
	case n < 0xfd:
		return 1
	case n <= 0xffff:
		return 3
	default:
		return 5
	}
}

func (s *sizer) addIn(t scriptType) {
	b, w := t.inSize()
	s.nin++
	s.base += b
	s.wit += w
	if t == stP2WPKH || t == stP2TR {
		s.segwit = true
	}
}

func (s *sizer) addOut(scriptLen int) {
	s.nout++
	s.base += 8 + varIntLen(scriptLen) + scriptLen
}

func (s *sizer) weight() int {
	base := 4 + varIntLen(s.nin) + varIntLen(s.nout) + s.base + 4
	if !s.segwit {
		return base * 4
	}
	return base*4 + segwitMarkerLen + s.wit
}

func (s *sizer) vsize() int { return (s.weight() + 3) / 4 }

// feeFor returns the fee at rate (milli-sat/vB) for the sized transaction,
// rounded up.
func feeFor(s *sizer, rate uint32) uint64 {
	return (uint64(s.vsize())*uint64(rate) + 999) / 1000
}

// dust is the smallest output value the generator creates (Core's dust
// limit for P2PKH at the default 3 sat/vB dust relay fee).
const dust = 546

// newAddr creates a fresh address of w of type t. Its key and script are
// derived later, in parallel, before the block is signed.
func (g *generator) newAddr(w *wallet, t scriptType) *addrInfo {
	a := &addrInfo{wallet: w.idx, index: w.next, typ: t, customer: -1}
	w.next++
	g.blk.newAddrs = append(g.blk.newAddrs, a)
	return a
}

// freshType returns the type of w's next address.
func (g *generator) freshType(w *wallet) scriptType {
	if w.mixed && g.rng.IntN(100) < 30 {
		return scriptType(g.rng.IntN(3))
	}
	return w.typ
}

// receiveAddr returns the address w gives a payer.
func (g *generator) receiveAddr(w *wallet) *addrInfo {
	if w.reuse && w.recv != nil {
		return w.recv
	}
	a := g.newAddr(w, g.freshType(w))
	if w.reuse {
		w.recv = a
	}
	return a
}

// changeType returns the script type of w's change when it pays an
// address of type payType.
func (g *generator) changeType(w *wallet, payType scriptType) scriptType {
	switch {
	case w.changeToRecv && w.recv != nil:
		return w.recv.typ
	case w.matchChange && payType.spendable() && payType != stP2PK:
		return payType
	}
	return g.freshType(w)
}

// changeAddr returns the address of type t that w sends change to.
func (g *generator) changeAddr(w *wallet, t scriptType) *addrInfo {
	if w.changeToRecv && w.recv != nil && w.recv.typ == t {
		return w.recv
	}
	return g.newAddr(w, t)
}

// feeRate returns the fee rate w pays now, in milli-sat per vbyte.
func (g *generator) feeRate(w *wallet) uint32 {
	var r uint32
	switch w.feeStyle {
	case feeFixed:
		r = w.feeFixed
	case feeCheap:
		r = 1000 + uint32(g.rng.IntN(1500))
	default:
		// 70%..150% of the market rate.
		r = uint32(uint64(g.market) * uint64(700+g.rng.IntN(801)) / 1000)
	}
	return max(r, 1000)
}

// sequence and lockTime return the input sequence and nLockTime w uses at
// the block being built.
func (g *generator) sequence(w *wallet) uint32 {
	switch {
	case w.rbf:
		return wire.MaxTxInSequenceNum - 2
	case w.antiSnipe:
		return wire.MaxTxInSequenceNum - 1
	}
	return wire.MaxTxInSequenceNum
}

func (g *generator) lockTime(w *wallet) uint32 {
	if w.antiSnipe {
		return uint32(g.blk.height - 1) // the tip when the wallet signed
	}
	return 0
}

// coinOrder returns the order in which w considers its coins.
func (g *generator) coinOrder(w *wallet, us []utxo) []int {
	order := make([]int, len(us))
	for i := range order {
		order[i] = i
	}
	switch w.sel {
	case selLargest:
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case us[a].value > us[b].value:
				return -1
			case us[a].value < us[b].value:
				return 1
			}
			return 0
		})
	case selRandom:
		g.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

// selection is the result of coin selection.
type selection struct {
	idx    []int // positions in the wallet's coin list
	fee    uint64
	change uint64 // 0: no change output
	size   sizer  // with the change output if any
}

// selectCoins picks coins of w paying target plus the fee at rate for a
// transaction whose outputs are already in base, with a change output of
// changeType if the leftover is worth one. It does not modify w.
func (g *generator) selectCoins(w *wallet, target uint64, base sizer, rate uint32, changeType scriptType, maxIn int) (selection, bool) {
	order := g.coinOrder(w, w.utxos)
	s := base
	var sum uint64
	for n, i := range order {
		if n >= maxIn {
			break
		}
		s.addIn(w.utxos[i].addr.typ)
		sum += w.utxos[i].value
		feeNo := feeFor(&s, rate)
		withChange := s
		withChange.addOut(changeType.scriptLen())
		feeCh := feeFor(&withChange, rate)
		if sum >= target+feeCh+dust {
			return selection{idx: order[:n+1], fee: feeCh, change: sum - target - feeCh, size: withChange}, true
		}
		if sum >= target+feeNo {
			// The leftover is not worth an output: it goes to the miner.
			return selection{idx: order[:n+1], fee: sum - target, size: s}, true
		}
	}
	return selection{}, false
}

// removeCoins removes the coins at positions idx from *us, keeping the
// order of the others, and returns them in the order of idx.
func removeCoins(us *[]utxo, idx []int) []utxo {
	out := make([]utxo, len(idx))
	gone := make([]bool, len(*us))
	for k, i := range idx {
		out[k] = (*us)[i]
		gone[i] = true
	}
	j := 0
	for i, u := range *us {
		if !gone[i] {
			(*us)[j] = u
			j++
		}
	}
	clear((*us)[j:])
	*us = (*us)[:j]
	return out
}

// spend removes w's coins at positions idx and returns them.
func (g *generator) spend(w *wallet, idx []int) []utxo {
	ins := removeCoins(&w.utxos, idx)
	for _, u := range ins {
		w.balance -= u.value
	}
	g.touch(w)
	return ins
}

// minSpendable is the balance below which a background wallet is not
// picked to pay anyone.
const minSpendable = 50_000

// touch keeps w's membership of the funded set up to date.
func (g *generator) touch(w *wallet) {
	if w.kind != kindUser && w.kind != kindMerchant {
		return
	}
	in := w.fundedAt >= 0
	want := w.balance >= minSpendable
	switch {
	case want && !in:
		w.fundedAt = int32(len(g.funded))
		g.funded = append(g.funded, w.idx)
	case !want && in:
		last := g.funded[len(g.funded)-1]
		g.funded[w.fundedAt] = last
		g.wallets[last].fundedAt = w.fundedAt
		g.funded = g.funded[:len(g.funded)-1]
		w.fundedAt = -1
	}
}

// build assembles a planned transaction of w from selected coins and
// outputs. The change output (if change > 0) goes to changeAddr at a
// random position, or last for wallets that always put it last. ins must
// already be removed from w.
func (g *generator) build(w *wallet, kind txKind, ins []utxo, pays []payment, change uint64, chAddr *addrInfo, fee uint64, rate uint32, s sizer) *txb {
	t := &txb{wallet: w.idx, kind: kind, fee: fee, rate: rate, weight: s.weight()}
	t.msg.Version = w.version
	t.msg.LockTime = g.lockTime(w)
	seq := g.sequence(w)
	t.msg.TxIn = make([]*wire.TxIn, len(ins))
	t.prev = make([]prevOut, len(ins))
	for i, u := range ins {
		t.msg.TxIn[i] = &wire.TxIn{PreviousOutPoint: u.op, Sequence: seq}
		t.prev[i] = prevOut{value: u.value, addr: u.addr}
		if u.addr.typ == stP2WPKH {
			t.sigops++
		}
	}
	n := len(pays)
	pos := -1
	if change > 0 {
		n++
		pos = n - 1
		if !w.changeLast {
			pos = g.rng.IntN(n)
		}
	}
	t.msg.TxOut = make([]*wire.TxOut, 0, n)
	t.outAddr = make([]*addrInfo, 0, n)
	add := func(p payment) {
		t.msg.TxOut = append(t.msg.TxOut, &wire.TxOut{Value: int64(p.value), PkScript: p.script})
		t.outAddr = append(t.outAddr, p.addr)
		if p.addr != nil {
			t.sigops += 4 * p.addr.typ.outSigOps()
		}
	}
	k := 0
	for i := 0; i < n; i++ {
		if i == pos {
			add(payment{addr: chAddr, value: change})
			t.change = append(t.change, uint32(i))
			continue
		}
		add(pays[k])
		k++
	}
	return t
}

// opReturn returns an OP_RETURN script carrying n (1–75) random bytes in
// one direct push.
func (g *generator) opReturn(n int) []byte {
	s := make([]byte, 2, 2+n)
	s[0], s[1] = txscript.OP_RETURN, byte(n) // OP_DATA_n
	for range n {
		s = append(s, byte(g.rng.Uint32()))
	}
	return s
}

// payTo plans an ordinary transaction of w paying pays (to addresses of
// other wallets or OP_RETURN), with coin selection and change. It returns
// nil if w cannot afford it.
func (g *generator) payTo(w *wallet, kind txKind, pays []payment, maxIn int) *txb {
	var s sizer
	var target uint64
	payType, typed := stP2WPKH, false
	for _, p := range pays {
		if p.addr == nil {
			s.addOut(len(p.script))
		} else {
			s.addOut(p.addr.typ.scriptLen())
			if !typed {
				payType, typed = p.addr.typ, true
			}
		}
		target += p.value
	}
	rate := g.feeRate(w)
	chType := g.changeType(w, payType)
	sel, ok := g.selectCoins(w, target, s, rate, chType, maxIn)
	if !ok {
		return nil
	}
	var ch *addrInfo
	if sel.change > 0 {
		ch = g.changeAddr(w, chType)
	}
	ins := g.spend(w, sel.idx)
	return g.build(w, kind, ins, pays, sel.change, ch, sel.fee, rate, sel.size)
}

// sendAll plans a transaction of w spending the coins at positions idx of
// *list (w.utxos, or the exchange's deposits) entirely to one address: a
// consolidation, a sweep or a "send max" payment. The address is made by
// to, of type toType, only if the coins cover the fee; otherwise sendAll
// returns nil and changes nothing.
func (g *generator) sendAll(w *wallet, list *[]utxo, kind txKind, idx []int, toType scriptType, to func() *addrInfo, rate uint32) *txb {
	var s sizer
	var sum uint64
	for _, i := range idx {
		s.addIn((*list)[i].addr.typ)
		sum += (*list)[i].value
	}
	s.addOut(toType.scriptLen())
	fee := feeFor(&s, rate)
	if sum < fee+dust {
		return nil
	}
	var ins []utxo
	if list == &w.utxos {
		ins = g.spend(w, idx)
	} else {
		ins = removeCoins(list, idx)
	}
	return g.build(w, kind, ins, []payment{{addr: to(), value: sum - fee}}, 0, nil, fee, rate, s)
}

// newWallet creates an entity with behaviour drawn from the seed.
func (g *generator) newWallet(id string, kind walletKind) *wallet {
	r := g.rng
	w := &wallet{id: id, idx: int32(len(g.wallets)), kind: kind, fundedAt: -1, version: 2}
	// Script type: roughly the mix of 2023–2024 outputs.
	switch x := r.IntN(100); {
	case x < 52:
		w.typ = stP2WPKH
	case x < 77:
		w.typ = stP2PKH
	default:
		w.typ = stP2TR
	}
	w.mixed = r.IntN(100) < 10
	w.reuse = r.IntN(100) < 20
	w.changeToRecv = w.reuse && r.IntN(100) < 50
	w.matchChange = r.IntN(100) < 20
	w.antiSnipe = r.IntN(100) < 45
	w.rbf = r.IntN(100) < 40
	w.changeLast = r.IntN(100) < 15
	if w.typ == stP2PKH && r.IntN(100) < 50 {
		w.version = 1 // older wallet software
	}
	w.sel = uint8(r.IntN(3))
	switch x := r.IntN(100); {
	case x < 60:
		w.feeStyle = feeMarket
	case x < 85:
		w.feeStyle = feeFixed
		w.feeFixed = uint32(logUniform(r, 1000, 60_000))
	default:
		w.feeStyle = feeCheap
	}
	w.customer = r.IntN(100) < 40
	g.wallets = append(g.wallets, w)
	return w
}

// passive clears the behaviour of an entity that never makes a
// transaction, so that the ground truth does not describe habits it lacks.
func (w *wallet) passive() {
	w.mixed, w.reuse, w.changeToRecv, w.matchChange, w.antiSnipe, w.rbf, w.customer = false, false, false, false, false, false, false
}

// logUniform draws an integer in [lo, hi] whose logarithm is roughly
// uniform: a power-of-two octave is chosen uniformly, then a value
// uniformly inside it. Integer arithmetic only, so it is the same on every
// platform.
func logUniform(r *rand.Rand, lo, hi uint64) uint64 {
	if lo == 0 {
		lo = 1
	}
	if hi <= lo {
		return lo
	}
	octaves := 0
	for v := lo; v < hi && octaves < 63; v <<= 1 {
		octaves++
	}
	k := r.IntN(octaves)
	a := lo << uint(k)
	b := min(a<<1, hi)
	if b <= a {
		return a
	}
	return a + r.Uint64N(b-a+1)
}
