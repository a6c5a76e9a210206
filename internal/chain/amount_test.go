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
