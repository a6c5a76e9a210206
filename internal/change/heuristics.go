package change

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Every heuristic below has the signature of Heuristic.Run. It returns an
// error only for a nil transaction or a negative height (chain.ErrInvalid)
// and for an error of ctx (wrapped, prefixed "change: <name>: "). It
// abstains (one Vote with Output -1) for the transactions the package
// documentation lists under "What is not judged", when it needs ctx and ctx
// is nil, and when its rule does not decide.

// FreshAddress is the one-time change ("shadow address") heuristic:
// exactly one output goes to an address that no earlier transaction used
// (ctx.PriorUses = 0) while every other output with an address goes to a
// used one; the fresh output is change, the others are payments. Following
// Meiklejohn et al. ("A Fistful of Bitcoins", IMC 2013, Heuristic 2), it
// abstains when an output pays back to an input address (self-change) and
// when two or more outputs are fresh; the coinbase condition is the
// package-wide one. The idea is Androulaki et al.'s shadow addresses
// ("Evaluating User Privacy in Bitcoin", FC 2013); BlockSci calls it
// client_change_address_behavior.
//
// Known failure: a payer who sends change to an old address of its own
// (other than the inputs') while the payee gave a fresh address has the
// payment called change.
func FreshAddress(tx *chain.FlowTx, height int64, ctx Context) ([]Vote, error) {
	const h = NameFreshAddress
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	if ctx == nil {
		return abstain(h, "no index context: prior uses of the output addresses are unknown"), nil
	}
	if i := selfChange(tx); i >= 0 {
		return abstain(h, fmt.Sprintf("output %d pays back to an input address (self-change), which rules out a one-time change address", i)), nil
	}
	var uses [MaxOutputs]int
	fresh, nFresh := -1, 0
	for i := range tx.Out {
		a := tx.Out[i].Addr
		if a == 0 {
			continue
		}
		n, err := ctx.PriorUses(a)
		if err != nil {
			return nil, fmt.Errorf("change: %s: prior uses of the address of output %d: %w", h, i, err)
		}
		if n < 0 {
			return nil, fmt.Errorf("change: %s: prior uses of the address of output %d: negative count %d", h, i, n)
		}
		uses[i] = n
		if n == 0 {
			fresh, nFresh = i, nFresh+1
		}
	}
	switch {
	case nFresh == 0:
		return abstain(h, "no output goes to a fresh address"), nil
	case nFresh > 1:
		return abstain(h, fmt.Sprintf("%d outputs go to fresh addresses: the one-time change is ambiguous", nFresh)), nil
	}
	return name(h, tx, fresh, func(i int, ch bool) string {
		if ch {
			return "goes to an address never used before while every other output goes to a used address: the one-time change"
		}
		return fmt.Sprintf("goes to an address used by %d earlier transactions; output %d is the one-time change", uses[i], fresh)
	}), nil
}

// AddressReuse is the self-change heuristic: exactly one output pays back
// to an address of the inputs; it is change, the others are payments. Two
// or more such outputs: abstain. Sources: Meiklejohn et al. 2013 (23% of
// the transactions of the first half of 2013 had a self-change address);
// BlockSci's address_reuse. It needs no context. Near-certain: only a
// multi-party transaction can pay someone else's coins to the payer's
// address; it dominates the consensus (DominantWeight).
func AddressReuse(tx *chain.FlowTx, height int64, _ Context) ([]Vote, error) {
	const h = NameAddressReuse
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	ch, n := -1, 0
	for i := range tx.Out {
		if a := tx.Out[i].Addr; a != 0 && isInputAddr(tx, a) {
			if ch < 0 {
				ch = i
			}
			n++
		}
	}
	switch {
	case n == 0:
		return abstain(h, "no output pays back to an input address"), nil
	case n > 1:
		return abstain(h, fmt.Sprintf("%d outputs pay back to input addresses: ambiguous", n)), nil
	}
	return name(h, tx, ch, func(i int, c bool) string {
		if c {
			return "pays back to an address of the inputs (self-change)"
		}
		return fmt.Sprintf("goes to an address that is not an input's; output %d pays back to an input address", ch)
	}), nil
}

