package evmindex

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

func addr(b byte) eth.Address { var a eth.Address; a[19] = b; a[0] = 0xaa; return a }
func hash(n uint64, salt byte) eth.Hash {
	var h eth.Hash
	h[0] = salt
	h[31] = byte(n)
	h[30] = byte(n >> 8)
	return h
}
func wei(n uint64) chain.Amount { return chain.Sats(n) }

func open(t *testing.T, dir string) *Index {
	t.Helper()
	ix, err := Open(dir, Options{ChainID: 1337, Name: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

var (
	alice, bob, carol, miner, fwd, token = addr(1), addr(2), addr(3), addr(9), addr(0x10), addr(0x20)
	zero                                 eth.Address
)

// chainOf builds three blocks: an opening for alice, a payment with fee and
// tip, a failed transaction, a forwarder with internal moves, a token
// contract with a mint and a transfer, a self-transfer and a withdrawal.
func chainOf(salt byte) []*BlockData {
	base := wei(10)
	b1 := &BlockData{Number: 5, Hash: hash(5, salt), ParentHash: hash(4, salt), Time: 1000, Miner: miner, BaseFee: &base, Traced: true,
		Openings: []Opening{{Address: alice, Amount: wei(1_000_000)}, {Address: miner, Amount: wei(0)}},
		Txs: []TxData{
			{Hash: hash(1, 0x51+salt), From: alice, To: &bob, Status: eth.StatusSuccess, Value: wei(100_000), GasUsed: 21000, EffectiveGasPrice: wei(12), Fee: wei(252_000), Tip: wei(42_000)},
			{Hash: hash(2, 0x51+salt), From: alice, To: &carol, Status: eth.StatusFailed, Value: wei(5), GasUsed: 100, EffectiveGasPrice: wei(12), Fee: wei(1200), Tip: wei(200)},
			{Hash: hash(3, 0x51+salt), From: alice, Created: &fwd, Status: eth.StatusSuccess, GasUsed: 50, EffectiveGasPrice: wei(10), Fee: wei(500), Input: []byte{1, 2, 3, 4, 5}},
		}}
	b2 := &BlockData{Number: 6, Hash: hash(6, salt), ParentHash: hash(5, salt), Time: 1012, Miner: miner, Traced: true,
		Tokens: []eth.TokenMetadata{{Token: token, Name: "Test", NameOK: true, Symbol: "TST", SymbolOK: true, Decimals: 6, DecimalsOK: true}},
		Txs: []TxData{
			{Hash: hash(4, 0x51+salt), From: bob, To: &fwd, Status: eth.StatusSuccess, Value: wei(30_000), Fee: wei(100), Tip: wei(100),
				Internal: []eth.ValueTransfer{{Path: []int{0}, Type: "CALL", From: fwd, To: carol, Value: wei(10_000)}, {Path: []int{1}, Type: "CALL", From: fwd, To: alice, Value: wei(20_000)}}},
			{Hash: hash(5, 0x51+salt), From: carol, To: &token, Status: eth.StatusSuccess, Fee: wei(7), Tip: wei(7),
				Tokens: []TokenTransfer{{Transfer: eth.Transfer{Token: token, From: zero, To: carol, Value: wei(500)}, LogIndex: 0}, {Transfer: eth.Transfer{Token: token, From: carol, To: bob, Value: wei(200)}, LogIndex: 1}}},
			{Hash: hash(6, 0x51+salt), From: bob, To: &bob, Status: eth.StatusSuccess, Value: wei(1), Fee: wei(3), Tip: wei(3)},
		},
		Withdrawals: []Credit{{Address: carol, Amount: wei(1_000_000_000)}}}
	return []*BlockData{b1, b2}
}

func balance(t *testing.T, ix *Index, a eth.Address, asset AssetID) string {
	t.Helper()
	id, err := ix.AddrID(a)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ix.Holding(id, asset)
	if errors.Is(err, chain.ErrNotFound) {
		return "0"
	}
	if err != nil {
		t.Fatal(err)
	}
	return h.Balance.String()
}

func TestApplyLedgers(t *testing.T) {
	ix := open(t, t.TempDir())
	for _, b := range chainOf(0) {
		if err := ix.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokenAsset, err := ix.AssetByContract(token)
	if err != nil || tokenAsset.Symbol != "TST" || tokenAsset.Decimals != 6 || !tokenAsset.MetadataOK {
		t.Fatalf("%+v %v", tokenAsset, err)
	}
	for _, c := range []struct {
		a     eth.Address
		asset AssetID
		want  string
	}{
		// alice: 1,000,000 − 100,000 − 252,000 − 1,200 − 500 + 20,000
		{alice, Native, "666300"},
		// bob: 100,000 − 30,000 − 100 − 3 (the self-transfer moves nothing)
		{bob, Native, "69897"},
		{carol, Native, "1000009993"},
		{fwd, Native, "0"},
		{miner, Native, "42310"},
		{carol, tokenAsset.ID, "300"},
		{bob, tokenAsset.ID, "200"},
		{zero, tokenAsset.ID, "-500"},
	} {
		if got := balance(t, ix, c.a, c.asset); got != c.want {
			t.Errorf("balance of %s in %d: %s, want %s", c.a, c.asset, got, c.want)
		}
	}
	// The failed transaction moved only its fee.
	tx, err := ix.Tx(hash(2, 0x51))
	if err != nil || len(tx.Moves) != 1 || tx.Moves[0].Kind != KindFee || tx.Status != eth.StatusFailed {
		t.Fatalf("%+v %v", tx, err)
	}
	// The creation marked the contract.
	fid, _ := ix.AddrID(fwd)
	fa, err := ix.Address(fid)
	if err != nil || !fa.Contract || fa.CreatedAt != TxKeyOf(5, 2) {
		t.Fatalf("%+v %v", fa, err)
	}
	// Alice's ledger in order: opening, fee, value, fee, fee, internal.
	aid, _ := ix.AddrID(alice)
	var kinds []string
	ix.Ledger(aid, Native, 0, func(e Entry) bool { kinds = append(kinds, e.Kind.String()); return true })
	if got := join(kinds); got != "opening fee value fee fee internal" {
		t.Fatal(got)
	}
	if b, err := ix.BalanceAt(aid, Native, TxKeyOf(5, 0)); err != nil || b.String() != "648000" {
		t.Fatalf("%v %v", b, err)
	}
	tip, _, _ := ix.Tip()
	if tip.Height != 6 || tip.Txs != 6 || tip.Untraced != 0 {
		t.Fatalf("%+v", tip)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestRefusedBlocksWriteNothing(t *testing.T) {
	ix := open(t, t.TempDir())
	bs := chainOf(0)
	if err := ix.Apply(bs[0]); err != nil {
		t.Fatal(err)
	}
	bad := *bs[1]
	bad.ParentHash = hash(99, 0)
	if err := ix.Apply(&bad); !errors.Is(err, ErrInconsistent) {
		t.Fatal(err)
	}
	bad = *bs[1]
	bad.Number = 8
	if err := ix.Apply(&bad); !errors.Is(err, ErrInconsistent) {
		t.Fatal(err)
	}
	bad = *bs[1]
	bad.Txs = append([]TxData(nil), bs[1].Txs...)
	bad.Txs[1].Status = eth.StatusFailed
	if err := ix.Apply(&bad); !errors.Is(err, ErrInconsistent) {
		t.Fatal(err)
	}
	bad = *bs[1]
	bad.Openings = []Opening{{Address: alice, Amount: wei(5)}}
	if err := ix.Apply(&bad); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("an opening for a known ledger: %v", err)
	}
	if err := ix.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tip, _, _ := ix.Tip(); tip.Height != 5 || tip.Addresses != 5 {
		t.Fatalf("%+v", tip)
	}
}

func TestRollbackAndReopen(t *testing.T) {
	dir := t.TempDir()
	ix := open(t, dir)
	bs := chainOf(0)
	if err := ix.Apply(bs[0]); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, ix)
	if err := ix.Apply(bs[1]); err != nil {
		t.Fatal(err)
	}
	if err := ix.Rollback(5); err != nil {
		t.Fatal(err)
	}
	if err := ix.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, ix); after != before {
		t.Fatalf("rollback left\n%s\nwant\n%s", after, before)
	}
	// Another block 6 (a fork) applies on top.
	fork := chainOf(7)[1]
	fork.ParentHash = bs[0].Hash
	if err := ix.Apply(fork); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix2, err := Open(dir, Options{ChainID: 1337})
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if err := ix2.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tip, _, _ := ix2.Tip(); tip.Hash != fork.Hash {
		t.Fatalf("%+v", tip)
	}
	if _, err := ix2.Tx(hash(4, 0x51)); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("a rolled-back transaction: %v", err)
	}
	// Back to nothing.
	if err := ix2.Rollback(0); err != nil {
		t.Fatal(err)
	}
	if _, has, _ := ix2.Tip(); has {
		t.Fatal("not empty")
	}
	for _, table := range []byte{tBlock, tTx, tTxHash, tAddr, tAddrID, tAsset, tAssetAddr, tEntry, tHolding} {
		if n, _ := ix2.count(table); n != 0 {
			t.Fatalf("table %c holds %d", table, n)
		}
	}
	ix2.Close()
	if _, err := Open(dir, Options{ChainID: 1}); !errors.Is(err, ErrWrongChain) {
		t.Fatal(err)
	}
}

// snapshot renders every table's keys and values.
func snapshot(t *testing.T, ix *Index) string {
	t.Helper()
	it, err := ix.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := ""
	for it.First(); it.Valid(); it.Next() {
		out += string(new(big.Int).SetBytes(it.Key()).Text(16)) + "=" + new(big.Int).SetBytes(it.Value()).Text(16) + "\n"
	}
	return out
}

// TestCheckFindsTampering: a changed ledger entry, a changed summary and a
// lost hash record are each named.
func TestCheckFindsTampering(t *testing.T) {
	ix := open(t, t.TempDir())
	for _, b := range chainOf(0) {
		if err := ix.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	bob, _ := ix.AddrID(addr(2))
	var first Entry
	ix.Ledger(bob, Native, 0, func(e Entry) bool { first = e; return false })
	e := first
	e.Amount = wei(99)
	if err := ix.db.Set(entryKey(bob, Native, e.Key, e.Seq, e.In), encodeEntry(&e), nil); err != nil {
		t.Fatal(err)
	}
	ps, err := ix.Check(context.Background())
	if err != nil || len(ps) == 0 || !contains(ps, "the ledger entry of address") || !contains(ps, "the entries add up to") {
		t.Fatalf("%q %v", ps, err)
	}
	if err := ix.db.Set(entryKey(bob, Native, first.Key, first.Seq, first.In), encodeEntry(&first), nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Verify(context.Background()); err != nil {
		t.Fatalf("restored: %v", err)
	}
	h, _ := ix.Holding(bob, Native)
	bad := holding{Entries: h.Entries + 1, In: h.In, Out: h.Out, Balance: h.Balance, First: h.First, Last: h.Last}
	ix.db.Set(holdingKey(bob, Native), encodeHolding(&bad), nil)
	ix.db.Delete(txHashKey(hash(1, 0x51)), nil)
	ps, err = ix.Check(context.Background())
	if err != nil || !contains(ps, "the summary says") || !contains(ps, "is not found by its hash") {
		t.Fatalf("%q %v", ps, err)
	}
}

func contains(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// TestNewLookups: what ingestion asks the node about is exactly what the
// index has not seen, each once, in order.
func TestNewLookups(t *testing.T) {
	ix := open(t, t.TempDir())
	for _, b := range chainOf(0) {
		if err := ix.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	fresh, other := addr(0x77), addr(0x20+1)
	if got, err := ix.NewAddresses([]eth.Address{alice, fresh, bob, fresh}); err != nil || len(got) != 1 || got[0] != fresh {
		t.Fatalf("addresses: %v %v", got, err)
	}
	if got, err := ix.NewTokens([]eth.Address{token, zero, other, other}); err != nil || len(got) != 1 || got[0] != other {
		t.Fatalf("tokens: %v %v", got, err)
	}
	got, err := ix.NewHoldings([]Holding{{Address: alice}, {Address: alice, Token: token}, {Address: carol, Token: token}, {Address: fresh},
		{Address: bob, Token: other}, {Address: alice, Token: token}})
	want := []Holding{{Address: alice, Token: token}, {Address: fresh}, {Address: bob, Token: other}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("holdings: %v %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("holdings: %v, want %v", got, want)
		}
	}
}
