// Package detect finds laundering typologies in a UTXO index: peel chains,
// consolidations, fan-out and fan-in, structuring below a threshold, rapid
// pass-through, dusting, round-number payments and CoinJoin participation
// (mixer use needs the tags and is found by package entity). Each finding carries its type, transactions,
// addresses, the parameters that made it fire, a confidence and a plain
// explanation an investigator can read out in court.
//
// Concepts:
//
//   - Peel shape: a transaction whose inputs all come from one address and
//     that pays exactly two addressed outputs, one at least PeelRatio times
//     the other: a small "peel" and a large "remainder".
//   - Peel chain: peel-shaped transactions each spending only the previous
//     one's remainder, at least MinPeelHops long, reported in chain order.
//   - Transaction typologies are judged on one transaction at a time with
//     the thresholds of Options (each finding says which it met).
//   - Structuring: at least MinStructured transfers just below a reporting
//     threshold, in one transaction (fan-out) or paid to one address within
//     FanInBlocks blocks (fan-in).
//   - Pass-through: an address whose incoming transfers (at least
//     MinPassTransfers) leave again within PassBlocks blocks each, leaving
//     at most MaxResidualPct percent behind.
//
// Detectors are pure and read the index only; results are in chain order
// and deterministic.
//
// EVM chains (evm.go, deposit.go) are read from an account-model index
// (package evmindex, through EVMReader): EVMRange finds mixer use (moves
// into or out of given mixer pools), bridge deposits (a possible chain
// hop), DEX swaps as asset conversions (the token moves to and from the
// pool around each Swap event), fan-out, fan-in and rapid pass-through
// (first in, first out within PassBlocks), per asset, as EVMFindings with
// exact amounts. DepositAddresses finds exchange deposit addresses from
// the exchange's hot wallets: addresses that forward (nearly) all others
// paid in to a hot wallet within MaxSweepBlocks blocks, and links the
// senders of one deposit address as one exchange user. Address sets
// (hot wallets, pools, bridges) come from the caller, who knows the tags.
//
// Errors: bad options wrap chain.ErrInvalid; index errors are returned as
// they come.
package detect

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/coinjoin"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Reader is what the detectors read of an index; *index.Index is one.
type Reader interface {
	Scan(from, to int64, fn func(*index.TxRecord) error) error
	RecordByKey(key index.TxKey) (*index.TxRecord, error)
	SpentBy(id index.AddrID, key index.TxKey, vout uint32) (spender index.TxKey, vin uint32, ok bool, err error)
	Outputs(id index.AddrID, fn func(index.OutEntry) bool) error
}

// Typology names.
const (
	PeelChain     = "peel_chain"
	Consolidation = "consolidation"
	FanOut        = "fan_out"
	FanIn         = "fan_in"
	Dusting       = "dusting"
	RoundPayment  = "round_payment"
	CoinJoin      = "coinjoin_participation"
	Structuring   = "structuring"
	PassThrough   = "pass_through"
	MixerUse      = "mixer_use" // found by package entity, which knows the tags
)

// Options are the detectors' thresholds; zero values take the defaults.
type Options struct {
	MinPeelHops    int    // default 3
	PeelRatio      uint64 // remainder ≥ PeelRatio × peel; default 4
	MinConsolidate int    // inputs into one output; default 10
	MinFanOut      int    // outputs of one transaction; default 20
	MinFanIn       int    // transactions paying one address in a block window; default 20
	FanInBlocks    int64  // that window; default 144 (about a day)
	DustValue      uint64 // outputs at most this are dust; default 1,000 sats
	MinDust        int    // dust outputs in one transaction; default 10
	// StructuringValue is a reporting threshold in sats (default 1,000,000):
	// transfers just below it (within StructuringBandPct percent, default
	// 20) are counted; MinStructured of them (default 5) in one transaction
	// or to one address within FanInBlocks are structuring.
	StructuringValue   uint64
	StructuringBandPct uint64
	MinStructured      int
	// PassBlocks is how soon funds must leave to pass through (default 6
	// blocks, about an hour); MinPassTransfers incoming transfers (default
	// 3) of which at most MaxResidualPct percent (default 5) stays.
	PassBlocks       int64
	MinPassTransfers int
	MaxResidualPct   uint64
}

