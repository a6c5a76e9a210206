package chain

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestAmountJSONIsExactInteger(t *testing.T) {
	big := "115792089237316195423570985008687907853269984665640564039457584007913129639935" // 2^256-1
	a, err := ParseAmount(big)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(struct{ V Amount }{a})
	if string(b) != `{"V":`+big+`}` {
		t.Fatalf("got %s", b)
	}
	var back struct{ V Amount }
	if err := json.Unmarshal(b, &back); err != nil || back.V.Cmp(a) != 0 {
		t.Fatalf("round trip: %v %v", back.V, err)
	}
	if _, err := a.Add(Sats(1)); err == nil {
		t.Fatal("overflow not reported")
	}
	if _, err := Sats(1).Sub(Sats(2)); err == nil {
		t.Fatal("underflow not reported")
	}
	if _, err := ParseAmount("1.5"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fraction accepted: %v", err)
	}
	if s, _ := json.Marshal(Sats(5000000000)); string(s) != "5000000000" {
		t.Fatalf("sats: %s", s)
	}
}

func TestParseLedger(t *testing.T) {
	l, err := ParseLedger("btc-regtest")
	if err != nil || l != (Ledger{Bitcoin, Regtest}) || l.String() != "btc-regtest" {
		t.Fatalf("%v %v", l, err)
	}
	for _, bad := range []string{"", "btc", "-x", "btc-"} {
		if _, err := ParseLedger(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFormatUnits(t *testing.T) {
	for _, c := range []struct {
		n    string
		d    uint8
		want string
	}{{"0", 18, "0"}, {"1500000", 6, "1.5"}, {"1", 18, "0.000000000000000001"}, {"1000000000000000000", 18, "1"},
		{"123", 0, "123"}, {"115792089237316195423570985008687907853269984665640564039457584007913129639935", 18,
			"115792089237316195423570985008687907853269984665640564039457.584007913129639935"}} {
		a, err := ParseAmount(c.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatUnits(a, c.d); got != c.want {
			t.Errorf("FormatUnits(%s, %d) = %s, want %s", c.n, c.d, got, c.want)
		}
	}
}

func TestMulDivAndBytes(t *testing.T) {
	max, _ := ParseAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935")
	got, err := max.MulDiv(max, max)
	if err != nil || got.Cmp(max) != 0 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := Sats(1).MulDiv(Sats(1), Sats(0)); err == nil {
		t.Fatal("division by zero")
	}
	if got, _ := Sats(10).MulDiv(Sats(1), Sats(3)); got.String() != "3" {
		t.Fatal(got)
	}
	for _, a := range []Amount{{}, Sats(1), max} {
		b, err := AmountFromBytes(a.Bytes())
		if err != nil || b.Cmp(a) != 0 {
			t.Fatalf("%v %v", b, err)
		}
	}
	if _, err := AmountFromBytes(make([]byte, 33)); err == nil {
		t.Fatal("33 bytes")
	}
}
