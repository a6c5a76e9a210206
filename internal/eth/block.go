package eth

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Limits on what one block answer may hold; beyond them the answer is
// refused as hostile. Mainnet blocks stay far below: a 36M-gas block holds
// at most 1,714 plain transfers and 16 withdrawals.
const (
	MaxBlockTxs         = 100_000
	MaxBlockWithdrawals = 10_000
)

// Block is a block with its transactions as full objects (eth_getBlockByNumber
// with full=true).
type Block struct {
	Number     uint64
	Hash       Hash
	ParentHash Hash
	// Timestamp is the block's time in seconds since 1970 (UTC).
	Timestamp uint64
	Miner     Address // the fee recipient (coinbase)
	GasLimit  uint64
	GasUsed   uint64
	// BaseFeePerGas is nil before London (EIP-1559); the base fee is burnt.
	BaseFeePerGas *chain.Amount
	Txs           []Tx
	// Withdrawals are the consensus layer's withdrawals credited to
	// accounts (after Shanghai); nil before.
	Withdrawals []Withdrawal
}

// Time returns the block's timestamp as a time in UTC.
func (b *Block) Time() time.Time { return time.Unix(int64(b.Timestamp), 0).UTC() }

// Withdrawal is a validator withdrawal credited to Address. Amounts are in
// Gwei on the wire; Wei converts.
type Withdrawal struct {
	Index          uint64
	ValidatorIndex uint64
	Address        Address
	AmountGwei     uint64
}

// Wei returns the withdrawal's amount in wei (Gwei × 10^9; it cannot
// overflow 256 bits).
func (w Withdrawal) Wei() chain.Amount {
	a, err := chain.ParseAmount(fmt.Sprintf("%d000000000", w.AmountGwei))
	if err != nil {
		panic("eth: withdrawal amount: " + err.Error())
	}
	return a
}

// Tx is a transaction as eth_getBlockByNumber returns it in a block.
type Tx struct {
	Hash  Hash
	From  Address
	To    *Address // nil for a contract creation
	Value chain.Amount
	Input []byte
	Nonce uint64
	Gas   uint64 // gas limit
	// GasPrice is what the node reports: for EIP-1559 transactions in a
	// block the effective price; the receipt's EffectiveGasPrice decides.
	GasPrice             chain.Amount
	MaxFeePerGas         *chain.Amount // nil for legacy and access-list transactions
	MaxPriorityFeePerGas *chain.Amount
	Type                 uint8 // 0 legacy, 1 access list, 2 EIP-1559, 3 blob, 4 set-code; others on some EVM chains
	Index                uint64
	BlockNumber          uint64
	BlockHash            Hash
}

// IsCreation reports whether the transaction creates a contract.
func (t *Tx) IsCreation() bool { return t.To == nil }

