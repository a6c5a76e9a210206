package tags

import (
	"strings"
	"testing"
)

// TestEIP55: an ETH address in mixed case must carry its EIP-55 checksum
// (a typing error is caught); all-lower and all-upper carry none. Analyst
// input with a wrong one is refused; a published list keeps the tag and
// flags the address.
func TestEIP55(t *testing.T) {
	const good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" // EIP-55's own example
	bad := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"       // last letter's case flipped
	for _, a := range []string{good, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"} {
		if got, ok := normAddress("ETH", a); !ok || got != "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed" {
			t.Errorf("%s: %q %v", a, got, ok)
		}
	}
	if _, ok := normAddress("ETH", bad); ok {
		t.Fatalf("%s accepted", bad)
	}
	if _, _, err := checkAddress("case.csv", 2, "ETH", bad, true); err == nil || !strings.Contains(err.Error(), "case.csv:2") || !strings.Contains(err.Error(), "EIP-55") {
		t.Fatalf("strict: %v", err)
	}
	addr, problem, err := checkAddress("pack.yaml", 9, "ETH", bad, false)
	if err != nil || addr != bad || !strings.Contains(problem, "EIP-55") {
		t.Fatalf("lenient: %q %q %v", addr, problem, err)
	}
	// Other chains' 0x addresses have other checksums (Zilliqa's): not
	// checked as EIP-55.
	if got, ok := normAddress("ZIL", bad); !ok || got != strings.ToLower(bad) {
		t.Fatalf("ZIL: %q %v", got, ok)
	}
}
