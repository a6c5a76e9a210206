package eth

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// swapJSON declares the Swap events of Uniswap V2 pairs and V3 pools (and
// of the many forks that kept their layout).
const swapJSON = `[
 {"type":"event","name":"SwapV2","anonymous":false,"inputs":[
   {"name":"sender","type":"address","indexed":true},
   {"name":"amount0In","type":"uint256","indexed":false},
   {"name":"amount1In","type":"uint256","indexed":false},
   {"name":"amount0Out","type":"uint256","indexed":false},
   {"name":"amount1Out","type":"uint256","indexed":false},
   {"name":"to","type":"address","indexed":true}]},
 {"type":"event","name":"SwapV3","anonymous":false,"inputs":[
   {"name":"sender","type":"address","indexed":true},
   {"name":"recipient","type":"address","indexed":true},
   {"name":"amount0","type":"int256","indexed":false},
   {"name":"amount1","type":"int256","indexed":false},
   {"name":"sqrtPriceX96","type":"uint160","indexed":false},
   {"name":"liquidity","type":"uint128","indexed":false},
   {"name":"tick","type":"int24","indexed":false}]}
]`

var swapABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(swapJSON))
	if err != nil {
		panic("eth: the Swap ABI does not parse: " + err.Error())
	}
	return a
}()

// Topic 0 of the two Swap events. The ABI's event names carry the version
// only to tell them apart here; the topic is the Keccak-256 of the
// signature with the real name, Swap(...), which go-ethereum's abi package
// computes from the raw name and the input types.
var (
	SwapV2Topic = eventTopic("Swap(address,uint256,uint256,uint256,uint256,address)", "SwapV2")
	SwapV3Topic = eventTopic("Swap(address,address,int256,int256,uint160,uint128,int24)", "SwapV3")
)

// eventTopic returns the topic of the ABI's event name after checking that
// its signature, renamed Swap, is sig.
func eventTopic(sig, name string) Hash {
	ev := swapABI.Events[name]
	e := abi.NewEvent("Swap", "Swap", false, ev.Inputs)
	if e.Sig != sig {
		panic("eth: Swap event signature " + e.Sig + ", want " + sig)
	}
	return Hash(e.ID)
}

// Swap layouts.
const (
	SwapUniswapV2 = 2
	SwapUniswapV3 = 3
)

// Swap is a DEX pool's Swap event.
type Swap struct {
	Pool    Address // the emitting pair or pool
	Version int     // SwapUniswapV2 or SwapUniswapV3
	// Sender is the event's sender; Recipient its "to" (V2) or
	// "recipient" (V3).
	Sender, Recipient Address
	// Amounts as the event gives them: V2 amount0In, amount1In,
	// amount0Out, amount1Out (never negative); V3 amount0 and amount1,
	// signed, from the pool's side (positive: the pool received).
	Amounts []*big.Int
	// SqrtPriceX96, Liquidity and Tick are the V3 pool's state after the
	// swap; nil and 0 for V2.
	SqrtPriceX96 *big.Int
	Liquidity    *big.Int
	Tick         int32
}

// DecodeSwap reads a Uniswap V2 or V3 Swap event from a log. ok is false,
// with no error, for any other log. A log with a Swap topic but another
// layout (not 3 topics, data of the wrong length, an address topic with
// non-zero padding, a uint160, uint128 or int24 word that is not the
// padding of its type) is an error, so that the caller can report it.
func DecodeSwap(l Log) (Swap, bool, error) {
	if len(l.Topics) == 0 {
		return Swap{}, false, nil
	}
	var words int
	s := Swap{Pool: l.Address}
	switch l.Topics[0] {
	case SwapV2Topic:
		s.Version, words = SwapUniswapV2, 4
	case SwapV3Topic:
		s.Version, words = SwapUniswapV3, 5
	default:
		return Swap{}, false, nil
	}
	bad := func(format string, args ...any) (Swap, bool, error) {
		return Swap{}, false, fmt.Errorf("eth: %w: Uniswap V%d Swap log %d of %s in transaction %s: %s",
			chain.ErrInvalid, s.Version, l.Index, l.Address, l.TxHash, fmt.Sprintf(format, args...))
	}
	if len(l.Topics) != 3 {
		return bad("%d topics, not 3 (the event and two indexed addresses)", len(l.Topics))
	}
	var ok bool
	if s.Sender, ok = topicAddress(l.Topics[1]); !ok {
		return bad("topic 1 (sender) %s is not a left-padded address", l.Topics[1])
	}
	if s.Recipient, ok = topicAddress(l.Topics[2]); !ok {
		return bad("topic 2 (recipient) %s is not a left-padded address", l.Topics[2])
	}
	if len(l.Data) != 32*words {
		return bad("data is %d bytes, not the %d words of the event", len(l.Data), words)
	}
	word := func(i int) []byte { return l.Data[32*i : 32*i+32] }
	if s.Version == SwapUniswapV2 {
		for i := range 4 {
			s.Amounts = append(s.Amounts, new(big.Int).SetBytes(word(i)))
		}
		return s, true, nil
	}
	s.Amounts = []*big.Int{signedWord(word(0)), signedWord(word(1))}
	var err error
	if s.SqrtPriceX96, err = unsignedBits(word(2), 160); err != nil {
		return bad("sqrtPriceX96: %v", err)
	}
	if s.Liquidity, err = unsignedBits(word(3), 128); err != nil {
		return bad("liquidity: %v", err)
	}
	tick := signedWord(word(4))
	if tick.BitLen() > 23 && !(tick.Sign() < 0 && tick.Cmp(big.NewInt(-1<<23)) == 0) {
		return bad("tick %s is not an int24", tick)
	}
	s.Tick = int32(tick.Int64())
	return s, true, nil
}

// signedWord reads a 32-byte two's complement integer (int256).
func signedWord(w []byte) *big.Int {
	v := new(big.Int).SetBytes(w)
	if w[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), 256))
	}
	return v
}

// unsignedBits reads a 32-byte word holding an unsigned integer of bits
// bits; higher bits set are an error.
func unsignedBits(w []byte, bits int) (*big.Int, error) {
	v := new(big.Int).SetBytes(w)
	if v.BitLen() > bits {
		return nil, fmt.Errorf("%#x does not fit %d bits", v, bits)
	}
	return v, nil
}
