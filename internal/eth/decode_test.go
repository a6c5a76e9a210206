package eth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Shapes of geth 1.17 answers (trimmed to what matters, with some of the
// members the decoders ignore), as the hostile cases start from them.
const (
	blockHash  = "0x1111111111111111111111111111111111111111111111111111111111111111"
	parentHash = "0x2222222222222222222222222222222222222222222222222222222222222222"
	txHash0    = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	txHash1    = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	addrA      = "0x71562b71999873db5b286df957af199ec94617f7"
	addrB      = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
	addrC      = "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"
)

func txJSON(hash string, index int, to any) map[string]any {
	return map[string]any{
		"hash": hash, "from": addrA, "to": to, "value": "0xde0b6b3a7640000", "input": "0x",
		"nonce": "0x3", "gas": "0x5208", "gasPrice": "0x3b9aca07", "maxFeePerGas": "0x77359400",
		"maxPriorityFeePerGas": "0x3b9aca00", "type": "0x2", "transactionIndex": hexInt(index),
		"blockNumber": "0x12", "blockHash": blockHash, "chainId": "0x539", "v": "0x1",
		"r": "0x1", "s": "0x1", "yParity": "0x1", "accessList": []any{},
	}
}

func hexInt(i int) string { return fmt.Sprintf("%#x", i) }

func blockJSON() map[string]any {
	return map[string]any{
		"number": "0x12", "hash": blockHash, "parentHash": parentHash, "timestamp": "0x6650a1b2",
		"miner": addrA, "gasLimit": "0x1c9c380", "gasUsed": "0xa410", "baseFeePerGas": "0x7",
		"difficulty": "0x0", "extraData": "0x", "logsBloom": "0x00", "size": "0x2a1",
		"transactions": []any{txJSON(txHash0, 0, addrB), txJSON(txHash1, 1, nil)},
		"withdrawals":  []any{map[string]any{"index": "0x0", "validatorIndex": "0x5", "address": addrC, "amount": "0x3b9aca00"}},
	}
}

func logJSON(index int) map[string]any {
	return map[string]any{
		"address": addrC,
		"topics": []any{"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
			"0x00000000000000000000000071562b71999873db5b286df957af199ec94617f7",
			"0x0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		"data":     "0x00000000000000000000000000000000000000000000000000000000000f4240",
		"logIndex": hexInt(index), "removed": false, "transactionHash": txHash0,
		"transactionIndex": "0x0", "blockNumber": "0x12", "blockHash": blockHash,
	}
}

func receiptJSON() map[string]any {
	return map[string]any{
		"transactionHash": txHash0, "transactionIndex": "0x0", "blockHash": blockHash, "blockNumber": "0x12",
		"from": addrA, "to": addrB, "status": "0x1", "cumulativeGasUsed": "0x5208", "gasUsed": "0x5208",
		"effectiveGasPrice": "0x3b9aca07", "contractAddress": nil, "type": "0x2", "logsBloom": "0x00",
		"logs": []any{logJSON(0), logJSON(1)},
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeBlock(t *testing.T) {
	b, err := DecodeBlock(mustJSON(t, blockJSON()))
	if err != nil {
		t.Fatal(err)
	}
	if b.Number != 0x12 || b.Hash.String() != blockHash || b.ParentHash.String() != parentHash ||
		b.Timestamp != 0x6650a1b2 || b.Miner.String() != "0x71562b71999873DB5b286dF957af199Ec94617F7" ||
		b.GasLimit != 30_000_000 || b.GasUsed != 0xa410 || b.BaseFeePerGas == nil || b.BaseFeePerGas.String() != "7" {
		t.Fatalf("%+v", b)
	}
	if len(b.Txs) != 2 {
		t.Fatalf("%d txs", len(b.Txs))
	}
	tx := b.Txs[0]
	if tx.Hash.String() != txHash0 || tx.To == nil || tx.To.String() != "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" ||
		tx.Value.String() != "1000000000000000000" || len(tx.Input) != 0 || tx.Nonce != 3 || tx.Gas != 21000 ||
		tx.GasPrice.String() != "1000000007" || tx.MaxFeePerGas.String() != "2000000000" ||
		tx.MaxPriorityFeePerGas.String() != "1000000000" || tx.Type != 2 || tx.Index != 0 || tx.IsCreation() {
		t.Fatalf("%+v", tx)
	}
	if !b.Txs[1].IsCreation() || b.Txs[1].Index != 1 {
		t.Fatalf("%+v", b.Txs[1])
	}
	if len(b.Withdrawals) != 1 || b.Withdrawals[0].ValidatorIndex != 5 || b.Withdrawals[0].Wei().String() != "1000000000000000000" {
		t.Fatalf("%+v", b.Withdrawals)
	}
	if b.Time().Unix() != 0x6650a1b2 {
		t.Fatal(b.Time())
	}
}

// mutation changes one member of a decoded JSON value; path is dot
// separated, numbers index arrays.
type mutation struct {
	path  string
	value any // del deletes the member
}

type deleted struct{}

var del = deleted{}

func apply(t testing.TB, v map[string]any, m mutation) {
	t.Helper()
	parts := strings.Split(m.path, ".")
	var cur any = v
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if m.value == del {
					delete(c, p)
				} else {
					c[p] = m.value
				}
				return
			}
			cur = c[p]
		case []any:
			var k int
			for _, d := range p {
				k = k*10 + int(d-'0')
			}
			if last {
				c[k] = m.value
				return
			}
			cur = c[k]
		default:
			t.Fatalf("path %s: %T", m.path, cur)
		}
	}
}

func TestDecodeBlockRejects(t *testing.T) {
	huge := "0x1" + strings.Repeat("0", 64) // 2^256
	for _, c := range []struct {
		m    mutation
		want string
	}{
		{mutation{"number", del}, "eth: block: number: missing"},
		{mutation{"number", nil}, "eth: block: number: is null"},
		{mutation{"number", 18}, "eth: block: number: not a hex quantity (a JSON number)"},
		{mutation{"number", "18"}, `eth: block: number: not a hex quantity: "18" lacks the 0x prefix`},
		{mutation{"number", "0x"}, "0x without digits"},
		{mutation{"number", "0x1g"}, "not a hex digit"},
		{mutation{"number", "0x10000000000000000"}, "eth: block: number: hex quantity 0x10000000000000000 is more than 2^64-1"},
		{mutation{"hash", blockHash[:64]}, "eth: block 0x12: hash: not a 32-byte hash"},
		{mutation{"hash", 7}, "eth: block 0x12: hash: not a 32-byte hash (a JSON number)"},
		{mutation{"miner", addrA + "00"}, "eth: block 0x12: miner: not an address"},
		{mutation{"miner", del}, "eth: block 0x12: miner: missing"},
		{mutation{"timestamp", "0xffffffffffffffff"}, "no time of this world"},
		{mutation{"gasUsed", "0x1c9c381"}, "more than the block's gas limit"},
		{mutation{"baseFeePerGas", huge}, "eth: block 0x12: baseFeePerGas: hex quantity \"0x1" + strings.Repeat("0", 64) + "\" is more than 2^256-1"},
		{mutation{"transactions", del}, "eth: block 0x12: transactions: missing"},
		{mutation{"transactions", map[string]any{}}, "transactions: not an array (a JSON object)"},
		{mutation{"transactions.0", txHash0}, "transactions[0]: is a transaction hash, not a full transaction object"},
		{mutation{"transactions.1", 5}, "transactions[1]: is a JSON number, not a JSON object"},
		{mutation{"transactions.1.value", 5}, "eth: block 0x12: transactions[1].value: not a hex quantity (a JSON number)"},
		{mutation{"transactions.1.value", huge}, "transactions[1].value: hex quantity"},
		{mutation{"transactions.1.value", del}, "transactions[1].value: missing"},
		{mutation{"transactions.0.from", "0x1234"}, "transactions[0].from: not an address: \"0x1234\" has 4 hex digits, not 40"},
		{mutation{"transactions.0.to", del}, "transactions[0].to: missing (null is allowed, absence is not)"},
		{mutation{"transactions.0.input", "0x123"}, "transactions[0].input: not hex data: \"0x123\" has an odd number of hex digits"},
		{mutation{"transactions.0.input", "abcd"}, "transactions[0].input: not hex data"},
		{mutation{"transactions.0.nonce", "0x1ffffffffffffffff"}, "transactions[0].nonce: hex quantity 0x1ffffffffffffffff is more than 2^64-1"},
		{mutation{"transactions.0.gas", true}, "transactions[0].gas: not a hex quantity (a JSON boolean)"},
		{mutation{"transactions.0.type", "0x100"}, "transactions[0].type: 0x100 is not a transaction type"},
		{mutation{"transactions.0.maxFeePerGas", []any{}}, "transactions[0].maxFeePerGas: not a hex quantity (a JSON array)"},
		{mutation{"transactions.0.blockNumber", "0x13"}, "transactions[0].blockNumber: 0x13 is not the block's number"},
		{mutation{"transactions.0.blockHash", parentHash}, "transactions[0].blockHash: " + parentHash + " is not the block's hash"},
		{mutation{"transactions.1.transactionIndex", "0x0"}, "transactions[1].transactionIndex: 0 is not the transaction's position 1"},
		{mutation{"withdrawals.0.amount", "0x10000000000000000"}, "withdrawals[0].amount: hex quantity 0x10000000000000000 is more than 2^64-1"},
		{mutation{"withdrawals.0.address", del}, "withdrawals[0].address: missing"},
	} {
		v := blockJSON()
		apply(t, v, c.m)
		_, err := DecodeBlock(mustJSON(t, v))
		checkErr(t, c.m.path, err, c.want)
	}
}

func checkErr(t *testing.T, name string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want %q", name, want)
		return
	}
	var de *DecodeError
	if !errors.Is(err, chain.ErrInvalid) || !errors.As(err, &de) {
		t.Errorf("%s: %v is not a *DecodeError wrapping chain.ErrInvalid", name, err)
	}
	if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "eth: ") || strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("%s:\n got %s\nwant %s", name, err, want)
	}
}

