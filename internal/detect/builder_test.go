package detect_test

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// Synthetic account-model chains for the EVM detectors: a real evmindex
// store fed block by block with Apply, and a builder that keeps its own
// ether balances (from which sweeps take "whole balance less fee").

const (
	gwei  = 1_000_000_000
	milli = 1_000_000_000_000_000 // 0.001 ether in wei
	ether = 1000 * milli
	// Every transaction uses 21,000 gas at 2 gwei, of which 1 gwei is the
	// base fee: fee 42,000 gwei, tip 21,000 gwei.
	gasUsed  = 21_000
	gasPrice = 2 * gwei
	baseFee  = 1 * gwei
	txFee    = gasUsed * gasPrice
)

// addrOf is the address of a label in the synthetic chains.
func addrOf(label string) eth.Address {
	h := sha256.Sum256([]byte("vestigo/detect-test/" + label))
	var a eth.Address
	copy(a[:], h[:20])
	return a
}

func wei(n uint64) chain.Amount { return chain.Sats(n) }

type tokenInfo struct {
	symbol   string
	decimals uint8
}

type builder struct {
	t         *testing.T
	ix        *evmindex.Index
	cur       *evmindex.BlockData
	parent    eth.Hash
	num       uint64
	seen      map[eth.Address]bool
	contracts map[eth.Address]bool
	tokens    map[eth.Address]tokenInfo
	tokenSeen map[eth.Address]bool
	nonce     map[eth.Address]uint64
	bal       map[eth.Address]*big.Int
	logIndex  uint64
	txCount   uint64
}

// newBuilder opens an index in a temporary directory; contracts are the
// labels that hold code, tokens the token contracts' labels with their
// metadata.
func newBuilder(t *testing.T, contracts []string, tokens map[string]tokenInfo) *builder {
	t.Helper()
	ix, err := evmindex.Open(filepath.Join(t.TempDir(), "evm"), evmindex.Options{ChainID: 1337, Name: "test", Symbol: "ETH"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	b := &builder{t: t, ix: ix, seen: map[eth.Address]bool{}, contracts: map[eth.Address]bool{}, tokens: map[eth.Address]tokenInfo{},
		tokenSeen: map[eth.Address]bool{}, nonce: map[eth.Address]uint64{}, bal: map[eth.Address]*big.Int{}}
	for _, c := range contracts {
		b.contracts[addrOf(c)] = true
	}
	for l, ti := range tokens {
		b.contracts[addrOf(l)] = true
		b.tokens[addrOf(l)] = ti
	}
	b.next()
	return b
}

func hashOf(kind string, n uint64) eth.Hash {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], n)
	return eth.Hash(sha256.Sum256(append([]byte("vestigo/detect-test/"+kind+"/"), buf[:]...)))
}

// next commits the block being built (if any) and starts the next one.
func (b *builder) next() {
	b.t.Helper()
	if b.cur != nil {
		if err := b.ix.Apply(b.cur); err != nil {
			b.t.Fatalf("apply block %d: %v", b.cur.Number, err)
		}
		b.parent = b.cur.Hash
	}
	b.num++
	bf := wei(baseFee)
	b.cur = &evmindex.BlockData{Number: b.num, Hash: hashOf("block", b.num), ParentHash: b.parent, Time: 1_700_000_000 + 12*b.num,
		Miner: addrOf("miner"), BaseFee: &bf, Traced: true}
	b.logIndex = 0
	b.mention(b.cur.Miner)
}

// skip commits the current block and n empty ones.
func (b *builder) skip(n int) {
	for range n {
		b.next()
	}
}

// height is the number of the block being built.
func (b *builder) height() uint64 { return b.num }

// finish commits the block being built.
func (b *builder) finish() {
	b.t.Helper()
	if err := b.ix.Apply(b.cur); err != nil {
		b.t.Fatalf("apply block %d: %v", b.cur.Number, err)
	}
	b.cur = nil
}

func (b *builder) mention(a eth.Address) {
	if b.seen[a] {
		return
	}
	b.seen[a] = true
	if b.contracts[a] {
		b.cur.Code = append(b.cur.Code, a)
	}
}

// mentionToken gives a token's metadata in the block it first shows.
func (b *builder) mentionToken(a eth.Address) {
	if ti, ok := b.tokens[a]; ok && !b.tokenSeen[a] {
		b.tokenSeen[a] = true
		b.cur.Tokens = append(b.cur.Tokens, eth.TokenMetadata{Token: a, Block: b.num - 1, Name: ti.symbol + " token", NameOK: true,
			Symbol: ti.symbol, SymbolOK: true, Decimals: ti.decimals, DecimalsOK: true})
	}
}

func (b *builder) balance(a eth.Address) *big.Int {
	v := b.bal[a]
	if v == nil {
		v = new(big.Int)
		b.bal[a] = v
	}
	return v
}

// open gives label an opening balance of ether (token "") or of a token
// in the block being built, which must be its first.
func (b *builder) open(label, token string, amount uint64) {
	a := addrOf(label)
	o := evmindex.Opening{Address: a, Amount: wei(amount)}
	b.mention(a)
	if token != "" {
		o.Token = addrOf(token)
		b.mentionToken(o.Token)
	} else {
		b.balance(a).Add(b.balance(a), new(big.Int).SetUint64(amount))
	}
	b.cur.Openings = append(b.cur.Openings, o)
}

