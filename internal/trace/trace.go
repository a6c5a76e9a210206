// Package trace follows money through a UTXO index: forward (where did
// the funds of an address go) or backward (where did they come from),
// hop by hop through transactions, under a taint model, with limits.
//
// Concepts:
//
//   - Outpoint: one output of one transaction, the unit funds move in.
//     A trace holds a frontier of outpoints with the tainted amount each
//     carries, and moves it one transaction (one hop) at a time.
//   - Taint models, applied per transaction:
//     Poison: any tainted input taints every output in full (an upper bound
//     on what may be involved; amounts can exceed the source).
//     Haircut: each output carries the tainted share of the inputs, in
//     proportion to value (floor of output × tainted / inputs).
//     FIFO: inputs and outputs are laid end to end in their order; the
//     tainted satoshis at the start of each input's span go to the outputs
//     whose spans they overlap, the rest of the way to the fee.
//     Haircut and FIFO never attribute more than the source had: what does
//     not reach an output is counted as fees or as dropped below the
//     minimum value.
//   - Destinations: where tainted funds stop, with the reason: unspent,
//     a stop rule (an exchange, a mixer, …), the hop limit, the time window,
//     a coinbase (backward: newly mined), an output without an address, or
//     summarised (the frontier grew past its limit and was not expanded).
//   - Following change (forward, optional): at each transaction whose change
//     output is detected, only the change continues the trail; the other
//     outputs are payments, destinations with the reason "payment". This is
//     how an investigator follows one wallet along a peel chain.
//   - Backward traces run the same models in reverse: a transaction's
//     tainted outputs distribute their amounts over its inputs.
//
// Accounts (TraceAccounts, AccountPaths) trace one asset through an
// account-model index (package evmindex), with the same models and
// limits. An address's balance of the asset is a pool; events are taken
// in global chain order (TxKey, Seq) from a min-heap over the ledgers of
// the addresses holding taint (backward: newest first, the models in
// reverse). Haircut: an outgoing move of x carries floor(x × taint /
// balance before), balances from the ledger. FIFO: the incoming moves
// form a queue, each with its taint first (the untainted balance held
// when taint arrived is one lot ahead of it); outgoing moves take from the
// front. Poison: every outgoing move after taint arrives is fully tainted
// (an upper bound; what a poisoned address holds at the end is its whole
// balance). Fees consume taint like any move and are counted in Fees; a
// move to nobody or to the zero address is burnt (backward: from the zero
// address, minted; from nobody, named by the entry's kind: opening,
// withdrawal, tips). A move from an address reached at hop h reaches its
// counterparty at hop h+1; taint reaching a new address at hop Hops stops
// there. Forward, the source's own sends from FromKey on are the taint
// (all of them, or the first Amount); backward what it received up to
// ToKey (or the last Amount). Taint back at the source joins its pool.
// Destinations: held (at the end of the window), a stop rule,
// hop-limit, outside-window (the address's ledger goes on past ToKey),
// summarised, burnt. Haircut and FIFO conserve value exactly:
// destinations + fees + dropped = source. Moves to oneself change
// nothing. AccountPaths searches money paths breadth-first, each move
// after the one before.
//
// Results are deterministic: the same index tip and parameters give the
// same result, in the same order.
//
// Errors: bad parameters wrap chain.ErrInvalid; index errors are returned
// as they come.
package trace

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Reader is what a trace reads of an index; *index.Index is one.
type Reader interface {
	Outputs(id index.AddrID, fn func(index.OutEntry) bool) error
	SpentBy(id index.AddrID, key index.TxKey, vout uint32) (spender index.TxKey, vin uint32, ok bool, err error)
	RecordByKey(key index.TxKey) (*index.TxRecord, error)
}

// Direction of a trace.
type Direction string

// Directions.
const (
	Forward  Direction = "forward"
	Backward Direction = "backward"
)

// Model is a taint model.
type Model string

// Taint models.
const (
	Poison  Model = "poison"
	Haircut Model = "haircut"
	FIFO    Model = "fifo"
)

