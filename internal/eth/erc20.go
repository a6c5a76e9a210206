package eth

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// erc20JSON is the part of the ERC-20 interface Vestigo reads. decimals is
// declared uint256 so that an out-of-range answer is seen and reported
// rather than cut to eight bits.
const erc20JSON = `[
 {"type":"function","name":"name","inputs":[],"outputs":[{"name":"","type":"string"}],"stateMutability":"view"},
 {"type":"function","name":"symbol","inputs":[],"outputs":[{"name":"","type":"string"}],"stateMutability":"view"},
 {"type":"function","name":"decimals","inputs":[],"outputs":[{"name":"","type":"uint256"}],"stateMutability":"view"},
 {"type":"function","name":"balanceOf","inputs":[{"name":"owner","type":"address"}],"outputs":[{"name":"","type":"uint256"}],"stateMutability":"view"},
 {"type":"event","name":"Transfer","anonymous":false,"inputs":[
   {"name":"from","type":"address","indexed":true},
   {"name":"to","type":"address","indexed":true},
   {"name":"value","type":"uint256","indexed":false}]}
]`

var erc20 = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(erc20JSON))
	if err != nil {
		panic("eth: the ERC-20 ABI does not parse: " + err.Error())
	}
	return a
}()

// TransferTopic is topic 0 of the Transfer(address,address,uint256) event
// of ERC-20 (and, with the token id indexed as a fourth topic, ERC-721).
var TransferTopic = Hash(erc20.Events["Transfer"].ID)

// MaxTokenString bounds a token's name or symbol; longer text is refused.
const MaxTokenString = 1024

// Transfer is an ERC-20 token transfer taken from a Transfer log.
type Transfer struct {
	Token Address // the token contract that emitted the log
	From  Address // the zero address for a mint
	To    Address // the zero address for a burn
	Value chain.Amount
}

// DecodeTransfer reads an ERC-20 Transfer from a log. ok is false, with no
// error, for a log that is not a Transfer event and for an ERC-721
// Transfer (four topics: the token id is indexed). A log with the Transfer
// topic but another layout (1 or 2 topics, data not one 32-byte word, an
// address topic with non-zero padding) is an error, so the caller can note
// the token as non-standard instead of losing the movement unseen.
// Removed logs are decoded like others; skipping them is the caller's job.
func DecodeTransfer(l Log) (Transfer, bool, error) {
	if len(l.Topics) == 0 || l.Topics[0] != TransferTopic {
		return Transfer{}, false, nil
	}
	bad := func(format string, args ...any) (Transfer, bool, error) {
		return Transfer{}, false, fmt.Errorf("eth: %w: Transfer log %d of token %s in transaction %s: %s",
			chain.ErrInvalid, l.Index, l.Address, l.TxHash, fmt.Sprintf(format, args...))
	}
	switch len(l.Topics) {
	case 4:
		return Transfer{}, false, nil // ERC-721
	case 3:
	default:
		return bad("%d topics, not the 3 of ERC-20 (from and to indexed)", len(l.Topics))
	}
	from, ok := topicAddress(l.Topics[1])
	if !ok {
		return bad("topic 1 (from) %s is not a left-padded address", l.Topics[1])
	}
	to, ok := topicAddress(l.Topics[2])
	if !ok {
		return bad("topic 2 (to) %s is not a left-padded address", l.Topics[2])
	}
	if len(l.Data) != 32 {
		return bad("data is %d bytes, not the one 32-byte value of ERC-20", len(l.Data))
	}
	var v uint256.Int
	v.SetBytes32(l.Data)
	return Transfer{Token: l.Address, From: from, To: to, Value: amountOf(&v)}, true, nil
}

func topicAddress(h Hash) (Address, bool) {
	for _, b := range h[:12] {
		if b != 0 {
			return Address{}, false
		}
	}
	return Address(h[12:]), true
}

// DecodeTokenString decodes the eth_call result of a token's name() or
// symbol(): an ABI-encoded string, or, for old tokens (MKR, SAI), a
// bytes32 padded with zero bytes. The text must be valid UTF-8 without NUL
// bytes and at most MaxTokenString bytes; anything else is an error that
// the caller records against the token.
func DecodeTokenString(ret []byte) (string, error) {
	var s string
	switch {
	case len(ret) == 0:
		return "", fmt.Errorf("eth: %w: empty answer (no such function, or not a contract)", chain.ErrInvalid)
	case len(ret) == 32:
		s = string(bytes.TrimRight(ret, "\x00"))
	case len(ret) >= 64 && len(ret)%32 == 0:
		vals, err := erc20.Methods["name"].Outputs.Unpack(ret)
		if err != nil {
			return "", fmt.Errorf("eth: %w: not an ABI string: %s", chain.ErrInvalid, oneLine(err.Error(), 200))
		}
		s = vals[0].(string)
	default:
		return "", fmt.Errorf("eth: %w: a %d-byte answer is neither an ABI string nor a bytes32", chain.ErrInvalid, len(ret))
	}
	switch {
	case len(s) > MaxTokenString:
		return "", fmt.Errorf("eth: %w: text of %d bytes, more than %d", chain.ErrInvalid, len(s), MaxTokenString)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("eth: %w: text %s is not valid UTF-8", chain.ErrInvalid, quote(s))
	case strings.IndexByte(s, 0) >= 0:
		return "", fmt.Errorf("eth: %w: text %s holds a NUL byte", chain.ErrInvalid, quote(s))
	}
	return s, nil
}

// DecodeDecimals decodes the eth_call result of decimals(): one 32-byte
// word holding 0..255. A larger value or another length is an error.
func DecodeDecimals(ret []byte) (uint8, error) {
	v, err := decodeWord(ret)
	if err != nil {
		return 0, err
	}
	if !v.IsUint64() || v.Uint64() > 255 {
		return 0, fmt.Errorf("eth: %w: decimals %s is more than 255", chain.ErrInvalid, v.Dec())
	}
	return uint8(v.Uint64()), nil
}

// DecodeUint256 decodes an eth_call result that is one 32-byte unsigned
// word (balanceOf, totalSupply).
func DecodeUint256(ret []byte) (chain.Amount, error) {
	v, err := decodeWord(ret)
	if err != nil {
		return chain.Amount{}, err
	}
	return amountOf(&v), nil
}

func decodeWord(ret []byte) (uint256.Int, error) {
	var v uint256.Int
	if len(ret) == 0 {
		return v, fmt.Errorf("eth: %w: empty answer (no such function, or not a contract)", chain.ErrInvalid)
	}
	if len(ret) != 32 {
		return v, fmt.Errorf("eth: %w: a %d-byte answer is not one 32-byte word", chain.ErrInvalid, len(ret))
	}
	v.SetBytes32(ret)
	return v, nil
}

// Call data of the ERC-20 functions Vestigo calls.
var (
	callName     = erc20.Methods["name"].ID
	callSymbol   = erc20.Methods["symbol"].ID
	callDecimals = erc20.Methods["decimals"].ID
)

// BalanceOfCall returns the call data of balanceOf(holder).
func BalanceOfCall(holder Address) []byte {
	data, err := erc20.Pack("balanceOf", common.Address(holder))
	if err != nil {
		panic("eth: packing balanceOf: " + err.Error())
	}
	return data
}
