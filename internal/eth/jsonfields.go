package eth

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// DecodeError reports a node's answer that does not have the expected
// shape. Its text is one line, "eth: WHERE: FIELD: PROBLEM", for example
// "eth: block 0x12: transactions[3].value: not a hex quantity (a JSON
// number)". It unwraps to chain.ErrInvalid.
type DecodeError struct {
	// Where names what was being decoded: "block 0x12", "receipt of
	// 0xab…", "call trace of block 0x12".
	Where string
	// Field is the JSON path of the offending member, e.g.
	// "transactions[3].value"; empty when the whole value is wrong.
	Field string
	// Problem says what is wrong with it.
	Problem string
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("eth: ")
	b.WriteString(e.Where)
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	return b.String()
}

// Unwrap makes every decode error a chain.ErrInvalid.
func (e *DecodeError) Unwrap() error { return chain.ErrInvalid }

// object is one JSON object of a node's answer, split into its members,
// with the place it was found at for error messages.
type object struct {
	where string // "block 0x12"
	path  string // "transactions[3]" (empty at the top)
	m     map[string]json.RawMessage
}

// field joins the object's path and a member name.
func (o *object) field(name string) string {
	if o.path == "" {
		return name
	}
	return o.path + "." + name
}

func (o *object) fail(name, format string, args ...any) error {
	return &DecodeError{Where: o.where, Field: o.field(name), Problem: fmt.Sprintf(format, args...)}
}

// newObject splits raw into its members. Duplicate member names are
// rejected: decoders disagree on which one wins, so an answer that has two
// is ambiguous evidence.
func newObject(raw json.RawMessage, where, path string) (*object, error) {
	bad := func(problem string) error { return &DecodeError{Where: where, Field: path, Problem: problem} }
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, bad("is " + jsonKind(raw) + ", not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, bad("is not valid JSON: " + oneLine(err.Error(), 120))
	}
	o := &object{where: where, path: path, m: make(map[string]json.RawMessage, 16)}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("is not valid JSON: " + oneLine(err.Error(), 120))
		}
		key, ok := tok.(string)
		if !ok {
			return nil, bad("is not valid JSON")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, bad("is not valid JSON: " + oneLine(err.Error(), 120))
		}
		if _, dup := o.m[key]; dup {
			return nil, o.fail(key, "appears twice in the object")
		}
		o.m[key] = v
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, bad("is not valid JSON: " + oneLine(err.Error(), 120))
	}
	if dec.More() {
		return nil, bad("has data after the object")
	}
	return o, nil
}

// jsonKind names the JSON type of a raw value for messages.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "null"
	default:
		return "a JSON number"
	}
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// get returns a required member: present and not null.
func (o *object) get(name string) (json.RawMessage, error) {
	v, ok := o.m[name]
	if !ok {
		return nil, o.fail(name, "missing")
	}
	if isNull(v) {
		return nil, o.fail(name, "is null")
	}
	return v, nil
}

// opt returns a member that may be absent or null; ok is false then.
func (o *object) opt(name string) (json.RawMessage, bool) {
	v, ok := o.m[name]
	if !ok || isNull(v) {
		return nil, false
	}
	return v, true
}

// strOf checks that v, the value of member name, is a JSON string and
// returns it; what names the expected content for the message.
func (o *object) strOf(name string, v json.RawMessage, what string) (string, error) {
	if len(v) == 0 || v[0] != '"' {
		return "", o.fail(name, "not %s (%s)", what, jsonKind(v))
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", o.fail(name, "not %s (bad JSON string)", what)
	}
	return s, nil
}

// hexDigits checks s is "0x" followed by hex digits and returns the digits.
func hexDigits(s string) (string, string) {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x') {
		return "", "lacks the 0x prefix"
	}
	d := s[2:]
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", "has a character that is not a hex digit"
		}
	}
	return d, ""
}

// maxQuantityDigits bounds the hex digits of a quantity, leading zeros
// included ("canonical-ish": nodes should send none, a few are tolerated).
const maxQuantityDigits = 64