// Outpoint names one output.
type Outpoint struct {
	Tx   index.TxKey
	Vout uint32
}

func (o Outpoint) cmp(p Outpoint) int {
	if c := cmp.Compare(o.Tx, p.Tx); c != 0 {
		return c
	}
	return cmp.Compare(o.Vout, p.Vout)
}

// Params of a trace. The zero values of the limits take the defaults.
type Params struct {
	Direction Direction
	Model     Model
	// Hops is the number of transactions to follow (default 6, at most 64).
	Hops int
	// MinValue drops tainted amounts below it (counted in Dropped).
	MinValue uint64
	// FromHeight and ToHeight bound the transactions followed (ToHeight 0:
	// no bound); funds reaching a transaction outside stop there.
	FromHeight, ToHeight int64
	// MaxFrontier bounds the outpoints expanded per hop (default 10,000);
	// the rest are summarised, not expanded.
	MaxFrontier int
	// Stop says whether funds reaching addr stop there (a destination) and
	// why, for example "exchange". Nil: no stop rule.
	Stop func(addr index.AddrID) (stop bool, reason string, err error) `json:"-"`
	// Change, when set, follows only the sender's change (forward traces):
	// it names the change output of a transaction (ok false: none could be
	// told). The other outputs of a transaction with detected change are
	// payments: destinations with reason "payment", not followed further.
	// Where no change is detected every output is followed.
	Change func(rec *index.TxRecord) (vout int, ok bool, err error) `json:"-"`
	// Progress, when set, is called before each hop; an error it returns
	// (a cancelled context, say) ends the trace with that error.
	Progress func(Progress) error `json:"-"`
}

// Progress is how far a trace has gone: the hop it is about to take, the
// outpoints (forward) or inputs' sources (backward) it will expand, and
// the transactions read so far.
type Progress struct {
	Hop      int `json:"hop"`
	Frontier int `json:"frontier"`
	TxsRead  int `json:"txs_read"`
}

// Reasons a destination holds funds.
const (
	ReasonUnspent    = "unspent"
	ReasonHopLimit   = "hop-limit"
	ReasonWindow     = "outside-window"
	ReasonCoinbase   = "coinbase"
	ReasonNoAddress  = "no-address"
	ReasonSummarised = "summarised"
	ReasonPayment    = "payment"
)

// Destination is where tainted funds stopped.
type Destination struct {
	Addr   index.AddrID
	Amount uint64
	// Hops is the fewest hops at which funds reached it.
	Hops   int
	Reason string
}

// Edge is a tainted transfer between two addresses in one transaction.
type Edge struct {
	From, To index.AddrID
	Tx       index.TxKey
	Amount   uint64
	Hop      int
}

// Result of a trace.
type Result struct {
	Params Params
	// Source is the tainted amount at the start.
	Source       uint64
	Destinations []Destination
	Edges        []Edge
	// Fees is the taint that went to miners' fees or was lost to integer
	// rounding (haircut and FIFO; backward, rounding only); Dropped what
	// fell below MinValue.
	Fees, Dropped uint64
	// Summarised is set when a frontier outgrew MaxFrontier.
	Summarised bool
	// Txs counts the transactions the trace read.
	Txs int
}

func (p *Params) check() error {
	switch p.Direction {
	case Forward, Backward:
	case "":
		p.Direction = Forward
	default:
		return fmt.Errorf("trace: %w: direction %q (forward or backward)", chain.ErrInvalid, p.Direction)
	}
	switch p.Model {
	case Poison, Haircut, FIFO:
	case "":
		p.Model = Haircut
	default:
		return fmt.Errorf("trace: %w: model %q (poison, haircut or fifo)", chain.ErrInvalid, p.Model)
	}
	if p.Hops == 0 {
		p.Hops = 6
	}
	if p.Hops < 0 || p.Hops > 64 {
		return fmt.Errorf("trace: %w: %d hops (1 to 64)", chain.ErrInvalid, p.Hops)
	}
	if p.MaxFrontier == 0 {
		p.MaxFrontier = 10_000
	}
	if p.Change != nil && p.Direction != Forward {
		return fmt.Errorf("trace: %w: change is followed forward only", chain.ErrInvalid)
	}
	if p.MaxFrontier < 0 || p.FromHeight < 0 || p.ToHeight < 0 || (p.ToHeight > 0 && p.ToHeight < p.FromHeight) {
		return fmt.Errorf("trace: %w: negative limits or an empty window", chain.ErrInvalid)
	}
	return nil
}