func (o *Options) check() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MinPeelHops, 3)
	def(&o.MinConsolidate, 10)
	def(&o.MinFanOut, 20)
	def(&o.MinFanIn, 20)
	def(&o.MinDust, 10)
	if o.PeelRatio == 0 {
		o.PeelRatio = 4
	}
	if o.FanInBlocks == 0 {
		o.FanInBlocks = 144
	}
	if o.DustValue == 0 {
		o.DustValue = 1000
	}
	def(&o.MinStructured, 5)
	def(&o.MinPassTransfers, 3)
	if o.StructuringValue == 0 {
		o.StructuringValue = 1_000_000
	}
	if o.StructuringBandPct == 0 {
		o.StructuringBandPct = 20
	}
	if o.PassBlocks == 0 {
		o.PassBlocks = 6
	}
	if o.MaxResidualPct == 0 {
		o.MaxResidualPct = 5
	}
	if o.MinPeelHops < 2 || o.MinConsolidate < 2 || o.MinFanOut < 2 || o.MinFanIn < 2 || o.MinDust < 2 || o.FanInBlocks < 1 ||
		o.MinStructured < 2 || o.MinPassTransfers < 2 || o.PassBlocks < 1 {
		return fmt.Errorf("detect: %w: thresholds below 2", chain.ErrInvalid)
	}
	if o.StructuringBandPct >= 100 || o.MaxResidualPct >= 100 {
		return fmt.Errorf("detect: %w: percentages must be below 100", chain.ErrInvalid)
	}
	return nil
}

// Finding is one detected typology.
type Finding struct {
	Type        string
	Txs         []index.TxKey
	Addresses   []index.AddrID
	Params      map[string]any
	Confidence  float64
	Explanation string
}

// peelShape returns the remainder's output index when r is peel-shaped.
func peelShape(r *index.TxRecord, ratio uint64) (rem int, peel int, ok bool) {
	if r.Coinbase || len(r.In) == 0 {
		return 0, 0, false
	}
	for i := range r.In {
		if r.In[i].Addr == 0 || r.In[i].Addr != r.In[0].Addr {
			return 0, 0, false
		}
	}
	var outs []int
	for j := range r.Out {
		if r.Out[j].Addr != 0 {
			outs = append(outs, j)
		}
	}
	if len(outs) != 2 {
		return 0, 0, false
	}
	a, b := outs[0], outs[1]
	if r.Out[a].Value < r.Out[b].Value {
		a, b = b, a
	}
	if r.Out[a].Value < ratio*r.Out[b].Value {
		return 0, 0, false
	}
	return a, b, true
}

// peelFrom follows a peel chain from the peel-shaped transaction r.
func peelFrom(rd Reader, r *index.TxRecord, o *Options) ([]*index.TxRecord, error) {
	chainTxs := []*index.TxRecord{r}
	for len(chainTxs) < 10_000 {
		cur := chainTxs[len(chainTxs)-1]
		rem, _, _ := peelShape(cur, o.PeelRatio)
		sp, _, ok, err := rd.SpentBy(cur.Out[rem].Addr, cur.Key, uint32(rem))
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		next, err := rd.RecordByKey(sp)
		if err != nil {
			return nil, err
		}
		if _, _, ok := peelShape(next, o.PeelRatio); !ok || len(next.In) != 1 {
			break
		}
		chainTxs = append(chainTxs, next)
	}
	return chainTxs, nil
}

// isPeelContinuation reports whether r spends only the remainder of a
// peel-shaped transaction (so r is not the head of its chain).
func isPeelContinuation(rd Reader, r *index.TxRecord, o *Options) (bool, error) {
	if len(r.In) != 1 || r.Coinbase {
		return false, nil
	}
	prev, err := rd.RecordByKey(r.In[0].PrevKey)
	if err != nil {
		return false, err
	}
	rem, _, ok := peelShape(prev, o.PeelRatio)
	return ok && uint32(rem) == r.In[0].Vout, nil
}

