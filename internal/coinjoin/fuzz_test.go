package coinjoin

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// fuzzTypes are the script types a fuzzed coin may have.
var fuzzTypes = []chain.ScriptType{
	chain.P2WPKH, chain.P2WPKH, chain.P2TR, chain.P2PKH, chain.P2SH,
	chain.P2WSH, chain.P2PK, chain.OpReturn, chain.BareMultisig, chain.NonStandard,
}

// fuzzValues are values the detectors care about, so that fuzzed
// transactions reach them often: pool denominations and premixes, Wasabi
// denominations, standard denominations, dust, extremes.
var fuzzValues = []uint64{
	0, 1, 546, 2_730, 5_000, 10_000, 100_000, 100_170, 100_350, 105_000,
	1_000_000, 1_000_302, 1_009_690, 1_050_000, 5_000_000, 5_000_510, 50_000_000,
	50_000_510, 9_984_460, 10_000_000, 20_000_000, 40_000_000, 1 << 20, 1_594_323,
	2_000_000, 175_000, 50_000, 30_000_000, 1 << 63, ^uint64(0), 2_100_000_000_000_000,
}

// decodeTx turns fuzz bytes into a transaction: a flags byte (bit 0:
// coinbase), the input and output counts, then per coin a type byte, an
// address byte and a value (a byte below 128 picks from fuzzValues, 255
// is followed by 8 raw bytes, other bytes are a multiple of 10,000 sats).
func decodeTx(data []byte) *chain.FlowTx {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	tx := &chain.FlowTx{Version: 2}
	tx.Coinbase = next()&1 == 1
	nIn, nOut := int(next()), int(next())
	coin := func() chain.Coin {
		c := chain.Coin{Type: fuzzTypes[int(next())%len(fuzzTypes)], Addr: uint64(next())}
		switch sel := next(); {
		case sel < 128:
			c.Value = fuzzValues[int(sel)%len(fuzzValues)]
		case sel == 255 && len(data) >= 8:
			c.Value = binary.LittleEndian.Uint64(data)
			data = data[8:]
		default:
			c.Value = uint64(sel) * 10_000
		}
		return c
	}
	for range nIn {
		tx.In = append(tx.In, coin())
	}
	for range nOut {
		tx.Out = append(tx.Out, coin())
	}
	return tx
}

// encodeTx is the inverse of decodeTx for seeds (addresses modulo 256).
func encodeTx(tx *chain.FlowTx) []byte {
	b := []byte{0, byte(len(tx.In)), byte(len(tx.Out))}
	if tx.Coinbase {
		b[0] = 1
	}
	for _, c := range slices.Concat(tx.In, tx.Out) {
		b = append(b, byte(slices.Index(fuzzTypes, c.Type)), byte(c.Addr), 255)
		b = binary.LittleEndian.AppendUint64(b, c.Value)
	}
	return b
}

// FuzzDetect: Detect never panics and its verdicts keep their invariants:
// a CoinJoin has detectors, the confidence is in [0, 1] with two
// decimals, a Tx0 is not a CoinJoin, the protocol is the first detector,
// the transaction is not modified and the verdict is deterministic.
func FuzzDetect(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	seeds := []*chain.FlowTx{
		newTx().in(wpkh, 1_000_000, 1_000_000, 1_000_302, 1_000_302, 1_000_170).out(wpkh, repeat(1_000_000, 5)...).build(),
		scenarioCoinJoin(r),
		joinMarketRound(r, 4, 28_456_130, wpkh, false),
		joinMarketRound(r, 3, 1_000_000, sh, true),
		wasabi1Round(r, 20, 10_000_000, 4),
		wabiSabiRound(r, 8),
		newTx().in(wpkh, 600_000, 250_000, 900_000).out(wpkh, 690_000, 690_000, 159_000, 209_500).build(),
		newTx().in(wpkh, 5_000_000, 3_000_000).opReturn().out(wpkh, 50_000).out(wpkh, repeat(1_000_827, 7)...).out(wpkh, 889_000).build(),
		poolPayout(r, 30, false),
		newTx().in(wpkh, 300_000, 200_000).out(wpkh, 400_000, 90_000).build(),
	}
	for _, tx := range seeds {
		f.Add(encodeTx(tx))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		tx := decodeTx(data)
		before := encodeTx(tx)
		v := Detect(tx)
		if after := encodeTx(tx); !slices.Equal(before, after) {
			t.Fatal("Detect modified the transaction")
		}
		checkInvariants(t, tx, v)
	})
}

func TestDecodeEncodeRoundTrip(t *testing.T) {
	tx := &chain.FlowTx{
		In:  []chain.Coin{{Value: 123, Addr: 7, Type: wpkh}},
		Out: []chain.Coin{{Type: chain.OpReturn}, {Value: ^uint64(0), Addr: 200, Type: tr}},
	}
	got := decodeTx(encodeTx(tx))
	if !slices.Equal(got.In, tx.In) || !slices.Equal(got.Out, tx.Out) {
		t.Fatalf("round trip: %+v, want %+v", got, tx)
	}
}

// TestLargeTransactions covers transactions beyond the stack buffers.
func TestLargeTransactions(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b := newTx().inAt(7, wpkh, 10_000_000_000)
	b.out(wpkh, randomValues(r, 400, 10_000, 10_000_000)...)
	b.out(wpkh, repeat(1_000_000, 300)...)
	tx := b.build()
	v := Detect(tx)
	checkInvariants(t, tx, v)
	if v.IsCoinJoin {
		t.Fatalf("a 700-output payout from one address is a CoinJoin:\n%s", dump(v))
	}
	ws := wabiSabiRound(r, 150)
	if v := Detect(ws); v.Protocol != NameWabiSabi || len(ws.In) <= bufN {
		t.Fatalf("large WabiSabi round (%d inputs, %d outputs):\n%s", len(ws.In), len(ws.Out), dump(v))
	}
}

// TestConcurrentDetect: Detect reuses pooled memory; verdicts must not
// depend on what ran before or alongside.
func TestConcurrentDetect(t *testing.T) {
	var txs []*chain.FlowTx
	for _, s := range benchShapes() {
		txs = append(txs, s.tx)
	}
	r := rand.New(rand.NewPCG(21, 22))
	for range 20 {
		txs = append(txs, scenarioCoinJoin(r), joinMarketRound(r, 3, 1_234_567, wpkh, false), payroll(r), batchPayment(r))
	}
	want := make([]string, len(txs))
	for i, tx := range txs {
		want[i] = dump(Detect(tx))
	}
	done := make(chan string)
	for g := range 8 {
		go func() {
			order := rand.New(rand.NewPCG(uint64(g), 0)).Perm(len(txs))
			for _, i := range order {
				if got := dump(Detect(txs[i])); got != want[i] {
					done <- "transaction " + strconv.Itoa(i) + " changed its verdict"
					return
				}
			}
			done <- ""
		}()
	}
	for range 8 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
