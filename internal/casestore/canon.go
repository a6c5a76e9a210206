package casestore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Canonical encoding. Hashes of audit records and of stored objects are
// computed over a canonical JSON text, never over a database's own
// representation, so the same data hashes the same on SQLite and on
// PostgreSQL:
//
//   - an object's members are sorted by name (names are ASCII, so byte order
//     is the order of RFC 8785, JCS); no whitespace;
//   - a string is written as JCS writes it: '"' and '\' escaped, control
//     characters below U+0020 as \b \t \n \f \r or \u00xx, everything else
//     as its UTF-8 bytes (stored text is valid UTF-8 without NUL);
//   - an integer is written in decimal (all integers are int64: ids,
//     counts, booleans as 0/1, times as microseconds since 1970 UTC);
//   - JSON stored in a column (provenance, params, result, detail) is a
//     string holding the stored text, not re-parsed;
//   - an object row is encoded with a member "_type" naming its object type
//     ("note", "case", …) and one member per column (api_tokens leave out
//     last_used_at, which changes on every use and is not audited).
//
// An audit record's hash is SHA-256(prev ‖ C) where prev is the previous
// record's hash as 32 bytes (32 zero bytes before record 1) and C the
// canonical encoding of the object {seq, at, actor_id, actor, agency_id,
// action, object_type, object_id, case_id, detail, object_hash}.

// zeroHash is the prev_hash of audit record 1.
const zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// canonical writes v, which holds only nil, bool, int, int64, string,
// json.Number, []any, []string and map[string]any.
func canonical(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeCanonical(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case json.Number:
		// Only from Event details: integers are re-written, other
		// numbers kept as written (they were valid JSON numbers).
		if i, err := v.Int64(); err == nil {
			b.WriteString(strconv.FormatInt(i, 10))
		} else {
			b.WriteString(v.String())
		}
	case string:
		writeCanonicalString(b, v)
	case []string:
		b.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonicalString(b, s)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonicalString(b, k)
			b.WriteByte(':')
			if err := writeCanonical(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("casestore: canonical encoding of %T", v)
	}
	return nil
}

func writeCanonicalString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				b.WriteByte(c)
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b.WriteString(`\ufffd`) // never stored: text is validated as UTF-8
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
		i++
	}
	b.WriteByte('"')
}

// canonicalDetail turns a JSON object given by a caller into its canonical
// text (the detail of an audit record).
func canonicalDetail(raw json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "{}", nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", invalid("detail", "not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", invalid("detail", "trailing data after the JSON object")
	}
	if _, ok := v.(map[string]any); !ok {
		return "", invalid("detail", "not a JSON object")
	}
	if err := checkJSONStrings(v); err != nil {
		return "", err
	}
	b, err := canonical(v)
	return string(b), err
}

func checkJSONStrings(v any) error {
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			return invalid("detail", "contains a NUL character")
		}
	case []any:
		for _, e := range v {
			if err := checkJSONStrings(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := checkJSONStrings(k); err != nil {
				return err
			}
			if err := checkJSONStrings(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// mustDetail encodes a detail built by this package.
func mustDetail(m map[string]any) string {
	if m == nil {
		return "{}"
	}
	b, err := canonical(m)
	if err != nil {
		panic(err) // a programming error: details hold only encodable values
	}
	return string(b)
}

// rowHash is the hex SHA-256 of an object row's canonical encoding.
func rowHash(t *tableSpec, r row) (string, error) {
	m := make(map[string]any, len(t.cols)+1)
	m["_type"] = t.obj
	for _, c := range t.cols {
		if c.nohash {
			continue
		}
		v, ok := r[c.name]
		if !ok {
			return "", fmt.Errorf("casestore: %s row without column %s", t.obj, c.name)
		}
		m[c.name] = v
	}
	b, err := canonical(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// recordHash is an audit record's hash (see above).
func recordHash(r *AuditRecord) (string, error) {
	prev, err := hex.DecodeString(r.PrevHash)
	if err != nil || len(prev) != sha256.Size {
		return "", fmt.Errorf("casestore: audit record %d: prev_hash is not 32 bytes of hex", r.Seq)
	}
	b, err := canonical(map[string]any{
		"seq":         r.Seq,
		"at":          micros(r.At),
		"actor_id":    r.ActorID,
		"actor":       r.Actor,
		"agency_id":   r.AgencyID,
		"action":      r.Action,
		"object_type": r.ObjectType,
		"object_id":   r.ObjectID,
		"case_id":     r.CaseID,
		"detail":      r.Detail,
		"object_hash": r.ObjectHash,
	})
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}
