package evmindex

import (
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// BlockData is one block as ingestion hands it to Apply: everything in
// addresses and token contracts, which the index turns into its ids.
type BlockData struct {
	Number     uint64
	Hash       eth.Hash
	ParentHash eth.Hash
	Time       uint64
	Miner      eth.Address
	BaseFee    *chain.Amount
	GasUsed    uint64
	// Traced says the internal moves of every transaction are given (the
	// node traced the block).
	Traced bool
	Txs    []TxData
	// Withdrawals credited at the block's end, in their order.
	Withdrawals []Credit
	// Openings are the balances, at the block before this one, of the
	// address–asset pairs this block shows for the first time (see
	// Index.NewHoldings). A pair whose opening is not given opens at zero.
	Openings []Opening
	// Tokens holds the metadata of the tokens this block shows for the
	// first time (see Index.NewTokens); a token without metadata here is
	// recorded as unread.
	Tokens []eth.TokenMetadata
	// Code lists addresses first seen in this block that already held code
	// at the block before (contracts created before the import's start).
	Code []eth.Address
}

// TxData is one transaction with its receipt's facts and its moves.
type TxData struct {
	Hash    eth.Hash
	From    eth.Address
	To      *eth.Address // nil for a creation
	Created *eth.Address // the created contract (receipt's contractAddress)
	Nonce   uint64
	Type    uint8
	Status  eth.Status
	Value   chain.Amount
	GasUsed uint64
	// EffectiveGasPrice is the receipt's; Fee what the sender paid (gas and
	// blob gas, eth.Receipt.Fee); Tip what went to the fee recipient: gas
	// used × (effective price − base fee), or the whole gas fee before
	// London.
	EffectiveGasPrice chain.Amount
	Fee, Tip          chain.Amount
	Input             []byte // only its selector and length are kept
	// Internal are the transaction's internal value moves
	// (eth.InternalTransfers), in execution order; empty when the block is
	// not traced.
	Internal []eth.ValueTransfer
	// Tokens are the ERC-20 Transfer logs of the receipt, in log order.
	Tokens []TokenTransfer
	// CreatedContracts are contracts created inside the transaction by
	// CREATE and CREATE2 frames that did not revert.
	CreatedContracts []eth.Address
	Swaps            []SwapData
}

// TokenTransfer is an ERC-20 Transfer with the log's index in the block.
type TokenTransfer struct {
	eth.Transfer
	LogIndex uint64
}

// SwapData is a DEX Swap event read from a log.
type SwapData struct {
	Pool              eth.Address
	Version           SwapVersion
	LogIndex          uint64
	Sender, Recipient eth.Address
	Amounts           []Balance
}

// Credit is value credited to an address by the block itself.
type Credit struct {
	Address eth.Address
	Amount  chain.Amount
}

// Opening is an address's balance of an asset (Token zero: the native
// coin) at the block before the one it first appears in.
type Opening struct {
	Address eth.Address
	Token   eth.Address
	Amount  chain.Amount
}

// Holding names an address–asset pair by address and token contract (zero:
// the native coin).
type Holding struct {
	Address eth.Address
	Token   eth.Address
}
