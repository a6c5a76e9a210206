package trace

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// AccountReader is what an account trace reads of an account-model index;
// *evmindex.Index is one.
type AccountReader interface {
	Tip() (evmindex.Tip, bool, error)
	AddrID(a eth.Address) (evmindex.AddrID, error)
	Ledger(id evmindex.AddrID, asset evmindex.AssetID, from evmindex.TxKey, fn func(evmindex.Entry) bool) error
	LedgerDesc(id evmindex.AddrID, asset evmindex.AssetID, before evmindex.TxKey, fn func(evmindex.Entry) bool) error
	Holdings(id evmindex.AddrID) ([]evmindex.HoldingInfo, error)
}

// AccountParams of an account trace. The zero values of the limits take
// the defaults.
type AccountParams struct {
	Direction Direction
	Model     Model
	// Hops is the number of moves to follow (default 6, at most 64).
	Hops int
	// MinValue drops tainted amounts below it (counted in Dropped).
	MinValue chain.Amount
	// FromKey and ToKey bound the moves followed (ToKey 0: the tip at the
	// start of the trace). Forward traces start at FromKey, backward traces
	// at ToKey; taint that would move beyond the other end stops there.
	FromKey, ToKey evmindex.TxKey
	// Amount, when not zero, limits the source: forward, the first Amount
	// the address sends from FromKey on; backward, the last Amount it
	// received up to ToKey (its balance at ToKey: where the money it holds
	// came from). Zero: everything it sends (receives) in the window.
	Amount chain.Amount
	// MaxFrontier bounds the addresses holding taint at once (default
	// 10,000); taint reaching one more address is summarised there, not
	// followed.
	MaxFrontier int
	// MaxEdges bounds the moves recorded in Edges (default 100,000); the
	// trace itself goes on (EdgesCut tells).
	MaxEdges int
	// Stop says whether taint reaching addr stops there (a destination)
	// and why, for example "exchange". Nil: no stop rule.
	Stop func(addr evmindex.AddrID) (stop bool, reason string, err error) `json:"-"`
	// Progress, when set, is called at the start and every 4,096 ledger
	// entries: Hop is the deepest hop reached, Frontier the addresses
	// holding taint, TxsRead the ledger entries read. An error it returns
	// ends the trace with that error.
	Progress func(Progress) error `json:"-"`
}

// Reasons a destination of an account trace holds funds, besides those of
// the UTXO engine (hop-limit, outside-window, summarised) and the stop
// rule's. Backward traces end, where money entered the chain, with the kind
// of the entry: "opening" (held before the index's first block),
// "withdrawal", "tips".
const (
	// ReasonHeld: the taint is still in the address's balance at the end of
	// the window (forward).
	ReasonHeld = "held"
	// ReasonBurnt: sent to nobody or to the zero address (forward).
	ReasonBurnt = "burnt"
	// ReasonMinted: created by the zero address, a token mint (backward).
	ReasonMinted = "minted"
	// ReasonUnexplained: taint left where an address's ledger begins
	// (backward); a ledger missing moves (a block not traced) shows so.
	ReasonUnexplained = "unexplained"
)

// AccountDestination is where tainted funds stopped.
type AccountDestination struct {
	Addr   evmindex.AddrID
	Amount chain.Amount
	// Hops is the fewest hops at which taint reached it.
	Hops   int
	Reason string
	// First and Last are the earliest and the latest (chain order) of the
	// moves that brought taint to it.
	First, Last evmindex.TxKey
}

// AccountEdge is a tainted move: From paid To Amount of the traced taint
// in the move (Key, Seq). Edges always point the way the money went, in
// backward traces too.
type AccountEdge struct {
	From, To evmindex.AddrID
	Asset    evmindex.AssetID
	Amount   chain.Amount
	Key      evmindex.TxKey
	Seq      uint16
	Kind     evmindex.Kind
	Hop      int
}

