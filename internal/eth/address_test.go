package eth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// The test vectors of EIP-55 itself
// (https://eips.ethereum.org/EIPS/eip-55#test-cases): each is its own
// checksummed form, including the two whose checksum is all upper case and
// the two whose checksum is all lower case.
var eip55Vectors = []string{
	"0x52908400098527886E0F7030069857D2E4169EE7",
	"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
	"0xde709f2102306220921060314715629080e2fb77",
	"0x27b1fdb04752bbc536007a920d24acb045561c26",
	"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
	"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
	"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
}

func TestEIP55Vectors(t *testing.T) {
	for _, v := range eip55Vectors {
		a, err := ParseAddress(v)
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		if a.String() != v {
			t.Errorf("%s: String() = %s", v, a.String())
		}
		// The same digits in one case are accepted as they are.
		for _, s := range []string{"0x" + strings.ToLower(v[2:]), "0x" + strings.ToUpper(v[2:])} {
			b, err := ParseAddress(s)
			if err != nil || b != a {
				t.Errorf("%s: %v %v", s, b, err)
			}
		}
	}
}

func TestParseAddressRejectsBadChecksum(t *testing.T) {
	for _, v := range eip55Vectors[4:] { // the mixed-case vectors
		// Flip the case of one letter: still the same bytes, wrong checksum.
		b := []byte(v)
		for i := 2; i < len(b); i++ {
			if c := b[i]; c >= 'a' && c <= 'f' {
				b[i] = c - 'a' + 'A'
				break
			} else if c >= 'A' && c <= 'F' {
				b[i] = c - 'A' + 'a'
				break
			}
		}
		_, err := ParseAddress(string(b))
		if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), v) {
			t.Errorf("%s: %v", b, err)
		}
	}
}

func TestParseAddressRejects(t *testing.T) {
	for s, want := range map[string]string{
		"": "must start with 0x",
		"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed":     "must start with 0x",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe":    "39 hex digits",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00": "42 hex digits",
		"0xgaaeb6053f3e94c9b9a09f33669435e7ef1beaed":   "not a hex digit",
		"0x 5aeb6053f3e94c9b9a09f33669435e7ef1beaed":   "not a hex digit",
	} {
		_, err := ParseAddress(s)
		if !errors.Is(err, chain.ErrInvalid) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "eth: ") {
			t.Errorf("%q: %v (want %q)", s, err, want)
		}
	}
}

func TestAddressText(t *testing.T) {
	a, _ := ParseAddress(eip55Vectors[4])
	b, err := json.Marshal(struct{ A Address }{a})
	if err != nil || string(b) != `{"A":"`+eip55Vectors[4]+`"}` {
		t.Fatalf("%s %v", b, err)
	}
	var back struct{ A Address }
	if err := json.Unmarshal(b, &back); err != nil || back.A != a {
		t.Fatalf("%v %v", back.A, err)
	}
	if err := json.Unmarshal([]byte(`{"A":"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`), &back); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("bad checksum accepted: %v", err)
	}
}

func TestParseHash(t *testing.T) {
	const s = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
	h, err := ParseHash(s)
	if err != nil || h.String() != s || h != TransferTopic {
		t.Fatalf("%v %v", h, err)
	}
	if u, err := ParseHash(strings.ToUpper(s[:2]) + strings.ToUpper(s[2:])); err != nil || u != h {
		t.Fatalf("upper case: %v %v", u, err)
	}
	for _, bad := range []string{"", s[2:], s[:65], s + "0", s[:64] + "g"} {
		if _, err := ParseHash(bad); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}