// parseQuantity parses a JSON-RPC hex quantity into 256 bits. The problem
// text is empty on success.
func parseQuantity(s string) (uint256.Int, string) {
	var z uint256.Int
	d, problem := hexDigits(s)
	if problem != "" {
		return z, "not a hex quantity: " + quote(s) + " " + problem
	}
	if d == "" {
		return z, "not a hex quantity: 0x without digits"
	}
	if len(d) > maxQuantityDigits {
		sig := strings.TrimLeft(d, "0")
		if len(sig) > 64 {
			return z, "hex quantity " + quote(s) + " is more than 2^256-1"
		}
		return z, fmt.Sprintf("hex quantity %s has %d digits, too many leading zeros", quote(s), len(d))
	}
	var buf [32]byte
	if len(d)%2 == 1 {
		d = "0" + d
	}
	if _, err := hex.Decode(buf[32-len(d)/2:], []byte(d)); err != nil {
		return z, "not a hex quantity: " + quote(s)
	}
	z.SetBytes32(buf[:])
	return z, ""
}

// quantity decodes a required 256-bit hex quantity.
func (o *object) quantity(name string) (uint256.Int, error) {
	v, err := o.get(name)
	if err != nil {
		return uint256.Int{}, err
	}
	return o.quantityOf(name, v)
}

func (o *object) quantityOf(name string, v json.RawMessage) (uint256.Int, error) {
	s, err := o.strOf(name, v, "a hex quantity")
	if err != nil {
		return uint256.Int{}, err
	}
	q, problem := parseQuantity(s)
	if problem != "" {
		return uint256.Int{}, o.fail(name, "%s", problem)
	}
	return q, nil
}

// amount decodes a required 256-bit quantity as a chain.Amount.
func (o *object) amount(name string) (chain.Amount, error) {
	q, err := o.quantity(name)
	if err != nil {
		return chain.Amount{}, err
	}
	return amountOf(&q), nil
}

// optAmount decodes an optional 256-bit quantity; nil when absent or null.
func (o *object) optAmount(name string) (*chain.Amount, error) {
	v, ok := o.opt(name)
	if !ok {
		return nil, nil
	}
	q, err := o.quantityOf(name, v)
	if err != nil {
		return nil, err
	}
	a := amountOf(&q)
	return &a, nil
}

// amountOf converts a 256-bit integer to a chain.Amount. chain.Amount is
// built only from decimal text, which every uint256 value is.
func amountOf(q *uint256.Int) chain.Amount {
	if q.IsUint64() {
		return chain.Sats(q.Uint64())
	}
	a, err := chain.ParseAmount(q.Dec())
	if err != nil { // cannot happen: Dec prints 0..2^256-1 in base 10
		panic("eth: uint256 did not convert to chain.Amount: " + err.Error())
	}
	return a
}

// u64 decodes a required quantity that must fit in 64 bits.
func (o *object) u64(name string) (uint64, error) {
	v, err := o.get(name)
	if err != nil {
		return 0, err
	}
	return o.u64Of(name, v)
}

func (o *object) u64Of(name string, v json.RawMessage) (uint64, error) {
	q, err := o.quantityOf(name, v)
	if err != nil {
		return 0, err
	}
	if !q.IsUint64() {
		return 0, o.fail(name, "hex quantity 0x%s is more than 2^64-1", q.Hex()[2:])
	}
	return q.Uint64(), nil
}

// optU64 decodes an optional 64-bit quantity; ok is false when absent.
func (o *object) optU64(name string) (uint64, bool, error) {
	v, ok := o.opt(name)
	if !ok {
		return 0, false, nil
	}
	n, err := o.u64Of(name, v)
	return n, err == nil, err
}

// data decodes a required byte string "0x…" with an even number of digits.
func (o *object) data(name string) ([]byte, error) {
	v, err := o.get(name)
	if err != nil {
		return nil, err
	}
	return o.dataOf(name, v)
}

func (o *object) dataOf(name string, v json.RawMessage) ([]byte, error) {
	s, err := o.strOf(name, v, "hex data")
	if err != nil {
		return nil, err
	}
	d, problem := hexDigits(s)
	if problem != "" {
		return nil, o.fail(name, "not hex data: %s %s", quote(s), problem)
	}
	if len(d)%2 == 1 {
		return nil, o.fail(name, "not hex data: %s has an odd number of hex digits", quote(s))
	}
	b := make([]byte, len(d)/2)
	if _, err := hex.Decode(b, []byte(d)); err != nil {
		return nil, o.fail(name, "not hex data: %s", quote(s))
	}
	return b, nil
}