// OptimalChange is Nick's optimal-change heuristic (J. D. Nick,
// "Data-Driven De-Anonymization in Bitcoin", master's thesis, ETH Zürich,
// 2015; BlockSci's optimal_change): exactly one output with an address is
// smaller than every input; it is change, since had the change been larger
// than some input, the wallet would not have needed that input. The others
// are payments. No such output, or several (always so for one input):
// abstain.
//
// Known failures: coin selection that adds unneeded inputs (random
// selection, spending every coin of an address together, consolidating
// while paying).
func OptimalChange(tx *chain.FlowTx, height int64, _ Context) ([]Vote, error) {
	const h = NameOptimalChange
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	minIn := tx.In[0].Value
	for i := range tx.In {
		minIn = min(minIn, tx.In[i].Value)
	}
	ch, n := -1, 0
	for i := range tx.Out {
		if tx.Out[i].Addr != 0 && tx.Out[i].Value < minIn {
			ch, n = i, n+1
		}
	}
	switch {
	case n == 0:
		return abstain(h, fmt.Sprintf("no output is smaller than every input (smallest input %d sats)", minIn)), nil
	case n > 1:
		return abstain(h, fmt.Sprintf("%d outputs are smaller than every input (smallest input %d sats): ambiguous", n, minIn)), nil
	}
	return name(h, tx, ch, func(i int, c bool) string {
		if c {
			return fmt.Sprintf("%d sats, smaller than every input (smallest %d sats): a wallet adds no input larger than its change", tx.Out[i].Value, minIn)
		}
		return fmt.Sprintf("%d sats, not smaller than the smallest input (%d sats); output %d is the only one that is", tx.Out[i].Value, minIn, ch)
	}), nil
}

// RoundPayment is the round-amount heuristic: an output whose amount is
// round in BTC (see IsRound) is a payment, and when exactly one output with
// an address is not round, it is change. No round output, or every output
// round: abstain. Sources: BlockSci's power_of_ten_value (multiples of
// 10^digits satoshis); the Bitcoin wiki's Privacy page (round numbers);
// Möser and Narayanan, "Resurrecting Address Clustering in Bitcoin", FC
// 2022.
//
// Known failures: change that is round by chance or because the wallet
// rounds it; payments round in a fiat currency are not round in BTC and are
// missed.
func RoundPayment(tx *chain.FlowTx, height int64, _ Context) ([]Vote, error) {
	const h = NameRoundPayment
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	ch, nRound, nOther := -1, 0, 0
	for i := range tx.Out {
		if tx.Out[i].Addr == 0 {
			continue
		}
		if IsRound(tx.Out[i].Value) {
			nRound++
		} else {
			ch, nOther = i, nOther+1
		}
	}
	switch {
	case nRound == 0:
		return abstain(h, "no output is a round amount"), nil
	case nOther == 0:
		return abstain(h, "every output is a round amount"), nil
	case nOther == 1:
		return name(h, tx, ch, func(i int, c bool) string {
			if c {
				return btc(tx.Out[i].Value) + " BTC is the only amount that is not round: the change"
			}
			return btc(tx.Out[i].Value) + " BTC is a round amount: a payment"
		}), nil
	}
	votes := make([]Vote, 0, nRound)
	for i := range tx.Out {
		if tx.Out[i].Addr != 0 && IsRound(tx.Out[i].Value) {
			votes = append(votes, Vote{Heuristic: h, Output: i, Says: SaysPayment,
				Reason: btc(tx.Out[i].Value) + " BTC is a round amount: a payment (several outputs are not round, so the change is not named)"})
		}
	}
	return votes, nil
}

