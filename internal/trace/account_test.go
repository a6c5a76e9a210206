package trace

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// evmChain builds a real evmindex store block by block from synthetic
// BlockData, for hand-computed account traces.
type evmChain struct {
	t      *testing.T
	ix     *evmindex.Index
	height uint64
	parent eth.Hash
	ntx    uint64
}

func newEVMChain(t *testing.T) *evmChain {
	t.Helper()
	ix, err := evmindex.Open(t.TempDir(), evmindex.Options{ChainID: 1337, Name: "dev", Symbol: "ETH"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	return &evmChain{t: t, ix: ix}
}

// ea is the test address number n.
func ea(n int) eth.Address {
	var a eth.Address
	a[0] = 0xAA
	binary.BigEndian.PutUint16(a[18:], uint16(n))
	return a
}

var miner = ea(999)

// block applies the next block with the given withdrawals (credits at the
// block's end) and transactions; it returns the block's height.
func (c *evmChain) block(w []evmindex.Credit, txs ...evmindex.TxData) uint64 {
	c.t.Helper()
	c.height++
	var h eth.Hash
	binary.BigEndian.PutUint64(h[:], c.height)
	h[31] = 0xB
	b := &evmindex.BlockData{Number: c.height, Hash: h, ParentHash: c.parent, Time: 1_700_000_000 + c.height*12,
		Miner: miner, Traced: true, Txs: txs, Withdrawals: w}
	if err := c.ix.Apply(b); err != nil {
		c.t.Fatal(err)
	}
	c.parent = h
	return c.height
}

// tx is a successful transaction from → to of value wei, paying fee (all
// of it the tip: a block before London).
func (c *evmChain) tx(from, to eth.Address, value, fee uint64) evmindex.TxData {
	c.ntx++
	var h eth.Hash
	binary.BigEndian.PutUint64(h[:], c.ntx)
	h[31] = 0x7
	return evmindex.TxData{Hash: h, From: from, To: &to, Status: eth.StatusSuccess, Value: chain.Sats(value),
		GasUsed: 1, EffectiveGasPrice: chain.Sats(fee), Fee: chain.Sats(fee), Tip: chain.Sats(fee)}
}

func credit(a eth.Address, v uint64) evmindex.Credit {
	return evmindex.Credit{Address: a, Amount: chain.Sats(v)}
}

func (c *evmChain) id(a eth.Address) evmindex.AddrID {
	c.t.Helper()
	id, err := c.ix.AddrID(a)
	if err != nil {
		c.t.Fatal(err)
	}
	return id
}

// dest is an expected destination: amount by address and reason.
type dest struct {
	addr   eth.Address
	reason string
}

func (d dest) String() string { return fmt.Sprintf("%x…%x/%s", d.addr[:1], d.addr[18:], d.reason) }

func (c *evmChain) check(name string, r *AccountResult, want map[dest]uint64, fees uint64) {
	c.t.Helper()
	got := map[dest]string{}
	for _, d := range r.Destinations {
		a := eth.Address{}
		if d.Addr != 0 {
			ad, err := c.ix.Address(d.Addr)
			if err != nil {
				c.t.Fatal(err)
			}
			a = ad.Address
		}
		got[dest{a, d.Reason}] = d.Amount.String()
	}
	w := map[dest]string{}
	for k, v := range want {
		w[k] = fmt.Sprint(v)
	}
	if !reflect.DeepEqual(got, w) || r.Fees.String() != fmt.Sprint(fees) {
		c.t.Errorf("%s: destinations %v fees %s; want %v fees %d", name, got, r.Fees, w, fees)
	}
	if r.Params.Model != Poison {
		conserved(c.t, name, r)
	}
}

// conserved checks destinations + fees + dropped = source.
func conserved(t *testing.T, name string, r *AccountResult) {
	t.Helper()
	sum := new(chain.Amount)
	for _, d := range r.Destinations {
		s, err := sum.Add(d.Amount)
		if err != nil {
			t.Fatal(err)
		}
		*sum = s
	}
	s, _ := sum.Add(r.Fees)
	s, _ = s.Add(r.Dropped)
	if s.Cmp(r.Source) != 0 {
		t.Errorf("%s: destinations %s + fees %s + dropped %s != source %s", name, sum, r.Fees, r.Dropped, r.Source)
	}
}

var allModels = []Model{Poison, Haircut, FIFO}

// TestAccountPeelChain: a peel chain with fees, a payment back to the
// source; the hop limit; a stop rule; a path search that respects time.
func TestAccountPeelChain(t *testing.T) {
	c := newEVMChain(t)
	a, b, cc, p1, p2 := ea(1), ea(2), ea(3), ea(4), ea(5)
	c.block([]evmindex.Credit{credit(a, 1000)})
	c.block(nil, c.tx(a, b, 990, 10))
	c.block(nil, c.tx(b, p1, 100, 10))
	c.block(nil, c.tx(b, cc, 870, 10))
	c.block(nil, c.tx(cc, p2, 200, 10))
	c.block(nil, c.tx(p2, a, 50, 10))
	src := c.id(a)
	for _, m := range allModels {
		r, err := TraceAccounts(c.ix, src, evmindex.Native, AccountParams{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		// Every wei A sent is tainted: 990 + its fee 10. B peels 100 to P1
		// and passes 870 to C; C peels 200 to P2; P2 returns 50 to A.
		c.check(string(m), r, map[dest]uint64{{p1, ReasonHeld}: 100, {cc, ReasonHeld}: 660, {p2, ReasonHeld}: 140,
			{a, ReasonHeld}: 50}, 50)
		if r.Source.String() != "1000" {
			t.Errorf("%s: source %s", m, r.Source)
		}
		var hops []int
		for _, e := range r.Edges {
			hops = append(hops, e.Hop)
		}
		if !reflect.DeepEqual(hops, []int{1, 2, 2, 3, 4}) || r.Edges[0].From != src || r.Edges[0].Amount.String() != "990" {
			t.Errorf("%s: edges %+v", m, r.Edges)
		}
	}
	// Two hops: taint reaching P1 and C at hop 2 stops there.
	r, err := TraceAccounts(c.ix, src, evmindex.Native, AccountParams{Model: Haircut, Hops: 2})
	if err != nil {
		t.Fatal(err)
	}
	c.check("hop limit", r, map[dest]uint64{{p1, ReasonHopLimit}: 100, {cc, ReasonHopLimit}: 870}, 30)
	for _, d := range r.Destinations {
		if d.Hops != 2 {
			t.Errorf("hop limit: %+v", d)
		}
	}
	// A stop rule at C.
	stopC := c.id(cc)
	r, err = TraceAccounts(c.ix, src, evmindex.Native, AccountParams{Model: FIFO, Stop: func(x evmindex.AddrID) (bool, string, error) {
		return x == stopC, "exchange", nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	c.check("stop", r, map[dest]uint64{{p1, ReasonHeld}: 100, {cc, "exchange"}: 870}, 30)
	boom := errors.New("tag store down")
	if _, err := TraceAccounts(c.ix, src, evmindex.Native, AccountParams{Stop: func(evmindex.AddrID) (bool, string, error) { return false, "", boom }}); !errors.Is(err, boom) {
		t.Errorf("stop rule error: %v", err)
	}

	// Paths: A → B → C → P2 in both search directions; P2 → B is no path
	// (P2 paid A after A paid B).
	for _, dir := range []Direction{Forward, Backward} {
		res, err := AccountPaths(c.ix, src, c.id(p2), AccountPathParams{Direction: dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Paths) != 1 || len(res.Paths[0]) != 3 {
			t.Fatalf("%s: paths %+v", dir, res)
		}
		path := res.Paths[0]
		want := []eth.Address{a, b, cc, p2}
		for i, s := range path {
			if s.From != c.id(want[i]) || s.To != c.id(want[i+1]) || (i > 0 && s.Key <= path[i-1].Key) {
				t.Fatalf("%s: step %d %+v", dir, i, s)
			}
		}
		if path[1].Amount.String() != "870" {
			t.Errorf("%s: step amount %s", dir, path[1].Amount)
		}
		res, err = AccountPaths(c.ix, c.id(p2), c.id(b), AccountPathParams{Direction: dir})
		if err != nil || len(res.Paths) != 0 {
			t.Fatalf("%s: P2 → B %+v %v", dir, res, err)
		}
		res, err = AccountPaths(c.ix, c.id(p2), c.id(a), AccountPathParams{Direction: dir})
		if err != nil || len(res.Paths) != 1 || len(res.Paths[0]) != 1 {
			t.Fatalf("%s: P2 → A %+v %v", dir, res, err)
		}
	}
	if _, err := AccountPaths(c.ix, src, src, AccountPathParams{}); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("path to itself: %v", err)
	}
	if _, err := TraceAccounts(c.ix, src, evmindex.Native, AccountParams{Hops: 65}); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("65 hops: %v", err)
	}
}

// poolChain: X holds 400 clean wei when A's 600 arrive; X pays P 500, Q
// 300, receives 100 clean from Y, pays R 150; every transaction pays a fee
// of 10.
func poolChain(t *testing.T) (*evmChain, [7]eth.Address) {
	c := newEVMChain(t)
	a, x, y, p, q, r, s := ea(1), ea(2), ea(3), ea(4), ea(5), ea(6), ea(7)
	c.block([]evmindex.Credit{credit(x, 400), credit(a, 610), credit(y, 110)})
	c.block(nil, c.tx(a, x, 600, 10))
	c.block(nil, c.tx(x, p, 500, 10))
	c.block(nil, c.tx(x, q, 300, 10))
	c.block(nil, c.tx(y, x, 100, 10))
	c.block(nil, c.tx(x, r, 150, 10))
	c.block(nil, c.tx(p, s, 200, 0))
	return c, [7]eth.Address{a, x, y, p, q, r, s}
}

// TestAccountPoolModels: the models give different, exact answers on a
// pool mixing tainted and clean funds.
func TestAccountPoolModels(t *testing.T) {
	c, ad := poolChain(t)
	a, x, y, p, q, r, s := ad[0], ad[1], ad[2], ad[3], ad[4], ad[5], ad[6]
	for _, tc := range []struct {
		model Model
		want  map[dest]uint64
		fees  uint64
	}{
		// Haircut (X's balance before each move): fee 10×600/1000 = 6;
		// P 500×594/990 = 300; fee 10×294/490 = 6; Q 300×288/480 = 180;
		// Y's 100 in (108 of 280); fee ⌊10×108/280⌋ = 3; R ⌊150×105/270⌋ =
		// 58; 47 left. Fees 10 (A's) + 15. P pays S
		// 200×300/500 = 120.
		{Haircut, map[dest]uint64{{p, ReasonHeld}: 180, {s, ReasonHeld}: 120, {q, ReasonHeld}: 180, {r, ReasonHeld}: 58, {x, ReasonHeld}: 47}, 25},
		// FIFO: X's queue [400 clean][600 tainted]: fee 10 clean; P gets
		// 390 clean + 110; fee 10 and Q 300 tainted; [180 t][100 clean];
		// fee 10 and R 150 tainted; 20 left. P's lot of 500 has its 110
		// tainted first: S's 200 carry them all.
		{FIFO, map[dest]uint64{{s, ReasonHeld}: 110, {q, ReasonHeld}: 300, {r, ReasonHeld}: 150, {x, ReasonHeld}: 20}, 30},
		// Poison: everything X pays after A's payment; X's balance at the tip.
		{Poison, map[dest]uint64{{p, ReasonHeld}: 300, {s, ReasonHeld}: 200, {q, ReasonHeld}: 300, {r, ReasonHeld}: 150, {x, ReasonHeld}: 120}, 40},
	} {
		res, err := TraceAccounts(c.ix, c.id(a), evmindex.Native, AccountParams{Model: tc.model})
		if err != nil {
			t.Fatal(err)
		}
		c.check("forward "+string(tc.model), res, tc.want, tc.fees)
		if res.Source.String() != "610" {
			t.Errorf("%s: source %s", tc.model, res.Source)
		}
	}

	// Backward from R (the 150 it received).
	res, err := TraceAccounts(c.ix, c.id(r), evmindex.Native, AccountParams{Direction: Backward, Model: Haircut})
	if err != nil {
		t.Fatal(err)
	}
	// X held 150 of interest after R's payment: Y's 100 in brought
	// ⌊100×150/280⌋ = 53, A's 600 ⌊600×97/1000⌋ = 58, the withdrawal of 400
	// the remaining 39.
	c.check("backward haircut", res, map[dest]uint64{{x, "withdrawal"}: 39, {a, "withdrawal"}: 58, {y, "withdrawal"}: 53}, 0)
	for _, e := range res.Edges {
		if e.To == c.id(r) && (e.From != c.id(x) || e.Amount.String() != "150" || e.Hop != 1) {
			t.Errorf("backward edge %+v", e)
		}
	}
	res, err = TraceAccounts(c.ix, c.id(r), evmindex.Native, AccountParams{Direction: Backward, Model: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	// Under FIFO R's 150 were A's: the mirror of the forward trace.
	c.check("backward fifo", res, map[dest]uint64{{a, "withdrawal"}: 150}, 0)
	// Backward from X's balance at the tip (120): the last 120 it received,
	// Y's 100 and the last 20 of A's 600.
	res, err = TraceAccounts(c.ix, c.id(x), evmindex.Native, AccountParams{Direction: Backward, Model: FIFO, Amount: chain.Sats(120)})
	if err != nil {
		t.Fatal(err)
	}
	c.check("backward amount", res, map[dest]uint64{{y, "withdrawal"}: 100, {a, "withdrawal"}: 20}, 0)

	// The window: up to Q's payment, X still holds 108 (haircut) when the
	// window ends, and its ledger goes on; so does P's, Q's does not.
	qKey := evmindex.TxKeyOf(4, 0)
	res, err = TraceAccounts(c.ix, c.id(a), evmindex.Native, AccountParams{Model: Haircut, ToKey: qKey})
	if err != nil {
		t.Fatal(err)
	}
	c.check("window", res, map[dest]uint64{{p, ReasonWindow}: 300, {q, ReasonHeld}: 180, {x, ReasonWindow}: 108}, 22)
	if res.End != qKey {
		t.Errorf("end %s", res.End)
	}
	// From block 3 on, X sends nothing of A's: a forward trace from X
	// starting after A's payment taints everything X sends.
	res, err = TraceAccounts(c.ix, c.id(x), evmindex.Native, AccountParams{Model: FIFO, FromKey: evmindex.MakeTxKey(3, 0), Amount: chain.Sats(450)})
	if err != nil {
		t.Fatal(err)
	}
	// The first 450 X sends: its fee 10 and 440 of P's 500, the first 200
	// of which P pays S.
	c.check("amount", res, map[dest]uint64{{p, ReasonHeld}: 240, {s, ReasonHeld}: 200}, 10)
	// An address that sends nothing in the window is refused.
	if _, err := TraceAccounts(c.ix, c.id(q), evmindex.Native, AccountParams{}); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("trace from a payee: %v", err)
	}
}

// TestAccountContractTokensAndBurn: ether through a contract's internal
// moves; a token minted, paid on and burnt; backward to the mint; the
// frontier limit; progress.
func TestAccountContractTokensAndBurn(t *testing.T) {
	c := newEVMChain(t)
	a, f, b, cc, d, tok := ea(1), ea(2), ea(3), ea(4), ea(5), ea(6)
	zero := eth.Address{}
	c.block([]evmindex.Credit{credit(a, 1000)})
	fwd := c.tx(a, f, 500, 0)
	fwd.Internal = []eth.ValueTransfer{
		{Path: []int{0}, Type: "CALL", From: f, To: b, Value: chain.Sats(300)},
		{Path: []int{1}, Type: "CALL", From: f, To: cc, Value: chain.Sats(200)},
	}
	mint := c.tx(d, tok, 0, 0)
	mint.Tokens = []evmindex.TokenTransfer{{Transfer: eth.Transfer{Token: tok, From: zero, To: a, Value: chain.Sats(1000)}, LogIndex: 0}}
	c.block(nil, fwd, mint)
	pay := c.tx(a, tok, 0, 0)
	pay.Tokens = []evmindex.TokenTransfer{
		{Transfer: eth.Transfer{Token: tok, From: a, To: b, Value: chain.Sats(300)}, LogIndex: 0},
		{Transfer: eth.Transfer{Token: tok, From: a, To: zero, Value: chain.Sats(200)}, LogIndex: 1},
	}
	c.block(nil, c.tx(b, d, 100, 0), pay)
	pay2 := c.tx(b, tok, 0, 0)
	pay2.Tokens = []evmindex.TokenTransfer{{Transfer: eth.Transfer{Token: tok, From: b, To: cc, Value: chain.Sats(100)}, LogIndex: 0}}
	c.block(nil, pay2)

	// Ether: A's 500 through F's internal moves.
	for _, m := range allModels {
		r, err := TraceAccounts(c.ix, c.id(a), evmindex.Native, AccountParams{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		c.check("internal "+string(m), r, map[dest]uint64{{b, ReasonHeld}: 200, {cc, ReasonHeld}: 200, {d, ReasonHeld}: 100}, 0)
	}
	// The window ends with block 2: B's ledger goes on, C's does not.
	r, err := TraceAccounts(c.ix, c.id(a), evmindex.Native, AccountParams{Model: Haircut, ToKey: evmindex.MakeTxKey(2, evmindex.SlotBlockEnd)})
	if err != nil {
		t.Fatal(err)
	}
	c.check("internal window", r, map[dest]uint64{{b, ReasonWindow}: 300, {cc, ReasonHeld}: 200}, 0)
	// The first 400 A sends: F holds 400 tainted of 500.
	r, err = TraceAccounts(c.ix, c.id(a), evmindex.Native, AccountParams{Model: Haircut, Amount: chain.Sats(400)})
	if err != nil {
		t.Fatal(err)
	}
	// B 300×400/500 = 240, C 200×160/200 = 160; B pays D 100×240/300 = 80.
	c.check("internal amount", r, map[dest]uint64{{b, ReasonHeld}: 160, {cc, ReasonHeld}: 160, {d, ReasonHeld}: 80}, 0)
	// Two addresses at most: A and F hold taint when B and C are paid.
	r, err = TraceAccounts(c.ix, c.id(a), evmindex.Native, AccountParams{Model: FIFO, MaxFrontier: 2})
	if err != nil {
		t.Fatal(err)
	}
	c.check("frontier", r, map[dest]uint64{{b, ReasonSummarised}: 300, {cc, ReasonSummarised}: 200}, 0)
	if !r.Summarised {
		t.Error("frontier: not summarised")
	}

	// Tokens: A sends 300 to B and burns 200; B pays C 100.
	asset, err := c.ix.AssetByContract(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range allModels {
		r, err := TraceAccounts(c.ix, c.id(a), asset.ID, AccountParams{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		c.check("token "+string(m), r, map[dest]uint64{{b, ReasonHeld}: 200, {cc, ReasonHeld}: 100, {zero, ReasonBurnt}: 200}, 0)
		if r.Source.String() != "500" {
			t.Errorf("token %s: source %s", m, r.Source)
		}
		back, err := TraceAccounts(c.ix, c.id(cc), asset.ID, AccountParams{Model: m, Direction: Backward})
		if err != nil {
			t.Fatal(err)
		}
		// B's 100 came from A's 300, which A had from the mint (poison: all
		// of B's 300, then all of A's 1000).
		minted := uint64(100)
		if m == Poison {
			minted = 1000
		}
		c.check("token backward "+string(m), back, map[dest]uint64{{zero, ReasonMinted}: minted}, 0)
		if back.Destinations[0].Hops != 3 || len(back.Edges) != 3 || back.Edges[0].From != c.id(zero) || back.Edges[2].To != c.id(cc) {
			t.Errorf("token backward %s: %+v %+v", m, back.Destinations, back.Edges)
		}
	}

	// Progress hears of the trace; an error it returns ends it.
	calls := 0
	stop := errors.New("cancelled")
	_, err = TraceAccounts(c.ix, c.id(a), evmindex.Native, AccountParams{Progress: func(p Progress) error {
		calls++
		if p.Frontier != 1 || p.TxsRead != 0 {
			return fmt.Errorf("progress %+v", p)
		}
		return stop
	}})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("progress: %v after %d calls", err, calls)
	}
}

// randomEVMChain builds a chain of blocks with random ether payments
// (never more than the sender holds), fees, and token payments with mints
// and burns.
func randomEVMChain(t *testing.T, rng *rand.Rand, blocks int) (*evmChain, []eth.Address, eth.Address) {
	c := newEVMChain(t)
	const n = 12
	addrs := make([]eth.Address, n)
	for i := range addrs {
		addrs[i] = ea(i + 1)
	}
	tok := ea(500)
	bal := map[eth.Address]uint64{}
	tokBal := map[eth.Address]uint64{}
	var w []evmindex.Credit
	for _, a := range addrs[:4] {
		v := 1_000_000 + rng.Uint64N(1_000_000)
		w = append(w, credit(a, v))
		bal[a] += v
	}
	c.block(w)
	for range blocks {
		var txs []evmindex.TxData
		var credits []evmindex.Credit
		if rng.IntN(4) == 0 {
			credits = append(credits, credit(addrs[rng.IntN(n)], rng.Uint64N(100_000)))
		}
		for range 1 + rng.IntN(4) {
			from, to := addrs[rng.IntN(n)], addrs[rng.IntN(n)]
			fee := uint64(rng.IntN(50))
			if bal[from] < fee {
				continue
			}
			v := rng.Uint64N(bal[from] - fee + 1)
			if from == to {
				v = 0
			}
			tx := c.tx(from, to, v, fee)
			bal[from] -= v + fee
			bal[to] += v
			if rng.IntN(3) == 0 {
				tx.To = &tok
				var trs []evmindex.TokenTransfer
				for k := range 1 + rng.IntN(3) {
					src, dst := addrs[rng.IntN(n)], addrs[rng.IntN(n)]
					if rng.IntN(4) == 0 {
						src = eth.Address{}
					}
					if rng.IntN(6) == 0 {
						dst = eth.Address{}
					}
					amt := rng.Uint64N(50_000)
					if src != (eth.Address{}) {
						amt = rng.Uint64N(tokBal[src] + 1)
						tokBal[src] -= amt
					}
					if dst != (eth.Address{}) {
						tokBal[dst] += amt
					}
					trs = append(trs, evmindex.TokenTransfer{Transfer: eth.Transfer{Token: tok, From: src, To: dst, Value: chain.Sats(amt)}, LogIndex: uint64(k)})
				}
				tx.Tokens = trs
				bal[to] -= v
				bal[tok] += v
			}
			txs = append(txs, tx)
		}
		c.block(credits, txs...)
		for _, cr := range credits {
			v, _ := cr.Amount.Uint64()
			bal[cr.Address] += v
		}
	}
	return c, addrs, tok
}

// haircutOracle replays every move of the chain in order, independently of
// the tracer: a forward haircut trace of every wei address src sends,
// without limits. It returns the taint held by address, and the fees.
func haircutOracle(t *testing.T, ix *evmindex.Index, src evmindex.AddrID, asset evmindex.AssetID) (map[evmindex.AddrID]uint64, uint64, uint64) {
	tip, _, err := ix.Tip()
	if err != nil {
		t.Fatal(err)
	}
	zero, err := ix.AddrID(eth.Address{})
	if err != nil && !errors.Is(err, chain.ErrNotFound) {
		t.Fatal(err)
	}
	bal := map[evmindex.AddrID]uint64{}
	taint := map[evmindex.AddrID]uint64{}
	var fees, source uint64
	err = ix.Scan(0, tip.Height, func(tx *evmindex.Tx) error {
		for _, m := range tx.Moves {
			if m.Asset != asset {
				continue
			}
			if m.From == m.To {
				continue // a move to oneself changes nothing
			}
			x, _ := m.Amount.Uint64()
			var c uint64
			if m.From != 0 {
				b := bal[m.From]
				if tn := taint[m.From]; tn > 0 && b > 0 {
					c = x * tn / b // below 2^64 for this chain's amounts
				}
				taint[m.From] -= c
				if m.From == src {
					source += x - c
					c = x
				}
				bal[m.From] -= x
			}
			switch {
			case m.From == 0:
			case m.To == 0:
				fees += c
			case m.To == zero:
				// burnt: counted by the caller from the trace
				taint[0] += c
			default:
				taint[m.To] += c
			}
			if m.To != 0 {
				bal[m.To] += x
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return taint, fees, source
}

// TestAccountProperties: on random chains, haircut and FIFO conserve
// value exactly, every model respects the hop limit, runs are
// deterministic, and a haircut trace without limits agrees exactly with an
// independent replay of the whole chain.
func TestAccountProperties(t *testing.T) {
	compared, mixed := 0, 0
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 17))
		c, addrs, tok := randomEVMChain(t, rng, 40)
		tokAsset, err := c.ix.AssetByContract(tok)
		if err != nil {
			t.Fatal(err)
		}
		for _, asset := range []evmindex.AssetID{evmindex.Native, tokAsset.ID} {
			for _, a := range addrs[:6] {
				id, err := c.ix.AddrID(a)
				if err != nil {
					continue
				}
				for _, dir := range []Direction{Forward, Backward} {
					for _, m := range allModels {
						par := AccountParams{Direction: dir, Model: m, Hops: 1 + rng.IntN(6), MinValue: chain.Sats(uint64(rng.IntN(3)) * 100)}
						r, err := TraceAccounts(c.ix, id, asset, par)
						if errors.Is(err, chain.ErrNotFound) {
							continue
						}
						if err != nil {
							t.Fatal(err)
						}
						name := fmt.Sprintf("seed %d asset %d from %d %s %s", seed, asset, id, dir, m)
						for _, d := range r.Destinations {
							if d.Hops > par.Hops || d.Amount.IsZero() {
								t.Fatalf("%s: destination %+v (limit %d)", name, d, par.Hops)
							}
						}
						for _, e := range r.Edges {
							if e.Hop > par.Hops || e.Hop < 1 {
								t.Fatalf("%s: edge %+v (limit %d)", name, e, par.Hops)
							}
						}
						if m != Poison {
							conserved(t, name, r)
						}
						again, err := TraceAccounts(c.ix, id, asset, par)
						if err != nil || !reflect.DeepEqual(r, again) {
							t.Fatalf("%s: not deterministic", name)
						}
					}
				}
				// The oracle: no hop limit reached, no minimum value.
				r, err := TraceAccounts(c.ix, id, asset, AccountParams{Model: Haircut, Hops: 64})
				if errors.Is(err, chain.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				want, fees, source := haircutOracle(t, c.ix, id, asset)
				got := map[evmindex.AddrID]uint64{}
				for _, d := range r.Destinations {
					v, _ := d.Amount.Uint64()
					switch d.Reason {
					case ReasonHeld:
						got[d.Addr] += v
					case ReasonBurnt:
						got[0] += v
					default:
						t.Fatalf("seed %d: destination %+v without limits", seed, d)
					}
				}
				for k, v := range want {
					if v == 0 {
						delete(want, k)
					}
				}
				if rf, _ := r.Fees.Uint64(); !reflect.DeepEqual(got, want) || rf != fees || r.Source.String() != fmt.Sprint(source) {
					t.Fatalf("seed %d asset %d from %d: trace %v fees %s source %s; replay %v fees %d source %d", seed, asset, id, got, r.Fees, r.Source, want, fees, source)
				}
				compared++
				if len(got) > 2 {
					mixed++
				}
			}
		}
	}
	if compared < 20 || mixed < 10 {
		t.Fatalf("the replay compared %d traces, %d of them reaching more than two addresses", compared, mixed)
	}
}

// TestAccountGolden: traces and path searches on a seeded random chain,
// kept in testdata/accounts/random.golden.json and compared on every run
// (go test ./internal/trace -update rewrites it after a checked change).
func TestAccountGolden(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	c, addrs, tok := randomEVMChain(t, rng, 30)
	tokAsset, err := c.ix.AssetByContract(tok)
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		Traces []*AccountResult
		Paths  []*AccountPathResult
	}
	var got out
	stopAt := c.id(addrs[7])
	for _, asset := range []evmindex.AssetID{evmindex.Native, tokAsset.ID} {
		for _, dir := range []Direction{Forward, Backward} {
			for _, m := range allModels {
				for _, a := range addrs[:3] {
					r, err := TraceAccounts(c.ix, c.id(a), asset, AccountParams{Direction: dir, Model: m, Hops: 4,
						Stop: func(x evmindex.AddrID) (bool, string, error) { return x == stopAt, "exchange", nil }})
					if errors.Is(err, chain.ErrNotFound) {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					r.Params.Stop = nil
					got.Traces = append(got.Traces, r)
				}
			}
		}
	}
	for _, dir := range []Direction{Forward, Backward} {
		for _, pair := range [][2]int{{0, 5}, {1, 9}, {2, 11}} {
			r, err := AccountPaths(c.ix, c.id(addrs[pair[0]]), c.id(addrs[pair[1]]), AccountPathParams{Direction: dir, Hops: 4, K: 3})
			if err != nil {
				t.Fatal(err)
			}
			got.Paths = append(got.Paths, r)
		}
	}
	if len(got.Traces) < 10 {
		t.Fatalf("only %d traces", len(got.Traces))
	}
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	golden := filepath.Join("testdata", "accounts", "random.golden.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, js, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once and check the file)", err)
	}
	if !bytes.Equal(js, want) {
		t.Fatalf("%s differs from the golden file; if the change is right, run go test ./internal/trace -update", golden)
	}
}