// AccountResult of an account trace.
type AccountResult struct {
	Params AccountParams
	From   evmindex.AddrID
	Asset  evmindex.AssetID
	// End is the key the trace went to (forward) or from (backward): ToKey,
	// or the tip's last key.
	End evmindex.TxKey
	// Source is the tainted amount at the start.
	Source       chain.Amount
	Destinations []AccountDestination
	Edges        []AccountEdge
	// Fees is the taint paid as transaction fees (forward); Dropped what
	// fell below MinValue.
	Fees, Dropped chain.Amount
	// Summarised is set when the frontier outgrew MaxFrontier; EdgesCut
	// when more than MaxEdges moves were tainted.
	Summarised, EdgesCut bool
	// Entries counts the ledger entries the trace processed.
	Entries int
}

func (p *AccountParams) check() error {
	up := Params{Direction: p.Direction, Model: p.Model, Hops: p.Hops, MaxFrontier: p.MaxFrontier}
	if err := up.check(); err != nil {
		return err
	}
	p.Direction, p.Model, p.Hops, p.MaxFrontier = up.Direction, up.Model, up.Hops, up.MaxFrontier
	if p.MaxEdges == 0 {
		p.MaxEdges = 100_000
	}
	if p.MaxEdges < 0 || (p.ToKey != 0 && p.ToKey < p.FromKey) {
		return fmt.Errorf("trace: %w: negative edge limit or an empty window", chain.ErrInvalid)
	}
	return nil
}

// segment is a run of a FIFO queue: n base units, traced or not.
type segment struct {
	n      chain.Amount
	traced bool
}

// acctNode is an address holding taint, with its cursor in its ledger.
type acctNode struct {
	id     evmindex.AddrID
	hop    int
	source bool
	// quota is what the source may still inject (unlimited: everything).
	quota     chain.Amount
	unlimited bool
	// taint is the traced amount in the balance (haircut and FIFO).
	taint chain.Amount
	// queue is the balance as FIFO runs (FIFO only), next to move first.
	queue    []segment
	poisoned bool
	// bal is the balance at the cursor, on the side not yet processed.
	bal         evmindex.Balance
	first, last evmindex.TxKey
	init        bool

	buf    []evmindex.Entry
	bi     int
	posKey evmindex.TxKey
	posSeq uint16
	incl   bool
	done   bool
	// beyond: the ledger goes on past the window.
	beyond bool
}

type destKey struct {
	addr   evmindex.AddrID
	reason string
}

type pendKey struct {
	addr evmindex.AddrID
	key  evmindex.TxKey
	seq  uint16
}

type acctTracer struct {
	r     AccountReader
	p     AccountParams
	asset evmindex.AssetID
	fwd   bool
	// lo and hi bound the window; windowed says the far end is the
	// caller's, not the tip (taint stopped there is outside-window).
	lo, hi   evmindex.TxKey
	windowed bool
	zero     evmindex.AddrID
	res      *AccountResult
	active   map[evmindex.AddrID]*acctNode
	h        nodeHeap
	pending  map[pendKey]chain.Amount
	dest     map[destKey]*AccountDestination
	stops    map[evmindex.AddrID]stopRule
	maxHop   int
	err      error
}

type stopRule struct {
	stop   bool
	reason string
}

const ledgerBatch = 512