// IsRound reports whether v satoshis is a round amount in BTC: a multiple
// of 0.001 BTC (100,000 satoshis, BlockSci's power_of_ten_value with 5
// digits), or an amount of at least 0.00001 BTC (1,000 satoshis) with at
// most two significant digits, such as 0.00025 or 0.0012 BTC. For a value
// drawn at random the chance of being round is below 1 in 1,000 above
// 10,000 satoshis and below 1 in 10,000 above 1,000,000.
func IsRound(v uint64) bool {
	if v == 0 {
		return false
	}
	if v%100_000 == 0 {
		return true
	}
	if v < 1_000 {
		return false
	}
	for v%10 == 0 {
		v /= 10
	}
	return v < 100
}

// ScriptType is the address-type heuristic (BlockSci's address_type;
// Möser and Narayanan 2022): all inputs have one script type, exactly one
// output has that type and at least one other output has another; that
// output is change, the others payments. Mixed input types, or zero or
// several outputs of the inputs' type: abstain.
//
// Known failures: wallets whose change type differs from their inputs' (a
// wallet moving to a new address type; Bitcoin Core since 23.0 gives change
// the payment's type) make the heuristic call the payment change when the
// payee uses the inputs' type.
func ScriptType(tx *chain.FlowTx, height int64, _ Context) ([]Vote, error) {
	const h = NameScriptType
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	t := tx.In[0].Type
	for i := range tx.In {
		if tx.In[i].Type != t {
			return abstain(h, "the inputs have different script types"), nil
		}
	}
	if t == "" {
		return abstain(h, "the inputs' script type is unknown"), nil
	}
	ch, n := -1, 0
	for i := range tx.Out {
		if tx.Out[i].Addr != 0 && tx.Out[i].Type == t {
			ch, n = i, n+1
		}
	}
	switch {
	case n == 0:
		return abstain(h, fmt.Sprintf("no output has the inputs' script type %s", t)), nil
	case n > 1:
		return abstain(h, fmt.Sprintf("%d outputs have the inputs' script type %s: ambiguous", n, t)), nil
	}
	return name(h, tx, ch, func(i int, c bool) string {
		if c {
			return fmt.Sprintf("the only output of the inputs' script type %s", t)
		}
		return fmt.Sprintf("script type %s differs from the inputs' %s; output %d has theirs", tx.Out[i].Type, t, ch)
	}), nil
}

// AntiFeeSnipingWindow is how far below its block's height a lock time may
// lie and still count as anti-fee-sniping: Bitcoin Core sets nLockTime to
// the tip height and, one time in ten, up to 100 blocks lower; the rest of
// the window absorbs the time a transaction waits to be mined (1,000 blocks
// is about a week).
const AntiFeeSnipingWindow = 1000

// fingerprint is the part of a wallet's fingerprint that a transaction
// shows apart from its fee rate.
type fingerprint struct {
	lock    string
	version int32
	seq     string
}

func (f fingerprint) String() string {
	return "lock time " + f.lock + ", version " + strconv.Itoa(int(f.version)) + ", sequences " + f.seq
}

// fingerprintOf classifies tx, mined at height: its nLockTime as zero,
// anti-fee-sniping (within AntiFeeSnipingWindow blocks at or below height),
// another height, or a time (≥ 500,000,000); its nVersion; its nSequence
// numbers as rbf (some input below 0xfffffffe, BIP125), non-final (some at
// 0xfffffffe) or final.
func fingerprintOf(tx *chain.FlowTx, height int64) fingerprint {
	f := fingerprint{version: tx.Version}
	lt := int64(tx.LockTime)
	switch {
	case lt == 0:
		f.lock = "zero"
	case lt >= 500_000_000:
		f.lock = "time"
	case lt <= height && height-lt <= AntiFeeSnipingWindow:
		f.lock = "anti-fee-sniping"
	default:
		f.lock = "height"
	}
	f.seq = "final"
	for i := range tx.In {
		switch s := tx.In[i].Sequence; {
		case s < 0xfffffffe:
			f.seq = "rbf"
		case s == 0xfffffffe && f.seq == "final":
			f.seq = "non-final"
		}
		if f.seq == "rbf" {
			break
		}
	}
	return f
}

