package casestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// op is one transaction of a store method: its principal, its time and,
// for writes, the audit head it holds locked.
type op struct {
	s      *Store
	ctx    context.Context
	tx     *sql.Tx
	p      Principal
	now    time.Time
	locked bool
	seq    int64  // the head: last seq …
	head   string // … and its hash
	agency int64  // agency of records written by the system principal
}

// system is the actor of records the installation writes itself (bootstrap,
// checkpoints).
var system = Principal{Username: "system"}

// write runs fn in a transaction that holds the audit head; fn writes its
// rows and their audit records, all committed together. A refusal of the
// policy (a *deniedError from fn) rolls fn's writes back and appends a
// "denied" record in a transaction of its own.
func (s *Store) write(ctx context.Context, p Principal, fn func(o *op) error) error {
	s.lockWriter()
	defer s.unlockWriter()
	err := s.run(ctx, p, true, fn)
	return s.afterDenial(ctx, p, err, true)
}

// read runs fn in a read transaction; a refusal is audited as in write.
func (s *Store) read(ctx context.Context, p Principal, fn func(o *op) error) error {
	err := s.run(ctx, p, false, fn)
	return s.afterDenial(ctx, p, err, false)
}

func (s *Store) afterDenial(ctx context.Context, p Principal, err error, haveWriter bool) error {
	var d *deniedError
	if !errors.As(err, &d) {
		return err
	}
	if !haveWriter {
		s.lockWriter()
		defer s.unlockWriter()
	}
	// Recorded even when the caller has gone away.
	aerr := s.run(context.WithoutCancel(ctx), p, true, func(o *op) error { return o.denied(d) })
	if aerr != nil {
		s.log.Error("casestore: could not audit a denial", "denial", d.Error(), "err", aerr)
		return errors.Join(err, fmt.Errorf("casestore: audit the denial: %w", aerr))
	}
	return err
}

func (s *Store) run(ctx context.Context, p Principal, lock bool, fn func(o *op) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("casestore: begin: %w", err)
	}
	defer tx.Rollback()
	o := &op{s: s, ctx: ctx, tx: tx, p: p, now: s.now(), locked: lock}
	if lock {
		if o.seq, o.head, err = s.d.lockHead(ctx, tx); err != nil {
			return fmt.Errorf("casestore: lock the audit log: %w", err)
		}
	}
	if err := fn(o); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("casestore: commit: %w", err)
	}
	return nil
}

// allow asks the policy; a refusal is a *deniedError naming the attempt.
func (o *op) allow(pm perm, what, objType string, objID, agency, owner int64) error {
	base, reason := decide(o.p, pm, agency, owner)
	if base == nil {
		return nil
	}
	return &deniedError{base: base, what: what, reason: reason, objType: objType, objID: objID}
}

// denied appends the record of a refused attempt.
func (o *op) denied(d *deniedError) error {
	result := "forbidden"
	switch d.base {
	case ErrNotFound:
		result = "not found"
	case ErrUnauthorized:
		result = "unauthorised"
	}
	return o.append(AuditRecord{
		Action: ActionDenied, ObjectType: d.objType, ObjectID: d.objID,
		Detail: mustDetail(map[string]any{"attempted": d.what, "result": result, "reason": d.reason}),
	})
}

// record appends the audit record of a change to object id of table t:
// its hash after the change, or none after a delete.
func (o *op) record(action string, t *tableSpec, id, caseID int64, detail map[string]any) error {
	objHash := ""
	if action != ActionDelete {
		r, err := o.s.getRow(o.ctx, o.tx, t, id)
		if err != nil {
			return fmt.Errorf("casestore: read back %s %d: %w", t.obj, id, err)
		}
		if objHash, err = rowHash(t, r); err != nil {
			return err
		}
	}
	return o.append(AuditRecord{Action: action, ObjectType: t.obj, ObjectID: id, CaseID: caseID,
		Detail: mustDetail(detail), ObjectHash: objHash})
}

// append adds r to the log after the head held by o, filling seq, time,
// actor, agency and hashes.
func (o *op) append(r AuditRecord) error {
	if !o.locked {
		return errors.New("casestore: internal error: audit append outside a write transaction")
	}
	r.Seq = o.seq + 1
	r.PrevHash = o.head
	r.At = o.now
	r.ActorID, r.Actor, r.AgencyID = o.p.UserID, o.p.Username, o.p.AgencyID
	if o.p.UserID == 0 && o.agency != 0 {
		r.AgencyID = o.agency
	}
	if r.Detail == "" {
		r.Detail = "{}"
	}
	h, err := recordHash(&r)
	if err != nil {
		return err
	}
	r.Hash = h
	if err := o.s.insertFull(o.ctx, o.tx, tAudit, auditRow(&r)); err != nil {
		return fmt.Errorf("casestore: append audit record %d: %w", r.Seq, err)
	}
	if _, err := o.tx.ExecContext(o.ctx, o.s.d.q(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), r.Seq, r.Hash); err != nil {
		return fmt.Errorf("casestore: move the audit head: %w", err)
	}
	o.seq, o.head = r.Seq, r.Hash
	return nil
}