// TraceAccounts follows the taint of one asset from address from through
// an account-model index (see the package comment: accounts).
func TraceAccounts(r AccountReader, from evmindex.AddrID, asset evmindex.AssetID, p AccountParams) (*AccountResult, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if from == 0 {
		return nil, fmt.Errorf("trace: %w: no address to trace from", chain.ErrInvalid)
	}
	tip, ok, err := r.Tip()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("trace: the index is empty: %w", chain.ErrNotFound)
	}
	t := &acctTracer{r: r, p: p, asset: asset, fwd: p.Direction == Forward,
		res:    &AccountResult{Params: p, From: from, Asset: asset},
		active: map[evmindex.AddrID]*acctNode{}, pending: map[pendKey]chain.Amount{},
		dest: map[destKey]*AccountDestination{}, stops: map[evmindex.AddrID]stopRule{}}
	t.h.fwd = t.fwd
	end := evmindex.MakeTxKey(tip.Height, evmindex.SlotBlockEnd)
	t.lo, t.hi = p.FromKey, end
	if p.ToKey != 0 && p.ToKey < end {
		t.hi = p.ToKey
	}
	if t.fwd {
		t.windowed = p.ToKey != 0 && p.ToKey < end
		t.res.End = t.hi
	} else {
		t.windowed = p.FromKey != 0
		t.res.End = t.hi
	}
	switch z, err := r.AddrID(eth.Address{}); {
	case err == nil:
		t.zero = z
	case !errors.Is(err, chain.ErrNotFound):
		return nil, err
	}
	src := &acctNode{id: from, source: true, quota: p.Amount, unlimited: p.Amount.IsZero(), incl: true}
	if t.fwd {
		src.posKey = t.lo
	} else {
		src.posKey, src.posSeq = t.hi, ^uint16(0)
	}
	t.active[from] = src
	if err := t.load(src); err != nil {
		return nil, err
	}
	if len(src.buf) == 0 {
		return nil, fmt.Errorf("trace: address %d has no moves of asset %d in the window: %w", from, asset, chain.ErrNotFound)
	}
	heap.Push(&t.h, src)
	if err := t.run(); err != nil {
		return nil, err
	}
	if t.res.Source.IsZero() {
		what := "sent"
		if !t.fwd {
			what = "received"
		}
		return nil, fmt.Errorf("trace: address %d %s nothing of asset %d in the window: %w", from, what, asset, chain.ErrNotFound)
	}
	return t.res, nil
}

func (t *acctTracer) run() error {
	if err := t.progress(); err != nil {
		return err
	}
	for t.h.Len() > 0 {
		n := heap.Pop(&t.h).(*acctNode)
		e := n.buf[n.bi]
		n.bi++
		t.step(n, e)
		if t.err != nil {
			return t.err
		}
		if t.active[n.id] == n {
			if n.bi == len(n.buf) {
				if err := t.load(n); err != nil {
					return err
				}
			}
			if n.bi < len(n.buf) {
				heap.Push(&t.h, n)
			}
		}
		if t.res.Entries%4096 == 0 {
			if err := t.progress(); err != nil {
				return err
			}
		}
	}
	for k := range t.pending {
		return fmt.Errorf("trace: ledger of address %d lacks the move %s/%d its counterparty shows", k.addr, k.key, k.seq)
	}
	t.finish()
	return t.err
}

func (t *acctTracer) progress() error {
	if t.p.Progress == nil {
		return nil
	}
	return t.p.Progress(Progress{Hop: t.maxHop, Frontier: len(t.active), TxsRead: t.res.Entries})
}

// load reads the next batch of n's ledger after its cursor, within the
// window.
func (t *acctTracer) load(n *acctNode) error {
	n.buf, n.bi = n.buf[:0], 0
	if n.done {
		return nil
	}
	fn := func(e evmindex.Entry) bool {
		c := cmp.Or(cmp.Compare(e.Key, n.posKey), cmp.Compare(e.Seq, n.posSeq))
		if !t.fwd {
			c = -c
		}
		if c < 0 || (c == 0 && !n.incl) {
			return true
		}
		if (t.fwd && e.Key > t.hi) || (!t.fwd && e.Key < t.lo) {
			n.beyond, n.done = t.windowed, true
			return false
		}
		n.buf = append(n.buf, e)
		return len(n.buf) < ledgerBatch
	}
	var err error
	if t.fwd {
		err = t.r.Ledger(n.id, t.asset, n.posKey, fn)
	} else {
		err = t.r.LedgerDesc(n.id, t.asset, n.posKey+1, fn)
	}
	if err != nil {
		return err
	}
	if len(n.buf) < ledgerBatch {
		n.done = true
	}
	if len(n.buf) > 0 {
		last := n.buf[len(n.buf)-1]
		n.posKey, n.posSeq, n.incl = last.Key, last.Seq, false
	}
	return nil
}

