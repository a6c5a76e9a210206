package tags

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"path/filepath"
	"strings"
)

// plainHeader is the header line of the plain CSV format; a fifth column
// "confidence" is optional.
var plainHeader = []string{"address", "label", "category", "source"}

// isPlainHeader reports whether rec is the plain CSV header.
func isPlainHeader(rec []string) bool {
	if len(rec) != 4 && len(rec) != 5 {
		return false
	}
	for i, h := range plainHeader {
		if strings.ToLower(strings.TrimSpace(strings.TrimPrefix(rec[i], "\ufeff"))) != h {
			return false
		}
	}
	return len(rec) == 4 || strings.ToLower(strings.TrimSpace(rec[4])) == "confidence"
}

// parseCSV reads the plain CSV format: a header line
// "address,label,category,source[,confidence]" and one tag a line. The
// currency follows from the address (BTC if it decodes as a Bitcoin address
// of any network, ETH if it is 0x and 40 hex digits). The category must be a
// concept of the GraphSense taxonomy; an abuse concept (ransomware, scam,
// ...) given there is stored as the tag's abuse. The confidence is a
// taxonomy id or a number 0..100 (then the tag has a level and no id);
// without one the tag gets DefaultConfidence.
func parseCSV(file string, data []byte) (*parsed, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	p := &parsed{format: FormatCSV, title: filepath.Base(file)}
	header := true
	cols := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errAt(file, pe.Line, "malformed CSV: %v", pe.Err)
			}
			return nil, errAt(file, 0, "malformed CSV: %v", err)
		}
		line, _ := r.FieldPos(0)
		if header {
			if !isPlainHeader(rec) {
				return nil, errAt(file, line, "the first line must be the header address,label,category,source[,confidence]")
			}
			cols = len(rec)
			header = false
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != cols {
			return nil, errAt(file, line, "expected %d columns, found %d", cols, len(rec))
		}
		for _, f := range rec {
			if !cleanText(f) {
				return nil, errAt(file, line, "not valid UTF-8 text or holds control characters")
			}
		}
		addr := strings.TrimSpace(rec[0])
		t := Tag{
			Address: addr, Label: strings.TrimSpace(rec[1]), Source: strings.TrimSpace(rec[3]), Line: line,
		}
		t.Currency = inferCurrency(addr)
		if t.Currency == "" {
			cur := "BTC"
			if strings.HasPrefix(addr, "0x") || strings.HasPrefix(addr, "0X") {
				cur = "ETH"
			}
			return nil, errAt(file, line, "invalid %s address %q", cur, truncate(addr, 130))
		}
		if t.Label == "" {
			return nil, errAt(file, line, "empty label")
		}
		if t.Source == "" {
			return nil, errAt(file, line, "empty source")
		}
		if c := strings.TrimSpace(rec[2]); c != "" {
			if IsConcept(c) && isAbuse(c) {
				t.Abuse = c
			} else {
				t.Category = c
			}
		}
		t.Confidence = DefaultConfidence
		if cols == 5 {
			if c := strings.TrimSpace(rec[4]); c != "" {
				id, level, ok := parseConfidence(c)
				if !ok {
					return nil, errAt(file, line, "unknown confidence %q (a GraphSense confidence id or a number 0..100)", truncate(c, 64))
				}
				t.Confidence, t.ConfidenceLevel = id, level
			}
		}
		if err := checkTag(file, &t, func(string) int { return line }, true); err != nil {
			return nil, err
		}
		p.tags = append(p.tags, t)
	}
	if header {
		return nil, errAt(file, 1, "empty file: the first line must be the header address,label,category,source[,confidence]")
	}
	return p, nil
}