func peelFinding(txs []*index.TxRecord, o *Options) Finding {
	f := Finding{Type: PeelChain, Params: map[string]any{"min_hops": o.MinPeelHops, "peel_ratio": o.PeelRatio}}
	var peeled uint64
	for _, r := range txs {
		_, peel, _ := peelShape(r, o.PeelRatio)
		f.Txs = append(f.Txs, r.Key)
		f.Addresses = append(f.Addresses, r.Out[peel].Addr)
		peeled += r.Out[peel].Value
	}
	last := txs[len(txs)-1]
	rem, _, _ := peelShape(last, o.PeelRatio)
	f.Params["hops"] = len(txs)
	f.Params["peeled_sats"] = peeled
	f.Params["remainder_sats"] = last.Out[rem].Value
	f.Confidence = min(0.95, 0.5+0.1*float64(len(txs)-o.MinPeelHops+1))
	f.Explanation = fmt.Sprintf("%d transactions in a row each spend only the previous one's larger output and split it into a small peel and a larger remainder (at least %d×): %d sats peeled off to %d addresses, %d sats left at the end",
		len(txs), o.PeelRatio, peeled, len(txs), last.Out[rem].Value)
	return f
}

// txFindings judges one transaction on its own.
func txFindings(r *index.TxRecord, o *Options) []Finding {
	if r.Coinbase {
		return nil
	}
	var out []Finding
	var flow chain.FlowTx
	r.Flow(&flow)
	ins := distinct(r.In)
	if v := coinjoin.Detect(&flow); v.IsCoinJoin {
		f := Finding{Type: CoinJoin, Txs: []index.TxKey{r.Key}, Addresses: ins, Confidence: v.Confidence,
			Params: map[string]any{"protocol": v.Protocol}}
		f.Explanation = "a CoinJoin (" + v.Protocol + "): " + v.Detectors[0].Reason
		out = append(out, f)
	}
	addressed := 0
	dust := 0
	for _, o2 := range r.Out {
		if o2.Addr != 0 {
			addressed++
			if o2.Value <= o.DustValue {
				dust++
			}
		}
	}
	if len(r.In) >= o.MinConsolidate && addressed == 1 {
		out = append(out, Finding{Type: Consolidation, Txs: []index.TxKey{r.Key}, Addresses: ins, Confidence: 0.9,
			Params:      map[string]any{"inputs": len(r.In), "min_inputs": o.MinConsolidate},
			Explanation: fmt.Sprintf("%d inputs from %d addresses gathered into one output", len(r.In), len(ins))})
	}
	if addressed >= o.MinFanOut {
		out = append(out, Finding{Type: FanOut, Txs: []index.TxKey{r.Key}, Addresses: ins, Confidence: 0.7,
			Params:      map[string]any{"outputs": addressed, "min_outputs": o.MinFanOut},
			Explanation: fmt.Sprintf("one transaction pays %d addresses (a batch payout, a distribution or structuring)", addressed)})
	}
	if dust >= o.MinDust {
		out = append(out, Finding{Type: Dusting, Txs: []index.TxKey{r.Key}, Addresses: ins, Confidence: 0.8,
			Params:      map[string]any{"dust_outputs": dust, "dust_value": o.DustValue},
			Explanation: fmt.Sprintf("%d outputs of at most %d sats each: dust sent to many addresses, often to link them when spent", dust, o.DustValue)})
	}
	if n := o.structured(r.Out); n >= o.MinStructured {
		out = append(out, Finding{Type: Structuring, Txs: []index.TxKey{r.Key}, Addresses: ins, Confidence: 0.6,
			Params: map[string]any{"structured_outputs": n, "threshold_sats": o.StructuringValue, "band_pct": o.StructuringBandPct},
			Explanation: fmt.Sprintf("%d outputs each just below %d sats (within %d%%): amounts split to stay under a reporting threshold",
				n, o.StructuringValue, o.StructuringBandPct)})
	}
	if addressed == 2 {
		var round []index.AddrID
		for _, o2 := range r.Out {
			if o2.Addr != 0 && o2.Value >= 100_000 && o2.Value%100_000 == 0 {
				round = append(round, o2.Addr)
			}
		}
		if len(round) == 1 {
			out = append(out, Finding{Type: RoundPayment, Txs: []index.TxKey{r.Key}, Addresses: round, Confidence: 0.6,
				Params:      map[string]any{"multiple_of_sats": 100_000},
				Explanation: "one of the two outputs is a round amount (a multiple of 0.001 BTC): likely the payment, the other the change"})
		}
	}
	return out
}

// inBand says whether v lies just below the structuring threshold.
func (o *Options) inBand(v uint64) bool {
	return v < o.StructuringValue && v >= o.StructuringValue-o.StructuringValue*o.StructuringBandPct/100
}

// structured counts the addressed outputs just below the threshold.
func (o *Options) structured(outs []index.OutRecord) int {
	n := 0
	for _, out := range outs {
		if out.Addr != 0 && o.inBand(out.Value) {
			n++
		}
	}
	return n
}