func (t *acctTracer) add(a, b chain.Amount) chain.Amount {
	s, err := a.Add(b)
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("trace: %v", err)
	}
	return s
}

func (t *acctTracer) sub(a, b chain.Amount) chain.Amount {
	s, err := a.Sub(b)
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("trace: %v", err)
	}
	return s
}

// plus and minus are signed balance arithmetic.
func (t *acctTracer) plus(b evmindex.Balance, x chain.Amount) evmindex.Balance {
	if !b.Neg {
		return evmindex.Balance{Abs: t.add(b.Abs, x)}
	}
	if b.Abs.Cmp(x) > 0 {
		return evmindex.Balance{Neg: true, Abs: t.sub(b.Abs, x)}
	}
	return evmindex.Balance{Abs: t.sub(x, b.Abs)}
}

func (t *acctTracer) minus(b evmindex.Balance, x chain.Amount) evmindex.Balance {
	if b.Neg {
		return evmindex.Balance{Neg: true, Abs: t.add(b.Abs, x)}
	}
	if b.Abs.Cmp(x) >= 0 {
		return evmindex.Balance{Abs: t.sub(b.Abs, x)}
	}
	return evmindex.Balance{Neg: true, Abs: t.sub(x, b.Abs)}
}

func positive(b evmindex.Balance) chain.Amount {
	if b.Neg {
		return chain.Amount{}
	}
	return b.Abs
}

// before is the balance just before entry e.
func (t *acctTracer) before(e evmindex.Entry) evmindex.Balance {
	if e.In {
		return t.minus(e.Balance, e.Amount)
	}
	return t.plus(e.Balance, e.Amount)
}

// push appends a run to n's FIFO queue.
func (t *acctTracer) push(n *acctNode, amt chain.Amount, traced bool) {
	if amt.IsZero() {
		return
	}
	if k := len(n.queue); k > 0 && n.queue[k-1].traced == traced {
		n.queue[k-1].n = t.add(n.queue[k-1].n, amt)
		return
	}
	n.queue = append(n.queue, segment{amt, traced})
}

// take removes x units from the front of n's FIFO queue and returns the
// traced units among them.
func (t *acctTracer) take(n *acctNode, x chain.Amount) chain.Amount {
	var r chain.Amount
	for !x.IsZero() && len(n.queue) > 0 {
		s := &n.queue[0]
		k := chain.Min(x, s.n)
		if s.traced {
			r = t.add(r, k)
		}
		s.n, x = t.sub(s.n, k), t.sub(x, k)
		if s.n.IsZero() {
			n.queue = n.queue[1:]
		}
	}
	return r
}

func (t *acctTracer) hasTaint(n *acctNode) bool {
	return n.poisoned || !n.taint.IsZero() || (n.source && (n.unlimited || !n.quota.IsZero()))
}

