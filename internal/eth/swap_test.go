package eth

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func TestSwapTopics(t *testing.T) {
	// The topics as Uniswap's own documentation and every explorer show them.
	if SwapV2Topic.String() != "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822" {
		t.Errorf("V2 topic %s", SwapV2Topic)
	}
	if SwapV3Topic.String() != "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67" {
		t.Errorf("V3 topic %s", SwapV3Topic)
	}
	if Hash(crypto.Keccak256Hash([]byte("Swap(address,uint256,uint256,uint256,uint256,address)"))) != SwapV2Topic {
		t.Error("V2 topic is not the Keccak-256 of its signature")
	}
}

// twos returns the 32-byte two's complement word of v.
func twos(v *big.Int) []byte {
	w := new(big.Int).Set(v)
	if w.Sign() < 0 {
		w.Add(w, new(big.Int).Lsh(big.NewInt(1), 256))
	}
	return w.FillBytes(make([]byte, 32))
}

func cat(words ...[]byte) []byte {
	var out []byte
	for _, w := range words {
		out = append(out, w...)
	}
	return out
}

func TestDecodeSwapV2(t *testing.T) {
	pool, _ := ParseAddress(addrC)
	sender, _ := ParseAddress(addrA)
	to, _ := ParseAddress(addrB)
	base := func() Log {
		return Log{Address: pool, Index: 3, Topics: []Hash{SwapV2Topic, topic(addrA[2:]), topic(addrB[2:])},
			Data: cat(word("0"), word("de0b6b3a7640000"), word("2540be400"), word("0"))}
	}
	s, ok, err := DecodeSwap(base())
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	want := []string{"0", "1000000000000000000", "10000000000", "0"}
	if s.Pool != pool || s.Version != SwapUniswapV2 || s.Sender != sender || s.Recipient != to || len(s.Amounts) != 4 ||
		s.SqrtPriceX96 != nil || s.Liquidity != nil || s.Tick != 0 {
		t.Fatalf("%+v", s)
	}
	for i, w := range want {
		if s.Amounts[i].String() != w {
			t.Errorf("amount %d: %s, want %s", i, s.Amounts[i], w)
		}
	}
	// The largest uint256 stays unsigned in V2.
	l := base()
	copy(l.Data[:32], word(strings.Repeat("f", 64)))
	if s, _, err := DecodeSwap(l); err != nil || s.Amounts[0].Sign() <= 0 || s.Amounts[0].BitLen() != 256 {
		t.Errorf("max amount0In: %v %v", s.Amounts, err)
	}

	for name, l := range map[string]Log{
		"no topics":   {Address: pool},
		"Transfer":    {Address: pool, Topics: []Hash{TransferTopic, topic(addrA[2:]), topic(addrB[2:])}, Data: word("01")},
		"other event": {Address: pool, Topics: []Hash{topic("05")}, Data: cat(word("0"), word("0"), word("0"), word("0"))},
	} {
		if _, ok, err := DecodeSwap(l); ok || err != nil {
			t.Errorf("%s: %v %v", name, ok, err)
		}
	}

	cases := map[string]struct {
		change func(*Log)
		want   string
	}{
		"two topics":      {func(l *Log) { l.Topics = l.Topics[:2] }, "2 topics, not 3"},
		"four topics":     {func(l *Log) { l.Topics = append(l.Topics, topic("01")) }, "4 topics"},
		"short data":      {func(l *Log) { l.Data = l.Data[:96] }, "data is 96 bytes, not the 4 words"},
		"V3 length":       {func(l *Log) { l.Data = append(l.Data, word("0")...) }, "data is 160 bytes"},
		"dirty sender":    {func(l *Log) { l.Topics[1][0] = 1 }, "topic 1 (sender)"},
		"dirty recipient": {func(l *Log) { l.Topics[2][11] = 1 }, "topic 2 (recipient)"},
	}
	for name, c := range cases {
		l := base()
		c.change(&l)
		_, ok, err := DecodeSwap(l)
		if ok || err == nil || !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), c.want) ||
			!strings.HasPrefix(err.Error(), "eth: ") || !strings.Contains(err.Error(), "Uniswap V2 Swap log 3") {
			t.Errorf("%s: %v %v, want an error with %q", name, ok, err, c.want)
		}
	}
}

func TestDecodeSwapV3(t *testing.T) {
	pool, _ := ParseAddress(addrC)
	sender, _ := ParseAddress(addrA)
	recipient, _ := ParseAddress(addrB)
	amount0, _ := new(big.Int).SetString("-2500000000000000000", 10)
	amount1 := big.NewInt(7_000_000)
	price, _ := new(big.Int).SetString("1461446703485210103287273052203988822378723970341", 10) // 2^160 - 1 - 1000
	liq, _ := new(big.Int).SetString("340282366920938463463374607431768211455", 10)             // 2^128 - 1
	base := func(tick int64) Log {
		return Log{Address: pool, Index: 9, Topics: []Hash{SwapV3Topic, topic(addrA[2:]), topic(addrB[2:])},
			Data: cat(twos(amount0), twos(amount1), twos(price), twos(liq), twos(big.NewInt(tick)))}
	}
	for _, tick := range []int64{-887272, 887272, -1 << 23, 1<<23 - 1, 0, -1} {
		s, ok, err := DecodeSwap(base(tick))
		if err != nil || !ok {
			t.Fatalf("tick %d: %v %v", tick, ok, err)
		}
		if s.Version != SwapUniswapV3 || s.Pool != pool || s.Sender != sender || s.Recipient != recipient ||
			len(s.Amounts) != 2 || s.Amounts[0].Cmp(amount0) != 0 || s.Amounts[1].Cmp(amount1) != 0 ||
			s.SqrtPriceX96.Cmp(price) != 0 || s.Liquidity.Cmp(liq) != 0 || int64(s.Tick) != tick {
			t.Errorf("tick %d: %+v", tick, s)
		}
	}
	// The most negative int256.
	l := base(0)
	copy(l.Data[:32], twos(new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 255))))
	if s, _, err := DecodeSwap(l); err != nil || s.Amounts[0].Sign() >= 0 || s.Amounts[0].BitLen() != 256 {
		t.Errorf("min int256: %v %v", s.Amounts, err)
	}

	cases := map[string]struct {
		change func(*Log)
		want   string
	}{
		"tick beyond int24":  {func(l *Log) { copy(l.Data[128:], twos(big.NewInt(1<<23))) }, "tick 8388608 is not an int24"},
		"tick below int24":   {func(l *Log) { copy(l.Data[128:], twos(big.NewInt(-1<<23-1))) }, "is not an int24"},
		"price over 160":     {func(l *Log) { l.Data[64+11] = 1 }, "sqrtPriceX96"},
		"liquidity over 128": {func(l *Log) { l.Data[96+15] = 1 }, "liquidity"},
		"V2 length":          {func(l *Log) { l.Data = l.Data[:128] }, "data is 128 bytes, not the 5 words"},
		"one topic":          {func(l *Log) { l.Topics = l.Topics[:1] }, "1 topics"},
		"dirty recipient":    {func(l *Log) { l.Topics[2][0] = 0xff }, "topic 2"},
	}
	for name, c := range cases {
		l := base(5)
		c.change(&l)
		_, ok, err := DecodeSwap(l)
		if ok || err == nil || !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), c.want) ||
			!strings.Contains(err.Error(), "Uniswap V3 Swap log 9") {
			t.Errorf("%s: %v %v, want an error with %q", name, ok, err, c.want)
		}
	}
}
