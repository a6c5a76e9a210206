package casestore

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
)

// auditedTables are the tables whose every row Verify compares with the
// audit log.
var auditedTables = []*tableSpec{tAgencies, tUsers, tTokens, tSessions, tCases, tSubjects, tItems, tNotes, tTags,
	tFindings, tExhibits, tTasks, tCheckpoints}

// stateActions are the actions after which a record's object_hash is the
// object's state (empty after a delete).
var stateActions = map[string]bool{ActionCreate: true, ActionChange: true, ActionDelete: true, ActionImport: true,
	ActionCheckpoint: true}

type objKey struct {
	typ string
	id  int64
}

type objState struct {
	seq    int64
	hash   string
	delete bool
}

// Verify checks the whole store in one snapshot, without stopping at the
// first problem:
//
//  1. the audit log: seq contiguous from 1, each prev_hash the hash of the
//     record before, each hash recomputed from the record, the head;
//  2. every checkpoint: its digest, its Ed25519 signature, its key among
//     v.SigningKeys (when given), the hash it signs equal to the log's
//     record at its seq, its time-stamp token (when v.VerifyToken is set);
//  3. every anchor of v.Anchors (checkpoints kept outside the database):
//     its signature by one of v.SigningKeys, the log's record at its seq
//     having the hash it signs (a log rewritten with a recomputed chain
//     and its checkpoints deleted fails here), its checkpoint still in the
//     database, its time-stamp token (when v.VerifyToken is set);
//  4. every live row of every audited table (sessions included): its
//     canonical hash equal to the object_hash of the latest audit record
//     of that object, and every object the log says exists present;
//  5. every exhibit: its file's SHA-256 (and its token).
//
// Problems name the record or object plainly, e.g. "audit record 17: hash
// does not match its content". The report's Anchored is the highest seq an
// anchor vouches for; Unchecked says which records no anchor covers yet.
// The error is for failures to read the store, not for what Verify finds.
func (s *Store) Verify(ctx context.Context, v Verifier) (*VerifyReport, error) {
	tx, err := s.db.BeginTx(ctx, s.d.snapshot())
	if err != nil {
		return nil, fmt.Errorf("casestore: verify: %w", err)
	}
	defer tx.Rollback()
	return s.verifyIn(ctx, tx, v)
}