// passing accumulates what one address received and passed on quickly.
type passing struct {
	transfers        int
	received, passed uint64
	txs              []index.TxKey
}

// maxPassTxs bounds the transactions a pass-through finding lists.
const maxPassTxs = 50

func (p *passing) note(k index.TxKey) {
	if len(p.txs) < maxPassTxs && !slices.Contains(p.txs, k) {
		p.txs = append(p.txs, k)
	}
}

// passFinding reports addr when it passed on all but MaxResidualPct
// percent of at least MinPassTransfers incoming transfers within
// PassBlocks blocks each.
func passFinding(addr index.AddrID, p *passing, o *Options) (Finding, bool) {
	if p.transfers < o.MinPassTransfers || p.received == 0 || p.passed*100 < p.received*(100-o.MaxResidualPct) {
		return Finding{}, false
	}
	slices.Sort(p.txs)
	residual := p.received - min(p.passed, p.received)
	return Finding{Type: PassThrough, Txs: p.txs, Addresses: []index.AddrID{addr}, Confidence: 0.7,
		Params: map[string]any{"transfers": p.transfers, "received_sats": p.received, "passed_sats": p.passed,
			"residual_sats": residual, "within_blocks": o.PassBlocks, "max_residual_pct": o.MaxResidualPct},
		Explanation: fmt.Sprintf("%d incoming transfers of %d sats in total left again within %d blocks each, leaving %d sats: "+
			"a pass-through (mule or intermediary) address", p.transfers, p.received, o.PassBlocks, residual)}, true
}

func distinct(in []index.InRecord) []index.AddrID {
	var out []index.AddrID
	for _, i := range in {
		if i.Addr != 0 && !slices.Contains(out, i.Addr) {
			out = append(out, i.Addr)
		}
	}
	return out
}

// Range finds every typology in the blocks from height from to to.
func Range(rd Reader, from, to int64, o Options) ([]Finding, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	var out []Finding
	fanIn := map[index.AddrID][]index.TxKey{}
	structIn := map[index.AddrID][]index.TxKey{}
	pass := map[index.AddrID]*passing{}
	err := rd.Scan(from, to, func(r *index.TxRecord) error {
		out = append(out, txFindings(r, &o)...)
		for _, o2 := range r.Out {
			if o2.Addr != 0 && !r.Coinbase {
				if l := fanIn[o2.Addr]; len(l) == 0 || l[len(l)-1] != r.Key {
					fanIn[o2.Addr] = append(l, r.Key)
				}
				if o.inBand(o2.Value) {
					if l := structIn[o2.Addr]; len(l) == 0 || l[len(l)-1] != r.Key {
						structIn[o2.Addr] = append(l, r.Key)
					}
				}
				p := pass[o2.Addr]
				if p == nil {
					p = &passing{}
					pass[o2.Addr] = p
				}
				p.transfers++
				p.received += o2.Value
				p.note(r.Key)
			}
		}
		for _, in := range r.In {
			if p := pass[in.Addr]; p != nil && in.PrevKey.Height() >= from && r.Key.Height()-in.PrevKey.Height() <= o.PassBlocks {
				p.passed += in.Value
				p.note(r.Key)
			}
		}
		if _, _, ok := peelShape(r, o.PeelRatio); ok {
			cont, err := isPeelContinuation(rd, r, &o)
			if err != nil || cont {
				return err
			}
			rec := *r
			rec.In = slices.Clone(r.In)
			rec.Out = slices.Clone(r.Out)
			txs, err := peelFrom(rd, &rec, &o)
			if err != nil {
				return err
			}
			if len(txs) >= o.MinPeelHops {
				out = append(out, peelFinding(txs, &o))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, fanInFindings(fanIn, &o)...)
	out = append(out, structuredInFindings(structIn, &o)...)
	for addr, p := range pass {
		if f, ok := passFinding(addr, p, &o); ok {
			out = append(out, f)
		}
	}
	Sort(out)
	return out, nil
}

// windows calls fn with each maximal run of at least n transactions within
// blocks blocks of its first (txs in chain order).
func windows(txs []index.TxKey, n int, blocks int64, fn func([]index.TxKey)) {
	for i, j := 0, 0; j < len(txs); j++ {
		for txs[j].Height()-txs[i].Height() >= blocks {
			i++
		}
		if j-i+1 >= n {
			w := slices.Clone(txs[i : j+1])
			for j+1 < len(txs) && txs[j+1].Height()-txs[i].Height() < blocks {
				j++
				w = append(w, txs[j])
			}
			fn(w)
			i = j + 1
		}
	}
}

// structuredInFindings reports addresses paid at least MinStructured
// amounts just below the threshold within FanInBlocks blocks.
func structuredInFindings(in map[index.AddrID][]index.TxKey, o *Options) []Finding {
	var out []Finding
	for addr, txs := range in {
		windows(txs, o.MinStructured, o.FanInBlocks, func(w []index.TxKey) {
			out = append(out, Finding{Type: Structuring, Txs: w, Addresses: []index.AddrID{addr}, Confidence: 0.6,
				Params: map[string]any{"structured_transfers": len(w), "threshold_sats": o.StructuringValue, "band_pct": o.StructuringBandPct,
					"blocks": o.FanInBlocks},
				Explanation: fmt.Sprintf("%d payments to one address within %d blocks, each just below %d sats (within %d%%): "+
					"deposits split to stay under a reporting threshold", len(w), o.FanInBlocks, o.StructuringValue, o.StructuringBandPct)})
		})
	}
	return out
}

// fanInFindings reports addresses paid by at least MinFanIn transactions
// within FanInBlocks blocks.
func fanInFindings(fanIn map[index.AddrID][]index.TxKey, o *Options) []Finding {
	var out []Finding
	for addr, txs := range fanIn {
		windows(txs, o.MinFanIn, o.FanInBlocks, func(w []index.TxKey) {
			out = append(out, Finding{Type: FanIn, Txs: w, Addresses: []index.AddrID{addr}, Confidence: 0.6,
				Params:      map[string]any{"transactions": len(w), "min_transactions": o.MinFanIn, "blocks": o.FanInBlocks},
				Explanation: fmt.Sprintf("%d transactions paid one address within %d blocks (collection, or structuring into one account)", len(w), o.FanInBlocks)})
		})
	}
	return out
}

// Sort orders findings by their first transaction, then type and first
// address: the order every detector returns.
func Sort(f []Finding) {
	slices.SortStableFunc(f, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Txs[0], b.Txs[0]), cmp.Compare(a.Type, b.Type), cmp.Compare(first(a.Addresses), first(b.Addresses)))
	})
}

