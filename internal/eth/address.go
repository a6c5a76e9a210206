package eth

import (
	"encoding/hex"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Address is a 20-byte Ethereum account address.
type Address [20]byte

// ParseAddress parses "0x" followed by 40 hex digits. All-lower-case and
// all-upper-case digits are accepted as they are; mixed case must be the
// address's EIP-55 checksum, so that a mistyped address is caught instead of
// silently naming another account.
func ParseAddress(s string) (Address, error) {
	bad := func(problem string) (Address, error) {
		return Address{}, fmt.Errorf("eth: %w: address %s: %s", chain.ErrInvalid, quote(s), problem)
	}
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return bad("must start with 0x")
	}
	d := s[2:]
	if len(d) != 40 {
		return bad(fmt.Sprintf("has %d hex digits, not 40", len(d)))
	}
	var a Address
	if _, err := hex.Decode(a[:], []byte(d)); err != nil {
		return bad("has a character that is not a hex digit")
	}
	lower, upper := false, false
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		}
	}
	if lower && upper {
		if want := a.String(); want[2:] != d {
			return bad("the EIP-55 checksum (mixed upper and lower case) is wrong: check for a typing error; the checksummed form of these digits is " + want)
		}
	}
	return a, nil
}

// String returns the EIP-55 checksummed form ("0x5aAeb6…").
func (a Address) String() string { return common.Address(a).Hex() }

// IsZero reports whether a is the zero address.
func (a Address) IsZero() bool { return a == Address{} }

// MarshalText encodes the address in its EIP-55 form.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText accepts what ParseAddress accepts.
func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// Hash is a 32-byte Keccak-256 hash: a block hash, transaction hash, log
// topic.
type Hash [32]byte

// ParseHash parses "0x" followed by 64 hex digits of either case.
func ParseHash(s string) (Hash, error) {
	bad := func(problem string) (Hash, error) {
		return Hash{}, fmt.Errorf("eth: %w: hash %s: %s", chain.ErrInvalid, quote(s), problem)
	}
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return bad("must start with 0x")
	}
	d := s[2:]
	if len(d) != 64 {
		return bad(fmt.Sprintf("has %d hex digits, not 64", len(d)))
	}
	var h Hash
	if _, err := hex.Decode(h[:], []byte(d)); err != nil {
		return bad("has a character that is not a hex digit")
	}
	return h, nil
}

// String returns "0x" and 64 lower-case hex digits.
func (h Hash) String() string { return "0x" + hex.EncodeToString(h[:]) }

// MarshalText encodes the hash as String does.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText accepts what ParseHash accepts.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}