// verifyIn is Verify in transaction tx (a snapshot, or Load's own).
func (s *Store) verifyIn(ctx context.Context, tx *sql.Tx, v Verifier) (*VerifyReport, error) {
	rep := &VerifyReport{Problems: []string{}}
	add := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }

	// Checkpoints first: the walk remembers the hashes they sign.
	cps, err := s.listRows(ctx, tx, tCheckpoints, "")
	if err != nil {
		return nil, fmt.Errorf("casestore: verify: read checkpoints: %w", err)
	}
	signed := map[int64]string{} // seq → the log's hash there, for checkpoints and anchors
	for _, c := range cps {
		signed[c.int("seq")] = ""
	}
	for _, a := range v.Anchors {
		signed[a.Seq] = ""
	}

	// 1. The log.
	latest := map[objKey]objState{}
	var (
		expect int64 = 1
		prev         = zeroHash
		last   int64
	)
	rs, err := tx.QueryContext(ctx, tAudit.selectSQL()+" ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("casestore: verify: read the audit log: %w", err)
	}
	err = scanRows(tAudit, rs, func(r row) error {
		rec := auditFromRow(r)
		rep.Records++
		switch {
		case rec.Seq > expect && rec.Seq == expect+1:
			add("audit record %d is missing (seq jumps from %d to %d)", expect, expect-1, rec.Seq)
		case rec.Seq > expect:
			add("audit records %d to %d are missing (seq jumps from %d to %d)", expect, rec.Seq-1, expect-1, rec.Seq)
		case rec.Seq < expect: // cannot happen with a primary key, unless the order is broken
			add("audit record %d is out of order (after record %d)", rec.Seq, expect-1)
		default:
			if rec.PrevHash != prev {
				add("audit record %d: prev_hash does not match the hash of record %d", rec.Seq, rec.Seq-1)
			}
		}
		if h, err := recordHash(&rec); err != nil || h != rec.Hash {
			add("audit record %d: hash does not match its content", rec.Seq)
		}
		if _, ok := signed[rec.Seq]; ok {
			signed[rec.Seq] = rec.Hash
		}
		if stateActions[rec.Action] && tableByObj(rec.ObjectType) != nil {
			latest[objKey{rec.ObjectType, rec.ObjectID}] = objState{seq: rec.Seq, hash: rec.ObjectHash,
				delete: rec.Action == ActionDelete}
		}
		prev, last, expect = rec.Hash, rec.Seq, rec.Seq+1
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("casestore: verify: read the audit log: %w", err)
	}
	var headSeq int64
	var headHash string
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			add("the audit head is missing")
		} else {
			return nil, fmt.Errorf("casestore: verify: read the audit head: %w", err)
		}
	}
	rep.HeadSeq, rep.HeadHash = headSeq, headHash
	switch {
	case headSeq > last:
		add("audit log ends at record %d but its head says %d (records %d to %d are missing)", last, headSeq, last+1, headSeq)
	case headSeq < last:
		add("audit log has records after its head (head %d, last record %d)", headSeq, last)
	case headHash != prev:
		add("audit head: hash does not match record %d", last)
	}

	// 2. Checkpoints.
	trusted := map[string]bool{}
	for _, k := range v.SigningKeys {
		trusted[hex.EncodeToString(k)] = true
	}
	if len(cps) > 0 && len(v.SigningKeys) == 0 {
		rep.Unchecked = append(rep.Unchecked, "checkpoint keys: no trusted signing key given (signatures checked against the stored keys only)")
	}
	tokensUnchecked := 0
	for _, r := range cps {
		rep.Checkpoints++
		c := checkpointFromRow(r)
		name := fmt.Sprintf("checkpoint %d (seq %d)", c.ID, c.Seq)
		digest, err := CheckpointDigest(c.Seq, c.HeadHash)
		if err != nil {
			add("%s: head hash is not a SHA-256", name)
			continue
		}
		switch {
		case len(c.PublicKey) != ed25519.PublicKeySize:
			add("%s: public key is not an Ed25519 key", name)
		case KeyID(c.PublicKey) != c.KeyID:
			add("%s: key id does not match its public key", name)
		case !ed25519.Verify(c.PublicKey, digest, c.Signature):
			add("%s: signature does not verify", name)
		case len(v.SigningKeys) > 0 && !trusted[hex.EncodeToString(c.PublicKey)]:
			add("%s: signed by key %s, which is not a trusted signing key", name, c.KeyID)
		}
		switch h, ok := signed[c.Seq]; {
		case c.Seq == 0 && c.HeadHash == zeroHash:
		case c.Seq > last:
			add("%s: signs audit record %d, beyond the end of the log (record %d)", name, c.Seq, last)
		case !ok || h == "":
			add("%s: the audit record %d it signs is missing", name, c.Seq)
		case h != c.HeadHash:
			add("%s: signed hash differs from audit record %d", name, c.Seq)
		}
		if len(c.TSAToken) > 0 {
			if v.VerifyToken == nil {
				tokensUnchecked++
			} else if err := v.VerifyToken(c.TSAToken, digest); err != nil {
				add("%s: time-stamp token does not verify: %v", name, err)
			}
		}
	}

	// 3. Anchors.
	stored := map[string]bool{}
	for _, r := range cps {
		c := checkpointFromRow(r)
		stored[anchorKey(c)] = true
	}
	for _, a := range v.Anchors {
		rep.Anchors++
		name := fmt.Sprintf("checkpoint anchor of record %d", a.Seq)
		digest, err := CheckpointDigest(a.Seq, a.HeadHash)
		if err != nil {
			add("%s: head hash is not a SHA-256", name)
			continue
		}
		ok := false
		switch {
		case len(a.PublicKey) != ed25519.PublicKeySize:
			add("%s: public key is not an Ed25519 key", name)
		case len(v.SigningKeys) == 0:
			add("%s: no trusted signing key given to check its signature", name)
		case !trusted[hex.EncodeToString(a.PublicKey)]:
			add("%s: signed by key %.12s…, which is not a trusted signing key", name, KeyID(a.PublicKey))
		case !ed25519.Verify(a.PublicKey, digest, a.Signature):
			add("%s: signature does not verify", name)
		default:
			ok = true
		}
		switch h := signed[a.Seq]; {
		case a.Seq == 0 && a.HeadHash == zeroHash:
		case a.Seq < 0:
			add("%s: negative seq", name)
			ok = false
		case a.Seq > last:
			add("%s: the log ends at record %d (the log was truncated or rewritten)", name, last)
			ok = false
		case h == "":
			add("%s: the log has no record %d (the log was rewritten)", name, a.Seq)
			ok = false
		case h != a.HeadHash:
			add("%s: the log's record %d has hash %.12s…, the anchor says %.12s… (the log was rewritten)", name, a.Seq, h, a.HeadHash)
			ok = false
		}
		if !stored[anchorKey(a)] {
			add("%s: its checkpoint (id %d) is missing from the database", name, a.ID)
		}
		if len(a.TSAToken) > 0 {
			if v.VerifyToken == nil {
				tokensUnchecked++
			} else if err := v.VerifyToken(a.TSAToken, digest); err != nil {
				add("%s: time-stamp token does not verify: %v", name, err)
			}
		}
		if ok && a.Seq > rep.Anchored {
			rep.Anchored = a.Seq
		}
	}
	if last > rep.Anchored {
		span := fmt.Sprintf("records %d–%d are", rep.Anchored+1, last)
		if rep.Anchored+1 == last {
			span = fmt.Sprintf("record %d is", last)
		}
		if len(v.Anchors) == 0 {
			rep.Unchecked = append(rep.Unchecked, span+" not anchored (no checkpoint anchors given)")
		} else {
			rep.Unchecked = append(rep.Unchecked, span+" not anchored yet")
		}
	}

	// 4. Objects.
	seen := map[objKey]bool{}
	var exhibits []row
	for _, t := range auditedTables {
		rs, err := tx.QueryContext(ctx, t.selectSQL()+" ORDER BY id")
		if err != nil {
			return nil, fmt.Errorf("casestore: verify: read %s: %w", t.name, err)
		}
		err = scanRows(t, rs, func(r row) error {
			rep.Objects++
			id := r.int("id")
			k := objKey{t.obj, id}
			seen[k] = true
			if t == tExhibits {
				exhibits = append(exhibits, r)
			}
			st, ok := latest[k]
			h, err := rowHash(t, r)
			switch {
			case err != nil:
				add("%s %d: cannot be hashed: %v", t.obj, id, err)
			case !ok:
				add("%s %d: not in the audit log (inserted behind Vestigo's back)", t.obj, id)
			case st.delete:
				add("%s %d: exists, but audit record %d deleted it", t.obj, id, st.seq)
			case h != st.hash:
				add("%s %d: stored content differs from audit record %d", t.obj, id, st.seq)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("casestore: verify: read %s: %w", t.name, err)
		}
	}
	var gone []objKey
	for k, st := range latest {
		if !st.delete && !seen[k] {
			gone = append(gone, k)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return latest[gone[i]].seq < latest[gone[j]].seq })
	for _, k := range gone {
		add("%s %d: missing (audit record %d says it exists: deleted behind Vestigo's back)", k.typ, k.id, latest[k].seq)
	}

	// 5. Exhibit files.
	if len(exhibits) > 0 && s.opt.ExhibitDir == "" {
		rep.Unchecked = append(rep.Unchecked, "exhibit files: no ExhibitDir configured")
	}
	fileHash := map[string]string{} // content address → what the file hashes to ("" if unreadable)
	for _, r := range exhibits {
		if s.opt.ExhibitDir == "" {
			break
		}
		rep.Exhibits++
		ex := exhibitFromRow(r)
		name := fmt.Sprintf("exhibit %d (sha256 %.12s…)", ex.ID, ex.SHA256)
		got, ok := fileHash[ex.SHA256]
		if !ok {
			path, err := s.exhibitPath(ex.SHA256)
			if err == nil {
				got, err = hashFile(path)
			}
			switch {
			case errors.Is(err, os.ErrNotExist):
				got = "missing"
			case err != nil:
				got = "unreadable: " + err.Error()
			}
			fileHash[ex.SHA256] = got
		}
		switch {
		case got == "missing":
			add("%s: file is missing", name)
		case got != ex.SHA256 && len(got) != 64:
			add("%s: file is %s", name, got)
		case got != ex.SHA256:
			add("%s: file content differs", name)
		}
		if len(ex.TSAToken) > 0 {
			digest, _ := hex.DecodeString(ex.SHA256)
			if v.VerifyToken == nil {
				tokensUnchecked++
			} else if err := v.VerifyToken(ex.TSAToken, digest); err != nil {
				add("%s: time-stamp token does not verify: %v", name, err)
			}
		}
	}
	if tokensUnchecked > 0 {
		rep.Unchecked = append(rep.Unchecked, fmt.Sprintf("%d time-stamp tokens: no token verifier given", tokensUnchecked))
	}
	return rep, nil
}

// anchorKey identifies a checkpoint by what it signs and its signature.
func anchorKey(c Checkpoint) string {
	return fmt.Sprintf("%d/%s/%x", c.Seq, c.HeadHash, c.Signature)
}