func TestDecodeRejectsWholeValue(t *testing.T) {
	for raw, want := range map[string]string{
		``:                                "eth: block: is empty, not a JSON object",
		`null`:                            "eth: block: is null, not a JSON object",
		`[]`:                              "eth: block: is a JSON array, not a JSON object",
		`"0x12"`:                          "is a JSON string",
		`{"number":"0x1","number":"0x2"}`: "eth: block: number: appears twice in the object",
		`{"number":"0x1"`:                 "not valid JSON",
		`{"number":"0x1"} {}`:             "data after the object",
	} {
		_, err := DecodeBlock(json.RawMessage(raw))
		checkErr(t, raw, err, want)
	}
}

func TestQuantityLeadingZeros(t *testing.T) {
	// A few leading zeros are tolerated; 65 digits are not, even if zero.
	for s, ok := range map[string]bool{
		"0x0": true, "0x00": true, "0x0012": true, "0x" + strings.Repeat("f", 64): true,
		"0x" + strings.Repeat("0", 65): false, "0X12": false, "0x-1": false, "-0x1": false, "0x1.5": false,
	} {
		_, problem := parseQuantity(s)
		if (problem == "") != ok {
			t.Errorf("%s: %q", s, problem)
		}
	}
}

func TestDecodeReceipt(t *testing.T) {
	r, err := DecodeReceipt(mustJSON(t, receiptJSON()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusSuccess || r.GasUsed != 21000 || r.EffectiveGasPrice.String() != "1000000007" ||
		r.ContractAddress != nil || r.To == nil || len(r.Logs) != 2 || r.Logs[1].Index != 1 || r.Type != 2 {
		t.Fatalf("%+v", r)
	}
	if fee, err := r.Fee(); err != nil || fee.String() != "21000000147000" {
		t.Fatalf("fee %v %v", fee, err)
	}
	l := r.Logs[0]
	if l.Address.String() != "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359" || len(l.Topics) != 3 || l.Topics[0] != TransferTopic || len(l.Data) != 32 || l.Removed {
		t.Fatalf("%+v", l)
	}

	// A pre-Byzantium receipt: a root, no status.
	v := receiptJSON()
	delete(v, "status")
	v["root"] = parentHash
	r, err = DecodeReceipt(mustJSON(t, v))
	if err != nil || r.Status != StatusUnknown || r.Root == nil || r.Root.String() != parentHash {
		t.Fatalf("%+v %v", r, err)
	}

	// A blob transaction pays for blob gas too.
	v = receiptJSON()
	v["blobGasUsed"], v["blobGasPrice"] = "0x20000", "0x3"
	r, err = DecodeReceipt(mustJSON(t, v))
	if fee, ferr := r.Fee(); err != nil || ferr != nil || fee.String() != "21000000540216" {
		t.Fatalf("blob fee %v %v %v", fee, err, ferr)
	}
}

func TestDecodeReceiptRejects(t *testing.T) {
	for _, c := range []struct {
		m    mutation
		want string
	}{
		{mutation{"transactionHash", del}, "eth: receipt: transactionHash: missing"},
		{mutation{"status", "0x2"}, "eth: receipt of " + txHash0 + ": status: 0x2 is neither 0x0 (failed) nor 0x1 (success)"},
		{mutation{"status", del}, "status: missing, and no pre-Byzantium root either"},
		{mutation{"status", 1}, "status: not a hex quantity (a JSON number)"},
		{mutation{"gasUsed", "0x5209"}, "gasUsed: 21001 is more than cumulativeGasUsed 21000"},
		{mutation{"effectiveGasPrice", del}, "effectiveGasPrice: missing"},
		{mutation{"contractAddress", "0x00"}, "contractAddress: not an address"},
		{mutation{"to", del}, "to: missing (null is allowed"},
		{mutation{"logs", "0x"}, "logs: not an array (a JSON string)"},
		{mutation{"logs.0.topics", []any{txHash0, txHash0, txHash0, txHash0, txHash0}}, "logs[0].topics: has 5 elements, more than 4"},
		{mutation{"logs.0.topics.1", "0x00"}, "logs[0].topics[1]: not a 32-byte hash: \"0x00\" has 2 hex digits, not 64"},
		{mutation{"logs.0.data", nil}, "logs[0].data: is null"},
		{mutation{"logs.0.removed", "false"}, "logs[0].removed: not a boolean (a JSON string)"},
		{mutation{"logs.0.transactionHash", txHash1}, "logs[0].transactionHash: " + txHash1 + " is not the receipt's transaction"},
		{mutation{"logs.1.logIndex", "0x0"}, "logs[1].logIndex: 0 does not follow the previous log's 0"},
		{mutation{"status", "0x0"}, "logs: a failed transaction has 2 logs"},
		{mutation{"blobGasUsed", "0x1"}, "blobGasPrice: missing while blobGasUsed is 1"},
	} {
		v := receiptJSON()
		apply(t, v, c.m)
		_, err := DecodeReceipt(mustJSON(t, v))
		checkErr(t, c.m.path, err, c.want)
	}
}

func TestCheckReceipts(t *testing.T) {
	b, err := DecodeBlock(mustJSON(t, blockJSON()))
	if err != nil {
		t.Fatal(err)
	}
	r0 := receiptJSON()
	r1 := receiptJSON()
	r1["transactionHash"], r1["transactionIndex"], r1["to"] = txHash1, "0x1", nil
	r1["contractAddress"], r1["cumulativeGasUsed"], r1["logs"] = addrC, "0xa410", []any{}
	decode := func(vs ...map[string]any) []Receipt {
		var rs []Receipt
		for _, v := range vs {
			r, err := DecodeReceipt(mustJSON(t, v))
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		return rs
	}
	if err := CheckReceipts(&b, decode(r0, r1)); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "one missing", CheckReceipts(&b, decode(r0)), "eth: block 0x12: receipts: 1 receipts for 2 transactions")
	r1["contractAddress"] = nil
	checkErr(t, "creation without contract", CheckReceipts(&b, decode(r0, r1)), "receipts[1].contractAddress: is null for a contract creation")
	r1["contractAddress"], r1["cumulativeGasUsed"] = addrC, "0xa411"
	checkErr(t, "cumulative", CheckReceipts(&b, decode(r0, r1)), "receipts[1].cumulativeGasUsed: 42001 is not the previous 21000 plus gasUsed 21000")
	r0["from"] = addrB
	checkErr(t, "sender", CheckReceipts(&b, decode(r0, r1)), "receipts[0].from: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed is not the transaction's sender")
}