// LocktimeConsistency compares this transaction's wallet fingerprint
// (lock-time class, version and sequence class, see AntiFeeSnipingWindow)
// with that of each output's spending transaction (ctx.Spender): a wallet
// spends its change with the same software. When exactly one output is
// spent by a transaction with the same fingerprint and every other output
// with an address is spent by one with a different fingerprint, that
// output is change. Whenever some output's spender matches, every output
// whose spender differs is voted payment. No spender matches, or none
// differs: abstain. Sources: BlockSci's locktime heuristic (spender's lock
// time zero or not, like this transaction's); Möser and Narayanan,
// "Resurrecting Address Clustering in Bitcoin", FC 2022 (the spending
// transaction's fingerprint: lock time, version, RBF); Bitcoin Core's
// anti-fee-sniping nLockTime.
//
// Known failures: payee software with the payer's fingerprint (version 2,
// zero lock time and final sequences are common defaults); change spent by
// another party's transaction (a CoinJoin); a payer that changes settings
// between transactions.
func LocktimeConsistency(tx *chain.FlowTx, height int64, ctx Context) ([]Vote, error) {
	const h = NameLocktimeConsistency
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	if ctx == nil {
		return abstain(h, "no index context: the spending transactions are unknown"), nil
	}
	own := fingerprintOf(tx, height)
	ownDesc := own.String()
	return bySpender(h, "fingerprint", ownDesc, tx, ctx, func(s *chain.FlowTx, sh int64) (bool, bool, string) {
		if sh < 0 {
			return false, false, ""
		}
		f := fingerprintOf(s, sh)
		if f == own {
			return true, true, ownDesc
		}
		return false, true, f.String()
	})
}

// FeeRateConsistency applies LocktimeConsistency's rule to the fee rate: a
// spending transaction whose fee rate lies within this transaction's band
// (differing by at most 3% of the larger rate, plus one satoshi of
// rounding over each transaction's virtual size) shows the same wallet.
// Spenders of unknown size, and this transaction without a size (VSize 0),
// are not compared. The 3% absorbs the estimate a wallet pays for against
// the size it signs (ECDSA signatures vary by a byte or two). Sources:
// BlockSci's fixed-fee heuristic (equal fee per kB); Möser and Narayanan,
// FC 2022.
//
// Known failures: wallets that follow the fee market match or differ by
// chance; a payee with the payer's fixed rate.
func FeeRateConsistency(tx *chain.FlowTx, height int64, ctx Context) ([]Vote, error) {
	const h = NameFeeRateConsistency
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	if ctx == nil {
		return abstain(h, "no index context: the spending transactions are unknown"), nil
	}
	own, ok := feeRate(tx)
	if !ok {
		return abstain(h, "this transaction's fee rate is unknown"), nil
	}
	ownDesc := rateString(own)
	return bySpender(h, "fee rate", ownDesc, tx, ctx, func(s *chain.FlowTx, _ int64) (bool, bool, string) {
		r, ok := feeRate(s)
		if !ok {
			return false, false, ""
		}
		return sameBand(own, uint64(tx.VSize), r, uint64(s.VSize)), true, rateString(r)
	})
}

// feeRate is tx's fee rate in milli-satoshis per virtual byte; false when
// it cannot be known (a coinbase, no size, outputs above inputs, or an
// absurd fee of 2^50 satoshis or more).
func feeRate(tx *chain.FlowTx) (uint64, bool) {
	if tx.Coinbase || tx.VSize <= 0 {
		return 0, false
	}
	in, out := tx.InputValue(), tx.OutputValue()
	if in < out || in-out >= 1<<50 {
		return 0, false
	}
	return (in - out) * 1000 / uint64(tx.VSize), true
}

