package coinjoin

import (
	"math"
	"sync"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Detector names, in the order of precedence of Verdict.Protocol, then the
// findings that mark a transaction as not a CoinJoin.
const (
	NameWhirlpool    = "whirlpool"
	NameWabiSabi     = "wabisabi"
	NameWasabi11     = "wasabi11"
	NameWasabi1      = "wasabi1"
	NameJoinMarket   = "joinmarket"
	NameGeneric      = "generic"
	NameWhirlpoolTx0 = "whirlpool_tx0"
	NameStonewall    = "stonewall"
)

// Names returns every detector name, CoinJoin detectors first in order of
// precedence, then whirlpool_tx0 and the stonewall veto. The slice is new
// on every call.
func Names() []string {
	return []string{NameWhirlpool, NameWabiSabi, NameWasabi11, NameWasabi1, NameJoinMarket, NameGeneric, NameWhirlpoolTx0, NameStonewall}
}

// Finding is one detector that fired (or one veto): its name, its own
// confidence and one English sentence with the numbers it saw.
type Finding struct {
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
}

// Verdict is what Detect concludes about one transaction.
type Verdict struct {
	IsCoinJoin bool `json:"is_coinjoin"`
	// Protocol is the most confident protocol-specific detector that fired
	// (whirlpool, wabisabi, wasabi11, wasabi1, joinmarket; this order of
	// precedence breaks ties), generic when only the generic rule fired,
	// "" for a non-CoinJoin.
	Protocol string `json:"protocol,omitempty"`
	// Detectors lists every detector that fired, never nil, the one that
	// names the protocol first. For a Tx0 it holds the whirlpool_tx0
	// finding although the transaction is not a CoinJoin.
	Detectors []Finding `json:"detectors"`
	// Vetoes are findings that make a mixed-looking transaction a
	// single-owner one (stonewall).
	Vetoes []Finding `json:"vetoes,omitempty"`
	// Confidence in [0, 1], two decimals: for a CoinJoin the highest
	// confidence of its detectors, otherwise the confidence that it is
	// not a CoinJoin.
	Confidence float64 `json:"confidence"`
	// Tx0 marks a Whirlpool premix transaction: single-owner, not a
	// CoinJoin, its inputs may be clustered.
	Tx0 bool `json:"tx0,omitempty"`
}

// Thresholds of the detectors. Each names its source; see the package
// documentation.
const (
	// MinEqualOutputs is the smallest equal-output set of the joinmarket
	// and generic rules: a JoinMarket taker with minimum_makers = 2
	// (JoinMarket release notes 0.2.2). Two equal outputs are Stonewall
	// territory.
	MinEqualOutputs = 3
	// MinDenomination is the smallest equal value the generic rule
	// accepts: the smallest WabiSabi standard denomination (crocs-muni
	// Dumplings, minSatoshis). BlockSci excludes the dust values 546 and
	// 2,730 sats for the same reason.
	MinDenomination = 5_000

	// Wasabi1MinEqualOutputs, Wasabi1Denomination and Wasabi1Tolerance:
	// "at least 10 equal outputs" within 0.1 ± 0.02 BTC (Dumplings
	// Scanner.cs and Constants.cs).
	Wasabi1MinEqualOutputs = 10
	Wasabi1Denomination    = 10_000_000
	Wasabi1Tolerance       = 2_000_000

	// WabiSabiMinInputs is Dumplings' minimum input count of a Wasabi 2
	// round (zkSNACKs started at 50, later coordinators run smaller
	// rounds; the client default minimum is 21).
	WabiSabiMinInputs = 20
	// WabiSabiMinOutputs: a round of 20 inputs pays each participant one
	// or more outputs; fewer than 10 outputs is not a round.
	WabiSabiMinOutputs = 10

	// WhirlpoolMinCycle and WhirlpoolMaxCycle bound the inputs (= outputs)
	// of a mix: 5 since the start, up to 10 with surge cycles (Dumplings).
	WhirlpoolMinCycle = 5
	WhirlpoolMaxCycle = 10
	// WhirlpoolPremixAllowance is how far above the denomination a premix
	// input may be (Dumplings: 0.0011 BTC; PoolInfo mustMixBalanceMax is
	// denomination + 19,125 sats).
	WhirlpoolPremixAllowance = 110_000
	// Tx0MaxPremix is PoolInfo.tx0MaxOutputs of the 0.01, 0.05 and 0.5
	// pools (25 for the 0.001 pool).
	Tx0MaxPremix = 70
)

// Whirlpool pools: denomination and the highest pool fee ever charged
// (Samourai "pools and pool fees": 0.01 → 0.0005, 0.05 → 0.0025,
// 0.5 → 0.025 BTC; PoolInfo: 0.001 → 5,000 sats). SCODE discounts lower it.
var whirlpoolPools = [...]struct{ denom, maxFee uint64 }{
	{100_000, 5_000},
	{1_000_000, 50_000},
	{5_000_000, 250_000},
	{50_000_000, 2_500_000},
}

// Confidence that a transaction is not a CoinJoin, by how close it came.
const (
	notCertain  = 1.0  // coinbase
	notPlain    = 0.99 // no two outputs of one value
	notEqual    = 0.95 // equal outputs, but no CoinJoin structure
	notNearMiss = 0.85 // ≥3 equal outputs from ≥3 addresses, rules failed
	notStone    = 0.6  // Stonewall veto: StonewallX2 has the same shape
)

// Detect classifies one transaction. It never modifies tx, keeps nothing
// of it, and is safe for concurrent use; the same transaction always gets
// the same verdict.
func Detect(tx *chain.FlowTx) Verdict {
	if tx == nil || tx.Coinbase || len(tx.In) == 0 || len(tx.Out) == 0 {
		return notCoinJoin(notCertain)
	}
	// Fast exit for the ordinary transaction: without a repeated output
	// value, an OP_RETURN or a large input set no detector can fire.
	if (len(tx.In) < WabiSabiMinInputs || len(tx.Out) < WabiSabiMinOutputs) && plainOutputs(tx.Out) {
		return notCoinJoin(notPlain)
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	v := &s.view
	v.init(tx, s)
	if v.k < 2 && v.nOpRet == 0 && len(tx.In) < WabiSabiMinInputs {
		return notCoinJoin(notPlain)
	}

	if v.nOpRet == 1 {
		if f, ok := v.tx0(); ok {
			f.Confidence = round2(f.Confidence)
			return Verdict{Detectors: []Finding{f}, Confidence: f.Confidence, Tx0: true}
		}
	}

	var found [6]Finding
	n := 0
	add := func(f Finding, ok bool) {
		if ok {
			found[n] = f
			n++
		}
	}
	add(v.whirlpool())
	add(v.wabisabi())
	w1, ok1 := v.wasabi1()
	if ok1 {
		add(v.wasabi11())
	}
	add(w1, ok1)
	add(v.joinmarket())
	add(v.generic())
	if n > 0 {
		dets := make([]Finding, n)
		copy(dets, found[:n])
		best := 0.0
		for i := range dets {
			dets[i].Confidence = round2(dets[i].Confidence)
			best = max(best, dets[i].Confidence)
		}
		// The protocol is the most confident protocol-specific detector
		// (precedence breaks ties); generic only when nothing else fired.
		for i := 1; i < n; i++ {
			for j := i; j > 0 && ranksBefore(dets[j], dets[j-1]); j-- {
				dets[j], dets[j-1] = dets[j-1], dets[j]
			}
		}
		return Verdict{IsCoinJoin: true, Protocol: dets[0].Name, Detectors: dets, Confidence: best}
	}

	if f, ok := v.stonewall(); ok {
		f.Confidence = round2(f.Confidence)
		return Verdict{Detectors: []Finding{}, Vetoes: []Finding{f}, Confidence: f.Confidence}
	}
	switch {
	case v.k >= MinEqualOutputs && v.inputAddrs() >= MinEqualOutputs:
		return notCoinJoin(notNearMiss)
	case v.k >= 2:
		return notCoinJoin(notEqual)
	}
	return notCoinJoin(notPlain)
}

// ranksBefore orders the findings of a CoinJoin: protocol-specific
// detectors before generic, then by confidence; the sort is stable, so
// equal confidences keep the order of precedence.
func ranksBefore(a, b Finding) bool {
	if (a.Name == NameGeneric) != (b.Name == NameGeneric) {
		return b.Name == NameGeneric
	}
	return a.Confidence > b.Confidence
}

// plainOutputs reports, for up to 64 outputs, that none is an OP_RETURN
// and no two have the same value, without sorting and without memory
// beyond the stack (pairwise for a few outputs, else a small open-address
// hash set); false when it cannot tell.
func plainOutputs(out []chain.Coin) bool {
	switch n := len(out); {
	case n > 64:
		return false
	case n > 8:
		var slots [128]uint64
		var full [2]uint64 // occupancy bits of slots
		for i := range out {
			if out[i].Type == chain.OpReturn {
				return false
			}
			x := out[i].Value
			h := (x * 0x9E3779B97F4A7C15) >> 57
			for full[h>>6]&(1<<(h&63)) != 0 {
				if slots[h] == x {
					return false
				}
				h = (h + 1) & 127
			}
			full[h>>6] |= 1 << (h & 63)
			slots[h] = x
		}
		return true
	}
	for i := range out {
		if out[i].Type == chain.OpReturn {
			return false
		}
		for j := i + 1; j < len(out); j++ {
			if out[i].Value == out[j].Value {
				return false
			}
		}
	}
	return true
}

// scratchPool holds the memory of Detect calls that look further than
// the fast exit, so that they allocate nothing.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// notCoinJoin is the verdict of a transaction no detector fired on.
func notCoinJoin(conf float64) Verdict {
	return Verdict{Detectors: []Finding{}, Confidence: conf}
}

// round2 rounds to two decimals and clamps to [0, 1].
func round2(x float64) float64 {
	if !(x > 0) { // also NaN
		return 0
	}
	if x >= 1 {
		return 1
	}
	return math.Round(x*100) / 100
}