// step processes one entry of n's ledger. A flowing entry (forward: out;
// backward: in) carries taint to the counterparty; the other kind changes
// the pool and receives what its counterparty's flowing side carried.
func (t *acctTracer) step(n *acctNode, e evmindex.Entry) {
	t.res.Entries++
	if !n.init {
		n.init = true
		if t.fwd {
			n.bal = t.before(e)
		} else {
			n.bal = e.Balance
		}
		if t.p.Model == FIFO {
			t.push(n, positive(n.bal), false)
		}
	}
	after := e.Balance
	if !t.fwd {
		after = t.before(e)
	}
	defer func() { n.bal = after }()
	if e.Counterparty == n.id {
		return // a move to oneself changes nothing
	}
	if e.In == t.fwd {
		pk := pendKey{n.id, e.Key, e.Seq}
		c := t.pending[pk]
		delete(t.pending, pk)
		switch t.p.Model {
		case Poison:
			n.poisoned = n.poisoned || !c.IsZero()
		case Haircut:
			n.taint = t.add(n.taint, c)
		case FIFO:
			t.push(n, c, true)
			t.push(n, t.sub(e.Amount, chain.Min(c, e.Amount)), false)
			n.taint = t.add(n.taint, c)
		}
		return
	}
	x := e.Amount
	var r chain.Amount
	switch t.p.Model {
	case Poison:
		if n.poisoned {
			r = x
		}
	case Haircut:
		// The pool that holds x: forward the balance before the move,
		// backward the balance after it.
		pool := e.Balance
		if t.fwd {
			pool = t.before(e)
		}
		if b := positive(pool); !n.taint.IsZero() {
			if b.IsZero() || b.Cmp(n.taint) < 0 || b.Cmp(x) < 0 {
				r = chain.Min(x, n.taint)
			} else {
				v, err := x.MulDiv(n.taint, b)
				if err != nil && t.err == nil {
					t.err = fmt.Errorf("trace: %v", err)
				}
				r = chain.Min(v, n.taint)
			}
		}
		n.taint = t.sub(n.taint, r)
	case FIFO:
		r = t.take(n, x)
		n.taint = t.sub(n.taint, r)
	}
	c := r
	if n.source {
		fresh := t.sub(x, r)
		if !n.unlimited {
			fresh = chain.Min(fresh, n.quota)
			n.quota = t.sub(n.quota, fresh)
		}
		t.res.Source = t.add(t.res.Source, fresh)
		c = t.add(c, fresh)
	}
	if !c.IsZero() {
		t.deliver(n, e, c)
	}
	if !t.hasTaint(n) {
		delete(t.active, n.id)
	}
}

// deliver gives c of taint, carried by n's flowing entry e, to e's
// counterparty.
func (t *acctTracer) deliver(n *acctNode, e evmindex.Entry, c chain.Amount) {
	h := n.hop + 1
	cp := e.Counterparty
	if c.Cmp(t.p.MinValue) < 0 {
		t.res.Dropped = t.add(t.res.Dropped, c)
		return
	}
	if cp == 0 {
		switch {
		case !t.fwd:
			t.stopAt(n.id, c, n.hop, e.Kind.String(), e.Key)
		case e.Kind == evmindex.KindFee:
			t.res.Fees = t.add(t.res.Fees, c)
		default:
			t.stopAt(0, c, h, ReasonBurnt, e.Key)
		}
		return
	}
	t.maxHop = max(t.maxHop, h)
	if len(t.res.Edges) < t.p.MaxEdges {
		ed := AccountEdge{From: n.id, To: cp, Asset: t.asset, Amount: c, Key: e.Key, Seq: e.Seq, Kind: e.Kind, Hop: h}
		if !t.fwd {
			ed.From, ed.To = cp, n.id
		}
		t.res.Edges = append(t.res.Edges, ed)
	} else {
		t.res.EdgesCut = true
	}
	if cp == t.zero {
		reason := ReasonBurnt
		if !t.fwd {
			reason = ReasonMinted
		}
		t.stopAt(cp, c, h, reason, e.Key)
		return
	}
	if t.p.Stop != nil && !(cp == t.res.From) {
		rule, ok := t.stops[cp]
		if !ok {
			stop, why, err := t.p.Stop(cp)
			if err != nil {
				if t.err == nil {
					t.err = err
				}
				return
			}
			rule = stopRule{stop, why}
			t.stops[cp] = rule
		}
		if rule.stop {
			t.stopAt(cp, c, h, rule.reason, e.Key)
			return
		}
	}
	pk := pendKey{cp, e.Key, e.Seq}
	if m := t.active[cp]; m != nil {
		t.pending[pk] = t.add(t.pending[pk], c)
		m.hop = min(m.hop, h)
		if m.first == 0 {
			m.first = e.Key
		}
		m.last = e.Key
		return
	}
	if h >= t.p.Hops {
		t.stopAt(cp, c, h, ReasonHopLimit, e.Key)
		return
	}
	if len(t.active) >= t.p.MaxFrontier {
		t.res.Summarised = true
		t.stopAt(cp, c, h, ReasonSummarised, e.Key)
		return
	}
	m := &acctNode{id: cp, hop: h, first: e.Key, last: e.Key, posKey: e.Key, posSeq: e.Seq, incl: true}
	if err := t.load(m); err != nil {
		if t.err == nil {
			t.err = err
		}
		return
	}
	if len(m.buf) == 0 || m.buf[0].Key != e.Key || m.buf[0].Seq != e.Seq {
		if t.err == nil {
			t.err = fmt.Errorf("trace: ledger of address %d lacks the move %s/%d of address %d", cp, e.Key, e.Seq, n.id)
		}
		return
	}
	t.pending[pk] = c
	t.active[cp] = m
	heap.Push(&t.h, m)
}

