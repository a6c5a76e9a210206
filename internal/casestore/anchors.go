package casestore

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Anchor files. A checkpoint kept outside the database is an anchor
// (Verifier.Anchors). An anchor file is JSON lines: one Checkpoint per
// line, as encoding/json writes it (byte fields in base64), appended by
// AppendAnchor and read by ReadAnchors. Keep it where whoever can write the
// database cannot rewrite it (another machine, append-only storage, a
// printout's digest).

// maxAnchorLine bounds one line of an anchor file (a checkpoint with its
// time-stamp token is a few KiB).
const maxAnchorLine = 4 << 20

// checkAnchor refuses a checkpoint that cannot be an anchor.
func checkAnchor(cp Checkpoint) error {
	switch {
	case cp.Seq < 0:
		return fmt.Errorf("seq %d is negative", cp.Seq)
	case len(cp.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("public_key has %d bytes, not an Ed25519 key", len(cp.PublicKey))
	case cp.KeyID != KeyID(cp.PublicKey):
		return fmt.Errorf("key_id %q is not the id of its public key", cp.KeyID)
	case len(cp.Signature) != ed25519.SignatureSize:
		return fmt.Errorf("signature has %d bytes, not an Ed25519 signature", len(cp.Signature))
	case len(cp.TSAToken) > 1<<20:
		return fmt.Errorf("tsa_token has %d bytes, more than 1 MiB", len(cp.TSAToken))
	}
	if len(cp.HeadHash) != 64 || strings.Trim(cp.HeadHash, "0123456789abcdef") != "" {
		return fmt.Errorf("head_hash %q is not 32 bytes of lower-case hex", cp.HeadHash)
	}
	return nil
}

// AppendAnchor writes cp to w as one line of an anchor file, in one Write
// (open the file with O_APPEND). A checkpoint that cannot be an anchor (bad
// key, signature or hash sizes) is refused before anything is written.
func AppendAnchor(w io.Writer, cp Checkpoint) error {
	if err := checkAnchor(cp); err != nil {
		return invalid("anchor", "checkpoint of record %d: %v", cp.Seq, err)
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("casestore: anchor: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("casestore: write anchor of record %d: %w", cp.Seq, err)
	}
	return nil
}

// ReadAnchors reads an anchor file: every line one checkpoint, strictly
// (no unknown field, sizes of keys, signatures and hashes checked; blank
// lines are allowed). A malformed line is an error naming it (matching
// ErrInvalid): nothing is skipped, a last line cut short by a crash
// included.
func ReadAnchors(r io.Reader) ([]Checkpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxAnchorLine)
	out := []Checkpoint{}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var cp Checkpoint
		if err := dec.Decode(&cp); err != nil {
			return nil, invalid(fmt.Sprintf("anchor file line %d", line), "not a checkpoint: %v", err)
		}
		if dec.More() {
			return nil, invalid(fmt.Sprintf("anchor file line %d", line), "data after the checkpoint")
		}
		if err := checkAnchor(cp); err != nil {
			return nil, invalid(fmt.Sprintf("anchor file line %d", line), "%v", err)
		}
		out = append(out, cp)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, invalid(fmt.Sprintf("anchor file line %d", line+1), "longer than %d bytes", maxAnchorLine)
		}
		return nil, fmt.Errorf("casestore: read anchors: %w", err)
	}
	return out, nil
}