// sameBand reports whether rates a and b (milli-sat/vB, of transactions of
// va and vb vbytes) differ by at most 3% of the larger plus the rounding.
func sameBand(a, va, b, vb uint64) bool {
	d := max(a, b) - min(a, b)
	return d <= max(a, b)*3/100+1000/va+1000/vb+2
}

// rateString formats r milli-sat/vB as sat/vB with three decimals.
func rateString(r uint64) string {
	frac := strconv.FormatUint(1000+r%1000, 10)[1:]
	return strconv.FormatUint(r/1000, 10) + "." + frac + " sat/vB"
}

// bySpender is the rule of LocktimeConsistency and FeeRateConsistency.
// same reports whether spender s (mined at sh) shows this transaction's
// wallet (match), whether that can be told (known), and describes s.
func bySpender(h, what, ownDesc string, tx *chain.FlowTx, ctx Context, same func(s *chain.FlowTx, sh int64) (match, known bool, desc string)) ([]Vote, error) {
	const (
		unknown = iota + 1
		match
		differs
	)
	var state [MaxOutputs]uint8
	var desc [MaxOutputs]string
	m, nM, nX, nU := -1, 0, 0, 0
	for i := range tx.Out {
		if tx.Out[i].Addr == 0 {
			continue
		}
		s, sh, err := ctx.Spender(i)
		if err != nil {
			return nil, fmt.Errorf("change: %s: spender of output %d: %w", h, i, err)
		}
		if s == nil || s.Coinbase {
			state[i], nU = unknown, nU+1
			continue
		}
		ok, known, d := same(s, sh)
		switch {
		case !known:
			state[i], nU = unknown, nU+1
		case ok:
			state[i], m, nM = match, i, nM+1
		default:
			state[i], nX = differs, nX+1
		}
		desc[i] = d
	}
	switch {
	case nM == 0:
		return abstain(h, fmt.Sprintf("no output is spent by a transaction with this transaction's %s (%s)", what, ownDesc)), nil
	case nX == 0:
		return abstain(h, fmt.Sprintf("no output is spent by a transaction with another %s than this transaction's (%s): nothing to contrast", what, ownDesc)), nil
	}
	named := nM == 1 && nU == 0
	votes := make([]Vote, 0, nM+nX)
	for i := range tx.Out {
		switch {
		case state[i] == match && named:
			seen := ownDesc
			if desc[i] != ownDesc {
				seen = desc[i] + "; this transaction: " + ownDesc
			}
			votes = append(votes, Vote{Heuristic: h, Output: i, Says: SaysChange,
				Reason: fmt.Sprintf("the only output spent by a transaction with this transaction's %s (%s); every other output's spender has another", what, seen)})
		case state[i] == differs:
			votes = append(votes, Vote{Heuristic: h, Output: i, Says: SaysPayment,
				Reason: fmt.Sprintf("spent by a transaction with another %s (%s; this transaction: %s) while output %d's spender has this transaction's", what, desc[i], ownDesc, m)})
		}
	}
	return votes, nil
}

