package coinjoin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// whirlpool: a Samourai Whirlpool mix. Rule of crocs-muni/Dumplings
// Scanner.cs ("Samourai CoinJoin Detection Heuristic", slightly improved
// there): native segwit only; 5 ≤ inputs = outputs ≤ 10; all outputs one
// pool denomination exactly; at least one input of exactly the
// denomination (a remix); the others within 0.0011 BTC above it. One
// input above the denomination is needed besides (a premix pays the miner
// fee; PoolInfo.minMustMix is 2). Outputs go to distinct addresses (the
// coordinator rejects reused addresses, Whirlpool protocol "Address reuse
// prevention").
func (v *view) whirlpool() (Finding, bool) {
	tx := v.tx
	n := len(tx.In)
	if n < WhirlpoolMinCycle || n > WhirlpoolMaxCycle || len(tx.Out) != n || v.nOpRet != 0 || v.k != n {
		return Finding{}, false
	}
	denom := v.d
	if poolOf(denom) < 0 {
		return Finding{}, false
	}
	if !allTypes(tx.In, chain.P2WPKH, chain.P2WPKH) || !allTypes(tx.Out, chain.P2WPKH, chain.P2WPKH) {
		return Finding{}, false
	}
	remix, premix := 0, 0
	var over uint64
	for i := range tx.In {
		switch x := tx.In[i].Value; {
		case x == denom:
			remix++
		case x > denom && x-denom <= WhirlpoolPremixAllowance:
			premix++
			over = max(over, x-denom)
		default:
			return Finding{}, false
		}
	}
	if remix == 0 || premix == 0 || v.outputAddrs(denom) != n {
		return Finding{}, false
	}
	return Finding{
		Name:       NameWhirlpool,
		Confidence: 0.99,
		Reason: fmt.Sprintf("%d inputs and %d equal outputs of %s, a Whirlpool pool denomination, with %s of exactly the denomination (remixes) and %s at most %d sats above it (premixes paying the miner fee), all p2wpkh.",
			n, n, btc(denom), plural(remix, "input"), plural(premix, "input"), over),
	}, true
}

// poolOf returns the index of the Whirlpool pool of denomination d, or -1.
func poolOf(d uint64) int {
	for i, p := range whirlpoolPools {
		if p.denom == d {
			return i
		}
	}
	return -1
}

// wabisabi: a Wasabi 2 round. Rule of crocs-muni/Dumplings Scanner.cs:
// inputs p2wpkh or p2tr, at least 20 of them, inputs and outputs each in
// descending value order (the WabiSabi coordinator sorts them), and more
// than 80% of the outputs WabiSabi standard denominations. Added here: at
// least 10 outputs, 90% of them p2wpkh or p2tr (Wasabi registers only
// those; a payment in a coinjoin may be another type), no OP_RETURN, and
// at least 10 distinct input addresses.
func (v *view) wabisabi() (Finding, bool) {
	tx := v.tx
	nIn, nOut := len(tx.In), len(tx.Out)
	if nIn < WabiSabiMinInputs || nOut < WabiSabiMinOutputs || v.nOpRet != 0 {
		return Finding{}, false
	}
	if !allTypes(tx.In, chain.P2WPKH, chain.P2TR) || countTypes(tx.Out, chain.P2WPKH, chain.P2TR)*10 < nOut*9 {
		return Finding{}, false
	}
	if !descending(tx.In) || !descending(tx.Out) {
		return Finding{}, false
	}
	std := 0
	for i := range tx.Out {
		if isStandardDenomination(tx.Out[i].Value) {
			std++
		}
	}
	if std*5 <= nOut*4 || v.inputAddrs() < 10 {
		return Finding{}, false
	}
	conf := 0.9
	if nIn >= 50 {
		conf += 0.05
	}
	if std*10 >= nOut*9 {
		conf += 0.04
	}
	return Finding{
		Name:       NameWabiSabi,
		Confidence: conf,
		Reason: fmt.Sprintf("%d inputs and %d outputs, each in descending value order as the WabiSabi coordinator orders them, %d of the outputs (%d%%) in the WabiSabi standard denomination set, inputs all p2wpkh or p2tr from %d distinct addresses.",
			nIn, nOut, std, std*100/nOut, v.inputAddrs()),
	}, true
}

