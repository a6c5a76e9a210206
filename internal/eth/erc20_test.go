package eth

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func word(hexDigits string) []byte {
	b, err := hex.DecodeString(strings.Repeat("0", 64-len(hexDigits)) + hexDigits)
	if err != nil {
		panic(err)
	}
	return b
}

func topic(hexDigits string) Hash { return Hash(word(hexDigits)) }

func TestTransferTopic(t *testing.T) {
	if TransferTopic.String() != "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef" {
		t.Fatal(TransferTopic)
	}
}

func TestDecodeTransfer(t *testing.T) {
	token, _ := ParseAddress(addrC)
	from, _ := ParseAddress(addrA)
	to, _ := ParseAddress(addrB)
	base := func() Log {
		return Log{Address: token, Index: 7, Topics: []Hash{TransferTopic, topic(addrA[2:]), topic(addrB[2:])},
			Data: word("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")}
	}

	tr, ok, err := DecodeTransfer(base())
	if err != nil || !ok || tr.Token != token || tr.From != from || tr.To != to ||
		tr.Value.String() != "115792089237316195423570985008687907853269984665640564039457584007913129639935" {
		t.Fatalf("%+v %v %v", tr, ok, err)
	}

	// Not a Transfer, or an ERC-721 Transfer: not ok, no error.
	for name, l := range map[string]Log{
		"no topics":     {Address: token},
		"other event":   {Address: token, Topics: []Hash{topic("01"), topic(addrA[2:]), topic(addrB[2:])}, Data: word("01")},
		"ERC-721 token": {Address: token, Topics: []Hash{TransferTopic, topic(addrA[2:]), topic(addrB[2:]), topic("05")}},
	} {
		if _, ok, err := DecodeTransfer(l); ok || err != nil {
			t.Errorf("%s: %v %v", name, ok, err)
		}
	}

	// Transfer logs of another layout: errors.
	cases := map[string]struct {
		change func(*Log)
		want   string
	}{
		"two topics": {func(l *Log) { l.Topics = l.Topics[:2] }, "2 topics, not the 3 of ERC-20"},
		"one topic":  {func(l *Log) { l.Topics = l.Topics[:1]; l.Data = make([]byte, 96) }, "1 topics"},
		"dirty from": {func(l *Log) { l.Topics[1][0] = 1 }, "topic 1 (from)"},
		"dirty to":   {func(l *Log) { l.Topics[2][11] = 1 }, "topic 2 (to)"},
		"short data": {func(l *Log) { l.Data = l.Data[:31] }, "data is 31 bytes"},
		"long data":  {func(l *Log) { l.Data = append(l.Data, 0) }, "data is 33 bytes"},
		"no data":    {func(l *Log) { l.Data = nil }, "data is 0 bytes"},
	}
	for name, c := range cases {
		l := base()
		c.change(&l)
		_, ok, err := DecodeTransfer(l)
		if ok || !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Transfer log 7 of token 0xfB69") {
			t.Errorf("%s: %v %v", name, ok, err)
		}
	}
}

// abiString encodes s as an ABI-encoded string return value.
func abiString(s string) []byte {
	out := word("20")
	out = append(out, word(hex.EncodeToString([]byte{byte(len(s))}))...)
	padded := make([]byte, (len(s)+31)/32*32)
	copy(padded, s)
	return append(out, padded...)
}

func TestDecodeTokenString(t *testing.T) {
	bytes32 := make([]byte, 32)
	copy(bytes32, "MKR")
	for name, c := range map[string]struct {
		ret  []byte
		want string
	}{
		"abi":        {abiString("Tether USD"), "Tether USD"},
		"abi empty":  {abiString(""), ""},
		"abi utf8":   {abiString("Žeton €"), "Žeton €"},
		"bytes32":    {bytes32, "MKR"},
		"bytes32 32": {[]byte(strings.Repeat("A", 32)), strings.Repeat("A", 32)},
	} {
		got, err := DecodeTokenString(c.ret)
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	lying := abiString("abc")
	copy(lying[32:], word("ffff")) // length beyond the data
	nul := make([]byte, 32)
	copy(nul, "A\x00B")
	badUTF8 := make([]byte, 32)
	copy(badUTF8, "\xff\xfe")
	for name, c := range map[string]struct {
		ret  []byte
		want string
	}{
		"empty":         {nil, "empty answer"},
		"odd size":      {make([]byte, 33), "a 33-byte answer is neither"},
		"short":         {make([]byte, 31), "a 31-byte answer"},
		"length lies":   {lying, "not an ABI string"},
		"offset lies":   {append(word("ffffff"), word("03")...), "not an ABI string"},
		"nul inside":    {nul, "holds a NUL byte"},
		"not utf8":      {badUTF8, "not valid UTF-8"},
		"word of 300":   {word("012c"), "holds a NUL byte"},
		"too long text": {abiString(strings.Repeat("x", 200)), ""}, // 200 < MaxTokenString: fine
	} {
		_, err := DecodeTokenString(c.ret)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (want %q)", name, err, c.want)
		}
	}
	long := []byte(strings.Repeat("x", MaxTokenString+1))
	enc := append(word("20"), word(hex.EncodeToString([]byte{byte(len(long) >> 8), byte(len(long))}))...)
	enc = append(enc, long...)
	enc = append(enc, make([]byte, 31)...)
	if _, err := DecodeTokenString(enc); err == nil || !strings.Contains(err.Error(), "more than 1024") {
		t.Errorf("long name: %v", err)
	}
}

func TestDecodeDecimals(t *testing.T) {
	for ret, want := range map[string]uint8{"00": 0, "06": 6, "12": 18, "ff": 255} {
		got, err := DecodeDecimals(word(ret))
		if err != nil || got != want {
			t.Errorf("%s: %d %v", ret, got, err)
		}
	}
	for name, c := range map[string]struct {
		ret  []byte
		want string
	}{
		"300":      {word("012c"), "decimals 300 is more than 255"},
		"2^255":    {word("8" + strings.Repeat("0", 63)), "is more than 255"},
		"empty":    {nil, "empty answer"},
		"short":    {[]byte{18}, "a 1-byte answer is not one 32-byte word"},
		"two word": {append(word("12"), word("12")...), "a 64-byte answer"},
	} {
		_, err := DecodeDecimals(c.ret)
		if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if v, err := DecodeUint256(word("f4240")); err != nil || v.String() != "1000000" {
		t.Errorf("uint256: %v %v", v, err)
	}
}

func TestBalanceOfCall(t *testing.T) {
	a, _ := ParseAddress(addrB)
	got := hex.EncodeToString(BalanceOfCall(a))
	if got != "70a08231"+"000000000000000000000000"+addrB[2:] {
		t.Fatal(got)
	}
}
