package evmindex

import (
	"fmt"
	"math/big"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// TxKey places an entry in the chain: height<<20 | slot. Slot 0 holds the
// block's opening balances (before its first transaction), slot i+1 the
// block's transaction i, and SlotBlockEnd what the block credits after its
// transactions (the fee recipient's tips, withdrawals). Keys sort in chain
// order.
type TxKey uint64

// Slots of a block.
const (
	SlotOpening  = 0
	SlotBlockEnd = 1<<20 - 1
	// MaxBlockTxs is the most transactions a block may hold here.
	MaxBlockTxs = SlotBlockEnd - 1
)

// MakeTxKey returns the key of slot in block height.
func MakeTxKey(height uint64, slot uint32) TxKey {
	return TxKey(height<<20 | uint64(slot&SlotBlockEnd))
}

// TxKeyOf returns the key of the block's transaction at position pos.
func TxKeyOf(height uint64, pos int) TxKey { return MakeTxKey(height, uint32(pos)+1) }

// Height is the block of the key.
func (k TxKey) Height() uint64 { return uint64(k) >> 20 }

// Slot is the key's slot in its block.
func (k TxKey) Slot() uint32 { return uint32(k) & SlotBlockEnd }

// Pos is the transaction's position in its block; false for the opening
// and block-end slots.
func (k TxKey) Pos() (int, bool) {
	s := k.Slot()
	if s == SlotOpening || s == SlotBlockEnd {
		return 0, false
	}
	return int(s) - 1, true
}

func (k TxKey) String() string {
	switch k.Slot() {
	case SlotOpening:
		return fmt.Sprintf("%d:opening", k.Height())
	case SlotBlockEnd:
		return fmt.Sprintf("%d:end", k.Height())
	}
	p, _ := k.Pos()
	return fmt.Sprintf("%d:%d", k.Height(), p)
}

// AddrID is an address's dense id in one index, from 1 in order of first
// appearance. 0 is "nobody": the counterparty of a fee, of a withdrawal and
// of an opening balance.
type AddrID uint64

// AssetID names an asset in one index: 0 is the chain's native coin
// (ether), tokens are numbered from 1 in order of first appearance.
type AssetID uint32

// Native is the chain's own coin.
const Native AssetID = 0

// Kind says how value moved.
type Kind uint8

// Kinds of ledger entries.
const (
	// KindValue is a transaction's own value, from its sender to its
	// recipient (or the contract it created).
	KindValue Kind = 1 + iota
	// KindInternal is value moved by a call frame inside a transaction
	// (CALL, CREATE, CREATE2, SELFDESTRUCT) that did not revert.
	KindInternal
	// KindToken is an ERC-20 Transfer log; a mint comes from, a burn goes
	// to, the zero address (which is an address of the index like any).
	KindToken
	// KindFee is what a transaction's sender paid for gas (blob gas
	// included), to nobody: the base fee is burnt, the tip is credited to the
	// fee recipient at the block's end (KindTips).
	KindFee
	// KindTips credits the block's fee recipient with the priority fees of
	// its transactions, at the block's end.
	KindTips
	// KindWithdrawal is a consensus-layer withdrawal, at the block's end.
	KindWithdrawal
	// KindOpening is what an address held of an asset before the index first
	// saw it (the node's balance at the block before): genesis allocations,
	// history before the import's first block, block rewards before it.
	KindOpening
)

var kindNames = [...]string{"", "value", "internal", "token", "fee", "tips", "withdrawal", "opening"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Entry is one line of an address's ledger in one asset: value in or out
// of the address, in chain order.
type Entry struct {
	Addr  AddrID
	Asset AssetID
	Key   TxKey
	// Seq orders the moves of one slot (a transaction's fee, then its
	// value, then internal moves and token transfers in execution order).
	// The other side of the move carries the same Key and Seq.
	Seq  uint16
	Kind Kind
	// In is true when value came into Addr.
	In bool
	// Counterparty is the other side of the move; 0 for nobody.
	Counterparty AddrID
	Amount       chain.Amount
	// Balance is Addr's balance of Asset after this entry.
	Balance Balance
}

// Balance is a balance in base units. It is signed: a ledger that lacks
// moves (a chain whose node cannot trace internal transfers, a token that
// changes balances without Transfer logs) can show less than nothing, and
// that is reported rather than hidden.
type Balance struct {
	Neg bool
	Abs chain.Amount
}

// Big returns the balance as a big.Int.
func (b Balance) Big() *big.Int {
	v := b.Abs.Big()
	if b.Neg {
		v.Neg(v)
	}
	return v
}

// BalanceFromBig returns v as a Balance.
func BalanceFromBig(v *big.Int) (Balance, error) {
	abs, err := chain.AmountFromBig(new(big.Int).Abs(v))
	if err != nil {
		return Balance{}, err
	}
	return Balance{Neg: v.Sign() < 0, Abs: abs}, nil
}

func (b Balance) String() string {
	if b.Neg && !b.Abs.IsZero() {
		return "-" + b.Abs.String()
	}
	return b.Abs.String()
}

// MarshalText writes the balance in base 10 (JSON: a string, exact).
func (b Balance) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// Asset is the native coin or one ERC-20 token.
type Asset struct {
	ID AssetID
	// Contract is the token's contract (zero for the native coin).
	Contract eth.Address
	// Symbol and Name are the token's own (untrusted) words; Decimals the
	// number of decimal places of one unit. MetadataOK is false when a
	// token did not answer name, symbol or decimals properly; Problems says
	// what it got wrong. The native coin has the ledger's symbol, 18.
	Symbol, Name string
	Decimals     uint8
	MetadataOK   bool
	Problems     []string
	// FirstSeen is where its first transfer is.
	FirstSeen TxKey
}

// Address is what the index knows of one address.
type Address struct {
	ID      AddrID
	Address eth.Address
	// Contract is true when the address held code: created in the index
	// (CreatedAt, Creator) or found with code when first seen.
	Contract  bool
	CreatedAt TxKey
	Creator   AddrID
	FirstSeen TxKey
}

// Status of a transaction.
type Status = eth.Status

// Tx is one transaction of the index: its facts and every move it made.
type Tx struct {
	Key               TxKey
	Hash              eth.Hash
	From              AddrID
	To                AddrID // 0 for a contract creation
	Created           AddrID // the created contract of a creation, else 0
	Nonce             uint64
	Type              uint8
	Status            Status
	Value             chain.Amount
	GasUsed           uint64
	EffectiveGasPrice chain.Amount
	// Fee is what the sender paid (gas and blob gas); Tip the part
	// credited to the fee recipient; the rest was burnt.
	Fee, Tip chain.Amount
	// Selector is the first four bytes of the input (a contract call's
	// function), InputLen the input's length.
	Selector [4]byte
	InputLen uint32
	// Moves are the value moved, in Seq order: fee, value, internal moves,
	// token transfers. A failed transaction moves only its fee.
	Moves []Move
	// Swaps are the DEX swap events the transaction emitted.
	Swaps []Swap
	// Contracts are the contracts the transaction created inside it
	// (CREATE and CREATE2 frames), besides Created.
	Contracts []AddrID
}

// Move is one transfer of value inside a transaction (or a block slot).
type Move struct {
	Seq   uint16
	Kind  Kind
	Asset AssetID
	From  AddrID // 0: nobody
	To    AddrID // 0: nobody
	// Amount in the asset's base units.
	Amount chain.Amount
	// LogIndex is a token transfer's log index in the block; Frame an
	// internal move's call path ("2.0": the first call of the third call).
	LogIndex uint64
	Frame    string
}

// SwapVersion is the DEX event layout a swap was read from.
type SwapVersion uint8

// Swap layouts.
const (
	SwapUniswapV2 SwapVersion = 2
	SwapUniswapV3 SwapVersion = 3
)

// Swap is a DEX pool's Swap event: the pool converted one asset into
// another for a trader. Which assets moved is in the transaction's token
// moves to and from the pool.
type Swap struct {
	Pool     AddrID
	Version  SwapVersion
	LogIndex uint64
	// Sender and Recipient as the event names them (V2: sender and to; V3:
	// sender and recipient).
	Sender, Recipient AddrID
	// Amounts as the event gives them: V2 amount0In, amount1In, amount0Out,
	// amount1Out; V3 amount0 and amount1 (signed: the pool's side; stored
	// as Balance to keep the sign).
	Amounts []Balance
}

// Block is one block of the index.
type Block struct {
	Height     uint64
	Hash       eth.Hash
	Parent     eth.Hash
	Time       uint64 // seconds since 1970, UTC
	Miner      eth.Address
	BaseFee    *chain.Amount
	GasUsed    uint64
	TxCount    int
	Withdrawal int
	// Traced is true when the block's internal transfers are in the index
	// (the node answered debug_traceBlockByNumber); false: its contracts'
	// internal moves are missing and their balances may be wrong.
	Traced bool
	// FirstAddr and FirstAsset are the ids the block's new addresses and
	// assets started at (rollback removes those from the tip down).
	FirstAddr  AddrID
	FirstAsset AssetID
}

// Tip is the last block of the index with its counters.
type Tip struct {
	Height    uint64
	Hash      eth.Hash
	Txs       uint64
	Moves     uint64
	Addresses uint64
	Assets    uint64
	// Untraced counts blocks without their internal transfers.
	Untraced uint64
}

// Meta identifies the ledger of an index: its chain id, fixed when the
// index is created, and a name for people ("ethereum", "sepolia", "dev").
type Meta struct {
	ChainID uint64
	Name    string
	// Symbol of the native coin ("ETH", "POL", ...).
	Symbol string
}
