package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// ContentDigest returns the SHA-256 (hex) of the canonical JSON of m with
// Created and Digest left empty: the report's content hash. Canonical
// JSON is encoding/json's encoding of the Model: struct fields in their
// declared order, map keys (Amount.Fiat) sorted, times in RFC 3339 with
// their offset (assembly records them in UTC). Two Models with the same
// data give the same digest whatever their creation times.
func ContentDigest(m *Model) (string, error) {
	if m == nil {
		return "", fmt.Errorf("report: digest of a nil model")
	}
	c := *m
	c.Created = time.Time{}
	c.Digest = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("report: digest: %v", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Seal sets m.Digest to ContentDigest(m).
func Seal(m *Model) error {
	d, err := ContentDigest(m)
	if err != nil {
		return err
	}
	m.Digest = d
	return nil
}
