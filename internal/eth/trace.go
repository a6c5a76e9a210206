package eth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Limits on a call trace. The EVM stops at call depth 1024, so a frame
// tree is at most 1025 levels deep (the transaction's own frame is depth
// 0); MaxCallFrames bounds the frames of one block's trace.
const (
	MaxCallDepth  = 1024
	MaxCallFrames = 1 << 20
	// maxTraceText bounds the error and revertReason strings of a frame.
	maxTraceText = 4096
	// maxTraceNesting bounds the JSON nesting of a trace answer, checked
	// in one pass before decoding: each frame adds an object and its calls
	// array, with room for the answer's own array and element objects and
	// the logs a tracer may attach. decodeFrame checks the depth exactly.
	maxTraceNesting = 2*(MaxCallDepth+1) + 8
)

// Call frame types as geth's callTracer names them.
const (
	FrameCall         = "CALL"
	FrameCallCode     = "CALLCODE"
	FrameDelegateCall = "DELEGATECALL"
	FrameStaticCall   = "STATICCALL"
	FrameCreate       = "CREATE"
	FrameCreate2      = "CREATE2"
	FrameSelfDestruct = "SELFDESTRUCT"
)

var frameTypes = map[string]bool{
	FrameCall: true, FrameCallCode: true, FrameDelegateCall: true, FrameStaticCall: true,
	FrameCreate: true, FrameCreate2: true, FrameSelfDestruct: true,
}

// CallFrame is one frame of geth's callTracer output: a call, a contract
// creation or a self-destruct, with the frames it opened.
type CallFrame struct {
	Type string // one of the Frame* constants
	From Address
	// To is the callee, the created contract or the self-destruct's
	// beneficiary; nil when the node leaves it out (a failed creation).
	To *Address
	// Value is the value the frame names; zero when absent (STATICCALL).
	// A DELEGATECALL repeats its parent's value and a CALLCODE pays its
	// caller: neither moves it (see InternalTransfers).
	Value   chain.Amount
	Gas     uint64
	GasUsed uint64
	Input   []byte
	Output  []byte
	// Error is set when the frame failed (reverted, ran out of gas, …):
	// everything it and its sub-frames did was undone.
	Error        string
	RevertReason string
	Calls        []CallFrame
}

// TxTrace is the call trace of one transaction of a block.
type TxTrace struct {
	// TxHash is the transaction the node names; zero when it names none
	// (older nodes).
	TxHash Hash
	Root   CallFrame
}

// DecodeCallFrame decodes one transaction's callTracer result.
func DecodeCallFrame(raw json.RawMessage) (CallFrame, error) {
	const where = "call trace"
	if nesting(raw, maxTraceNesting) > maxTraceNesting {
		return CallFrame{}, &DecodeError{Where: where, Problem: fmt.Sprintf("nested more than %d calls deep", MaxCallDepth)}
	}
	d := newFrameDecoder(raw, where)
	first, err := d.token("")
	if err != nil {
		return CallFrame{}, err
	}
	f, err := d.frame("", first, 0)
	if err != nil {
		return CallFrame{}, err
	}
	return f, d.end()
}

// DecodeBlockTrace decodes the answer of debug_traceBlockByNumber with the
// callTracer: one {txHash, result} per transaction. A transaction whose
// trace failed ({txHash, error}) makes the whole answer an error: a block
// whose internal transfers are partly unknown must not pass for complete.
// where names the block in errors ("trace of block 0x12").
func DecodeBlockTrace(raw json.RawMessage, where string) ([]TxTrace, error) {
	if nesting(raw, maxTraceNesting) > maxTraceNesting {
		return nil, &DecodeError{Where: where, Problem: fmt.Sprintf("a trace is nested more than %d calls deep", MaxCallDepth)}
	}
	d := newFrameDecoder(raw, where)
	tok, err := d.token("")
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, &DecodeError{Where: where, Problem: "is " + tokenKind(tok) + ", not an array of transaction traces"}
	}
	var out []TxTrace
	for i := 0; d.dec.More(); i++ {
		if i >= MaxBlockTxs {
			return nil, &DecodeError{Where: where, Problem: fmt.Sprintf("has more than %d transaction traces", MaxBlockTxs)}
		}
		path := fmt.Sprintf("[%d]", i)
		first, err := d.token(path)
		if err != nil {
			return nil, err
		}
		var tr TxTrace
		haveResult := false
		o, err := d.members(path, first, "result", func() error {
			rpath := path + ".result"
			first, err := d.token(rpath)
			if err != nil || first == nil { // null: the error member says why
				return err
			}
			haveResult = true
			tr.Root, err = d.frame(rpath, first, 0)
			return err
		})
		if err != nil {
			return nil, err
		}
		if v, ok := o.opt("txHash"); ok {
			if tr.TxHash, err = o.hashOf("txHash", v); err != nil {
				return nil, err
			}
		}
		if msg, ok := o.opt("error"); ok {
			s, _ := o.strOf("error", msg, "a string")
			return nil, o.fail("error", "the node could not trace transaction %s: %s", tr.TxHash, oneLine(s, 300))
		}
		if !haveResult {
			return nil, o.fail("result", "missing")
		}
		out = append(out, tr)
	}
	if _, err := d.token(""); err != nil { // ']'
		return nil, err
	}
	return out, d.end()
}