// mulDiv returns floor(a × b / c) without overflow (c > 0, a×b/c fits).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// FromAddress starts a trace from every output an address received from
// others (forward: where those funds went; backward: where they came
// from) within the window; outputs it paid itself are reached by the trace.
func FromAddress(r Reader, addr index.AddrID, p Params) (*Result, error) {
	return FromAddresses(r, []index.AddrID{addr}, p)
}

// FromAddresses starts a trace from what a set of addresses (an entity)
// received from outside the set within the window; transfers among them
// are reached by the trace, not counted twice.
func FromAddresses(r Reader, addrs []index.AddrID, p Params) (*Result, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("trace: %w: no addresses to trace from", chain.ErrInvalid)
	}
	member := make(map[index.AddrID]bool, len(addrs))
	for _, a := range addrs {
		member[a] = true
	}
	// An address can hold millions of outputs (an exchange's hot wallet):
	// the first MaxFrontier are traced, the rest only summed and
	// summarised where they are, so memory stays bounded.
	start := map[Outpoint]uint64{}
	rest := map[index.AddrID]uint64{}
	for _, addr := range addrs {
		err := r.Outputs(addr, func(e index.OutEntry) bool {
			if h := e.Key.Height(); h >= p.FromHeight && (p.ToHeight == 0 || h <= p.ToHeight) {
				if len(start) < p.MaxFrontier {
					start[Outpoint{e.Key, e.Vout}] = e.Value
				} else {
					rest[addr] += e.Value
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	// What the set paid itself (change back to it) is part of what it
	// already received: counting it again would trace the same satoshis
	// twice. Its taint arrives through the trace instead.
	for o := range start {
		rec, err := r.RecordByKey(o.Tx)
		if err != nil {
			return nil, err
		}
		for i := range rec.In {
			if member[rec.In[i].Addr] {
				delete(start, o)
				break
			}
		}
	}
	if len(start) == 0 {
		return nil, fmt.Errorf("trace: %d address(es) received nothing from others in the window: %w", len(addrs), chain.ErrNotFound)
	}
	res, err := run(r, start, p)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		for _, addr := range addrs {
			if v, ok := rest[addr]; ok {
				res.Source += v
				res.Destinations = append(res.Destinations, Destination{Addr: addr, Amount: v, Hops: 0, Reason: ReasonSummarised})
			}
		}
		res.Summarised = true
		sortDestinations(res.Destinations)
	}
	return res, nil
}

// FromOutputs starts a trace from the given outputs with their full values.
func FromOutputs(r Reader, outs []Outpoint, p Params) (*Result, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	start := map[Outpoint]uint64{}
	for _, o := range outs {
		rec, err := r.RecordByKey(o.Tx)
		if err != nil {
			return nil, err
		}
		if int(o.Vout) >= len(rec.Out) {
			return nil, fmt.Errorf("trace: %w: output %d of a transaction with %d", chain.ErrInvalid, o.Vout, len(rec.Out))
		}
		start[o] = rec.Out[o.Vout].Value
	}
	if len(start) == 0 {
		return nil, fmt.Errorf("trace: %w: no outputs to trace", chain.ErrInvalid)
	}
	return run(r, start, p)
}

// tracer is one run.
type tracer struct {
	r    Reader
	p    Params
	res  *Result
	dest map[index.AddrID]*Destination
	edge map[edgeKey]uint64
	// poisoned outputs are counted once, however many paths reach them.
	poisoned map[Outpoint]bool
}

type edgeKey struct {
	from, to index.AddrID
	tx       index.TxKey
	hop      int
}

func run(r Reader, start map[Outpoint]uint64, p Params) (*Result, error) {
	t := &tracer{r: r, p: p, res: &Result{Params: p}, dest: map[index.AddrID]*Destination{}, edge: map[edgeKey]uint64{}, poisoned: map[Outpoint]bool{}}
	for _, v := range start {
		t.res.Source += v
	}
	frontier := start
	for hop := 1; len(frontier) > 0; hop++ {
		if p.Progress != nil {
			if err := p.Progress(Progress{Hop: hop, Frontier: len(frontier), TxsRead: t.res.Txs}); err != nil {
				return nil, err
			}
		}
		var err error
		if p.Direction == Forward {
			frontier, err = t.forwardHop(frontier, hop)
		} else {
			frontier, err = t.backwardHop(frontier, hop)
		}
		if err != nil {
			return nil, err
		}
	}
	t.finish()
	return t.res, nil
}

func (t *tracer) stopAt(addr index.AddrID, amount uint64, hop int, reason string) {
	d, ok := t.dest[addr]
	if !ok {
		d = &Destination{Addr: addr, Hops: hop, Reason: reason}
		t.dest[addr] = d
	}
	d.Amount += amount
	if hop < d.Hops {
		d.Hops, d.Reason = hop, reason
	}
}

// sortDestinations orders destinations by amount, largest first, then by
// address.
func sortDestinations(ds []Destination) {
	slices.SortFunc(ds, func(a, b Destination) int {
		return cmp.Or(cmp.Compare(b.Amount, a.Amount), cmp.Compare(a.Addr, b.Addr), cmp.Compare(a.Reason, b.Reason))
	})
}

func (t *tracer) finish() {
	for _, d := range t.dest {
		t.res.Destinations = append(t.res.Destinations, *d)
	}
	sortDestinations(t.res.Destinations)
	for k, v := range t.edge {
		t.res.Edges = append(t.res.Edges, Edge{From: k.from, To: k.to, Tx: k.tx, Amount: v, Hop: k.hop})
	}
	slices.SortFunc(t.res.Edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(a.Hop, b.Hop), cmp.Compare(a.Tx, b.Tx), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
}

// sortedKeys returns the frontier's outpoints in chain order.
func (t *tracer) sortedKeys(frontier map[Outpoint]uint64) []Outpoint {
	keys := make([]Outpoint, 0, len(frontier))
	for o := range frontier {
		keys = append(keys, o)
	}
	slices.SortFunc(keys, Outpoint.cmp)
	return keys
}

func (t *tracer) inWindow(key index.TxKey) bool {
	h := key.Height()
	return h >= t.p.FromHeight && (t.p.ToHeight == 0 || h <= t.p.ToHeight)
}

// forwardHop moves the frontier through the transactions that spend it.
func (t *tracer) forwardHop(frontier map[Outpoint]uint64, hop int) (map[Outpoint]uint64, error) {
	keys := t.sortedKeys(frontier)
	// Which transaction spends each tainted outpoint.
	type spent struct {
		vin    uint32
		amount uint64
	}
	bySpender := map[index.TxKey][]spent{}
	var spenders []index.TxKey
	expanded := 0
	for _, o := range keys {
		rec, err := t.r.RecordByKey(o.Tx)
		if err != nil {
			return nil, err
		}
		addr := rec.Out[o.Vout].Addr
		amount := frontier[o]
		if addr == 0 {
			t.stopAt(0, amount, hop-1, ReasonNoAddress)
			continue
		}
		sp, vin, ok, err := t.r.SpentBy(addr, o.Tx, o.Vout)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			t.stopAt(addr, amount, hop-1, ReasonUnspent)
			continue
		case hop > t.p.Hops:
			t.stopAt(addr, amount, hop-1, ReasonHopLimit)
			continue
		case !t.inWindow(sp):
			t.stopAt(addr, amount, hop-1, ReasonWindow)
			continue
		case expanded >= t.p.MaxFrontier:
			t.res.Summarised = true
			t.stopAt(addr, amount, hop-1, ReasonSummarised)
			continue
		}
		expanded++
		if _, seen := bySpender[sp]; !seen {
			spenders = append(spenders, sp)
		}
		bySpender[sp] = append(bySpender[sp], spent{vin, amount})
	}
	slices.Sort(spenders)
	next := map[Outpoint]uint64{}
	for _, sp := range spenders {
		rec, err := t.r.RecordByKey(sp)
		if err != nil {
			return nil, err
		}
		t.res.Txs++
		taintIn := make([]uint64, len(rec.In))
		var tainted uint64
		for _, s := range bySpender[sp] {
			taintIn[s.vin] += s.amount
			tainted += s.amount
		}
		outs := distribute(t.p.Model, rec, taintIn, tainted)
		change, hasChange := -1, false
		if t.p.Change != nil {
			v, ok, err := t.p.Change(rec)
			if err != nil {
				return nil, err
			}
			if ok && v >= 0 && v < len(rec.Out) {
				change, hasChange = v, true
			}
		}
		if t.p.Model == Poison {
			for j := range outs {
				o := Outpoint{sp, uint32(j)}
				if t.poisoned[o] {
					outs[j] = 0
				}
				t.poisoned[o] = outs[j] > 0 || t.poisoned[o]
			}
		}
		var reached uint64
		for j, amt := range outs {
			if amt == 0 {
				continue
			}
			if amt < t.p.MinValue {
				t.res.Dropped += amt
				continue
			}
			reached += amt
			to := rec.Out[j].Addr
			t.addEdges(rec, taintIn, tainted, to, amt, hop)
			if to != 0 && t.p.Stop != nil {
				stop, why, err := t.p.Stop(to)
				if err != nil {
					return nil, err
				}
				if stop {
					t.stopAt(to, amt, hop, why)
					continue
				}
			}
			if hasChange && j != change {
				t.stopAt(to, amt, hop, ReasonPayment)
				continue
			}
			next[Outpoint{sp, uint32(j)}] += amt
		}
		if t.p.Model != Poison && tainted > reached {
			// What the outputs do not carry went to the fee or below MinValue.
			dropped := uint64(0)
			for _, amt := range outs {
				if amt > 0 && amt < t.p.MinValue {
					dropped += amt
				}
			}
			t.res.Fees += tainted - reached - dropped
		}
	}
	return next, nil
}

// addEdges records the transfer of amt to address to, split over the
// tainted inputs' addresses in proportion to their taint.
func (t *tracer) addEdges(rec *index.TxRecord, taintIn []uint64, tainted uint64, to index.AddrID, amt uint64, hop int) {
	for i, a := range taintIn {
		if a == 0 {
			continue
		}
		t.edge[edgeKey{rec.In[i].Addr, to, rec.Key, hop}] += mulDiv(amt, a, tainted)
	}
}

// distribute returns the taint of each output of rec given the taint of
// each input, under model m.
func distribute(m Model, rec *index.TxRecord, taintIn []uint64, tainted uint64) []uint64 {
	out := make([]uint64, len(rec.Out))
	if tainted == 0 {
		return out
	}
	switch m {
	case Poison:
		for j := range rec.Out {
			out[j] = rec.Out[j].Value
		}
	case Haircut:
		total := rec.InputValue()
		if total == 0 {
			return out
		}
		for j := range rec.Out {
			out[j] = mulDiv(rec.Out[j].Value, min(tainted, total), total)
		}
	case FIFO:
		// Input i spans [c, c+value); its taint is the first taintIn[i]
		// satoshis of that span. Output j spans [d, d+value).
		var c uint64
		j, d := 0, uint64(0)
		for i := range rec.In {
			lo, hi := c, c+min(taintIn[i], rec.In[i].Value)
			c += rec.In[i].Value
			for lo < hi && j < len(rec.Out) {
				end := d + rec.Out[j].Value
				if end <= lo {
					d = end
					j++
					continue
				}
				take := min(hi, end) - max(lo, d)
				out[j] += take
				lo = min(hi, end)
				if lo == end {
					d = end
					j++
				}
			}
		}
	}
	return out
}

// backwardHop moves the frontier to the inputs of the transactions that
// created it.
func (t *tracer) backwardHop(frontier map[Outpoint]uint64, hop int) (map[Outpoint]uint64, error) {
	keys := t.sortedKeys(frontier)
	byTx := map[index.TxKey]map[uint32]uint64{}
	var txs []index.TxKey
	for i, o := range keys {
		if i >= t.p.MaxFrontier {
			t.res.Summarised = true
			rec, err := t.r.RecordByKey(o.Tx)
			if err != nil {
				return nil, err
			}
			t.stopAt(rec.Out[o.Vout].Addr, frontier[o], hop-1, ReasonSummarised)
			continue
		}
		if _, ok := byTx[o.Tx]; !ok {
			byTx[o.Tx] = map[uint32]uint64{}
			txs = append(txs, o.Tx)
		}
		byTx[o.Tx][o.Vout] += frontier[o]
	}
	slices.Sort(txs)
	next := map[Outpoint]uint64{}
	for _, tx := range txs {
		rec, err := t.r.RecordByKey(tx)
		if err != nil {
			return nil, err
		}
		t.res.Txs++
		var tainted uint64
		taintOut := make([]uint64, len(rec.Out))
		for v, a := range byTx[tx] {
			taintOut[v] = a
			tainted += a
		}
		at := func(reason string) {
			for v, a := range taintOut {
				if a > 0 {
					t.stopAt(rec.Out[v].Addr, a, hop-1, reason)
				}
			}
		}
		switch {
		case rec.Coinbase:
			at(ReasonCoinbase)
			continue
		case hop > t.p.Hops:
			at(ReasonHopLimit)
			continue
		case !t.inWindow(tx):
			at(ReasonWindow)
			continue
		}
		ins := reverse(t.p.Model, rec, taintOut, tainted)
		if t.p.Model != Poison {
			var sum uint64
			for _, amt := range ins {
				sum += amt
			}
			t.res.Fees += tainted - sum
		}
		for i, amt := range ins {
			if amt == 0 {
				continue
			}
			if amt < t.p.MinValue {
				t.res.Dropped += amt
				continue
			}
			from := rec.In[i].Addr
			for v, a := range taintOut {
				if a > 0 {
					t.edge[edgeKey{from, rec.Out[v].Addr, tx, hop}] += mulDiv(amt, a, tainted)
				}
			}
			if from != 0 && t.p.Stop != nil {
				stop, why, err := t.p.Stop(from)
				if err != nil {
					return nil, err
				}
				if stop {
					t.stopAt(from, amt, hop, why)
					continue
				}
			}
			next[Outpoint{rec.In[i].PrevKey, rec.In[i].Vout}] += amt
		}
	}
	return next, nil
}

// reverse returns the taint of each input of rec given the taint of each
// output: the models run backwards.
func reverse(m Model, rec *index.TxRecord, taintOut []uint64, tainted uint64) []uint64 {
	in := make([]uint64, len(rec.In))
	switch m {
	case Poison:
		for i := range rec.In {
			in[i] = rec.In[i].Value
		}
	case Haircut:
		total := rec.InputValue()
		if total == 0 {
			return in
		}
		for i := range rec.In {
			in[i] = mulDiv(rec.In[i].Value, tainted, total)
		}
	case FIFO:
		// Output j's tainted satoshis are the first taintOut[j] of its span;
		// they came from the inputs whose spans overlap them.
		var d uint64
		i, c := 0, uint64(0)
		for j := range rec.Out {
			lo, hi := d, d+min(taintOut[j], rec.Out[j].Value)
			d += rec.Out[j].Value
			for lo < hi && i < len(rec.In) {
				end := c + rec.In[i].Value
				if end <= lo {
					c = end
					i++
					continue
				}
				take := min(hi, end) - max(lo, c)
				in[i] += take
				lo = min(hi, end)
				if lo == end {
					c = end
					i++
				}
			}
		}
	}
	return in
}
