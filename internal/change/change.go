package change

import (
	"fmt"
	"math"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Context answers what the transaction alone cannot; the index implements
// it. Every method is about the transaction being analyzed.
type Context interface {
	// PriorUses is how many earlier transactions (strictly before this one
	// in chain order) paid to or spent from addr. 0 = fresh.
	PriorUses(addr uint64) (int, error)
	// Spender is the transaction that spends output vout of this
	// transaction, nil when unspent; its height too.
	Spender(vout int) (tx *chain.FlowTx, height int64, err error)
	// SameCluster reports whether addr belongs to the co-spend cluster of
	// this transaction's inputs (known from other transactions).
	SameCluster(addr uint64) (bool, error)
}

// What a vote says of an output.
const (
	SaysChange  = "change"
	SaysPayment = "payment"
)

// Verdicts of the consensus.
const (
	VerdictChange  = "change"
	VerdictPayment = "payment"
	VerdictUnknown = "unknown"
)

// Vote is one heuristic's statement about one output of a transaction.
type Vote struct {
	Heuristic string `json:"heuristic"`
	// Output is the output index, -1 when the heuristic abstains.
	Output int `json:"output"`
	// Says is SaysChange or SaysPayment; empty for an abstention.
	Says string `json:"says"`
	// Reason explains the vote (or the abstention) in words.
	Reason string `json:"reason"`
}

// Heuristic is a named change heuristic.
type Heuristic struct {
	Name string
	Run  func(tx *chain.FlowTx, height int64, ctx Context) ([]Vote, error)
	// Doc is a one-paragraph explanation with its source, for reports.
	Doc string
}

// OutputVerdict is the consensus about one output.
type OutputVerdict struct {
	// Verdict is VerdictChange, VerdictPayment or VerdictUnknown.
	Verdict string `json:"verdict"`
	// Confidence is in [0, 1] with two decimals; 0 for "unknown".
	Confidence float64 `json:"confidence"`
	// Heuristics are the names that voted for this verdict on this output,
	// in the order of All; never nil.
	Heuristics []string `json:"heuristics"`
}

// Result is the analysis of one transaction.
type Result struct {
	// Outputs has one verdict per output of the transaction.
	Outputs []OutputVerdict `json:"outputs"`
	// Change is the index of the consensus change output, -1 if none.
	Change int `json:"change"`
	// Votes are every heuristic's votes and abstentions, in the order of
	// All.
	Votes []Vote `json:"votes"`
}

// Heuristic names: a contract, used in reports and by package evaluate.
const (
	NameFreshAddress        = "fresh_address"
	NameAddressReuse        = "address_reuse"
	NameOptimalChange       = "optimal_change"
	NameRoundPayment        = "round_payment"
	NameScriptType          = "script_type"
	NameLocktimeConsistency = "locktime_consistency"
	NameFeeRateConsistency  = "fee_rate_consistency"
	NamePeelChain           = "peel_chain"
	NameClusterMembership   = "cluster_membership"
)

// MaxOutputs is the largest number of outputs of a transaction the
// heuristics judge; a transaction with more is a batch payout (see the
// package documentation).
const MaxOutputs = 10

// DominantWeight is address_reuse's weight in the consensus; every other
// heuristic weighs 1. It exceeds the weight of all other heuristics
// together, so address_reuse decides alone.
const DominantWeight = 9

var heuristics = []Heuristic{
	{NameFreshAddress, FreshAddress,
		"Exactly one output goes to an address never used before while every other output goes to a used address: " +
			"the fresh one is the one-time change (Androulaki et al., FC 2013, shadow addresses; Meiklejohn et al., IMC 2013, Heuristic 2)."},
	{NameAddressReuse, AddressReuse,
		"Exactly one output pays back to an address of the inputs: it is the change " +
			"(Meiklejohn et al., IMC 2013, self-change; BlockSci address_reuse). Near-certain; it dominates the consensus."},
	{NameOptimalChange, OptimalChange,
		"Exactly one output is smaller than every input: it is the change, since a wallet would not add an input it did not need " +
			"(Nick, Data-Driven De-Anonymization in Bitcoin, ETH Zürich 2015; BlockSci optimal_change)."},
	{NameRoundPayment, RoundPayment,
		"Outputs of a round amount in BTC are payments; when exactly one output is not round it is the change " +
			"(BlockSci power_of_ten_value; Bitcoin wiki, Privacy: round numbers)."},
	{NameScriptType, ScriptType,
		"All inputs have one script type and exactly one output has it while another has a different type: that output is the change " +
			"(BlockSci address_type; Möser and Narayanan, FC 2022)."},
	{NameLocktimeConsistency, LocktimeConsistency,
		"The output whose spending transaction has this transaction's wallet fingerprint (lock-time class, version, sequence/RBF class), " +
			"when every other output's spender has another, is the change; outputs spent with another fingerprint are payments " +
			"(BlockSci locktime; Möser and Narayanan, FC 2022)."},
	{NameFeeRateConsistency, FeeRateConsistency,
		"The output whose spending transaction pays this transaction's fee rate (within 3%), when every other output's spender pays another, " +
			"is the change; outputs spent at another rate are payments (BlockSci fixed fee; Möser and Narayanan, FC 2022)."},
	{NamePeelChain, PeelChain,
		"In a one-input two-output transaction, the larger output, spent by another one-input two-output transaction, continues the peel chain " +
			"and is the change; the other is the peel (Meiklejohn et al., IMC 2013; BlockSci peeling_chain; Kappos et al., USENIX Security 2022)."},
	{NameClusterMembership, ClusterMembership,
		"Exactly one output's address is already in the inputs' co-spend cluster: it is the change " +
			"(common-input ownership: Nakamoto 2008 §10; Meiklejohn et al., IMC 2013, Heuristic 1)."},
}

// All returns the heuristics in their fixed order. The slice is a copy.
func All() []Heuristic {
	out := make([]Heuristic, len(heuristics))
	copy(out, heuristics)
	return out
}

// Analyze runs every heuristic of All on tx, mined at height, and combines
// their votes by the consensus rule of the package documentation. An error
// of ctx is returned (wrapped, prefixed "change: ") without a result.
func Analyze(tx *chain.FlowTx, height int64, ctx Context) (Result, error) {
	if err := check(tx, height); err != nil {
		return Result{}, err
	}
	votes := make([]Vote, 0, len(heuristics)*max(2, min(len(tx.Out), MaxOutputs)))
	for _, h := range heuristics {
		v, err := h.Run(tx, height, ctx)
		if err != nil {
			return Result{}, err
		}
		votes = append(votes, v...)
	}
	outs, ch := decide(len(tx.Out), votes)
	return Result{Outputs: outs, Change: ch, Votes: votes}, nil
}

// weight is a heuristic's weight in the consensus.
func weight(name string) int {
	if name == NameAddressReuse {
		return DominantWeight
	}
	return 1
}

// tally is one heuristic's votes on a transaction, as bit sets over the
// outputs (outputs beyond 64 are never voted on: heuristics abstain above
// MaxOutputs, and decide ignores such votes).
type tally struct {
	name   string
	w      int
	change uint64
	pay    uint64
}

// decide is the consensus rule: see the package documentation. Votes on
// outputs outside [0, n) (and beyond 64) and abstentions are ignored.
func decide(n int, votes []Vote) ([]OutputVerdict, int) {
	var buf [16]tally
	ts := buf[:0]
	for _, v := range votes {
		if v.Output < 0 || v.Output >= n || v.Output >= 64 || (v.Says != SaysChange && v.Says != SaysPayment) {
			continue
		}
		k := -1
		for j := range ts {
			if ts[j].name == v.Heuristic {
				k = j
				break
			}
		}
		if k < 0 {
			ts = append(ts, tally{name: v.Heuristic, w: weight(v.Heuristic)})
			k = len(ts) - 1
		}
		if v.Says == SaysChange {
			ts[k].change |= 1 << uint(v.Output)
		} else {
			ts[k].pay |= 1 << uint(v.Output)
		}
	}
	// The consensus change output.
	ch := -1
	var chSup, chAgainst int
	for i := 0; i < n && i < 64; i++ {
		bit := uint64(1) << uint(i)
		sup, against := 0, 0
		for _, t := range ts {
			switch {
			case t.change&bit != 0:
				sup += t.w
			case t.pay&bit != 0 || t.change&^bit != 0:
				against += t.w
			}
		}
		if sup > against {
			ch, chSup, chAgainst = i, sup, against
			break // at most one output can have a majority
		}
	}
	outs := make([]OutputVerdict, n)
	for i := range outs {
		o := &outs[i]
		o.Verdict, o.Heuristics = VerdictUnknown, []string{}
		if i >= 64 {
			continue
		}
		bit := uint64(1) << uint(i)
		if i == ch {
			o.Verdict, o.Confidence = VerdictChange, ratio(chSup, chAgainst)
			for _, t := range ts {
				if t.change&bit != 0 {
					o.Heuristics = append(o.Heuristics, t.name)
				}
			}
			continue
		}
		p, c := 0, 0
		for _, t := range ts {
			if t.pay&bit != 0 {
				p += t.w
			}
			if t.change&bit != 0 {
				c += t.w
			}
		}
		if p > c {
			o.Verdict, o.Confidence = VerdictPayment, ratio(p, c)
			for _, t := range ts {
				if t.pay&bit != 0 {
					o.Heuristics = append(o.Heuristics, t.name)
				}
			}
		}
	}
	return outs, ch
}

// ratio is (for+1)/(for+against+2), rounded to two decimals.
func ratio(pro, con int) float64 {
	return math.Round(float64(pro+1)/float64(pro+con+2)*100) / 100
}

// check rejects what no heuristic can judge.
func check(tx *chain.FlowTx, height int64) error {
	if tx == nil {
		return fmt.Errorf("change: %w: nil transaction", chain.ErrInvalid)
	}
	if height < 0 {
		return fmt.Errorf("change: %w: negative height %d", chain.ErrInvalid, height)
	}
	return nil
}

// skip returns why tx is not judged by any heuristic, or "".
func skip(tx *chain.FlowTx) string {
	switch {
	case tx.Coinbase:
		return "coinbase: newly minted coins have no payer and no change"
	case len(tx.In) == 0:
		return "no inputs"
	case len(tx.Out) > MaxOutputs:
		return fmt.Sprintf("%d outputs: a batch payout (more than %d outputs) is not judged", len(tx.Out), MaxOutputs)
	}
	if spendable(tx) < 2 {
		return "fewer than two outputs with an address: nothing to tell apart"
	}
	if looksLikeCoinJoin(tx) {
		return "equal-value outputs as in a CoinJoin (BlockSci's rule): several payers, no single change"
	}
	return ""
}

// spendable counts the outputs with an address.
func spendable(tx *chain.FlowTx) int {
	n := 0
	for i := range tx.Out {
		if tx.Out[i].Addr != 0 {
			n++
		}
	}
	return n
}

// looksLikeCoinJoin is BlockSci's isCoinjoin over the outputs with an
// address: at least two inputs and three outputs; p = (outputs+1)/2
// participants, no more than the inputs nor their distinct addresses; the
// most frequent output value occurs exactly p times and is not a dust value
// (546 or 2730 satoshis). Called only for at most MaxOutputs outputs.
func looksLikeCoinJoin(tx *chain.FlowTx) bool {
	nOut := len(tx.Out)
	if len(tx.In) < 2 || nOut < 3 {
		return false
	}
	p := (nOut + 1) / 2
	if p > len(tx.In) || p > distinctInputAddrs(tx, p) {
		return false
	}
	best, bestValue := 0, uint64(0)
	for i := range tx.Out {
		if tx.Out[i].Addr == 0 {
			continue
		}
		c := 0
		for j := range tx.Out {
			if tx.Out[j].Addr != 0 && tx.Out[j].Value == tx.Out[i].Value {
				c++
			}
		}
		if c > best {
			best, bestValue = c, tx.Out[i].Value
		}
	}
	return best == p && bestValue != 546 && bestValue != 2730
}

// distinctInputAddrs counts the distinct input addresses, stopping once it
// reaches limit.
func distinctInputAddrs(tx *chain.FlowTx, limit int) int {
	n := 0
	for i := range tx.In {
		seen := false
		for j := range i {
			if tx.In[j].Addr == tx.In[i].Addr {
				seen = true
				break
			}
		}
		if !seen {
			n++
			if n >= limit {
				return n
			}
		}
	}
	return n
}

// abstain is a heuristic's single abstention.
func abstain(name, reason string) []Vote {
	return []Vote{{Heuristic: name, Output: -1, Reason: reason}}
}

// name votes change on output ch and payment on every other output with an
// address; why gives each vote's reason.
func name(h string, tx *chain.FlowTx, ch int, why func(i int, change bool) string) []Vote {
	votes := make([]Vote, 0, len(tx.Out))
	for i := range tx.Out {
		switch {
		case i == ch:
			votes = append(votes, Vote{Heuristic: h, Output: i, Says: SaysChange, Reason: why(i, true)})
		case tx.Out[i].Addr != 0:
			votes = append(votes, Vote{Heuristic: h, Output: i, Says: SaysPayment, Reason: why(i, false)})
		}
	}
	return votes
}