// tokenMove is a Transfer log of a transaction.
type tokenMove struct {
	token, from, to string
	amount          uint64
}

// internalMove is an internal transfer of ether.
type internalMove struct {
	from, to string
	amount   uint64
}

// tx adds a successful transaction from → to with value wei, its token
// transfers and internal moves, and returns its key.
func (b *builder) tx(from, to string, value uint64, toks []tokenMove, internal []internalMove, swaps []evmindex.SwapData) evmindex.TxKey {
	b.t.Helper()
	b.txCount++
	fa, ta := addrOf(from), addrOf(to)
	b.mention(fa)
	b.mention(ta)
	pos := len(b.cur.Txs)
	d := evmindex.TxData{Hash: hashOf("tx", b.txCount), From: fa, To: &ta, Nonce: b.nonce[fa], Type: 2, Status: eth.StatusSuccess,
		Value: wei(value), GasUsed: gasUsed, EffectiveGasPrice: wei(gasPrice), Fee: wei(txFee), Tip: wei(gasUsed * (gasPrice - baseFee))}
	b.nonce[fa]++
	cost := new(big.Int).SetUint64(value + txFee)
	if b.balance(fa).Cmp(cost) < 0 {
		b.t.Fatalf("builder: %s cannot pay %s wei in block %d", from, cost, b.num)
	}
	b.balance(fa).Sub(b.balance(fa), cost)
	b.balance(ta).Add(b.balance(ta), new(big.Int).SetUint64(value))
	for i, m := range internal {
		mf, mt := addrOf(m.from), addrOf(m.to)
		b.mention(mf)
		b.mention(mt)
		d.Internal = append(d.Internal, eth.ValueTransfer{Tx: pos, Path: []int{i}, Type: "CALL", From: mf, To: mt, Value: wei(m.amount)})
		b.balance(mf).Sub(b.balance(mf), new(big.Int).SetUint64(m.amount))
		b.balance(mt).Add(b.balance(mt), new(big.Int).SetUint64(m.amount))
	}
	if len(toks) > 0 {
		d.Input = make([]byte, 68)
		copy(d.Input, []byte{0xa9, 0x05, 0x9c, 0xbb})
	}
	for _, m := range toks {
		tf := eth.Transfer{Token: addrOf(m.token), From: addrOf(m.from), To: addrOf(m.to), Value: wei(m.amount)}
		b.mentionToken(tf.Token)
		b.mention(tf.From)
		b.mention(tf.To)
		d.Tokens = append(d.Tokens, evmindex.TokenTransfer{Transfer: tf, LogIndex: b.logIndex})
		b.logIndex++
	}
	for _, s := range swaps {
		b.mention(s.Pool)
		b.mention(s.Sender)
		b.mention(s.Recipient)
		s.LogIndex = b.logIndex
		b.logIndex++
		d.Swaps = append(d.Swaps, s)
	}
	b.cur.Txs = append(b.cur.Txs, d)
	b.cur.GasUsed += gasUsed
	return evmindex.TxKeyOf(b.num, pos)
}

// send pays ether.
func (b *builder) send(from, to string, value uint64) evmindex.TxKey {
	b.t.Helper()
	return b.tx(from, to, value, nil, nil, nil)
}

// token sends a token: a call of the token contract.
func (b *builder) token(tok, from, to string, amount uint64) evmindex.TxKey {
	b.t.Helper()
	return b.tx(from, tok, 0, []tokenMove{{tok, from, to, amount}}, nil, nil)
}

// sweep sends from's whole ether balance less the fee, and returns the
// key and the value sent.
func (b *builder) sweep(from, to string) (evmindex.TxKey, uint64) {
	b.t.Helper()
	v := new(big.Int).Sub(b.balance(addrOf(from)), big.NewInt(txFee))
	if v.Sign() <= 0 || !v.IsUint64() {
		b.t.Fatalf("builder: %s holds too little to sweep", from)
	}
	return b.send(from, to, v.Uint64()), v.Uint64()
}

// id is the index's id of a label.
func (b *builder) id(label string) evmindex.AddrID {
	b.t.Helper()
	id, err := b.ix.AddrID(addrOf(label))
	if err != nil {
		b.t.Fatalf("%s: %v", label, err)
	}
	return id
}

// asset is the index's id of a token label.
func (b *builder) asset(label string) evmindex.AssetID {
	b.t.Helper()
	a, err := b.ix.AssetByContract(addrOf(label))
	if err != nil {
		b.t.Fatalf("%s: %v", label, err)
	}
	return a.ID
}

func (b *builder) ids(labels ...string) []evmindex.AddrID {
	var out []evmindex.AddrID
	for _, l := range labels {
		out = append(out, b.id(l))
	}
	return out
}

// bal is a signed amount for Swap events.
func bal(neg bool, v uint64) evmindex.Balance { return evmindex.Balance{Neg: neg, Abs: wei(v)} }
