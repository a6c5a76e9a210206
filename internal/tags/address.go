package tags

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// normCurrency maps a source's currency to the one stored: XBT (OFAC's
// ticker) becomes BTC; BTC and ETH are upper-cased; others stay as given.
func normCurrency(c string) string {
	c = strings.TrimSpace(c)
	switch strings.ToUpper(c) {
	case "XBT", "BTC":
		return "BTC"
	case "ETH":
		return "ETH"
	}
	return c
}

// btcAddress validates a Bitcoin address of any network and returns it as
// the index prints it (bech32 lower case, base58 unchanged).
func btcAddress(s string) (string, bool) {
	nets := btc.NetworksOf(s)
	if len(nets) == 0 {
		return "", false
	}
	a, err := nets[0].DecodeAddr(s)
	if err != nil {
		return "", false
	}
	out := nets[0].EncodeAddr(a)
	return out, out != ""
}

// isEVM reports whether s is 0x and 40 hex digits.
func isEVM(s string) bool {
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	for i := 2; i < 42; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// sane reports whether s is a plausible address of a chain the package does
// not decode: printable, no spaces, 4..128 bytes.
func sane(s string) bool {
	if len(s) < 4 || len(s) > 128 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// evmChecksum checks the EIP-55 checksum of a 0x+40-hex address written
// in mixed case (all-lower and all-upper carry none).
func evmChecksum(s string) error {
	_, err := eth.ParseAddress("0x" + s[2:])
	return err
}

// eip55Currencies are the currencies whose 0x addresses are Ethereum-style
// accounts checksummed by EIP-55: ETH, the tokens OFAC lists by their own
// ticker (USDT and USDC on Ethereum; their TRON and Omni addresses are not
// 0x) and the EVM chains OFAC lists (ARB, BSC). Other chains' 0x checksums
// differ (Zilliqa's; RSK's EIP-1191 includes the chain id), so their case
// is not checked.
var eip55Currencies = map[string]bool{"ETH": true, "USDT": true, "USDC": true, "ARB": true, "BSC": true}

// normAddress validates address s of currency c (already normalised by
// normCurrency) and returns its stored form. BTC addresses must decode on
// one of Bitcoin's networks; ETH addresses must be 0x and 40 hex digits.
// A 0x+40-hex address of a currency of eip55Currencies written in mixed
// case must carry a right EIP-55 checksum. Any 0x+40-hex address (the EVM
// chains: ETH, MATIC, BEP20, ...) is lower-cased, since its letter case is
// only a checksum; other addresses are kept as given after a sanity check.
func normAddress(c, s string) (string, bool) {
	s = strings.TrimSpace(s)
	if c == "BTC" {
		return btcAddress(s)
	}
	if isEVM(s) {
		if eip55Currencies[c] && evmChecksum(s) != nil {
			return "", false
		}
		return strings.ToLower(s), true
	}
	if c == "ETH" {
		return "", false
	}
	return s, sane(s)
}

// maxAddressText bounds what a published list may give as an address.
const maxAddressText = 256

// checkAddress validates the address raw of currency cur (normalised). A
// valid address comes back in its stored form. An invalid one is an error
// when strict (analyst input: plain CSV, user tags); from a published list
// (TagPack, OFAC) it is kept as the source gives it, trimmed, with the
// problem returned, so that the tag records what the source said and is
// flagged (Tag.AddressProblem) instead of being dropped or sinking the file.
// Text that cannot be an address of any kind (empty, longer than 256 bytes,
// control characters) is an error in either case.
func checkAddress(file string, line int, cur, raw string, strict bool) (addr, problem string, err error) {
	if a, ok := normAddress(cur, raw); ok {
		return a, "", nil
	}
	s := strings.TrimSpace(raw)
	why := ""
	if eip55Currencies[cur] && isEVM(s) {
		if err := evmChecksum(s); err != nil {
			why = ": wrong EIP-55 checksum (mixed case), a typing error or a corrupted copy"
		}
	}
	if strict || s == "" || len(s) > maxAddressText || !cleanText(s) || strings.ContainsAny(s, "\n\r\t") {
		return "", "", errAt(file, line, "invalid %s address %q%s", cur, truncate(s, 130), why)
	}
	return s, fmt.Sprintf("invalid %s address %q%s: kept as the source gives it", cur, truncate(s, 130), why), nil
}

// NormalizeAddress returns the form under which the store files a query
// address: a Bitcoin address as the index prints it, an EVM address in lower
// case, anything else trimmed. It does not check an EIP-55 checksum:
// CheckQueryAddress does, and ByAddress refuses what it refuses.
func NormalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	if isEVM(s) {
		return strings.ToLower(s)
	}
	if a, ok := btcAddress(s); ok {
		return a
	}
	return s
}

// CheckQueryAddress returns the form under which the store files a query
// address (NormalizeAddress), and refuses, with an error wrapping
// chain.ErrInvalid, a 0x address of 40 hex digits written in mixed case
// whose EIP-55 checksum is wrong: such an address is a typing error or a
// corrupted copy, and looking up its lower-cased digits could screen clean
// an address the investigator did not mean. All-lower and all-upper
// addresses carry no checksum and pass; an address of a chain with another
// checksum (RSK's EIP-1191) is looked up by giving it in lower case.
func CheckQueryAddress(s string) (string, error) {
	t := strings.TrimSpace(s)
	if isEVM(t) {
		if err := evmChecksum(t); err != nil {
			return "", invalid("query address %q: wrong EIP-55 checksum (mixed upper and lower case): check for a typing error; give it in lower case only to look up an address whose checksum is not EIP-55's", truncate(t, 64))
		}
	}
	return NormalizeAddress(t), nil
}

// inferCurrency guesses the currency of an address for the plain CSV
// format, which has no currency column: BTC if it decodes as a Bitcoin
// address, ETH if it is 0x and 40 hex digits.
func inferCurrency(s string) string {
	s = strings.TrimSpace(s)
	if isEVM(s) {
		return "ETH"
	}
	if _, ok := btcAddress(s); ok {
		return "BTC"
	}
	return ""
}

// normTxHash validates a transaction hash: 64 hex digits, optionally 0x
// prefixed (EVM), stored lower case.
func normTxHash(s string) (string, bool) {
	s = strings.TrimSpace(s)
	body := s
	if strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X") {
		body = body[2:]
	}
	if len(body) != 64 {
		return "", false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// cleanText rejects text that is not valid UTF-8 or holds a NUL or other
// control character (tabs and line breaks excepted).
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