// standardDenominations is the WabiSabi standard denomination set of
// crocs-muni/Dumplings (CreateWasabi2Denominations) and WalletWasabi
// StandardDenominations.cs: powers of 2, powers of 3, 2 × powers of 3,
// and the 1-2-5 series, from 5,000 sats to 134,375,000,000 sats, sorted.
var standardDenominations = func() []uint64 {
	const lo, hi = 5_000, 134_375_000_000
	var ds []uint64
	series := func(base, factor uint64) {
		for p := uint64(1); p*factor <= hi; p *= base {
			if x := p * factor; x >= lo {
				ds = append(ds, x)
			}
		}
	}
	series(2, 1)
	series(3, 1)
	series(3, 2)
	series(10, 1)
	series(10, 2)
	series(10, 5)
	slices.Sort(ds)
	return slices.Compact(ds)
}()

func isStandardDenomination(x uint64) bool {
	_, ok := slices.BinarySearch(standardDenominations, x)
	return ok
}

// wasabi1: a Wasabi 1 (ZeroLink) round. Rule of Dumplings Scanner.cs for
// rounds after block 610,000 (before, the coordinator's two fixed
// addresses identified rounds; opaque address ids cannot): native segwit
// only, at least 10 outputs of the most frequent value, that value within
// 0.1 ± 0.02 BTC, at least as many inputs, and at least two outputs of
// unique value (change and the coordinator fee). Added here: at least as
// many distinct input addresses as equal outputs. The coordinator fee is
// 0.003% of the denomination times the anonymity set per participant
// (Wasabi documentation), about k² × d × 0.003% in all (less when
// remixers cannot pay it in full); an output of unique value between a
// third and twice that is named and raises the confidence, unless the
// value split explains every output as some participant's change without
// a coordinator: a JoinMarket round of 10 or more participants near
// 0.1 BTC fits the Dumplings rule as well.
func (v *view) wasabi1() (Finding, bool) {
	tx := v.tx
	k, d := v.k, v.d
	if k < Wasabi1MinEqualOutputs || v.nOpRet != 0 || v.singles < 2 || len(tx.In) < k {
		return Finding{}, false
	}
	if d < Wasabi1Denomination-Wasabi1Tolerance || d > Wasabi1Denomination+Wasabi1Tolerance {
		return Finding{}, false
	}
	if !allTypes(tx.In, chain.P2WPKH, chain.P2WPKH) || !allTypes(tx.Out, chain.P2WPKH, chain.P2WPKH) || v.inputAddrs() < k {
		return Finding{}, false
	}
	expected := d / 100_000 * 3 * uint64(k) * uint64(k)
	var fee uint64
	v.runs(func(x uint64, c int) {
		if c != 1 || x*3 < expected || x > expected*2 {
			return
		}
		if fee == 0 || absDiff(x, expected) < absDiff(fee, expected) {
			fee = x
		}
	})
	conf := 0.8 // without a coordinator fee: also a large JoinMarket round near 0.1 BTC
	reason := fmt.Sprintf("%d equal outputs of %s, the Wasabi 1 base denomination of 0.1 ± 0.02 BTC, from %d inputs at %d distinct addresses, with %d outputs of unique value (changes and the coordinator fee), all p2wpkh",
		k, btc(d), len(tx.In), v.inputAddrs(), v.singles)
	if fee != 0 {
		reason += fmt.Sprintf("; coordinator fee output %s (0.003%% × anonymity set %d × %d participants × denomination is about %s)", btc(fee), k, k, btc(expected))
		if res, _ := v.split(); v.m() <= k && res == feasible {
			reason += ", although the inputs also split into participants that each receive one equal output and one of the other outputs, as in a JoinMarket round"
		} else {
			conf = 0.95
		}
	}
	return Finding{Name: NameWasabi1, Confidence: conf, Reason: reason + "."}, true
}

// wasabi11: Wasabi 1.1 mixing levels on top of a wasabi1 round: groups of
// two or more equal outputs at 2^i times the base denomination
// (WalletWasabi MixingLevelCollection.AddNewLevel doubles the previous
// level), within 1%.
func (v *view) wasabi11() (Finding, bool) {
	d := v.d
	var b strings.Builder
	levels := 0
	v.runs(func(x uint64, c int) {
		if c < 2 || x <= d {
			return
		}
		for i := 1; i <= 8; i++ {
			l := d << i
			if tol := l / 100; x+tol >= l && x <= l+tol {
				if levels == 0 {
					fmt.Fprintf(&b, "Wasabi 1.1 mixing levels: %d × %s (base)", v.k, btc(d))
				}
				fmt.Fprintf(&b, ", %d × %s (level %d)", c, btc(x), i)
				levels++
				return
			}
		}
	})
	if levels == 0 {
		return Finding{}, false
	}
	fmt.Fprintf(&b, ", each level twice the one below, from %d inputs.", len(v.tx.In))
	return Finding{Name: NameWasabi11, Confidence: 0.95, Reason: b.String()}, true
}

