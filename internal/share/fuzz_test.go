package share

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
)

// FuzzParseCase: case.json from anyone is refused with ErrFormat or parsed;
// what parses encodes to a case.json that parses to the same encoding.
func FuzzParseCase(f *testing.F) {
	f.Add([]byte(`{"case":{"reference":"A/1","title":"t"},"subjects":[],"items":[],"notes":[],"tags":[],` +
		`"findings":[],"exhibits":[],"tasks":[],"audit":[]}`))
	f.Add([]byte(`{"case":{"reference":"A/1","opened":"2025-01-02T03:04:05.123456Z"},"items":[{"id":1,"kind":"address",` +
		`"provenance":{"params":{"hops":4},"at":"2025-01-02T03:04:05Z"}}],"findings":[{"params":null,"result":[1,2]}],` +
		`"exhibits":[{"sha256":"` + string(bytes.Repeat([]byte("ab"), 32)) + `","size":3,"tsa_token":"AAEC"}]}`))
	f.Add([]byte(`{"case":{},"extra":1}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"case":{"reference":"\u0000"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := parseCase(data)
		if err != nil {
			if !errors.Is(err, casepack.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		once, err := marshalCase(rec)
		if err != nil {
			return // e.g. a RawMessage that is not JSON cannot come from parsing; nothing to compare
		}
		again, err := parseCase(once)
		if err != nil {
			t.Fatalf("our own encoding does not parse: %v\n%s", err, once)
		}
		twice, err := marshalCase(again)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("encoding is not stable: %v\n%s\n%s", err, once, twice)
		}
	})
}
