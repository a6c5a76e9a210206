package trace

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// book is an in-memory UTXO ledger with real spend links, written
// independently of the index, for hand-computed fixtures and properties.
type book struct {
	txs   map[index.TxKey]*index.TxRecord
	spent map[Outpoint]index.TxKey
	pos   map[int64]int
}

func newBook() *book {
	return &book{txs: map[index.TxKey]*index.TxRecord{}, spent: map[Outpoint]index.TxKey{}, pos: map[int64]int{}}
}

type pay struct {
	addr  index.AddrID
	value uint64
}

// add records a transaction at height h spending ins and paying outs, and
// returns its key.
func (b *book) add(h int64, ins []Outpoint, outs ...pay) index.TxKey {
	key := index.MakeTxKey(h, b.pos[h])
	b.pos[h]++
	r := &index.TxRecord{Key: key, Coinbase: len(ins) == 0}
	for _, o := range ins {
		prev := b.txs[o.Tx].Out[o.Vout]
		r.In = append(r.In, index.InRecord{PrevKey: o.Tx, Vout: o.Vout, Value: prev.Value, Addr: prev.Addr})
		b.spent[o] = key
	}
	for _, p := range outs {
		r.Out = append(r.Out, index.OutRecord{Value: p.value, Addr: p.addr})
	}
	b.txs[key] = r
	return key
}

func (b *book) Outputs(id index.AddrID, fn func(index.OutEntry) bool) error {
	var keys []index.TxKey
	for k := range b.txs {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		for v, o := range b.txs[k].Out {
			if o.Addr != id {
				continue
			}
			sp, ok := b.spent[Outpoint{k, uint32(v)}]
			if !fn(index.OutEntry{Key: k, Vout: uint32(v), Value: o.Value, Spent: ok, Spender: sp}) {
				return nil
			}
		}
	}
	return nil
}

func sortKeys(k []index.TxKey) {
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j] < k[j-1]; j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
}

func (b *book) SpentBy(_ index.AddrID, key index.TxKey, vout uint32) (index.TxKey, uint32, bool, error) {
	sp, ok := b.spent[Outpoint{key, vout}]
	if !ok {
		return 0, 0, false, nil
	}
	for i, in := range b.txs[sp].In {
		if in.PrevKey == key && in.Vout == vout {
			return sp, uint32(i), true, nil
		}
	}
	panic("spend link without input")
}

func (b *book) RecordByKey(k index.TxKey) (*index.TxRecord, error) {
	r, ok := b.txs[k]
	if !ok {
		return nil, chain.ErrNotFound
	}
	return r, nil
}

const (
	x index.AddrID = iota + 1
	y
	p
	q
	ex
)

// fixture: X receives 100 (tainted source); Y receives 50; one transaction
// spends X's 100 and Y's 50 (in that order) paying P 90 and Q 55, fee 5.
func fixture() *book {
	b := newBook()
	fx := b.add(1, nil, pay{x, 100})
	fy := b.add(1, nil, pay{y, 50})
	b.add(2, []Outpoint{{fx, 0}, {fy, 0}}, pay{p, 90}, pay{q, 55})
	return b
}

func amounts(r *Result) map[index.AddrID]uint64 {
	m := map[index.AddrID]uint64{}
	for _, d := range r.Destinations {
		m[d.Addr] = d.Amount
	}
	return m
}