// frameDecoder reads a trace in one pass: a frame's members are kept as
// raw values except its calls, which are decoded as they stream by, so
// that a deep trace costs time linear in its size.
type frameDecoder struct {
	dec    *json.Decoder
	where  string
	frames int
}

func newFrameDecoder(raw json.RawMessage, where string) *frameDecoder {
	return &frameDecoder{dec: json.NewDecoder(bytes.NewReader(raw)), where: where}
}

func (d *frameDecoder) fail(path, problem string) error {
	return &DecodeError{Where: d.where, Field: path, Problem: problem}
}

// token reads the next token; path names where it is for errors.
func (d *frameDecoder) token(path string) (json.Token, error) {
	tok, err := d.dec.Token()
	if err == io.EOF {
		return nil, d.fail(path, "is empty, not JSON")
	}
	if err != nil {
		return nil, d.fail(path, "is not valid JSON: "+oneLine(err.Error(), 120))
	}
	return tok, nil
}

// end checks that nothing follows the value.
func (d *frameDecoder) end() error {
	if _, err := d.dec.Token(); err != io.EOF {
		return d.fail("", "has data after the value")
	}
	return nil
}

func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "a JSON array"
		}
		return "a JSON object"
	case string:
		return "a JSON string"
	case bool:
		return "a JSON boolean"
	case nil:
		return "null"
	}
	return "a JSON number"
}

// members reads the object that starts with first, keeping each member's
// raw value, except the member named stream, whose value fn reads.
func (d *frameDecoder) members(path string, first json.Token, stream string, fn func() error) (*object, error) {
	if first != json.Delim('{') {
		return nil, d.fail(path, "is "+tokenKind(first)+", not a JSON object")
	}
	o := &object{where: d.where, path: path, m: make(map[string]json.RawMessage, 12)}
	streamed := false
	for d.dec.More() {
		tok, err := d.token(path)
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, d.fail(path, "is not valid JSON")
		}
		if _, dup := o.m[key]; dup || key == stream && streamed {
			return nil, o.fail(key, "appears twice in the object")
		}
		if key == stream {
			streamed = true
			if err := fn(); err != nil {
				return nil, err
			}
			continue
		}
		var v json.RawMessage
		if err := d.dec.Decode(&v); err != nil {
			return nil, d.fail(o.field(key), "is not valid JSON: "+oneLine(err.Error(), 120))
		}
		o.m[key] = v
	}
	if _, err := d.token(path); err != nil { // '}'
		return nil, err
	}
	return o, nil
}

