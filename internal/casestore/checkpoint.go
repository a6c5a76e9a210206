package casestore

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// checkpointDomain separates checkpoint digests from any other signed data.
const checkpointDomain = "vestigo casestore checkpoint v1\x00"

// CheckpointDigest is what a checkpoint signs and time-stamps:
//
//	SHA-256("vestigo casestore checkpoint v1" ‖ 0x00 ‖ seq as 8 bytes big-endian ‖ head hash as 32 bytes)
//
// The signature is Ed25519 over these 32 bytes; the RFC 3161 token's
// message imprint is this digest (SHA-256).
func CheckpointDigest(seq int64, headHash string) ([]byte, error) {
	head, err := hex.DecodeString(headHash)
	if err != nil || len(head) != sha256.Size {
		return nil, fmt.Errorf("casestore: checkpoint head hash %q is not 32 bytes of hex", headHash)
	}
	var b []byte
	b = append(b, checkpointDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, head...)
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// KeyID is the hex SHA-256 of an Ed25519 public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:])
}

func checkpointFromRow(r row) Checkpoint {
	pub, _ := hex.DecodeString(r.str("public_key"))
	sig, _ := hex.DecodeString(r.str("signature"))
	tok, _ := hex.DecodeString(r.str("tsa_token"))
	return Checkpoint{ID: r.int("id"), Seq: r.int("seq"), HeadHash: r.str("head_hash"), KeyID: r.str("key_id"),
		PublicKey: pub, Signature: sig, TSAToken: tok, CreatedAt: r.time("created_at")}
}

// Checkpoint signs the audit log's current head (seq and hash) with the
// installation's key and, when Options.Timestamper is set, time-stamps it.
// The checkpoint is stored and itself recorded in the log (action
// "checkpoint", by the system), after the head it signs.
func (s *Store) Checkpoint(ctx context.Context, signer ed25519.PrivateKey) (Checkpoint, error) {
	if len(signer) != ed25519.PrivateKeySize {
		return Checkpoint{}, invalid("signing key", "not an Ed25519 private key (%d bytes)", len(signer))
	}
	var (
		seq  int64
		head string
	)
	if err := s.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &head); err != nil {
		return Checkpoint{}, fmt.Errorf("casestore: checkpoint: read the audit head: %w", err)
	}
	digest, err := CheckpointDigest(seq, head)
	if err != nil {
		return Checkpoint{}, err
	}
	pub := signer.Public().(ed25519.PublicKey)
	cp := Checkpoint{Seq: seq, HeadHash: head, KeyID: KeyID(pub), PublicKey: pub, Signature: ed25519.Sign(signer, digest)}
	if s.opt.Timestamper != nil {
		if cp.TSAToken, err = s.opt.Timestamper.Timestamp(ctx, digest); err != nil {
			return Checkpoint{}, fmt.Errorf("casestore: checkpoint: time-stamp: %w", err)
		}
	}
	err = s.write(ctx, system, func(o *op) error {
		cp.CreatedAt = o.now
		id, err := s.insertRow(ctx, o.tx, tCheckpoints, row{"seq": seq, "head_hash": head, "key_id": cp.KeyID,
			"public_key": hex.EncodeToString(pub), "signature": hex.EncodeToString(cp.Signature),
			"tsa_token": hex.EncodeToString(cp.TSAToken), "created_at": micros(o.now)})
		if err != nil {
			return err
		}
		cp.ID = id
		return o.record(ActionCheckpoint, tCheckpoints, id, 0, map[string]any{"seq": seq, "key_id": cp.KeyID})
	})
	if err != nil {
		return Checkpoint{}, err
	}
	return cp, nil
}

// ListCheckpoints lists every checkpoint, oldest first.
func (s *Store) ListCheckpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := s.listRows(ctx, s.db, tCheckpoints, "")
	if err != nil {
		return nil, fmt.Errorf("casestore: list checkpoints: %w", err)
	}
	out := make([]Checkpoint, len(rows))
	for i, r := range rows {
		out[i] = checkpointFromRow(r)
	}
	return out, nil
}