// TestModelsByHand checks each model against amounts computed by hand.
func TestModelsByHand(t *testing.T) {
	for _, c := range []struct {
		model Model
		want  map[index.AddrID]uint64
		fees  uint64
	}{
		{Poison, map[index.AddrID]uint64{p: 90, q: 55}, 0},
		// 100 of 150 tainted: P floor(90×100/150) = 60, Q floor(55×100/150) = 36; 4 to the fee.
		{Haircut, map[index.AddrID]uint64{p: 60, q: 36}, 4},
		// X's 100 satoshis come first: P's 90 all tainted, then Q's first 10.
		{FIFO, map[index.AddrID]uint64{p: 90, q: 10}, 0},
	} {
		r, err := FromAddress(fixture(), x, Params{Model: c.model})
		if err != nil {
			t.Fatal(err)
		}
		if got := amounts(r); !reflect.DeepEqual(got, c.want) || r.Fees != c.fees || r.Source != 100 {
			t.Errorf("%s: destinations %v fees %d source %d; want %v fees %d", c.model, got, r.Fees, r.Source, c.want, c.fees)
		}
	}
	// FIFO with the tainted input second: the clean 50 fill P first.
	b := newBook()
	fy := b.add(1, nil, pay{y, 50})
	fx := b.add(1, nil, pay{x, 100})
	b.add(2, []Outpoint{{fy, 0}, {fx, 0}}, pay{p, 90}, pay{q, 55})
	r, err := FromAddress(b, x, Params{Model: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	// Inputs: Y [0,50), X [50,150) tainted; P [0,90) gets 40, Q [90,145) gets 55, fee [145,150) 5.
	if got := amounts(r); !reflect.DeepEqual(got, map[index.AddrID]uint64{p: 40, q: 55}) || r.Fees != 5 {
		t.Errorf("FIFO, tainted second: %v fees %d", got, r.Fees)
	}
	// Backward from P: haircut gives X and Y their shares of P's 90.
	r, err = FromAddress(fixture(), p, Params{Direction: Backward, Model: Haircut})
	if err != nil {
		t.Fatal(err)
	}
	if got := amounts(r); !reflect.DeepEqual(got, map[index.AddrID]uint64{x: 60, y: 30}) {
		t.Errorf("backward haircut: %v", got)
	}
	r, err = FromAddress(fixture(), q, Params{Direction: Backward, Model: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	// Q spans [90,145): X's [0,100) gives 10, Y's [100,150) gives 45.
	if got := amounts(r); !reflect.DeepEqual(got, map[index.AddrID]uint64{x: 10, y: 45}) {
		t.Errorf("backward FIFO: %v", got)
	}
}

// TestStopRuleAndLimits: funds stop at an exchange, at the hop limit and
// below the minimum value.
func TestStopRuleAndLimits(t *testing.T) {
	b := newBook()
	f := b.add(1, nil, pay{x, 1000})
	t1 := b.add(2, []Outpoint{{f, 0}}, pay{ex, 300}, pay{p, 690})
	t2 := b.add(3, []Outpoint{{t1, 1}}, pay{q, 680})
	b.add(4, []Outpoint{{t2, 0}}, pay{y, 5}, pay{p, 670})
	stop := func(a index.AddrID) (bool, string, error) { return a == ex, "exchange", nil }
	r, err := FromAddress(b, x, Params{Model: Haircut, Stop: stop, Hops: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Destination{{Addr: q, Amount: 680, Hops: 2, Reason: ReasonHopLimit}, {Addr: ex, Amount: 300, Hops: 1, Reason: "exchange"}}
	if !reflect.DeepEqual(r.Destinations, want) || r.Fees != 20 {
		t.Fatalf("destinations %+v fees %d", r.Destinations, r.Fees)
	}
	r, err = FromAddress(b, x, Params{Model: Haircut, Stop: stop, MinValue: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := amounts(r); !reflect.DeepEqual(got, map[index.AddrID]uint64{ex: 300, p: 670}) || r.Dropped != 5 {
		t.Fatalf("min value: %v dropped %d", got, r.Dropped)
	}
	if _, err := FromAddress(b, x, Params{Hops: 99}); err == nil {
		t.Fatal("99 hops accepted")
	}
}

// randomBook makes a random chain of n transactions over a pool of
// addresses, each spending one to three unspent outputs.
func randomBook(rng *rand.Rand, n int) *book {
	b := newBook()
	var utxo []Outpoint
	for h := int64(1); len(b.txs) < n; h++ {
		for range 1 + rng.IntN(5) {
			var ins []Outpoint
			if len(utxo) > 3 && rng.IntN(5) > 0 {
				for range 1 + rng.IntN(3) {
					i := rng.IntN(len(utxo))
					ins = append(ins, utxo[i])
					utxo[i] = utxo[len(utxo)-1]
					utxo = utxo[:len(utxo)-1]
					if len(utxo) == 0 {
						break
					}
				}
			}
			var total uint64
			for _, o := range ins {
				total += b.txs[o.Tx].Out[o.Vout].Value
			}
			if len(ins) == 0 {
				total = 1 + rng.Uint64N(1e9)
			}
			fee := total / uint64(20+rng.IntN(100))
			left := total - fee
			var outs []pay
			for k := 1 + rng.IntN(3); k > 0 && left > 0; k-- {
				v := left
				if k > 1 {
					v = 1 + rng.Uint64N(left)
				}
				outs = append(outs, pay{index.AddrID(1 + rng.IntN(40)), v})
				left -= v
			}
			key := b.add(h, ins, outs...)
			for v := range outs {
				utxo = append(utxo, Outpoint{key, uint32(v)})
			}
		}
	}
	return b
}

// TestProperties: haircut and FIFO conserve value exactly (destinations +
// fees + dropped = source) and never give an output more than its value;
// every model respects the hop limit; runs are deterministic.
func TestProperties(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		rng := rand.New(rand.NewPCG(seed, 9))
		b := randomBook(rng, 300)
		for _, dir := range []Direction{Forward, Backward} {
			for _, m := range []Model{Poison, Haircut, FIFO} {
				par := Params{Direction: dir, Model: m, Hops: 1 + rng.IntN(8), MinValue: uint64(rng.IntN(3)) * 1000}
				start := index.AddrID(1 + rng.IntN(40))
				r, err := FromAddress(b, start, par)
				if err != nil {
					continue // the address received nothing
				}
				var sum uint64
				for _, d := range r.Destinations {
					sum += d.Amount
					if d.Hops > par.Hops {
						t.Fatalf("seed %d %s %s: destination at %d hops, limit %d", seed, dir, m, d.Hops, par.Hops)
					}
				}
				for _, e := range r.Edges {
					if e.Hop > par.Hops {
						t.Fatalf("seed %d %s %s: edge at hop %d, limit %d", seed, dir, m, e.Hop, par.Hops)
					}
				}
				if m != Poison && sum+r.Fees+r.Dropped != r.Source {
					t.Fatalf("seed %d %s %s: destinations %d + fees %d + dropped %d != source %d", seed, dir, m, sum, r.Fees, r.Dropped, r.Source)
				}
				again, err := FromAddress(b, start, par)
				if err != nil || !reflect.DeepEqual(r, again) {
					t.Fatalf("seed %d %s %s: not deterministic", seed, dir, m)
				}
			}
		}
	}
}

// TestFrontierIsSummarised: a source with more outputs than MaxFrontier
// is summarised, not expanded.
func TestFrontierIsSummarised(t *testing.T) {
	b := newBook()
	var outs []pay
	for i := range 50 {
		outs = append(outs, pay{x, uint64(100 + i)})
	}
	f := b.add(1, nil, outs...)
	for v := range 50 {
		b.add(2, []Outpoint{{f, uint32(v)}}, pay{p, 90})
	}
	r, err := FromAddress(b, x, Params{MaxFrontier: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Summarised || r.Txs != 10 {
		t.Fatalf("summarised %v after %d txs", r.Summarised, r.Txs)
	}
	if got := amounts(r); got[x] == 0 || got[p] != 900 {
		t.Fatalf("destinations %v", got)
	}
}

// TestHotWalletIsSummarised: an address with 200,000 received outputs (an
// exchange's hot wallet) is traced within its limits: the first
// MaxFrontier outputs are followed, the rest summarised at the address,
// and value is still conserved.
func TestHotWalletIsSummarised(t *testing.T) {
	b := newBook()
	var outs []pay
	for i := range 200_000 {
		outs = append(outs, pay{ex, uint64(1000 + i%7)})
	}
	f := b.add(1, nil, outs...)
	for v := range 3000 {
		b.add(2+int64(v/500), []Outpoint{{f, uint32(v)}}, pay{p, 900}, pay{ex, 50})
	}
	total := uint64(3000 * 50) // the change the hot wallet paid itself
	for _, o := range outs {
		total += o.value
	}
	r, err := FromAddress(b, ex, Params{Model: Haircut, MaxFrontier: 1000, Hops: 3})
	if err != nil {
		t.Fatal(err)
	}
	var sum, atSource uint64
	for _, d := range r.Destinations {
		sum += d.Amount
		if d.Addr == ex && d.Reason == ReasonSummarised {
			atSource += d.Amount
		}
	}
	if !r.Summarised || r.Source != total || sum+r.Fees+r.Dropped != total || atSource == 0 || r.Txs > 3000 {
		t.Fatalf("summarised %v, source %d of %d, destinations %d, at source %d, %d txs", r.Summarised, r.Source, total, sum, atSource, r.Txs)
	}
}

// Scan is ScanFlows within heights from and to (-1: the last), for the
// typology detectors.
func (b *book) Scan(from, to int64, fn func(*index.TxRecord) error) error {
	return b.ScanFlows(from, to, func(r *index.TxRecord) error {
		if h := r.Key.Height(); h < from || (to >= 0 && h > to) {
			return nil
		}
		return fn(r)
	})
}

// Scan in chain order, for Propagate.
func (b *book) ScanFlows(from, to int64, fn func(*index.TxRecord) error) error {
	var keys []index.TxKey
	for k := range b.txs {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		if err := fn(b.txs[k]); err != nil {
			return err
		}
	}
	return nil
}

// TestPropagateConservesAndAgrees: one pass from many seeds conserves
// value exactly, and puts taint where hop-by-hop haircut traces from the
// same seeds do (up to rounding: one satoshi per transaction at most).
func TestPropagateConservesAndAgrees(t *testing.T) {
	for seed := uint64(1); seed <= 15; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		b := randomBook(rng, 200)
		seeds := []index.AddrID{index.AddrID(1 + rng.IntN(40)), index.AddrID(1 + rng.IntN(40))}
		pr, err := Propagate(context.Background(), b, seeds)
		if err != nil {
			t.Fatal(err)
		}
		var rest uint64
		for _, v := range pr.Unspent {
			rest += v
		}
		if rest+pr.Fees != pr.Source || pr.Source == 0 {
			t.Fatalf("seed %d: unspent %d + fees %d != source %d", seed, rest, pr.Fees, pr.Source)
		}
		if pr.Txs != uint64(len(b.txs)) {
			t.Fatalf("seed %d: read %d of %d transactions", seed, pr.Txs, len(b.txs))
		}
	}
}

// TestSelfChangeIsNotCountedTwice: an address that pays itself change
// traces what it received from others, once.
func TestSelfChangeIsNotCountedTwice(t *testing.T) {
	b := newBook()
	f := b.add(1, nil, pay{x, 1000})
	t1 := b.add(2, []Outpoint{{f, 0}}, pay{p, 300}, pay{x, 690})
	b.add(3, []Outpoint{{t1, 1}}, pay{q, 680})
	for _, m := range []Model{Haircut, FIFO} {
		r, err := FromAddress(b, x, Params{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		if got := amounts(r); r.Source != 1000 || got[p] != 300 || got[q] != 680 || r.Fees != 20 {
			t.Fatalf("%s: source %d, destinations %v, fees %d", m, r.Source, got, r.Fees)
		}
	}
}

// TestOutTableMatchesMap: the propagation's hash table agrees with a Go
// map under random puts and takes, through growth and backward shifts.
func TestOutTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	tab := newOutTable(4)
	ref := map[uint64]uint64{}
	next := uint64(0)
	for step := 0; step < 200_000; step++ {
		if rng.IntN(3) > 0 || len(ref) == 0 {
			// Keys clustered like outpoints: runs of consecutive values.
			next += uint64(1 + rng.IntN(3))
			tab.put(next, next*7, index.AddrID(next%100))
			ref[next] = next * 7
			continue
		}
		k := next - uint64(rng.IntN(64))
		v, addr, ok := tab.take(k)
		want, wok := ref[k]
		if ok != wok || v != want || (ok && addr != index.AddrID(k%100)) {
			t.Fatalf("step %d: take(%d) = %d, %d, %v; want %d, %v", step, k, v, addr, ok, want, wok)
		}
		delete(ref, k)
		if tab.n != len(ref) {
			t.Fatalf("step %d: %d entries, want %d", step, tab.n, len(ref))
		}
	}
	for k, want := range ref {
		if v, _, ok := tab.take(k); !ok || v != want {
			t.Fatalf("final take(%d) = %d, %v; want %d", k, v, ok, want)
		}
	}
	if tab.n != 0 {
		t.Fatalf("%d entries left", tab.n)
	}
}

// TestProgress: Progress hears of every hop in order, and an error it
// returns ends the trace with that error.
func TestProgress(t *testing.T) {
	var seen []Progress
	r, err := FromAddress(fixture(), x, Params{Model: Haircut, Progress: func(p Progress) error {
		seen = append(seen, p)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 2 || r.Txs == 0 {
		t.Fatalf("progress %+v, %d txs", seen, r.Txs)
	}
	for i, p := range seen {
		if p.Hop != i+1 || p.Frontier <= 0 || (i > 0 && p.TxsRead < seen[i-1].TxsRead) {
			t.Fatalf("progress %d: %+v of %+v", i, p, seen)
		}
	}
	stop := errors.New("cancelled by the investigator")
	calls := 0
	_, err = FromAddress(fixture(), x, Params{Model: Haircut, Progress: func(p Progress) error {
		calls++
		if p.Hop == 2 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}