// fixed decodes hex data of exactly n bytes.
func (o *object) fixedOf(name string, v json.RawMessage, n int, what string) ([]byte, error) {
	s, err := o.strOf(name, v, what)
	if err != nil {
		return nil, err
	}
	d, problem := hexDigits(s)
	if problem != "" {
		return nil, o.fail(name, "not %s: %s %s", what, quote(s), problem)
	}
	if len(d) != 2*n {
		return nil, o.fail(name, "not %s: %s has %d hex digits, not %d", what, quote(s), len(d), 2*n)
	}
	b := make([]byte, n)
	if _, err := hex.Decode(b, []byte(d)); err != nil {
		return nil, o.fail(name, "not %s: %s", what, quote(s))
	}
	return b, nil
}

// address decodes a required 20-byte address. Case is not checked: nodes
// send lower case, and a checksum protects typing, not RPC.
func (o *object) address(name string) (Address, error) {
	v, err := o.get(name)
	if err != nil {
		return Address{}, err
	}
	return o.addressOf(name, v)
}

func (o *object) addressOf(name string, v json.RawMessage) (Address, error) {
	b, err := o.fixedOf(name, v, 20, "an address")
	if err != nil {
		return Address{}, err
	}
	return Address(b), nil
}

// nullableAddress decodes an address that must be present but may be null.
func (o *object) nullableAddress(name string) (*Address, error) {
	v, ok := o.m[name]
	if !ok {
		return nil, o.fail(name, "missing (null is allowed, absence is not)")
	}
	if isNull(v) {
		return nil, nil
	}
	a, err := o.addressOf(name, v)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// optAddress decodes an address that may be absent or null.
func (o *object) optAddress(name string) (*Address, error) {
	v, ok := o.opt(name)
	if !ok {
		return nil, nil
	}
	a, err := o.addressOf(name, v)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// hash decodes a required 32-byte hash.
func (o *object) hash(name string) (Hash, error) {
	v, err := o.get(name)
	if err != nil {
		return Hash{}, err
	}
	return o.hashOf(name, v)
}

func (o *object) hashOf(name string, v json.RawMessage) (Hash, error) {
	b, err := o.fixedOf(name, v, 32, "a 32-byte hash")
	if err != nil {
		return Hash{}, err
	}
	return Hash(b), nil
}

// boolean decodes a required JSON boolean.
func (o *object) boolean(name string) (bool, error) {
	v, err := o.get(name)
	if err != nil {
		return false, err
	}
	switch string(bytes.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, o.fail(name, "not a boolean (%s)", jsonKind(v))
}

// optString decodes a JSON string that may be absent or null, bounded to
// max bytes (longer text is an error, not cut: nothing is dropped silently).
func (o *object) optString(name string, max int) (string, error) {
	v, ok := o.opt(name)
	if !ok {
		return "", nil
	}
	s, err := o.strOf(name, v, "a string")
	if err != nil {
		return "", err
	}
	if len(s) > max {
		return "", o.fail(name, "string of %d bytes is longer than %d", len(s), max)
	}
	return s, nil
}

// array splits a required JSON array into its elements, at most max.
func (o *object) array(name string, max int) ([]json.RawMessage, error) {
	v, err := o.get(name)
	if err != nil {
		return nil, err
	}
	return o.arrayOf(name, v, max)
}

func (o *object) arrayOf(name string, v json.RawMessage, max int) ([]json.RawMessage, error) {
	if len(v) == 0 || v[0] != '[' {
		return nil, o.fail(name, "not an array (%s)", jsonKind(v))
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, o.fail(name, "not a valid JSON array")
	}
	if len(elems) > max {
		return nil, o.fail(name, "has %d elements, more than %d", len(elems), max)
	}
	return elems, nil
}

// child opens element i of array member name as an object.
func (o *object) child(name string, i int, raw json.RawMessage) (*object, error) {
	return newObject(raw, o.where, fmt.Sprintf("%s[%d]", o.field(name), i))
}

// quote quotes s for a message, cut to 80 bytes.
func quote(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "…"
	}
	return strconv.Quote(s)
}

// oneLine puts a message from elsewhere (a node, a library) on one line,
// cut to max bytes.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// nesting returns the deepest nesting of arrays and objects in raw,
// ignoring brackets inside strings; it stops counting at limit+1. It lets
// a decoder refuse a depth bomb in one linear pass before decoding.
func nesting(raw []byte, limit int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}
