package casestore

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of input, in bytes.
const (
	maxCode       = 32
	maxName       = 200
	maxUsername   = 64
	minPassword   = 8
	maxPassword   = 1024
	maxReference  = 100
	maxTitle      = 500
	maxLongText   = 100_000 // notes, legal basis, subject notes
	maxShort      = 64      // chain, network, kinds
	maxRef        = 512     // address, txid, entity reference
	maxLabel      = 500
	maxJSON       = 8 << 20 // params and result of a finding
	maxProvenance = 64 << 10
	maxTokenName  = 100
)

// checkText validates text input: valid UTF-8, no NUL (PostgreSQL cannot
// store it), between min and max bytes, and on one line without control
// characters when single is set. Anything else is kept exactly as given:
// quotes, SQL and HTML are just text.
func checkText(field, v string, min, max int, single bool) error {
	switch {
	case len(v) < min && min == 1:
		return invalid(field, "empty")
	case len(v) < min:
		return invalid(field, "shorter than %d bytes", min)
	case len(v) > max:
		return invalid(field, "longer than %d bytes", max)
	case !utf8.ValidString(v):
		return invalid(field, "not valid UTF-8")
	case strings.IndexByte(v, 0) >= 0:
		return invalid(field, "contains a NUL character")
	}
	if single {
		for _, r := range v {
			if unicode.IsControl(r) {
				return invalid(field, "contains a control character (%U)", r)
			}
		}
	}
	return nil
}

// checkCode validates identifiers chosen by admins: agency codes and
// usernames (letters, digits, . _ - @).
func checkCode(field, v string, max int) error {
	if err := checkText(field, v, 1, max, true); err != nil {
		return err
	}
	for _, r := range v {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r))) {
			return invalid(field, "%q: only ASCII letters, digits and . _ - @", v)
		}
	}
	return nil
}

// checkJSON validates a JSON value given as raw bytes and returns it
// compacted (empty input is "null" when allowEmpty, an error otherwise).
func checkJSON(field string, raw json.RawMessage, max int) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "null", nil
	}
	if len(raw) > max {
		return "", invalid(field, "longer than %d bytes", max)
	}
	if !json.Valid(raw) {
		return "", invalid(field, "not valid JSON")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", invalid(field, "not valid JSON: %v", err)
	}
	if bytes.Contains(b.Bytes(), []byte(`\u0000`)) {
		return "", invalid(field, "contains a NUL character")
	}
	return b.String(), nil
}

// checkProvenance validates p and returns its stored JSON text.
func checkProvenance(field string, p Provenance) (string, error) {
	for _, f := range []struct{ name, v string }{
		{"source", p.Source}, {"source_identity.node_version", p.SourceIdentity.NodeVersion},
		{"source_identity.genesis_hash", p.SourceIdentity.GenesisHash}, {"chain", p.Chain},
		{"network", p.Network}, {"block_hash", p.BlockHash}, {"vestigo_version", p.VestigoVersion},
		{"actor", p.Actor},
	} {
		if err := checkText(field+"."+f.name, f.v, 0, 2048, false); err != nil {
			return "", err
		}
	}
	if len(bytes.TrimSpace(p.Params)) > 0 {
		c, err := checkJSON(field+".params", p.Params, maxProvenance)
		if err != nil {
			return "", err
		}
		p.Params = json.RawMessage(c)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", invalid(field, "%v", err)
	}
	if len(b) > maxProvenance {
		return "", invalid(field, "longer than %d bytes", maxProvenance)
	}
	return string(b), nil
}

func parseProvenance(s string) Provenance {
	var p Provenance
	_ = json.Unmarshal([]byte(s), &p) // written by checkProvenance; a tampered row shows in Verify
	return p
}
