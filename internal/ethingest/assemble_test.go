package ethingest

import (
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

func addr(b byte) eth.Address   { var a eth.Address; a[19] = b; a[0] = 0xa0; return a }
func hash(b byte) eth.Hash      { var h eth.Hash; h[31] = b; h[0] = 0x11; return h }
func amt(n uint64) chain.Amount { return chain.Sats(n) }
func ptr[T any](v T) *T         { return &v }

func topicOf(a eth.Address) eth.Hash { var h eth.Hash; copy(h[12:], a[:]); return h }

func word(n uint64) []byte { return new(big.Int).SetUint64(n).FillBytes(make([]byte, 32)) }

func TestFeeAndTip(t *testing.T) {
	big1, _ := chain.ParseAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935")
	cases := []struct {
		name     string
		r        eth.Receipt
		base     *chain.Amount
		fee, tip string
		err      string
	}{
		{name: "London", r: eth.Receipt{GasUsed: 21000, EffectiveGasPrice: amt(3_000_000_000)}, base: ptr(amt(2_000_000_000)),
			fee: "63000000000000", tip: "21000000000000"},
		{name: "price equals base fee", r: eth.Receipt{GasUsed: 50000, EffectiveGasPrice: amt(7)}, base: ptr(amt(7)), fee: "350000", tip: "0"},
		{name: "before London", r: eth.Receipt{GasUsed: 21000, EffectiveGasPrice: amt(20_000_000_000)}, fee: "420000000000000", tip: "420000000000000"},
		{name: "blob fee is burnt", r: eth.Receipt{GasUsed: 21000, EffectiveGasPrice: amt(10), BlobGasUsed: 131072, BlobGasPrice: ptr(amt(3))},
			base: ptr(amt(4)), fee: "603216", tip: "126000"},
		{name: "price below base fee", r: eth.Receipt{GasUsed: 1, EffectiveGasPrice: amt(3)}, base: ptr(amt(4)), err: "below the block's base fee"},
		{name: "overflow", r: eth.Receipt{GasUsed: 2, EffectiveGasPrice: big1}, err: "overflows"},
	}
	for _, c := range cases {
		fee, tip, err := feeAndTip(&c.r, c.base)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || fee.String() != c.fee || tip.String() != c.tip {
			t.Errorf("%s: fee %s tip %s %v, want %s %s", c.name, fee, tip, err, c.fee, c.tip)
		}
	}
}

// testBlock is a block of four transactions: a plain payment, a contract
// call that moves ether internally, creates a contract in a sub-frame,
// emits a token Transfer, a malformed Transfer and a V2 Swap; a failed
// call; a contract creation.
func testBlock() (eth.Block, []eth.Receipt, []eth.TxTrace) {
	miner, alice, bob, pool, tok, child, made := addr(1), addr(2), addr(3), addr(4), addr(5), addr(6), addr(7)
	b := eth.Block{Number: 10, Hash: hash(10), ParentHash: hash(9), Timestamp: 1700000000, Miner: miner,
		GasLimit: 30_000_000, GasUsed: 21000 + 90000 + 30000 + 100000, BaseFeePerGas: ptr(amt(100)),
		Withdrawals: []eth.Withdrawal{{Index: 1, Address: bob, AmountGwei: 2}}}
	txs := []eth.Tx{
		{Hash: hash(1), From: alice, To: &bob, Value: amt(1000), Gas: 21000},
		{Hash: hash(2), From: alice, To: &pool, Value: amt(500), Input: []byte{1, 2, 3, 4, 5}, Gas: 200000, Type: 2},
		{Hash: hash(3), From: bob, To: &pool, Value: amt(9), Gas: 30000},
		{Hash: hash(4), From: bob, Gas: 200000, Nonce: 1},
	}
	gas := []uint64{21000, 90000, 30000, 100000}
	var receipts []eth.Receipt
	var cum uint64
	for i := range txs {
		txs[i].Index, txs[i].BlockNumber, txs[i].BlockHash = uint64(i), b.Number, b.Hash
		cum += gas[i]
		receipts = append(receipts, eth.Receipt{TxHash: txs[i].Hash, TxIndex: uint64(i), BlockHash: b.Hash, BlockNumber: b.Number,
			From: txs[i].From, To: txs[i].To, Status: eth.StatusSuccess, CumulativeGasUsed: cum, GasUsed: gas[i],
			EffectiveGasPrice: amt(150)})
	}
	b.Txs = txs
	receipts[2].Status = eth.StatusFailed
	receipts[3].ContractAddress = &made
	receipts[1].Logs = []eth.Log{
		{Address: tok, Index: 0, Topics: []eth.Hash{eth.TransferTopic, topicOf(pool), topicOf(alice)}, Data: word(77)},
		{Address: tok, Index: 1, Topics: []eth.Hash{eth.TransferTopic, topicOf(pool)}, Data: word(5)},
		{Address: pool, Index: 2, Topics: []eth.Hash{eth.SwapV2Topic, topicOf(alice), topicOf(alice)},
			Data: append(append(append(word(500), word(0)...), word(0)...), word(77)...)},
		{Address: pool, Index: 3, Topics: []eth.Hash{eth.SwapV3Topic, topicOf(alice), topicOf(alice)}, Data: word(1)},
	}
	traces := []eth.TxTrace{
		{TxHash: hash(1), Root: eth.CallFrame{Type: eth.FrameCall, From: alice, To: &bob, Value: amt(1000)}},
		{TxHash: hash(2), Root: eth.CallFrame{Type: eth.FrameCall, From: alice, To: &pool, Value: amt(500), Calls: []eth.CallFrame{
			{Type: eth.FrameCall, From: pool, To: &bob, Value: amt(200)},
			{Type: eth.FrameCreate2, From: pool, To: &child, Value: amt(50), Calls: []eth.CallFrame{
				{Type: eth.FrameCreate, From: child, To: &made, Error: "out of gas"}}},
			{Type: eth.FrameCall, From: pool, To: &miner, Value: amt(1), Error: "execution reverted"},
		}}},
		{TxHash: hash(3), Root: eth.CallFrame{Type: eth.FrameCall, From: bob, To: &pool, Value: amt(9), Error: "execution reverted",
			Calls: []eth.CallFrame{{Type: eth.FrameCall, From: pool, To: &alice, Value: amt(9)}}}},
		{TxHash: hash(4), Root: eth.CallFrame{Type: eth.FrameCreate, From: bob, To: &made}},
	}
	return b, receipts, traces
}

func TestAssemble(t *testing.T) {
	b, receipts, traces := testBlock()
	miner, alice, bob, pool, tok, child, made := addr(1), addr(2), addr(3), addr(4), addr(5), addr(6), addr(7)
	f, err := assemble(&b, receipts, traces, true)
	if err != nil {
		t.Fatal(err)
	}
	d := f.data
	if d.Number != 10 || d.Hash != b.Hash || d.ParentHash != b.ParentHash || d.Time != b.Timestamp || d.Miner != miner ||
		d.BaseFee.Cmp(amt(100)) != 0 || d.GasUsed != b.GasUsed || !d.Traced || len(d.Txs) != 4 {
		t.Fatalf("block: %+v", d)
	}
	if len(d.Withdrawals) != 1 || d.Withdrawals[0].Address != bob || d.Withdrawals[0].Amount.String() != "2000000000" {
		t.Errorf("withdrawals %+v", d.Withdrawals)
	}
	for i, want := range []struct{ fee, tip uint64 }{{21000 * 150, 21000 * 50}, {90000 * 150, 90000 * 50}, {30000 * 150, 30000 * 50}, {100000 * 150, 100000 * 50}} {
		if d.Txs[i].Fee.Cmp(amt(want.fee)) != 0 || d.Txs[i].Tip.Cmp(amt(want.tip)) != 0 {
			t.Errorf("tx %d: fee %s tip %s", i, d.Txs[i].Fee, d.Txs[i].Tip)
		}
	}
	call := d.Txs[1]
	if call.Status != eth.StatusSuccess || call.Type != 2 || !slices.Equal(call.Input, []byte{1, 2, 3, 4, 5}) || call.Created != nil {
		t.Errorf("call: %+v", call)
	}
	// Internal: the CALL to bob and the CREATE2's value; not the reverted
	// call to the miner, nor the failed CREATE below.
	if len(call.Internal) != 2 || call.Internal[0].To != bob || call.Internal[0].Value.Cmp(amt(200)) != 0 ||
		call.Internal[1].Type != eth.FrameCreate2 || call.Internal[1].To != child || !slices.Equal(call.Internal[1].Path, []int{1}) {
		t.Errorf("internal %+v", call.Internal)
	}
	if !slices.Equal(call.CreatedContracts, []eth.Address{child}) {
		t.Errorf("created contracts %v", call.CreatedContracts)
	}
	if len(call.Tokens) != 1 || call.Tokens[0].Token != tok || call.Tokens[0].From != pool || call.Tokens[0].To != alice ||
		call.Tokens[0].Value.Cmp(amt(77)) != 0 || call.Tokens[0].LogIndex != 0 {
		t.Errorf("tokens %+v", call.Tokens)
	}
	if len(call.Swaps) != 1 || call.Swaps[0].Pool != pool || call.Swaps[0].Version != evmindex.SwapUniswapV2 || call.Swaps[0].LogIndex != 2 ||
		len(call.Swaps[0].Amounts) != 4 || call.Swaps[0].Amounts[0].String() != "500" || call.Swaps[0].Amounts[3].String() != "77" {
		t.Errorf("swaps %+v", call.Swaps)
	}
	// The malformed Transfer and the malformed V3 Swap are reported.
	if f.malformed != 2 || len(f.problems) != 2 || !strings.Contains(f.problems[0], "Transfer log 1") || !strings.Contains(f.problems[1], "Uniswap V3 Swap log 3") {
		t.Errorf("problems %d %q", f.malformed, f.problems)
	}
	failed := d.Txs[2]
	if failed.Status != eth.StatusFailed || len(failed.Internal) != 0 || len(failed.CreatedContracts) != 0 || failed.Fee.IsZero() {
		t.Errorf("failed tx %+v", failed)
	}
	if create := d.Txs[3]; create.To != nil || create.Created == nil || *create.Created != made || create.Nonce != 1 {
		t.Errorf("creation %+v", create)
	}

	// Holdings in the order the index meets them; the failed
	// transaction's sender for its fee only; the miner for the tips.
	want := []evmindex.Holding{{Address: alice}, {Address: alice}, {Address: bob},
		{Address: alice}, {Address: alice}, {Address: pool}, {Address: pool}, {Address: bob}, {Address: pool}, {Address: child},
		{Address: pool, Token: tok}, {Address: alice, Token: tok},
		{Address: bob}, {Address: bob},
		{Address: miner}, {Address: bob}}
	if got := holdings(d); !slices.Equal(got, want) {
		t.Errorf("holdings\n%v\nwant\n%v", got, want)
	}
	if got := tokens(d); !slices.Equal(got, []eth.Address{tok}) {
		t.Errorf("tokens %v", got)
	}
	sh := shown(d)
	for _, a := range []eth.Address{miner, alice, bob, pool, child, made} {
		if !slices.Contains(sh, a) {
			t.Errorf("shown lacks %s", a)
		}
	}

	// Untraced: no internal moves, no created contracts; the rest stays.
	f, err = assemble(&b, receipts, nil, false)
	if err != nil || f.data.Traced || len(f.data.Txs[1].Internal) != 0 || len(f.data.Txs[1].CreatedContracts) != 0 || len(f.data.Txs[1].Tokens) != 1 {
		t.Errorf("untraced: %v %+v", err, f.data.Txs[1])
	}
}

func TestAssembleRejects(t *testing.T) {
	cases := map[string]struct {
		change func(*eth.Block, []eth.Receipt, []eth.TxTrace) ([]eth.Receipt, []eth.TxTrace)
		want   string
	}{
		"receipt missing": {func(b *eth.Block, r []eth.Receipt, tr []eth.TxTrace) ([]eth.Receipt, []eth.TxTrace) { return r[:3], tr },
			"3 receipts for 4 transactions"},
		"receipt of another block": {func(b *eth.Block, r []eth.Receipt, tr []eth.TxTrace) ([]eth.Receipt, []eth.TxTrace) {
			r[1].BlockHash = hash(99)
			return r, tr
		}, "receipts[1].blockHash"},
		"trace of another value": {func(b *eth.Block, r []eth.Receipt, tr []eth.TxTrace) ([]eth.Receipt, []eth.TxTrace) {
			tr[0].Root.Value = amt(1)
			return r, tr
		}, "[0].result.value"},
		"trace missing": {func(b *eth.Block, r []eth.Receipt, tr []eth.TxTrace) ([]eth.Receipt, []eth.TxTrace) { return r, tr[1:] },
			"3 traces for 4 transactions"},
		"price below base fee": {func(b *eth.Block, r []eth.Receipt, tr []eth.TxTrace) ([]eth.Receipt, []eth.TxTrace) {
			r[2].EffectiveGasPrice = amt(99)
			return r, tr
		}, "below the block's base fee"},
		"removed log": {func(b *eth.Block, r []eth.Receipt, tr []eth.TxTrace) ([]eth.Receipt, []eth.TxTrace) {
			r[1].Logs[0].Removed = true
			return r, tr
		}, "marked removed"},
	}
	for name, c := range cases {
		b, r, tr := testBlock()
		r, tr = c.change(&b, r, tr)
		_, err := assemble(&b, r, tr, true)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "ethingest: ") {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	var o Options
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	if o.Workers != DefaultWorkers || o.MaxReorg != DefaultMaxReorg || o.Poll != DefaultPoll || o.Logger == nil || o.Clock == nil || o.NoOpenings {
		t.Errorf("%+v", o)
	}
	o = Options{Follow: true, To: 5}
	if err := o.defaults(); err == nil || !strings.HasPrefix(err.Error(), "ethingest: ") {
		t.Errorf("Follow with To: %v", err)
	}
}