// runs calls fn with each distinct non-OP_RETURN output value and its
// count, ascending.
func (v *view) runs(fn func(x uint64, c int)) {
	outs := v.outs
	for i := 0; i < len(outs); {
		j := i + 1
		for j < len(outs) && outs[j] == outs[i] {
			j++
		}
		fn(outs[i], j-i)
		i = j
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// equalCore is the part of the joinmarket and generic rules that BlockSci
// isCoinjoin and Dumplings share: k ≥ 3 equal outputs of one value of at
// least 5,000 sats, no other repeated value (Dumplings: "if it isn't then
// it'd be likely a multidenomination CJ, which only Wasabi does"), the
// equal outputs to k distinct addresses, and at least k inputs and k
// distinct input addresses ("otherwise more participants would be single
// actors which makes no sense").
func (v *view) equalCore() bool {
	k := v.k
	return k >= MinEqualOutputs && v.groups == 1 && v.d >= MinDenomination &&
		len(v.tx.In) >= k && v.inputAddrs() >= k && v.outputAddrs(v.d) == k
}

// joinmarket: the equal-output core, m = k changes or k-1 (the taker
// sweeps without change; Dumplings), no OP_RETURN, every input of one
// script type and every output but the taker's destination of that type
// (a JoinMarket offer is for one address type: reloffer, swreloffer,
// sw0reloffer), and a value split that is not impossible.
func (v *view) joinmarket() (Finding, bool) {
	if v.nOpRet != 0 || !v.equalCore() {
		return Finding{}, false
	}
	tx := v.tx
	k, m := v.k, v.m()
	if m != k && m != k-1 {
		return Finding{}, false
	}
	t := tx.In[0].Type
	if t != chain.P2PKH && t != chain.P2SH && t != chain.P2WPKH {
		return Finding{}, false
	}
	if !allTypes(tx.In, t, t) || len(tx.Out)-countTypes(tx.Out, t, t) > 1 {
		return Finding{}, false
	}
	res, _ := v.split()
	if res == infeasible {
		return Finding{}, false
	}
	conf := 0.75
	if k >= 5 {
		conf += 0.05
	}
	change := plural(m, "distinct change output")
	if m == k-1 {
		change += " (the taker swept without change)"
	}
	reason := fmt.Sprintf("%d equal outputs of %s to distinct addresses and %s, from %d inputs at %d distinct addresses, all %s",
		k, btc(v.d), change, len(tx.In), v.inputAddrs(), t)
	if res == feasible {
		conf += 0.1
		reason += fmt.Sprintf("; the inputs split into %d participants each paying one equal output and its change, within maker fees of %s.", k, btc(tolerance(v.d)))
	} else {
		conf -= 0.1
		reason += "; the split of the inputs among the participants was not verified (too many inputs for the search)."
	}
	return Finding{Name: NameJoinMarket, Confidence: conf, Reason: reason}, true
}

// generic: an equal-output CoinJoin of unknown software. The equal-output
// core, m = k-1, k or k+1 other outputs (per-participant change,
// Dumplings; one more for a coordinator fee, as in Wasabi 1-style
// coordinated rounds), and a value split that is not impossible (BlockSci
// isCoinjoinExtra). The value split is what keeps batch payments of one
// payer out: their inputs do not divide into k parts of exactly one equal
// output plus one change each.
func (v *view) generic() (Finding, bool) {
	if !v.equalCore() {
		return Finding{}, false
	}
	tx := v.tx
	k, m := v.k, v.m()
	if m < k-1 || m > k+1 {
		return Finding{}, false
	}
	res, coord := v.split()
	if res == infeasible {
		return Finding{}, false
	}
	conf := 0.6 + 0.05*float64(min(k-MinEqualOutputs, 3))
	var others string
	switch {
	case m == k+1 && res == feasible:
		others = fmt.Sprintf("%s and a coordinator-fee output of %s", plural(k, "change output"), btc(coord))
	case m == k+1:
		others = fmt.Sprintf("%s and one more output (a coordinator fee?)", plural(k, "change output"))
	case m == k-1:
		others = plural(m, "change output") + " (one participant without change)"
	default:
		others = plural(m, "change output")
	}
	reason := fmt.Sprintf("%d equal outputs of %s to distinct addresses and %s, from %d inputs at %d distinct addresses",
		k, btc(v.d), others, len(tx.In), v.inputAddrs())
	if res == feasible {
		conf += 0.1
		reason += fmt.Sprintf("; the inputs split into %d participants each paying one equal output and its change", k)
	} else {
		conf -= 0.1
		reason += "; the split of the inputs among the participants was not verified (too many inputs for the search)"
	}
	if k <= 4 && v.d%100_000 == 0 {
		conf -= 0.1
		reason += "; the equal value is a round amount, as a batch of round payments would be"
	}
	return Finding{Name: NameGeneric, Confidence: conf, Reason: reason + "."}, true
}

// tx0: a Whirlpool premix transaction (Tx0), built by whirlpool-client
// Tx0Service.buildTx0: premix outputs of one value (PoolInfo
// mustMixBalanceMin ≤ value ≤ mustMixBalanceCap, within 0.0011 BTC of the
// denomination here, as Dumplings bounds premixes), at most
// tx0MaxOutputs of them; one Whirlpool fee output (or a fake fee to the
// deposit when an SCODE waives it) no larger than the pool fee; 0 or 1
// change (2 or 3 for a decoy Tx0x2); one OP_RETURN with the fee payload;
// every other output bech32 p2wpkh.
func (v *view) tx0() (Finding, bool) {
	tx := v.tx
	n := len(v.outs)
	if n < 2 {
		return Finding{}, false
	}
	for i := range tx.Out {
		if t := tx.Out[i].Type; t != chain.P2WPKH && t != chain.OpReturn {
			return Finding{}, false
		}
	}
	pool, np := -1, 0
	var premix uint64
	for p, pl := range whirlpoolPools {
		var val uint64
		c := 0
		for _, x := range v.outs {
			if x > pl.denom && x-pl.denom <= WhirlpoolPremixAllowance {
				if c > 0 && x != val {
					c = -1
					break
				}
				val = x
				c++
			}
		}
		if c > np {
			pool, np, premix = p, c, val
		}
	}
	if pool < 0 || np > Tx0MaxPremix {
		return Finding{}, false
	}
	rest := n - np
	if rest < 1 || rest > 4 {
		return Finding{}, false
	}
	pl := whirlpoolPools[pool]
	var fee uint64
	found := false
	for _, x := range v.outs { // ascending: the smallest candidate
		if x != premix && x <= pl.maxFee {
			fee, found = x, true
			break
		}
	}
	if !found || v.outputAddrs(premix) != np {
		return Finding{}, false
	}
	changes := rest - 1
	conf := 0.95
	reason := fmt.Sprintf("Whirlpool Tx0 for the %s pool: %s of %s (the denomination plus %d sats of miner-fee allowance) to distinct addresses, a pool-fee output of %s, %s and an OP_RETURN fee payload, from %s; one wallet makes it, so it is not a CoinJoin",
		btc(pl.denom), plural(np, "premix output"), btc(premix), premix-pl.denom, btc(fee), plural(changes, "change output"), plural(len(tx.In), "input"))
	if changes >= 2 {
		conf = 0.6
		reason += ", although a two-party Tx0x2 (Cahoots) has this shape too and cannot be told apart from the single-wallet decoy Tx0x2"
	}
	return Finding{Name: NameWhirlpoolTx0, Confidence: conf, Reason: reason + "."}, true
}

// stonewall (veto): Samourai's Stonewall "always produces four outputs":
// the payment, a decoy of the same value back to the sender, and two
// changes; its inputs come in two sets that each cover one equal output
// and one change. It is one wallet. StonewallX2 has two wallets and
// exactly the same shape; the veto errs toward clustering.
func (v *view) stonewall() (Finding, bool) {
	tx := v.tx
	if len(tx.Out) != 4 || v.nOpRet != 0 || v.k != 2 || v.groups != 1 || len(tx.In) < 2 {
		return Finding{}, false
	}
	if v.inputAddrs() < 2 || v.outputAddrs(v.d) != 2 {
		return Finding{}, false
	}
	res, _ := v.split()
	if res == infeasible {
		return Finding{}, false
	}
	var ch [2]uint64
	n := 0
	for _, x := range v.outs {
		if x != v.d && n < 2 {
			ch[n] = x
			n++
		}
	}
	return Finding{
		Name:       NameStonewall,
		Confidence: notStone,
		Reason: fmt.Sprintf("4 outputs, 2 equal of %s and 2 changes of %s and %s, from %s at %d distinct addresses that split into two sets each paying one equal output and one change: the shape of Samourai's single-wallet Stonewall, which a two-wallet StonewallX2 shares exactly, so the inputs are treated as one owner.",
			btc(v.d), btc(ch[0]), btc(ch[1]), plural(len(tx.In), "input"), v.inputAddrs()),
	}, true
}