func auditRow(r *AuditRecord) row {
	return row{"seq": r.Seq, "at": micros(r.At), "actor_id": r.ActorID, "actor": r.Actor, "agency_id": r.AgencyID,
		"action": r.Action, "object_type": r.ObjectType, "object_id": r.ObjectID, "case_id": r.CaseID,
		"detail": r.Detail, "object_hash": r.ObjectHash, "prev_hash": r.PrevHash, "hash": r.Hash}
}

func auditFromRow(r row) AuditRecord {
	return AuditRecord{Seq: r.int("seq"), At: r.time("at"), ActorID: r.int("actor_id"), Actor: r.str("actor"),
		AgencyID: r.int("agency_id"), Action: r.str("action"), ObjectType: r.str("object_type"),
		ObjectID: r.int("object_id"), CaseID: r.int("case_id"), Detail: r.str("detail"),
		ObjectHash: r.str("object_hash"), PrevHash: r.str("prev_hash"), Hash: r.str("hash")}
}

// caseAgency is the agency of case id, or -1 when there is no such case.
func (o *op) caseAgency(id int64) (int64, error) {
	var a int64
	err := o.tx.QueryRowContext(o.ctx, o.s.d.q(`SELECT agency_id FROM cases WHERE id = ?`), id).Scan(&a)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("casestore: case %d: %w", id, err)
	}
	return a, nil
}

// Audit appends a record of the caller's: a denial the API decided itself
// (e.g. a route the principal's role lacks) or a read worth recording.
// Action must be "denied", "view" or "export". The principal need not be
// valid (an unauthenticated request may be recorded with a zero
// Principal). The record carries no object hash.
func (s *Store) Audit(ctx context.Context, p Principal, e Event) error {
	switch e.Action {
	case ActionDenied, ActionView, ActionExport:
	default:
		return invalid("action", "%q (Audit records denied, view or export)", e.Action)
	}
	if err := checkText("object type", e.ObjectType, 0, 64, true); err != nil {
		return err
	}
	if len(e.Detail) > 64<<10 {
		return invalid("detail", "longer than 64 KiB")
	}
	detail, err := canonicalDetail(e.Detail)
	if err != nil {
		return err
	}
	if err := checkText("username", p.Username, 0, 256, true); err != nil {
		return err
	}
	return s.write(ctx, p, func(o *op) error {
		return o.append(AuditRecord{Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
			CaseID: e.CaseID, Detail: detail})
	})
}

// ListAudit returns the audit records of the principal's agency (or of one
// of its cases), oldest first, after f.AfterSeq. Only admins and reviewers
// read the log; anyone else is refused (and the refusal audited).
func (s *Store) ListAudit(ctx context.Context, p Principal, f AuditFilter) ([]AuditRecord, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		return nil, invalid("limit", "%d is more than 1000", f.Limit)
	}
	var out []AuditRecord
	err := s.read(ctx, p, func(o *op) error {
		if f.CaseID != 0 {
			a, err := o.caseAgency(f.CaseID)
			if err != nil {
				return err
			}
			if err := o.allow(permAudit, "read the audit log of a case", "case", f.CaseID, a, 0); err != nil {
				return err
			}
			rows, err := s.queryRows(ctx, o.tx, tAudit, "WHERE case_id = ? AND seq > ? ORDER BY seq LIMIT ?", f.CaseID, f.AfterSeq, limit)
			return appendAudit(&out, rows, err)
		}
		if err := o.allow(permAudit, "read the audit log", "agency", p.AgencyID, p.AgencyID, 0); err != nil {
			return err
		}
		rows, err := s.queryRows(ctx, o.tx, tAudit, "WHERE agency_id = ? AND seq > ? ORDER BY seq LIMIT ?", p.AgencyID, f.AfterSeq, limit)
		return appendAudit(&out, rows, err)
	})
	return out, err
}

func appendAudit(out *[]AuditRecord, rows []row, err error) error {
	if err != nil {
		return err
	}
	for _, r := range rows {
		*out = append(*out, auditFromRow(r))
	}
	return nil
}