// PeelChain is the peeling-chain heuristic: in a transaction with one
// input and two outputs with addresses, the output spent by another
// one-input two-output transaction continues the chain and is change, if it
// is the larger output (a peel chain peels small amounts off a large
// remainder); the other output is the peel, a payment. Both or neither
// output continuing, or the continuing one being the smaller: abstain.
// Unlike BlockSci's peeling_chain, the parent transaction is not looked at
// (Context has no spent-transaction lookup), and an unspent output is not a
// candidate. Sources: Meiklejohn et al., IMC 2013 (peeling chains);
// BlockSci's peeling_chain (isPeelingChain); Kappos et al., "How to Peel a
// Million", USENIX Security 2022.
//
// Known failure: a payee that spends a large received payment alone in an
// ordinary one-input payment with change.
func PeelChain(tx *chain.FlowTx, height int64, ctx Context) ([]Vote, error) {
	const h = NamePeelChain
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	if len(tx.In) != 1 || len(tx.Out) != 2 || tx.Out[0].Addr == 0 || tx.Out[1].Addr == 0 {
		return abstain(h, "not the shape of a peel-chain hop (one input, two outputs with addresses)"), nil
	}
	if ctx == nil {
		return abstain(h, "no index context: the spending transactions are unknown"), nil
	}
	cont, n := -1, 0
	for i := range 2 {
		s, _, err := ctx.Spender(i)
		if err != nil {
			return nil, fmt.Errorf("change: %s: spender of output %d: %w", h, i, err)
		}
		if s != nil && !s.Coinbase && len(s.In) == 1 && len(s.Out) == 2 {
			cont, n = i, n+1
		}
	}
	switch {
	case n == 0:
		return abstain(h, "neither output is spent by a one-input two-output transaction"), nil
	case n == 2:
		return abstain(h, "both outputs are spent by one-input two-output transactions: ambiguous"), nil
	}
	other := 1 - cont
	if tx.Out[cont].Value <= tx.Out[other].Value {
		return abstain(h, fmt.Sprintf("output %d continues in a one-input two-output transaction but is not the larger output: not a peel", cont)), nil
	}
	return name(h, tx, cont, func(i int, c bool) string {
		if c {
			return "the larger output, spent by a one-input two-output transaction: the peel chain's remainder"
		}
		return fmt.Sprintf("the smaller output, peeled off while output %d continues the chain", cont)
	}), nil
}

// ClusterMembership is the cluster heuristic: exactly one output's address
// is already in the co-spend cluster of the inputs (ctx.SameCluster, known
// from other transactions); it is change, the others payments. No member,
// several members, or every output a member (a self-transfer): abstain.
// Source: the common-input-ownership heuristic the cluster rests on
// (Nakamoto 2008, §10; Meiklejohn et al., IMC 2013, Heuristic 1).
//
// Known failures: every false merge of the cluster (Kappos et al., USENIX
// Security 2022); the Context must answer from a co-spend clustering, not
// one built with change verdicts, or the heuristic confirms itself.
func ClusterMembership(tx *chain.FlowTx, height int64, ctx Context) ([]Vote, error) {
	const h = NameClusterMembership
	if err := check(tx, height); err != nil {
		return nil, err
	}
	if r := skip(tx); r != "" {
		return abstain(h, r), nil
	}
	if ctx == nil {
		return abstain(h, "no index context: the inputs' cluster is unknown"), nil
	}
	ch, n, total := -1, 0, 0
	for i := range tx.Out {
		a := tx.Out[i].Addr
		if a == 0 {
			continue
		}
		total++
		in, err := ctx.SameCluster(a)
		if err != nil {
			return nil, fmt.Errorf("change: %s: cluster of the address of output %d: %w", h, i, err)
		}
		if in {
			ch, n = i, n+1
		}
	}
	switch {
	case n == 0:
		return abstain(h, "no output address is in the inputs' cluster"), nil
	case n == total:
		return abstain(h, "every output address is in the inputs' cluster: a self-transfer"), nil
	case n > 1:
		return abstain(h, fmt.Sprintf("%d output addresses are in the inputs' cluster: ambiguous", n)), nil
	}
	return name(h, tx, ch, func(i int, c bool) string {
		if c {
			return "its address is already in the inputs' co-spend cluster"
		}
		return fmt.Sprintf("its address is not in the inputs' cluster; output %d's is", ch)
	}), nil
}

// selfChange is the first output paying to an input address, or -1.
func selfChange(tx *chain.FlowTx) int {
	for i := range tx.Out {
		if a := tx.Out[i].Addr; a != 0 && isInputAddr(tx, a) {
			return i
		}
	}
	return -1
}

func isInputAddr(tx *chain.FlowTx, a uint64) bool {
	for i := range tx.In {
		if tx.In[i].Addr == a {
			return true
		}
	}
	return false
}

// btc formats satoshis as BTC without trailing zeros.
func btc(v uint64) string {
	s := fmt.Sprintf("%d.%08d", v/100_000_000, v%100_000_000)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}
