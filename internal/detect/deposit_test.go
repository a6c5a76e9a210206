package detect_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// depositCase is an exchange with hot wallet "hot" and four deposit
// addresses, a look-alike that keeps half and an address that sweeps to
// the hot wallet but also paid someone else.
type depositCase struct {
	b *builder
	// keys of the transactions, by name.
	k map[string]evmindex.TxKey
	// swept ether of the ether sweeps, by deposit label.
	swept map[string]uint64
	last  uint64
}

func buildDeposits(t *testing.T) *depositCase {
	t.Helper()
	b := newBuilder(t, []string{"vtd"}, map[string]tokenInfo{"vtd": {"VTD", 6}})
	c := &depositCase{b: b, k: map[string]evmindex.TxKey{}, swept: map[string]uint64{}}
	// Block 1: opening balances.
	for _, l := range []string{"c0", "c1", "c2", "c3", "c4", "c5"} {
		b.open(l, "", 10*ether)
	}
	b.open("hot", "", 10*ether)
	b.open("c2", "vtd", 1_000_000_000)
	b.open("c4", "vtd", 500_000_000)
	b.next()
	// Block 2: two customers pay deposit-0.
	c.k["d0-in-c0"] = b.send("c0", "d0", 1000*milli)
	c.k["d0-in-c1"] = b.send("c1", "d0", 500*milli)
	b.next()
	// Block 3: c2 pays ether and tokens into deposit-1.
	c.k["d1-in-eth"] = b.send("c2", "d1", 2*ether)
	c.k["d1-in-vtd"] = b.token("vtd", "c2", "d1", 300_000_000)
	b.next()
	// Block 4: c3 pays deposit-2.
	c.k["d2-in-1"] = b.send("c3", "d2", 700*milli)
	b.next()
	// Block 5: deposit-1 sweeps its tokens (the fee from its ether).
	c.k["d1-sweep-vtd"] = b.token("vtd", "d1", "hot", 300_000_000)
	b.next()
	// Block 6: ether sweeps of deposits 0, 1 and 2.
	c.k["d0-sweep"], c.swept["d0"] = b.sweep("d0", "hot")
	c.k["d1-sweep-eth"], c.swept["d1"] = b.sweep("d1", "hot")
	c.k["d2-sweep-1"], c.swept["d2-1"] = b.sweep("d2", "hot")
	b.next()
	// Block 7: the exchange gives deposit-3 gas; c4 pays it tokens.
	c.k["d3-gas"] = b.send("hot", "d3", 10*milli)
	c.k["d3-in"] = b.token("vtd", "c4", "d3", 200_000_000)
	b.next()
	// Block 8: c3 pays deposit-2 again; the look-alike and the other payer
	// are paid.
	c.k["d2-in-2"] = b.send("c3", "d2", 300*milli)
	c.k["l-in"] = b.send("c5", "lookalike", ether)
	c.k["p-in"] = b.send("c5", "payer", ether)
	b.next()
	// Block 9: deposit-2's second sweep; the look-alike sends half to the
	// hot wallet and keeps the rest; the other payer pays c0.
	c.k["d2-sweep-2"], c.swept["d2-2"] = b.sweep("d2", "hot")
	c.k["l-out"] = b.send("lookalike", "hot", 500*milli)
	c.k["p-other"] = b.send("payer", "c0", 100*milli)
	b.next()
	// Block 10: the other payer empties itself into the hot wallet.
	c.k["p-sweep"], _ = b.sweep("payer", "hot")
	// Blocks 11..46 empty; block 47: deposit-3 sweeps its tokens, 40
	// blocks after they came.
	b.skip(37)
	if b.height() != 47 {
		t.Fatalf("builder at block %d", b.height())
	}
	c.k["d3-sweep"] = b.token("vtd", "d3", "hot", 200_000_000)
	c.last = b.height()
	b.finish()
	return c
}