// DecodeBlock decodes a block answered with full transaction objects. Every
// field is checked, and every transaction must name this block (number and
// hash) and its own position in it.
func DecodeBlock(raw json.RawMessage) (Block, error) {
	o, err := newObject(raw, "block", "")
	if err != nil {
		return Block{}, err
	}
	var b Block
	if b.Number, err = o.u64("number"); err != nil {
		return Block{}, err
	}
	o.where = fmt.Sprintf("block %#x", b.Number)
	if b.Hash, err = o.hash("hash"); err != nil {
		return Block{}, err
	}
	if b.ParentHash, err = o.hash("parentHash"); err != nil {
		return Block{}, err
	}
	if b.Timestamp, err = o.u64("timestamp"); err != nil {
		return Block{}, err
	}
	if b.Timestamp > 1<<62 {
		return Block{}, o.fail("timestamp", "%d seconds is no time of this world", b.Timestamp)
	}
	if b.Miner, err = o.address("miner"); err != nil {
		return Block{}, err
	}
	if b.GasLimit, err = o.u64("gasLimit"); err != nil {
		return Block{}, err
	}
	if b.GasUsed, err = o.u64("gasUsed"); err != nil {
		return Block{}, err
	}
	if b.GasUsed > b.GasLimit {
		return Block{}, o.fail("gasUsed", "%d is more than the block's gas limit %d", b.GasUsed, b.GasLimit)
	}
	if b.BaseFeePerGas, err = o.optAmount("baseFeePerGas"); err != nil {
		return Block{}, err
	}
	txs, err := o.array("transactions", MaxBlockTxs)
	if err != nil {
		return Block{}, err
	}
	b.Txs = make([]Tx, len(txs))
	for i, raw := range txs {
		if len(raw) > 0 && raw[0] == '"' {
			return Block{}, o.fail(fmt.Sprintf("transactions[%d]", i), "is a transaction hash, not a full transaction object (the block was asked for without full transactions)")
		}
		to, err := o.child("transactions", i, raw)
		if err != nil {
			return Block{}, err
		}
		if b.Txs[i], err = decodeTx(to); err != nil {
			return Block{}, err
		}
		t := &b.Txs[i]
		switch {
		case t.BlockNumber != b.Number:
			return Block{}, to.fail("blockNumber", "%#x is not the block's number", t.BlockNumber)
		case t.BlockHash != b.Hash:
			return Block{}, to.fail("blockHash", "%s is not the block's hash %s", t.BlockHash, b.Hash)
		case t.Index != uint64(i):
			return Block{}, to.fail("transactionIndex", "%d is not the transaction's position %d in the block", t.Index, i)
		}
	}
	if v, ok := o.opt("withdrawals"); ok {
		ws, err := o.arrayOf("withdrawals", v, MaxBlockWithdrawals)
		if err != nil {
			return Block{}, err
		}
		b.Withdrawals = make([]Withdrawal, len(ws))
		for i, raw := range ws {
			wo, err := o.child("withdrawals", i, raw)
			if err != nil {
				return Block{}, err
			}
			w := &b.Withdrawals[i]
			if w.Index, err = wo.u64("index"); err != nil {
				return Block{}, err
			}
			if w.ValidatorIndex, err = wo.u64("validatorIndex"); err != nil {
				return Block{}, err
			}
			if w.Address, err = wo.address("address"); err != nil {
				return Block{}, err
			}
			if w.AmountGwei, err = wo.u64("amount"); err != nil {
				return Block{}, err
			}
		}
	}
	return b, nil
}

// DecodeTx decodes one mined transaction object (eth_getTransactionByHash
// of a mined transaction, or an element of a block's transactions).
func DecodeTx(raw json.RawMessage) (Tx, error) {
	o, err := newObject(raw, "transaction", "")
	if err != nil {
		return Tx{}, err
	}
	if h, err := o.hash("hash"); err == nil {
		o.where = "transaction " + h.String()
	}
	return decodeTx(o)
}

func decodeTx(o *object) (Tx, error) {
	var t Tx
	var err error
	if t.Hash, err = o.hash("hash"); err != nil {
		return Tx{}, err
	}
	if t.From, err = o.address("from"); err != nil {
		return Tx{}, err
	}
	if t.To, err = o.nullableAddress("to"); err != nil {
		return Tx{}, err
	}
	if t.Value, err = o.amount("value"); err != nil {
		return Tx{}, err
	}
	if t.Input, err = o.data("input"); err != nil {
		return Tx{}, err
	}
	if t.Nonce, err = o.u64("nonce"); err != nil {
		return Tx{}, err
	}
	if t.Gas, err = o.u64("gas"); err != nil {
		return Tx{}, err
	}
	if t.GasPrice, err = o.amount("gasPrice"); err != nil {
		return Tx{}, err
	}
	if t.MaxFeePerGas, err = o.optAmount("maxFeePerGas"); err != nil {
		return Tx{}, err
	}
	if t.MaxPriorityFeePerGas, err = o.optAmount("maxPriorityFeePerGas"); err != nil {
		return Tx{}, err
	}
	typ, err := o.u64("type")
	if err != nil {
		return Tx{}, err
	}
	if typ > 0xff {
		return Tx{}, o.fail("type", "%#x is not a transaction type (at most 0xff)", typ)
	}
	t.Type = uint8(typ)
	if t.Index, err = o.u64("transactionIndex"); err != nil {
		return Tx{}, err
	}
	if t.BlockNumber, err = o.u64("blockNumber"); err != nil {
		return Tx{}, err
	}
	if t.BlockHash, err = o.hash("blockHash"); err != nil {
		return Tx{}, err
	}
	return t, nil
}
