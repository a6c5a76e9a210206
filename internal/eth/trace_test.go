package eth

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// frameJSON is a callTracer frame as geth 1.17 writes it.
func frameJSON(typ, from, to, value string, calls ...map[string]any) map[string]any {
	f := map[string]any{"type": typ, "from": from, "to": to, "gas": "0x5208", "gasUsed": "0x5208", "input": "0x"}
	if value != "" {
		f["value"] = value
	}
	if len(calls) > 0 {
		cs := make([]any, len(calls))
		for i, c := range calls {
			cs[i] = c
		}
		f["calls"] = cs
	}
	return f
}

func failed(f map[string]any, msg string) map[string]any {
	f["error"] = msg
	return f
}

// blockTraceJSON: tx 0 forwards 3 to B (2) and C (1), with a static call
// and a delegate call that repeats the value; tx 1 sends value into a
// subcall that reverts (and its own sub-call with it) and a CALLCODE; tx 2
// fails at the top.
func blockTraceJSON() []any {
	tx0 := frameJSON("CALL", addrA, addrC, "0x3",
		frameJSON("CALL", addrC, addrB, "0x2"),
		frameJSON("STATICCALL", addrC, addrB, ""),
		frameJSON("DELEGATECALL", addrC, addrB, "0x3",
			frameJSON("CALL", addrC, addrA, "0x1")),
		frameJSON("CALL", addrC, addrA, "0x0"),
	)
	tx1 := frameJSON("CALL", addrA, addrC, "0x5",
		failed(frameJSON("CALL", addrC, addrB, "0x5",
			frameJSON("CALL", addrB, addrA, "0x5")), "execution reverted"),
		frameJSON("CALLCODE", addrC, addrB, "0x5"),
		frameJSON("CREATE2", addrC, addrB, "0x4",
			frameJSON("SELFDESTRUCT", addrB, addrA, "0x4")),
	)
	tx2 := failed(frameJSON("CALL", addrA, addrC, "0x9",
		frameJSON("CALL", addrC, addrB, "0x9")), "out of gas")
	return []any{
		map[string]any{"txHash": txHash0, "result": tx0},
		map[string]any{"txHash": txHash1, "result": tx1},
		map[string]any{"result": tx2},
	}
}

func TestDecodeBlockTraceAndInternalTransfers(t *testing.T) {
	traces, err := DecodeBlockTrace(mustJSON(t, blockTraceJSON()), "trace of block 0x12")
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 3 || traces[0].TxHash.String() != txHash0 || traces[2].TxHash != (Hash{}) {
		t.Fatalf("%+v", traces)
	}
	root := traces[0].Root
	if root.Type != FrameCall || root.Value.String() != "3" || len(root.Calls) != 4 || root.Calls[1].Type != FrameStaticCall ||
		!root.Calls[1].Value.IsZero() || root.Gas != 21000 || root.GasUsed != 21000 {
		t.Fatalf("%+v", root)
	}
	if traces[1].Root.Calls[0].Error != "execution reverted" || traces[2].Root.Error != "out of gas" {
		t.Fatalf("errors not kept: %+v", traces[1].Root.Calls[0])
	}

	frames := make([]CallFrame, len(traces))
	for i := range traces {
		frames[i] = traces[i].Root
	}
	var got []string
	for _, v := range InternalTransfers(frames) {
		got = append(got, fmt.Sprintf("tx%d %v %s %s>%s %s", v.Tx, v.Path, v.Type, v.From.String()[:6], v.To.String()[:6], v.Value))
	}
	want := []string{
		"tx0 [0] CALL 0xfB69>0x5aAe 2",
		"tx0 [2 0] CALL 0xfB69>0x7156 1", // a call made inside a delegate call moves value (from the delegating contract)
		"tx1 [2] CREATE2 0xfB69>0x5aAe 4",
		"tx1 [2 0] SELFDESTRUCT 0x5aAe>0x7156 4",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("internal transfers:\n got %q\nwant %q", got, want)
	}
}

func TestDecodeCallFrameRejects(t *testing.T) {
	for _, c := range []struct {
		m    mutation
		want string
	}{
		{mutation{"type", "JUMP"}, `eth: call trace: type: "JUMP" is not a call type`},
		{mutation{"type", del}, "type: missing"},
		{mutation{"from", del}, "from: missing"},
		{mutation{"to", del}, "to: missing in a frame that did not fail"},
		{mutation{"value", 3}, "value: not a hex quantity (a JSON number)"},
		{mutation{"gas", "0x10000000000000000"}, "gas: hex quantity 0x10000000000000000 is more than 2^64-1"},
		{mutation{"calls", map[string]any{}}, "calls: not an array (a JSON object)"},
		{mutation{"calls.0.value", "0x" + strings.Repeat("f", 65)}, "calls[0].value: hex quantity"},
		{mutation{"calls.0.calls.0.to", "0x12"}, "calls[0].calls[0].to: not an address"},
		{mutation{"error", strings.Repeat("e", maxTraceText+1)}, "error: string of 4097 bytes is longer than 4096"},
		{mutation{"output", "0x1"}, "output: not hex data"},
	} {
		v := frameJSON("CALL", addrA, addrC, "0x3", frameJSON("CALL", addrC, addrB, "0x2", frameJSON("CALL", addrB, addrA, "0x1")))
		apply(t, v, c.m)
		_, err := DecodeCallFrame(mustJSON(t, v))
		checkErr(t, c.m.path, err, c.want)
	}
}

