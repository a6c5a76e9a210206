package eth

import (
	"encoding/json"
	"fmt"

	"github.com/holiman/uint256"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Limits on one receipt; beyond them the answer is refused as hostile. A
// LOG costs at least 375 gas, so a 36M-gas block holds under 100,000 logs.
const (
	MaxReceiptLogs = 200_000
	MaxLogTopics   = 4
)

// Status is the outcome of a transaction as its receipt reports it.
type Status uint8

// Statuses. Receipts before Byzantium carry a state root instead of a
// status: the outcome is then StatusUnknown, not guessed.
const (
	StatusUnknown Status = iota
	StatusFailed
	StatusSuccess
)

func (s Status) String() string {
	switch s {
	case StatusFailed:
		return "failed"
	case StatusSuccess:
		return "success"
	}
	return "unknown"
}

// Receipt is a transaction's receipt: its outcome, the gas it paid for
// and the logs it emitted.
type Receipt struct {
	TxHash      Hash
	TxIndex     uint64
	BlockHash   Hash
	BlockNumber uint64
	From        Address
	To          *Address // nil for a contract creation
	Status      Status
	// Root is the post-transaction state root of a pre-Byzantium receipt
	// (Status is StatusUnknown then); nil otherwise.
	Root              *Hash
	CumulativeGasUsed uint64
	GasUsed           uint64
	EffectiveGasPrice chain.Amount
	// BlobGasUsed and BlobGasPrice are set for blob transactions (type 3),
	// whose sender also pays BlobGasUsed × BlobGasPrice.
	BlobGasUsed     uint64
	BlobGasPrice    *chain.Amount
	ContractAddress *Address // the created contract, or nil
	Type            uint8
	Logs            []Log
}

// Fee returns what the sender paid for gas: GasUsed × EffectiveGasPrice,
// plus BlobGasUsed × BlobGasPrice for a blob transaction. (It does not
// include fees some EVM chains add outside the receipt's fields, such as
// rollups' L1 data fees.)
func (r *Receipt) Fee() (chain.Amount, error) {
	var fee, price, blob uint256.Int
	price.SetFromBig(r.EffectiveGasPrice.Big())
	if _, over := fee.MulOverflow(uint256.NewInt(r.GasUsed), &price); over {
		return chain.Amount{}, fmt.Errorf("eth: receipt of %s: fee %d × %s overflows 256 bits", r.TxHash, r.GasUsed, r.EffectiveGasPrice)
	}
	if r.BlobGasPrice != nil && r.BlobGasUsed > 0 {
		price.SetFromBig(r.BlobGasPrice.Big())
		if _, over := blob.MulOverflow(uint256.NewInt(r.BlobGasUsed), &price); over {
			return chain.Amount{}, fmt.Errorf("eth: receipt of %s: blob fee overflows 256 bits", r.TxHash)
		}
		if _, over := fee.AddOverflow(&fee, &blob); over {
			return chain.Amount{}, fmt.Errorf("eth: receipt of %s: fee overflows 256 bits", r.TxHash)
		}
	}
	return amountOf(&fee), nil
}

// Log is an event emitted by a contract.
type Log struct {
	Address Address // the emitting contract
	Topics  []Hash  // 0 to 4
	Data    []byte
	Index   uint64 // position in the block
	// Removed is true when the log belongs to a block that a
	// reorganisation removed; such a log moved nothing.
	Removed bool
	// TxHash, TxIndex and BlockNumber are as the log carries them; a
	// receipt's logs must name the receipt's transaction.
	TxHash      Hash
	TxIndex     uint64
	BlockNumber uint64
}

// DecodeReceipt decodes one receipt (eth_getTransactionReceipt).
func DecodeReceipt(raw json.RawMessage) (Receipt, error) {
	o, err := newObject(raw, "receipt", "")
	if err != nil {
		return Receipt{}, err
	}
	if h, err := o.hash("transactionHash"); err == nil {
		o.where = "receipt of " + h.String()
	}
	return decodeReceipt(o)
}

func decodeReceipt(o *object) (Receipt, error) {
	var r Receipt
	var err error
	if r.TxHash, err = o.hash("transactionHash"); err != nil {
		return Receipt{}, err
	}
	if r.TxIndex, err = o.u64("transactionIndex"); err != nil {
		return Receipt{}, err
	}
	if r.BlockHash, err = o.hash("blockHash"); err != nil {
		return Receipt{}, err
	}
	if r.BlockNumber, err = o.u64("blockNumber"); err != nil {
		return Receipt{}, err
	}
	if r.From, err = o.address("from"); err != nil {
		return Receipt{}, err
	}
	if r.To, err = o.nullableAddress("to"); err != nil {
		return Receipt{}, err
	}
	if v, ok := o.opt("status"); ok {
		s, err := o.u64Of("status", v)
		if err != nil {
			return Receipt{}, err
		}
		switch s {
		case 0:
			r.Status = StatusFailed
		case 1:
			r.Status = StatusSuccess
		default:
			return Receipt{}, o.fail("status", "%#x is neither 0x0 (failed) nor 0x1 (success)", s)
		}
	} else if v, ok := o.opt("root"); ok {
		h, err := o.hashOf("root", v)
		if err != nil {
			return Receipt{}, err
		}
		r.Root = &h
	} else {
		return Receipt{}, o.fail("status", "missing, and no pre-Byzantium root either")
	}
	if r.CumulativeGasUsed, err = o.u64("cumulativeGasUsed"); err != nil {
		return Receipt{}, err
	}
	if r.GasUsed, err = o.u64("gasUsed"); err != nil {
		return Receipt{}, err
	}
	if r.GasUsed > r.CumulativeGasUsed {
		return Receipt{}, o.fail("gasUsed", "%d is more than cumulativeGasUsed %d", r.GasUsed, r.CumulativeGasUsed)
	}
	if r.EffectiveGasPrice, err = o.amount("effectiveGasPrice"); err != nil {
		return Receipt{}, err
	}
	if n, ok, err := o.optU64("blobGasUsed"); err != nil {
		return Receipt{}, err
	} else if ok {
		r.BlobGasUsed = n
	}
	if r.BlobGasPrice, err = o.optAmount("blobGasPrice"); err != nil {
		return Receipt{}, err
	}
	if r.BlobGasUsed > 0 && r.BlobGasPrice == nil {
		return Receipt{}, o.fail("blobGasPrice", "missing while blobGasUsed is %d", r.BlobGasUsed)
	}
	if r.ContractAddress, err = o.optAddress("contractAddress"); err != nil {
		return Receipt{}, err
	}
	if typ, ok, err := o.optU64("type"); err != nil {
		return Receipt{}, err
	} else if ok {
		if typ > 0xff {
			return Receipt{}, o.fail("type", "%#x is not a transaction type (at most 0xff)", typ)
		}
		r.Type = uint8(typ)
	}
	logs, err := o.array("logs", MaxReceiptLogs)
	if err != nil {
		return Receipt{}, err
	}
	r.Logs = make([]Log, len(logs))
	for i, raw := range logs {
		lo, err := o.child("logs", i, raw)
		if err != nil {
			return Receipt{}, err
		}
		l, err := decodeLog(lo)
		if err != nil {
			return Receipt{}, err
		}
		switch {
		case l.TxHash != r.TxHash:
			return Receipt{}, lo.fail("transactionHash", "%s is not the receipt's transaction %s", l.TxHash, r.TxHash)
		case l.BlockNumber != r.BlockNumber:
			return Receipt{}, lo.fail("blockNumber", "%#x is not the receipt's block %#x", l.BlockNumber, r.BlockNumber)
		case l.TxIndex != r.TxIndex:
			return Receipt{}, lo.fail("transactionIndex", "%d is not the receipt's %d", l.TxIndex, r.TxIndex)
		case i > 0 && l.Index <= r.Logs[i-1].Index:
			return Receipt{}, lo.fail("logIndex", "%d does not follow the previous log's %d", l.Index, r.Logs[i-1].Index)
		}
		r.Logs[i] = l
	}
	if r.Status == StatusFailed && len(r.Logs) > 0 {
		return Receipt{}, o.fail("logs", "a failed transaction has %d logs; a reverted transaction emits none", len(r.Logs))
	}
	return r, nil
}

// DecodeLog decodes one log as eth_getLogs and receipts carry it.
func DecodeLog(raw json.RawMessage) (Log, error) {
	o, err := newObject(raw, "log", "")
	if err != nil {
		return Log{}, err
	}
	return decodeLog(o)
}

func decodeLog(o *object) (Log, error) {
	var l Log
	var err error
	if l.Address, err = o.address("address"); err != nil {
		return Log{}, err
	}
	topics, err := o.array("topics", MaxLogTopics)
	if err != nil {
		return Log{}, err
	}
	l.Topics = make([]Hash, len(topics))
	for i, t := range topics {
		if l.Topics[i], err = o.hashOf(fmt.Sprintf("topics[%d]", i), t); err != nil {
			return Log{}, err
		}
	}
	if l.Data, err = o.data("data"); err != nil {
		return Log{}, err
	}
	if l.Index, err = o.u64("logIndex"); err != nil {
		return Log{}, err
	}
	if l.Removed, err = o.boolean("removed"); err != nil {
		return Log{}, err
	}
	if l.TxHash, err = o.hash("transactionHash"); err != nil {
		return Log{}, err
	}
	if l.TxIndex, err = o.u64("transactionIndex"); err != nil {
		return Log{}, err
	}
	if l.BlockNumber, err = o.u64("blockNumber"); err != nil {
		return Log{}, err
	}
	return l, nil
}

// CheckReceipts checks that receipts belong to block b: one per
// transaction, in order, each naming the block (number and hash) and its
// transaction, with the same sender and recipient; a contract creation
// names its contract and nothing else does.
func CheckReceipts(b *Block, receipts []Receipt) error {
	where := fmt.Sprintf("block %#x", b.Number)
	fail := func(i int, field, format string, args ...any) error {
		return &DecodeError{Where: where, Field: fmt.Sprintf("receipts[%d].%s", i, field), Problem: fmt.Sprintf(format, args...)}
	}
	if len(receipts) != len(b.Txs) {
		return &DecodeError{Where: where, Field: "receipts", Problem: fmt.Sprintf("%d receipts for %d transactions", len(receipts), len(b.Txs))}
	}
	for i := range receipts {
		r, t := &receipts[i], &b.Txs[i]
		switch {
		case r.TxHash != t.Hash:
			return fail(i, "transactionHash", "%s is not the block's transaction %s", r.TxHash, t.Hash)
		case r.BlockHash != b.Hash:
			return fail(i, "blockHash", "%s is not the block's hash %s", r.BlockHash, b.Hash)
		case r.BlockNumber != b.Number:
			return fail(i, "blockNumber", "%#x is not the block's number", r.BlockNumber)
		case r.TxIndex != uint64(i):
			return fail(i, "transactionIndex", "%d is not the position %d", r.TxIndex, i)
		case r.From != t.From:
			return fail(i, "from", "%s is not the transaction's sender %s", r.From, t.From)
		case (r.To == nil) != (t.To == nil) || r.To != nil && *r.To != *t.To:
			return fail(i, "to", "%s is not the transaction's recipient %s", addrOrNull(r.To), addrOrNull(t.To))
		case t.To != nil && r.ContractAddress != nil:
			return fail(i, "contractAddress", "%s is set for a transaction that creates no contract", r.ContractAddress)
		case t.To == nil && r.ContractAddress == nil:
			return fail(i, "contractAddress", "is null for a contract creation")
		case r.GasUsed > t.Gas:
			return fail(i, "gasUsed", "%d is more than the transaction's gas limit %d", r.GasUsed, t.Gas)
		}
		if i > 0 && r.CumulativeGasUsed != receipts[i-1].CumulativeGasUsed+r.GasUsed {
			return fail(i, "cumulativeGasUsed", "%d is not the previous %d plus gasUsed %d", r.CumulativeGasUsed, receipts[i-1].CumulativeGasUsed, r.GasUsed)
		}
		if i == 0 && r.CumulativeGasUsed != r.GasUsed {
			return fail(i, "cumulativeGasUsed", "%d is not the first transaction's gasUsed %d", r.CumulativeGasUsed, r.GasUsed)
		}
	}
	return nil
}

func addrOrNull(a *Address) string {
	if a == nil {
		return "null"
	}
	return a.String()
}