func TestDepositAddresses(t *testing.T) {
	c := buildDeposits(t)
	b := c.b
	hot := b.id("hot")
	res, err := detect.DepositAddresses(b.ix, []evmindex.AddrID{hot}, 1, c.last, detect.DepositOptions{})
	if err != nil {
		t.Fatal(err)
	}
	native, vtd := evmindex.Native, b.asset("vtd")
	// Hand-checked: the ether sweeps forward the deposits less the fees
	// paid from them (42,000 gwei per transaction).
	if c.swept["d0"] != 1_499_958_000_000_000_000 || c.swept["d1"] != 1_999_916_000_000_000_000 ||
		c.swept["d2-1"] != 699_958_000_000_000_000 || c.swept["d2-2"] != 299_958_000_000_000_000 {
		t.Fatalf("builder's sweeps: %v", c.swept)
	}
	type want struct {
		label    string
		conf     int
		sweeps   []evmindex.TxKey
		senders  []string
		deposits []evmindex.TxKey
		assets   []evmindex.AssetID
		details  []detect.Sweep
	}
	k := c.k
	wants := []want{
		{"d0", 65, []evmindex.TxKey{k["d0-sweep"]}, []string{"c0", "c1"}, []evmindex.TxKey{k["d0-in-c0"], k["d0-in-c1"]}, []evmindex.AssetID{native},
			[]detect.Sweep{{Tx: k["d0-sweep"], Asset: native, HotWallet: hot, Amount: wei(1_499_958_000_000_000_000), Deposits: []evmindex.TxKey{k["d0-in-c0"], k["d0-in-c1"]},
				Senders: b.ids("c0", "c1"), Received: wei(1500 * milli), Blocks: 4}}},
		// Two sweeps (tokens, then ether), two assets: 40+15+15+10+5.
		{"d1", 85, []evmindex.TxKey{k["d1-sweep-vtd"], k["d1-sweep-eth"]}, []string{"c2"}, []evmindex.TxKey{k["d1-in-eth"], k["d1-in-vtd"]},
			[]evmindex.AssetID{native, vtd},
			[]detect.Sweep{
				{Tx: k["d1-sweep-vtd"], Asset: vtd, HotWallet: hot, Amount: wei(300_000_000), Deposits: []evmindex.TxKey{k["d1-in-vtd"]},
					Senders: b.ids("c2"), Received: wei(300_000_000), Blocks: 2},
				{Tx: k["d1-sweep-eth"], Asset: native, HotWallet: hot, Amount: wei(1_999_916_000_000_000_000), Deposits: []evmindex.TxKey{k["d1-in-eth"]},
					Senders: b.ids("c2"), Received: wei(2 * ether), Blocks: 3}}},
		// Two ether sweeps: 40+15+15+10.
		{"d2", 80, []evmindex.TxKey{k["d2-sweep-1"], k["d2-sweep-2"]}, []string{"c3"}, []evmindex.TxKey{k["d2-in-1"], k["d2-in-2"]}, []evmindex.AssetID{native},
			[]detect.Sweep{
				{Tx: k["d2-sweep-1"], Asset: native, HotWallet: hot, Amount: wei(699_958_000_000_000_000), Deposits: []evmindex.TxKey{k["d2-in-1"]},
					Senders: b.ids("c3"), Received: wei(700 * milli), Blocks: 2},
				{Tx: k["d2-sweep-2"], Asset: native, HotWallet: hot, Amount: wei(299_958_000_000_000_000), Deposits: []evmindex.TxKey{k["d2-in-2"]},
					Senders: b.ids("c3"), Received: wei(300 * milli), Blocks: 1}}},
		// One slow token sweep (40 blocks > 30): 40+15. Its gas from the
		// hot wallet is no deposit.
		{"d3", 55, []evmindex.TxKey{k["d3-sweep"]}, []string{"c4"}, []evmindex.TxKey{k["d3-in"]}, []evmindex.AssetID{vtd},
			[]detect.Sweep{{Tx: k["d3-sweep"], Asset: vtd, HotWallet: hot, Amount: wei(200_000_000), Deposits: []evmindex.TxKey{k["d3-in"]},
				Senders: b.ids("c4"), Received: wei(200_000_000), Blocks: 40}}},
	}
	if len(res.Addresses) != len(wants) {
		var got []string
		for _, d := range res.Addresses {
			got = append(got, d.Explanation)
		}
		t.Fatalf("%d deposit addresses, want %d:\n%s", len(res.Addresses), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		d := res.Addresses[i]
		if d.Addr != b.id(w.label) {
			t.Fatalf("deposit %d is address #%d, want %s (#%d)", i, d.Addr, w.label, b.id(w.label))
		}
		if d.HotWallet != hot || !slices.Equal(d.HotWallets, []evmindex.AddrID{hot}) {
			t.Errorf("%s: hot wallet %d %v", w.label, d.HotWallet, d.HotWallets)
		}
		if d.Confidence != w.conf {
			t.Errorf("%s: confidence %d, want %d (%v)", w.label, d.Confidence, w.conf, d.Params)
		}
		if !slices.Equal(d.Sweeps, w.sweeps) || !slices.Equal(d.Senders, b.ids(w.senders...)) || !slices.Equal(d.Deposits, w.deposits) ||
			!slices.Equal(d.Assets, w.assets) || d.PartialPayments != 0 {
			t.Errorf("%s: sweeps %v senders %v deposits %v assets %v partial %d", w.label, d.Sweeps, d.Senders, d.Deposits, d.Assets, d.PartialPayments)
		}
		if len(d.SweepDetails) != len(w.details) {
			t.Fatalf("%s: %d sweep details", w.label, len(d.SweepDetails))
		}
		for j, s := range d.SweepDetails {
			ws := w.details[j]
			if s.Tx != ws.Tx || s.Asset != ws.Asset || s.HotWallet != ws.HotWallet || s.Amount.Cmp(ws.Amount) != 0 || !s.Residual.IsZero() ||
				!slices.Equal(s.Deposits, ws.Deposits) || !slices.Equal(s.Senders, ws.Senders) || s.Received.Cmp(ws.Received) != 0 || s.Blocks != ws.Blocks {
				t.Errorf("%s: sweep %d is %+v, want %+v", w.label, j, s, ws)
			}
		}
		self := addrOf(w.label).String()
		if !strings.Contains(d.Explanation, self) || !strings.Contains(d.Explanation, addrOf("hot").String()) {
			t.Errorf("%s: explanation names neither the address nor the hot wallet: %s", w.label, d.Explanation)
		}
		for _, s := range w.sweeps {
			tx, err := b.ix.TxByKey(s)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(d.Explanation, tx.Hash.String()) {
				t.Errorf("%s: explanation lacks sweep %s: %s", w.label, tx.Hash, d.Explanation)
			}
		}
		if d.Params["max_sweep_blocks"] != uint64(300) || d.Params["max_residual_pct"] != uint64(1) || d.Params["sweeps"] != len(w.sweeps) {
			t.Errorf("%s: params %v", w.label, d.Params)
		}
	}
	if d := res.Addresses[0]; !strings.Contains(d.Explanation, "1.499958 ETH [1499958000000000000 base units]") {
		t.Errorf("deposit-0's explanation lacks the exact amount swept: %s", d.Explanation)
	}
	if d := res.Addresses[3]; d.Params["slowest_sweep_blocks"] != uint64(40) || d.Params["all_fast"] != false ||
		!strings.Contains(d.Explanation, "200 VTD (token "+addrOf("vtd").String()+") [200000000 base units]") {
		t.Errorf("deposit-3: params %v, explanation %s", d.Params, d.Explanation)
	}

	// One user link: deposit-0's two senders, at 65 × 3/4.
	if len(res.Links) != 1 {
		t.Fatalf("%d user links, want 1: %+v", len(res.Links), res.Links)
	}
	l := res.Links[0]
	if l.Deposit != b.id("d0") || l.HotWallet != hot || !slices.Equal(l.Senders, b.ids("c0", "c1")) || l.Confidence != 48 ||
		!slices.Equal(l.Txs, []evmindex.TxKey{k["d0-in-c0"], k["d0-in-c1"]}) {
		t.Errorf("link %+v", l)
	}
	for _, s := range []string{addrOf("c0").String(), addrOf("c1").String(), addrOf("d0").String(), "reuse"} {
		if !strings.Contains(l.Explanation, s) {
			t.Errorf("link explanation lacks %q: %s", s, l.Explanation)
		}
	}
}

// TestDepositOptions: the parameters decide, and bad ones are refused.
func TestDepositOptions(t *testing.T) {
	c := buildDeposits(t)
	b := c.b
	hot := []evmindex.AddrID{b.id("hot")}
	labels := func(o detect.DepositOptions) []evmindex.AddrID {
		t.Helper()
		res, err := detect.DepositAddresses(b.ix, hot, 1, c.last, o)
		if err != nil {
			t.Fatal(err)
		}
		var ids []evmindex.AddrID
		for _, d := range res.Addresses {
			ids = append(ids, d.Addr)
		}
		return ids
	}
	// deposit-3's sweep came 40 blocks after its payment.
	if got := labels(detect.DepositOptions{MaxSweepBlocks: 39, FastSweepBlocks: 30}); !slices.Equal(got, b.ids("d0", "d1", "d2")) {
		t.Errorf("max 39 blocks: %v", got)
	}
	if got := labels(detect.DepositOptions{MaxSweepBlocks: 40}); !slices.Equal(got, b.ids("d0", "d1", "d2", "d3")) {
		t.Errorf("max 40 blocks: %v", got)
	}
	if got := labels(detect.DepositOptions{MinSweeps: 2}); !slices.Equal(got, b.ids("d1", "d2")) {
		t.Errorf("two sweeps: %v", got)
	}
	// The look-alike keeps half: 0.499958 ETH left after sending 0.5 ETH,
	// 99.99% of the amount sent, above even the loosest residual.
	if got := labels(detect.DepositOptions{MaxResidualPct: 99}); !slices.Equal(got, b.ids("d0", "d1", "d2", "d3")) {
		t.Errorf("99%% residual: %v", got)
	}
	// A range that ends before the sweeps finds nothing; one that starts
	// after the deposits of deposit-0 does not see them.
	res, err := detect.DepositAddresses(b.ix, hot, 1, 4, detect.DepositOptions{})
	if err != nil || len(res.Addresses) != 0 {
		t.Errorf("blocks 1..4: %v, %v", res, err)
	}
	res, err = detect.DepositAddresses(b.ix, hot, 5, c.last, detect.DepositOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Addresses {
		if d.Addr == b.id("d0") {
			t.Errorf("from block 5 deposit-0 has no payments in range, yet: %+v", d)
		}
	}
	for _, o := range []detect.DepositOptions{{MaxResidualPct: 100}, {SharePct: 101}, {MinSweeps: -1}, {MaxSweepBlocks: 10, FastSweepBlocks: 11}} {
		if _, err := detect.DepositAddresses(b.ix, hot, 1, c.last, o); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := detect.DepositAddresses(b.ix, nil, 1, c.last, detect.DepositOptions{}); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("no hot wallets: %v", err)
	}
	if _, err := detect.DepositAddresses(b.ix, hot, 9, 3, detect.DepositOptions{}); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("range 9..3: %v", err)
	}
}

// TestDepositDeterministic: the same chain built twice, and read twice,
// gives the same answer.
func TestDepositDeterministic(t *testing.T) {
	var runs []*detect.Deposits
	for range 2 {
		c := buildDeposits(t)
		for range 2 {
			res, err := detect.DepositAddresses(c.b.ix, []evmindex.AddrID{c.b.id("hot")}, 1, c.last, detect.DepositOptions{})
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, res)
		}
	}
	for i := 1; i < len(runs); i++ {
		if !reflect.DeepEqual(runs[0], runs[i]) {
			t.Fatalf("run %d differs:\n%+v\n%+v", i, runs[0], runs[i])
		}
	}
}
