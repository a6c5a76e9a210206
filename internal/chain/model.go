package chain

import "time"

// Block is a block of the indexed best chain.
type Block struct {
	Ledger       Ledger    `json:"ledger"`
	Height       int64     `json:"height"`
	Hash         string    `json:"hash"`
	PrevHash     string    `json:"prev_hash"`
	NextHash     string    `json:"next_hash,omitempty"`
	Time         time.Time `json:"time"`
	Version      int32     `json:"version"`
	MerkleRoot   string    `json:"merkle_root"`
	Bits         uint32    `json:"bits"`
	Nonce        uint32    `json:"nonce"`
	Size         int       `json:"size"`
	StrippedSize int       `json:"stripped_size"`
	Weight       int       `json:"weight"`
	TxCount      int       `json:"tx_count"`
	Fees         Amount    `json:"fees"`
	Subsidy      Amount    `json:"subsidy"`
	Txids        []string  `json:"txids,omitempty"`
}

// Tx is a confirmed transaction with its inputs resolved.
type Tx struct {
	Ledger      Ledger    `json:"ledger"`
	Txid        string    `json:"txid"`
	BlockHeight int64     `json:"block_height"`
	BlockHash   string    `json:"block_hash"`
	Position    int       `json:"position"`
	Time        time.Time `json:"time"`
	Version     int32     `json:"version"`
	LockTime    uint32    `json:"locktime"`
	Size        int       `json:"size"`
	VSize       int       `json:"vsize"`
	Weight      int       `json:"weight"`
	Fee         Amount    `json:"fee"`
	Coinbase    bool      `json:"coinbase"`
	InputValue  Amount    `json:"input_value"`
	OutputValue Amount    `json:"output_value"`
	Inputs      []Input   `json:"inputs"`
	Outputs     []Output  `json:"outputs"`
}

// Input spends a previous output. For a coinbase input PrevTxid is empty and
// CoinbaseScript holds the miner's script (hex).
type Input struct {
	N              int        `json:"n"`
	PrevTxid       string     `json:"prev_txid,omitempty"`
	PrevVout       uint32     `json:"prev_vout"`
	Address        string     `json:"address,omitempty"`
	ScriptType     ScriptType `json:"script_type,omitempty"`
	Value          Amount     `json:"value"`
	Sequence       uint32     `json:"sequence"`
	CoinbaseScript string     `json:"coinbase_script,omitempty"`
}

// Output is a transfer of Value to Address. Address is empty only for
// outputs that no key can ever spend (OP_RETURN). SpentByTxid is empty while
// the output is unspent.
type Output struct {
	N           uint32        `json:"n"`
	Address     string        `json:"address,omitempty"`
	ScriptType  ScriptType    `json:"script_type"`
	Value       Amount        `json:"value"`
	SpentByTxid string        `json:"spent_by_txid,omitempty"`
	SpentByVin  *uint32       `json:"spent_by_vin,omitempty"`
	Multisig    *MultisigInfo `json:"multisig,omitempty"`
	Data        string        `json:"data,omitempty"`
}

// MultisigInfo describes a bare m-of-n multisig output: its keys in their
// P2PKH address form.
type MultisigInfo struct {
	Required int      `json:"required"`
	Keys     []string `json:"keys"`
}

// AddressTx is one transaction in an address's history.
type AddressTx struct {
	Txid         string    `json:"txid"`
	Height       int64     `json:"height"`
	Time         time.Time `json:"time"`
	Received     Amount    `json:"received"`
	Sent         Amount    `json:"sent"`
	BalanceAfter Amount    `json:"balance_after"`
}

// AddressSummary is an address with its totals and a page of its history.
type AddressSummary struct {
	Ledger          Ledger      `json:"ledger"`
	Address         string      `json:"address"`
	ScriptType      ScriptType  `json:"script_type"`
	Balance         Amount      `json:"balance"`
	TotalReceived   Amount      `json:"total_received"`
	TotalSent       Amount      `json:"total_sent"`
	TxCount         int         `json:"tx_count"`
	UnspentCount    int         `json:"unspent_count"`
	FirstSeenHeight int64       `json:"first_seen_height"`
	LastSeenHeight  int64       `json:"last_seen_height"`
	FirstSeen       time.Time   `json:"first_seen"`
	LastSeen        time.Time   `json:"last_seen"`
	Offset          int         `json:"offset"`
	Limit           int         `json:"limit"`
	Txs             []AddressTx `json:"txs"`
}

// Unspent is one unspent output of an address.
type Unspent struct {
	Txid   string `json:"txid"`
	Vout   uint32 `json:"vout"`
	Value  Amount `json:"value"`
	Height int64  `json:"height"`
}