// nested builds a chain of depth frames below a top frame as JSON text.
func nested(depth int) string {
	var b strings.Builder
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, `{"type":"CALL","from":"%s","to":"%s","gas":"0x1","gasUsed":"0x1","calls":[`, addrA, addrB)
	}
	fmt.Fprintf(&b, `{"type":"CALL","from":"%s","to":"%s","gas":"0x1","gasUsed":"0x1"}`, addrA, addrB)
	for i := 0; i < depth; i++ {
		b.WriteString("]}")
	}
	return b.String()
}

func TestCallDepthBounded(t *testing.T) {
	// The deepest real trace (depth 1024 below the transaction) decodes.
	f, err := DecodeCallFrame(json.RawMessage(nested(MaxCallDepth)))
	if err != nil {
		t.Fatal(err)
	}
	d := 0
	for ; len(f.Calls) > 0; f = f.Calls[0] {
		d++
	}
	if d != MaxCallDepth {
		t.Fatalf("depth %d", d)
	}
	// One more is refused; so is a bomb far deeper, in one cheap pass.
	_, err = DecodeCallFrame(json.RawMessage(nested(MaxCallDepth + 1)))
	checkErr(t, "1025", err, "calls[0].calls[0]")
	for _, depth := range []int{MaxCallDepth + 5, 100_000} {
		_, err = DecodeCallFrame(json.RawMessage(nested(depth)))
		checkErr(t, fmt.Sprint(depth), err, "eth: call trace: nested more than 1024 calls deep")
		_, err = DecodeBlockTrace(json.RawMessage(`[{"result":`+nested(depth)+`}]`), "trace of block 0x1")
		checkErr(t, fmt.Sprint(depth), err, "eth: trace of block 0x1: a trace is nested more than 1024 calls deep")
	}
	// Brackets inside strings do not count.
	if n := nesting([]byte(`{"a":"[[[[\"]]]]","b":[1]}`), 10); n != 2 {
		t.Fatalf("nesting %d", n)
	}
}

func TestDecodeBlockTraceRejects(t *testing.T) {
	for raw, want := range map[string]string{
		`{}`:                             "eth: trace of block 0x12: is a JSON object, not an array of transaction traces",
		`[1]`:                            "eth: trace of block 0x12: [0]: is a JSON number, not a JSON object",
		`[{"txHash":"0x12"}]`:            "[0].txHash: not a 32-byte hash",
		`[{"txHash":"` + txHash0 + `"}]`: "[0].result: missing",
		`[{"txHash":"` + txHash0 + `","error":"execution timeout"}]`: "[0].error: the node could not trace transaction " + txHash0 + ": execution timeout",
		`[{"result":{"type":"CALL"}}]`:                               "[0].result.from: missing",
	} {
		_, err := DecodeBlockTrace(json.RawMessage(raw), "trace of block 0x12")
		checkErr(t, raw, err, want)
	}
}

func TestCheckTraces(t *testing.T) {
	b, err := DecodeBlock(mustJSON(t, blockJSON()))
	if err != nil {
		t.Fatal(err)
	}
	ok := []any{
		map[string]any{"txHash": txHash0, "result": frameJSON("CALL", addrA, addrB, "0xde0b6b3a7640000")},
		map[string]any{"txHash": txHash1, "result": frameJSON("CREATE", addrA, addrC, "0xde0b6b3a7640000")},
	}
	traces, err := DecodeBlockTrace(mustJSON(t, ok), "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTraces(&b, traces); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "count", CheckTraces(&b, traces[:1]), "1 traces for 2 transactions")
	traces[0].Root.Value = chain.Sats(1)
	checkErr(t, "value", CheckTraces(&b, traces), "[0].result.value: 1 is not the transaction's value 1000000000000000000")
	traces[0].TxHash = traces[1].TxHash
	checkErr(t, "hash", CheckTraces(&b, traces), "[0].txHash: "+txHash1+" is not the block's transaction")
	traces[0] = TxTrace{TxHash: b.Txs[0].Hash, Root: CallFrame{Type: FrameCall, From: b.Txs[0].From, To: b.Txs[0].To, Value: b.Txs[0].Value}}
	traces[1].Root.Type = FrameCall
	checkErr(t, "creation", CheckTraces(&b, traces), "[1].result.type: CALL for a contract creation")
}