func (t *acctTracer) stopAt(addr evmindex.AddrID, amount chain.Amount, hop int, reason string, key evmindex.TxKey) {
	t.stopBetween(addr, amount, hop, reason, key, key)
}

// stopBetween adds amount to a destination that taint reached between
// first and last (chain order).
func (t *acctTracer) stopBetween(addr evmindex.AddrID, amount chain.Amount, hop int, reason string, first, last evmindex.TxKey) {
	k := destKey{addr, reason}
	d, ok := t.dest[k]
	if !ok {
		d = &AccountDestination{Addr: addr, Hops: hop, Reason: reason, First: first, Last: last}
		t.dest[k] = d
	}
	d.Amount = t.add(d.Amount, amount)
	d.Hops = min(d.Hops, hop)
	d.First, d.Last = min(d.First, first), max(d.Last, last)
}

// finish turns the taint left in the balances into destinations and puts
// everything in order.
func (t *acctTracer) finish() {
	for _, n := range t.active {
		amt := n.taint
		if t.p.Model == Poison {
			amt = chain.Amount{}
			if n.poisoned {
				amt = positive(n.bal)
			}
		}
		if amt.IsZero() {
			continue
		}
		reason := ReasonHeld
		switch {
		case n.beyond:
			reason = ReasonWindow
		case !t.fwd:
			reason = ReasonUnexplained
		}
		t.stopBetween(n.id, amt, n.hop, reason, min(n.first, n.last), max(n.first, n.last))
	}
	for _, d := range t.dest {
		t.res.Destinations = append(t.res.Destinations, *d)
	}
	slices.SortFunc(t.res.Destinations, func(a, b AccountDestination) int {
		return cmp.Or(b.Amount.Cmp(a.Amount), cmp.Compare(a.Addr, b.Addr), cmp.Compare(a.Reason, b.Reason))
	})
	slices.SortFunc(t.res.Edges, func(a, b AccountEdge) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
}

// nodeHeap orders the tainted addresses by their next ledger entry: chain
// order forward (newest first backward), and in one move the flowing side
// before the receiving side.
type nodeHeap struct {
	fwd   bool
	items []*acctNode
}

func (h *nodeHeap) Len() int { return len(h.items) }

func (h *nodeHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	ea, eb := a.buf[a.bi], b.buf[b.bi]
	c := cmp.Or(cmp.Compare(ea.Key, eb.Key), cmp.Compare(ea.Seq, eb.Seq))
	if !h.fwd {
		c = -c
	}
	if c != 0 {
		return c < 0
	}
	// The flowing side first: forward the out entry, backward the in entry.
	if fa, fb := ea.In != h.fwd, eb.In != h.fwd; fa != fb {
		return fa
	}
	return a.id < b.id
}

func (h *nodeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }

func (h *nodeHeap) Push(x any) { h.items = append(h.items, x.(*acctNode)) }

func (h *nodeHeap) Pop() any {
	n := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return n
}
