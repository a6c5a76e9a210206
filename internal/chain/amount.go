package chain

import (
	"fmt"
	"math/big"
	"strings"

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

// AmountFromBig returns b as an Amount; negative numbers and numbers of more
// than 256 bits are refused.
func AmountFromBig(b *big.Int) (Amount, error) {
	var a Amount
	if b == nil || b.Sign() < 0 {
		return Amount{}, fmt.Errorf("chain: %w: amount %v is negative", ErrInvalid, b)
	}
	if a.v.SetFromBig(b) {
		return Amount{}, fmt.Errorf("chain: %w: amount %v is wider than 256 bits", ErrInvalid, b)
	}
	return a, nil
}

// Bytes returns the amount as a big-endian integer without leading zeros
// (empty for zero), the compact form stores keep.
func (a Amount) Bytes() []byte {
	if a.v.IsZero() {
		return nil
	}
	return a.v.Bytes()
}

// AmountFromBytes reads what Bytes wrote: a big-endian integer of at most 32
// bytes.
func AmountFromBytes(b []byte) (Amount, error) {
	var a Amount
	if len(b) > 32 {
		return Amount{}, fmt.Errorf("chain: %w: amount of %d bytes", ErrInvalid, len(b))
	}
	a.v.SetBytes(b)
	return a, nil
}

// MulDiv returns floor(a × num / den) exactly (the product may exceed 256
// bits; the result may not). A zero den is an error.
func (a Amount) MulDiv(num, den Amount) (Amount, error) {
	if den.v.IsZero() {
		return Amount{}, fmt.Errorf("chain: %w: division by zero", ErrInvalid)
	}
	var r Amount
	if _, overflow := r.v.MulDivOverflow(&a.v, &num.v, &den.v); overflow {
		return Amount{}, fmt.Errorf("chain: amount overflow (%s × %s / %s)", a, num, den)
	}
	return r, nil
}

// Min returns the smaller of a and b.
func Min(a, b Amount) Amount {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// FormatUnits writes a in whole units of decimals places, exactly, without
// trailing zeros: 1500000 with 6 decimals is "1.5".
func FormatUnits(a Amount, decimals uint8) string { return formatUnits(a.v.Dec(), decimals) }

// FormatBigUnits is FormatUnits of any integer, of any width, with its
// sign.
func FormatBigUnits(v *big.Int, decimals uint8) string {
	if v.Sign() < 0 {
		return "-" + formatUnits(new(big.Int).Neg(v).String(), decimals)
	}
	return formatUnits(v.String(), decimals)
}

func formatUnits(s string, decimals uint8) string {
	if decimals == 0 {
		return s
	}
	d := int(decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	whole, frac := s[:len(s)-d], strings.TrimRight(s[len(s)-d:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}
