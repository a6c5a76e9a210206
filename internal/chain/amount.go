package chain

import (
	"fmt"
	"math/big"

	"github.com/holiman/uint256"
)

// Amount is a non-negative quantity in a chain's base unit (satoshi for
// Bitcoin, wei or a token's smallest unit for Ethereum). It is 256 bits wide
// and exact; the zero value is zero.
type Amount struct{ v uint256.Int }

// Sats returns the amount of n base units.
func Sats(n uint64) Amount {
	var a Amount
	a.v.SetUint64(n)
	return a
}

// ParseAmount parses a base-10 integer string.
func ParseAmount(s string) (Amount, error) {
	var a Amount
	if err := a.v.SetFromDecimal(s); err != nil {
		return Amount{}, fmt.Errorf("chain: %w: amount %q: %v", ErrInvalid, s, err)
	}
	return a, nil
}

// Uint64 returns the amount and whether it fits in 64 bits.
func (a Amount) Uint64() (uint64, bool) { return a.v.Uint64(), a.v.IsUint64() }

// IsZero reports whether the amount is zero.
func (a Amount) IsZero() bool { return a.v.IsZero() }

// Cmp compares a and b and returns -1, 0 or +1.
func (a Amount) Cmp(b Amount) int { return a.v.Cmp(&b.v) }

// Add returns a+b and reports an overflow of 256 bits as an error.
func (a Amount) Add(b Amount) (Amount, error) {
	var r Amount
	if _, overflow := r.v.AddOverflow(&a.v, &b.v); overflow {
		return Amount{}, fmt.Errorf("chain: amount overflow")
	}
	return r, nil
}

// Sub returns a-b and reports an underflow as an error.
func (a Amount) Sub(b Amount) (Amount, error) {
	var r Amount
	if _, underflow := r.v.SubOverflow(&a.v, &b.v); underflow {
		return Amount{}, fmt.Errorf("chain: amount underflow (%s - %s)", a, b)
	}
	return r, nil
}

// Big returns the amount as a new big.Int.
func (a Amount) Big() *big.Int { return a.v.ToBig() }

// String returns the amount in base 10.
func (a Amount) String() string { return a.v.Dec() }

// MarshalJSON encodes the amount as a JSON integer number, exactly.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.v.Dec()), nil }

// UnmarshalJSON accepts a JSON integer number or a string of digits.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	p, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = p
	return nil
}
