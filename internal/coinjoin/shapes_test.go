package coinjoin

import (
	"math/rand/v2"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Randomised shapes: the CoinJoin of the ransomware scenario and
// real-protocol rounds must always be found; the transactions of the
// scenario's background economy (internal/scenario background.go and
// economy.go) and single-payer batches must never be.

const shapeRuns = 2000

func TestScenarioCoinJoinAlwaysDetected(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := range shapeRuns {
		tx := scenarioCoinJoin(r)
		v := Detect(tx)
		checkInvariants(t, tx, v)
		if !v.IsCoinJoin || v.Protocol != NameGeneric {
			t.Fatalf("run %d: scenario CoinJoin not detected as generic:\n%s", i, dump(v))
		}
	}
}

func TestProtocolRoundsAlwaysDetected(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	types := []chain.ScriptType{chain.P2WPKH, chain.P2SH, chain.P2PKH}
	undecided := 0
	for i := range shapeRuns {
		makers := 2 + r.IntN(9)
		d := logUniform(r, 100_000, 2_000_000_000)
		tx := joinMarketRound(r, makers, d, types[r.IntN(3)], r.IntN(3) == 0)
		v := Detect(tx)
		checkInvariants(t, tx, v)
		if v.Protocol != NameJoinMarket {
			t.Fatalf("run %d: JoinMarket round of %d makers at %d sats not detected:\n%s", i, makers, d, dump(v))
		}
		if v.Detectors[0].Confidence < 0.8 {
			undecided++
		}
	}
	// The value split of JoinMarket rounds of up to 10 participants with
	// up to 3 inputs each must almost always be decided.
	if undecided > shapeRuns/100 {
		t.Errorf("%d of %d JoinMarket rounds had an undecided value split", undecided, shapeRuns)
	}
	for i := range shapeRuns / 10 {
		tx := wabiSabiRound(r, 10+r.IntN(120))
		if v := Detect(tx); v.Protocol != NameWabiSabi {
			t.Fatalf("run %d: WabiSabi round not detected:\n%s", i, dump(v))
		}
		n := 10 + r.IntN(140)
		tx = wasabi1Round(r, n, 8_000_000+r.Uint64N(4_000_001))
		if v := Detect(tx); v.Protocol != NameWasabi1 {
			t.Fatalf("run %d: Wasabi 1 round of %d not detected:\n%s", i, n, dump(v))
		}
		tx = unknownCoordinatorRound(r, 3+r.IntN(12), logUniform(r, 1_000_000, 1_000_000_000))
		if v := Detect(tx); v.Protocol != NameGeneric {
			t.Fatalf("run %d: coordinated round not detected:\n%s", i, dump(v))
		}
	}
}

func TestBackgroundEconomyNeverDetected(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	kinds := []struct {
		name string
		make func() *chain.FlowTx
	}{
		{"pool payout", func() *chain.FlowTx { return poolPayout(r, 10+r.IntN(130), false) }},
		{"early-miner payout", func() *chain.FlowTx { return poolPayout(r, 10+r.IntN(30), true) }},
		{"exchange withdrawals", func() *chain.FlowTx { return exchangeWithdrawals(r) }},
		{"batch payment", func() *chain.FlowTx { return batchPayment(r) }},
		{"payment with change", func() *chain.FlowTx { return payment(r) }},
		{"consolidation", func() *chain.FlowTx { return consolidation(r) }},
		{"ransomware funding withdrawal", func() *chain.FlowTx { return fundingWithdrawal(r) }},
		{"payroll from an HD wallet", func() *chain.FlowTx { return payroll(r) }},
	}
	for _, k := range kinds {
		for i := range shapeRuns {
			tx := k.make()
			v := Detect(tx)
			checkInvariants(t, tx, v)
			if v.IsCoinJoin || v.Tx0 || len(v.Detectors) != 0 {
				t.Fatalf("%s run %d fired:\n%s", k.name, i, dump(v))
			}
		}
	}
}

// TestSinglePayerLookAlikes: one payer with many addresses pays k equal
// amounts, k-1 other amounts and change (the structure of a CoinJoin
// with per-participant change). Only the value split tells it apart; it
// must hold for at least 99% of them.
func TestSinglePayerLookAlikes(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	fired := 0
	for range shapeRuns {
		k := 3 + r.IntN(4)
		b := newTx()
		var out uint64
		eq := []uint64{500_000, 1_000_000, 5_000_000, 10_000_000, 2_500_000}[r.IntN(5)]
		b.out(randomType(r), repeat(eq, k)...)
		out += eq * uint64(k)
		for range k - 1 {
			v := logUniform(r, 100_000, 50_000_000)
			b.out(randomType(r), v)
			out += v
		}
		nIn := k + r.IntN(6)
		var in uint64
		for range nIn {
			v := logUniform(r, out/uint64(nIn)/2+1, out)
			b.in(chain.P2WPKH, v)
			in += v
		}
		if in < out+10_000 {
			b.in(chain.P2WPKH, out+10_000-in+logUniform(r, 1_000, 50_000_000))
			in = b.tx.InputValue()
		}
		b.out(chain.P2WPKH, in-out-3_000)
		tx := b.shuffle(r).build()
		if v := Detect(tx); v.IsCoinJoin {
			fired++
			t.Logf("called a CoinJoin: %s", v.Detectors[0].Reason)
		}
	}
	if fired > shapeRuns/100 {
		t.Errorf("%d of %d single-payer batches were called CoinJoins", fired, shapeRuns)
	}
	t.Logf("%d of %d single-payer look-alikes called CoinJoins", fired, shapeRuns)
}

// exchangeWithdrawals: the exchange pays 1..61 customers
// logUniform(200,000, 50,000,000) sats from its two hot addresses, change
// to the first.
func exchangeWithdrawals(r *rand.Rand) *chain.FlowTx {
	b := newTx()
	n := 1 + r.IntN(61)
	var total uint64
	for range n {
		v := logUniform(r, 200_000, 50_000_000)
		b.out(randomType(r), v)
		total += v
	}
	in := uint64(0)
	for in < total+100_000 {
		v := logUniform(r, 1_000_000, 2_000_000_000)
		b.inAt(7+uint64(r.IntN(2)), chain.P2WPKH, v)
		in += v
	}
	b.outAt(7, chain.P2WPKH, in-total-20_000)
	return b.build()
}

// batchPayment: a user pays 2..8 recipients logUniform(10,000, v/n) sats
// from fresh-address coins, with change.
func batchPayment(r *rand.Rand) *chain.FlowTx {
	b := newTx()
	n := 2 + r.IntN(7)
	v := logUniform(r, 100_000, 100_000_000)
	var total uint64
	for range n {
		x := logUniform(r, 10_000, v/uint64(n))
		b.out(randomType(r), x)
		total += x
	}
	t := randomType(r)
	in := uint64(0)
	for in < total+20_000 {
		x := logUniform(r, 10_000, 200_000_000)
		b.in(t, x)
		in += x
	}
	b.out(t, in-total-5_000)
	return b.shuffle(r).build()
}

// payment: a payment of a round amount (roundValues) or an arbitrary one
// with change.
func payment(r *rand.Rand) *chain.FlowTx {
	round := []uint64{10_000, 20_000, 25_000, 50_000, 100_000, 200_000, 250_000, 500_000, 1_000_000, 2_000_000, 2_500_000, 5_000_000, 10_000_000}
	b := newTx()
	v := round[r.IntN(len(round))]
	if r.IntN(2) == 0 {
		v = logUniform(r, 10_000, 100_000_000)
	}
	t := randomType(r)
	in := uint64(0)
	for in < v+10_000 {
		x := logUniform(r, 10_000, 100_000_000)
		b.in(t, x)
		in += x
	}
	b.out(randomType(r), v)
	if r.IntN(100) < 2 {
		b.opReturn()
	}
	b.out(t, in-v-2_000)
	return b.shuffle(r).build()
}

// consolidation: 2..150 coins into one fresh address.
func consolidation(r *rand.Rand) *chain.FlowTx {
	b := newTx()
	t := randomType(r)
	n := 2 + r.IntN(149)
	for range n {
		b.in(t, logUniform(r, 10_000, 100_000_000))
	}
	b.out(t, b.tx.InputValue()-uint64(n)*100)
	return b.build()
}

// fundingWithdrawal: the ransomware scenario's first transaction, the
// exchange paying 5..8 victims their ransom plus 0.002–0.02 BTC and the 4
// CoinJoin participants 0.1 BTC plus 0.02–0.4 BTC.
func fundingWithdrawal(r *rand.Rand) *chain.FlowTx {
	b := newTx()
	var total uint64
	for range 5 + r.IntN(4) {
		v := logUniform(r, 20_000_000, 300_000_000) + logUniform(r, 200_000, 2_000_000)
		b.out(randomType(r), v)
		total += v
	}
	for range 4 {
		v := 10_000_000 + logUniform(r, 2_000_000, 40_000_000)
		b.out(randomType(r), v)
		total += v
	}
	b.inAt(7, chain.P2WPKH, total+500_000_000)
	b.outAt(7, chain.P2WPKH, 499_990_000)
	return b.shuffle(r).build()
}

// payroll: k equal salaries and one change from an HD wallet's coins at
// distinct addresses.
func payroll(r *rand.Rand) *chain.FlowTx {
	b := newTx()
	k := 3 + r.IntN(30)
	salary := logUniform(r, 100_000, 50_000_000)
	b.out(randomType(r), repeat(salary, k)...)
	total := salary * uint64(k)
	in := uint64(0)
	for in < total+10_000 {
		x := logUniform(r, total/20+1, total)
		b.in(chain.P2WPKH, x)
		in += x
	}
	b.out(chain.P2WPKH, in-total-5_000)
	return b.shuffle(r).build()
}