func first(a []index.AddrID) index.AddrID {
	if len(a) == 0 {
		return 0
	}
	return a[0]
}

// Address finds the typologies an address takes part in: the transaction
// typologies of every transaction it received or spent in, and the peel
// chains that start from its spends.
func Address(rd Reader, addr index.AddrID, o Options) ([]Finding, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	seen := map[index.TxKey]bool{}
	var keys, structIn []index.TxKey
	pass := &passing{}
	err := rd.Outputs(addr, func(e index.OutEntry) bool {
		pass.transfers++
		pass.received += e.Value
		pass.note(e.Key)
		if e.Spent && e.Spender.Height()-e.Key.Height() <= o.PassBlocks {
			pass.passed += e.Value
			pass.note(e.Spender)
		}
		if o.inBand(e.Value) && (len(structIn) == 0 || structIn[len(structIn)-1] != e.Key) {
			structIn = append(structIn, e.Key)
		}
		for _, k := range []index.TxKey{e.Key, e.Spender} {
			if (k != e.Spender || e.Spent) && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		return len(keys) < 100_000
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	var out []Finding
	chained := map[index.TxKey]bool{}
	for _, k := range keys {
		r, err := rd.RecordByKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, txFindings(r, &o)...)
		spends := slices.ContainsFunc(r.In, func(i index.InRecord) bool { return i.Addr == addr })
		if _, _, ok := peelShape(r, o.PeelRatio); ok && spends && !chained[k] {
			txs, err := peelFrom(rd, r, &o)
			if err != nil {
				return nil, err
			}
			for _, t := range txs {
				chained[t.Key] = true
			}
			if len(txs) >= o.MinPeelHops {
				out = append(out, peelFinding(txs, &o))
			}
		}
	}
	out = append(out, structuredInFindings(map[index.AddrID][]index.TxKey{addr: structIn}, &o)...)
	if f, ok := passFinding(addr, pass, &o); ok {
		out = append(out, f)
	}
	Sort(out)
	return out, nil
}