// frame decodes the frame that starts with first, at depth below the
// transaction's frame.
func (d *frameDecoder) frame(path string, first json.Token, depth int) (CallFrame, error) {
	d.frames++
	if d.frames > MaxCallFrames {
		return CallFrame{}, d.fail(path, fmt.Sprintf("more than %d call frames", MaxCallFrames))
	}
	if depth > MaxCallDepth {
		return CallFrame{}, d.fail(path, fmt.Sprintf("nested more than %d calls deep", MaxCallDepth))
	}
	var calls []CallFrame
	var o *object
	o, err := d.members(path, first, "calls", func() error {
		cpath := joinPath(path, "calls")
		tok, err := d.token(cpath)
		if err != nil || tok == nil {
			return err
		}
		if tok != json.Delim('[') {
			return d.fail(cpath, "not an array ("+tokenKind(tok)+")")
		}
		calls = []CallFrame{}
		for i := 0; d.dec.More(); i++ {
			ipath := fmt.Sprintf("%s[%d]", cpath, i)
			first, err := d.token(ipath)
			if err != nil {
				return err
			}
			c, err := d.frame(ipath, first, depth+1)
			if err != nil {
				return err
			}
			calls = append(calls, c)
		}
		_, err = d.token(cpath) // ']'
		return err
	})
	if err != nil {
		return CallFrame{}, err
	}
	f, err := frameFields(o)
	if err != nil {
		return CallFrame{}, err
	}
	if len(calls) > 0 {
		f.Calls = calls
	}
	return f, nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// frameFields decodes a frame's own members.
func frameFields(o *object) (CallFrame, error) {
	var f CallFrame
	v, err := o.get("type")
	if err != nil {
		return CallFrame{}, err
	}
	if f.Type, err = o.strOf("type", v, "a call type"); err != nil {
		return CallFrame{}, err
	}
	if !frameTypes[f.Type] {
		return CallFrame{}, o.fail("type", "%s is not a call type this tracer knows", quote(f.Type))
	}
	if f.From, err = o.address("from"); err != nil {
		return CallFrame{}, err
	}
	if f.To, err = o.optAddress("to"); err != nil {
		return CallFrame{}, err
	}
	if v, err := o.optAmount("value"); err != nil {
		return CallFrame{}, err
	} else if v != nil {
		f.Value = *v
	}
	if f.Gas, err = o.u64("gas"); err != nil {
		return CallFrame{}, err
	}
	if f.GasUsed, err = o.u64("gasUsed"); err != nil {
		return CallFrame{}, err
	}
	if v, ok := o.opt("input"); ok {
		if f.Input, err = o.dataOf("input", v); err != nil {
			return CallFrame{}, err
		}
	}
	if v, ok := o.opt("output"); ok {
		if f.Output, err = o.dataOf("output", v); err != nil {
			return CallFrame{}, err
		}
	}
	if f.Error, err = o.optString("error", maxTraceText); err != nil {
		return CallFrame{}, err
	}
	if f.RevertReason, err = o.optString("revertReason", maxTraceText); err != nil {
		return CallFrame{}, err
	}
	if f.To == nil && f.Error == "" {
		return CallFrame{}, o.fail("to", "missing in a frame that did not fail")
	}
	return f, nil
}

// ValueTransfer is native value moved inside a transaction by a call
// frame below the top level (an "internal transaction").
type ValueTransfer struct {
	// Tx is the index of the transaction's trace in the slice given to
	// InternalTransfers (its position in the block when given a block's).
	Tx int
	// Path locates the frame: the index of each call on the way down from
	// the transaction's frame ([2 0] is the first call of its third call).
	Path  []int
	Type  string // CALL, CREATE, CREATE2 or SELFDESTRUCT
	From  Address
	To    Address
	Value chain.Amount
}

// InternalTransfers lists the value moved by CALL, CREATE, CREATE2 and
// SELFDESTRUCT frames below each transaction's top frame (whose value is
// the transaction's own), in execution order. Failed frames and everything
// below them are skipped: a revert undoes their transfers. DELEGATECALL
// and CALLCODE frames move nothing (a delegate call only repeats its
// caller's value; a CALLCODE pays the caller itself), STATICCALL cannot,
// and frames with zero value are left out.
func InternalTransfers(frames []CallFrame) []ValueTransfer {
	var out []ValueTransfer
	for i := range frames {
		root := &frames[i]
		if root.Error != "" {
			continue
		}
		var walk func(f *CallFrame, path []int)
		walk = func(f *CallFrame, path []int) {
			for j := range f.Calls {
				c := &f.Calls[j]
				if c.Error != "" {
					continue
				}
				p := append(append([]int(nil), path...), j)
				switch c.Type {
				case FrameCall, FrameCreate, FrameCreate2, FrameSelfDestruct:
					if !c.Value.IsZero() && c.To != nil {
						out = append(out, ValueTransfer{Tx: i, Path: p, Type: c.Type, From: c.From, To: *c.To, Value: c.Value})
					}
				}
				walk(c, p)
			}
		}
		walk(root, nil)
	}
	return out
}
