package casestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sessions are audited objects (object type "session"): CreateSession
// appends a "create" record with the hash of the new row (which holds the
// secret's SHA-256, never the secret), and every way a session ends
// appends a "delete" record naming the reason: "logout" (DeleteSession, by
// the session's user), "expired" (clean-up, by the system), "password
// changed" and "user disabled" (by whoever did it), "not restored" (Load:
// a dump holds no sessions). Verify compares the sessions table with the
// log like every other audited table, and every authentication compares
// the credential rows it relies on (the session or token, and the user)
// with their latest audit record: a row inserted or edited behind
// Vestigo's back is refused at once, and that refusal is audited.

// CreateSession starts a session for an authenticated principal. The
// secret (for the cookie) and the CSRF token are returned once; the store
// keeps the secret's SHA-256 only. ttl is at most 30 days. Expired
// sessions of anyone are ended on the way (each with its "delete" record).
func (s *Store) CreateSession(ctx context.Context, p Principal, ttl time.Duration) (secret, csrf string, expires time.Time, err error) {
	if ttl <= 0 || ttl > maxSessionTTL {
		return "", "", time.Time{}, invalid("ttl", "%v is not between 0 and %v", ttl, maxSessionTTL)
	}
	if secret, err = s.newSecret(); err != nil {
		return "", "", time.Time{}, err
	}
	if csrf, err = s.newSecret(); err != nil {
		return "", "", time.Time{}, err
	}
	err = s.write(ctx, p, func(o *op) error {
		if err := o.allow(permRead, "start a session", "user", p.UserID, p.AgencyID, p.UserID); err != nil {
			return err
		}
		if err := o.endSessions("expired", true, "expires_at <= ?", micros(o.now)); err != nil {
			return err
		}
		expires = o.now.Add(ttl)
		id, err := s.insertRow(ctx, o.tx, tSessions, row{"user_id": p.UserID, "secret_sha256": secretHash(secret),
			"csrf": csrf, "created_at": micros(o.now), "expires_at": micros(expires)})
		if err != nil {
			return err
		}
		return o.record(ActionCreate, tSessions, id, 0, map[string]any{"user_id": p.UserID,
			"expires": expires.Format(time.RFC3339Nano)})
	})
	if err != nil {
		return "", "", time.Time{}, err
	}
	return secret, csrf, expires, nil
}

// Session returns the principal and CSRF token of a live session;
// ErrUnauthorized for an unknown or expired session, a disabled user, or a
// session or user row that differs from its audit record (that refusal is
// audited). An expired session is ended (audited, by the system).
func (s *Store) Session(ctx context.Context, secret string) (Principal, string, error) {
	var (
		r      row
		p      Principal
		tamper string
		uerr   error
	)
	err := s.readSnapshot(ctx, func(tx *sql.Tx) error {
		rows, err := s.queryRows(ctx, tx, tSessions, "WHERE secret_sha256 = ?", secretHash(secret))
		if err != nil || len(rows) == 0 {
			return err
		}
		r = rows[0]
		if tamper, err = s.rowAudited(ctx, tx, tSessions, r); err != nil {
			return err
		}
		p, uerr = s.activeUser(ctx, tx, r.int("user_id"))
		return nil
	})
	if err != nil {
		return Principal{}, "", fmt.Errorf("casestore: session: %w", err)
	}
	if r == nil {
		return Principal{}, "", fmt.Errorf("casestore: session: %w", ErrUnauthorized)
	}
	var te *tamperedError
	switch {
	case tamper != "":
		return Principal{}, "", s.refuseTampered(ctx, &tamperedError{t: tSessions, id: r.int("id"), why: tamper})
	case r.int("expires_at") <= micros(s.now()):
		if err := s.endSessionBySecret(ctx, secret, "expired"); err != nil {
			return Principal{}, "", err
		}
		return Principal{}, "", fmt.Errorf("casestore: session expired: %w", ErrUnauthorized)
	case errors.As(uerr, &te):
		return Principal{}, "", s.refuseTampered(ctx, te)
	case uerr != nil:
		return Principal{}, "", uerr
	}
	return p, r.str("csrf"), nil
}

// DeleteSession ends a session (logout), audited as a "delete" by the
// session's user. An unknown secret is not an error and writes nothing.
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	return s.endSessionBySecret(ctx, secret, "logout")
}

// endSessionBySecret ends the session of secret, if there is one: a logout
// by its user, or an expiry by the system.
func (s *Store) endSessionBySecret(ctx context.Context, secret, reason string) error {
	// Look first without the writer lock: unknown secrets (anyone can send
	// one) cost a read, not a write.
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM sessions WHERE secret_sha256 = ?`),
		secretHash(secret)).Scan(&n); err != nil {
		return fmt.Errorf("casestore: delete session: %w", err)
	}
	if n == 0 {
		return nil
	}
	err := s.write(context.WithoutCancel(ctx), system, func(o *op) error {
		rows, err := s.queryRows(ctx, o.tx, tSessions, "WHERE secret_sha256 = ?", secretHash(secret))
		if err != nil || len(rows) == 0 {
			return err
		}
		if reason == "expired" {
			return o.endSession(rows[0], reason, true)
		}
		u, err := s.getRow(ctx, o.tx, tUsers, rows[0].int("user_id"))
		if errors.Is(err, errNoRow) {
			return o.endSession(rows[0], reason, true)
		} else if err != nil {
			return err
		}
		if o.p, err = s.principalOf(ctx, o.tx, u); err != nil {
			return err
		}
		return o.endSession(rows[0], reason, false)
	})
	if err != nil {
		return fmt.Errorf("casestore: delete session: %w", err)
	}
	return nil
}

// endSessions ends every session matching where (see endSession).
func (o *op) endSessions(reason string, bySystem bool, where string, args ...any) error {
	rows, err := o.s.listRows(o.ctx, o.tx, tSessions, where, args...)
	if err != nil {
		return fmt.Errorf("casestore: end sessions: %w", err)
	}
	for _, r := range rows {
		if err := o.endSession(r, reason, bySystem); err != nil {
			return err
		}
	}
	return nil
}

// endSession deletes session row r and records it, by the principal of o
// or, bySystem, by the system in the agency of the session's user.
func (o *op) endSession(r row, reason string, bySystem bool) error {
	id, uid := r.int("id"), r.int("user_id")
	if err := o.s.deleteRow(o.ctx, o.tx, tSessions, id); err != nil {
		return err
	}
	rec := func() error {
		return o.record(ActionDelete, tSessions, id, 0, map[string]any{"user_id": uid, "reason": reason})
	}
	if !bySystem {
		return rec()
	}
	var agency int64
	err := o.tx.QueryRowContext(o.ctx, o.s.d.q(`SELECT agency_id FROM users WHERE id = ?`), uid).Scan(&agency)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("casestore: agency of user %d: %w", uid, err)
	}
	return o.asSystem(agency, rec)
}

// asSystem runs fn with the system as the actor of its records, in agency.
func (o *op) asSystem(agency int64, fn func() error) error {
	p, a := o.p, o.agency
	o.p, o.agency = system, agency
	defer func() { o.p, o.agency = p, a }()
	return fn()
}

// activeUser returns the principal of user uid; ErrUnauthorized when the
// user is gone or disabled, a *tamperedError when the row differs from its
// audit record.
func (s *Store) activeUser(ctx context.Context, q querier, uid int64) (Principal, error) {
	u, err := s.getRow(ctx, q, tUsers, uid)
	if errors.Is(err, errNoRow) || (err == nil && u.bool("disabled")) {
		return Principal{}, fmt.Errorf("casestore: user %d is disabled or gone: %w", uid, ErrUnauthorized)
	}
	if err != nil {
		return Principal{}, err
	}
	why, err := s.rowAudited(ctx, q, tUsers, u)
	if err != nil {
		return Principal{}, err
	}
	if why != "" {
		return Principal{}, &tamperedError{t: tUsers, id: uid, why: why}
	}
	return s.principalOf(ctx, q, u)
}

// readSnapshot runs fn in a read transaction that sees one state.
func (s *Store) readSnapshot(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, s.d.snapshot())
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// rowAudited compares row r of audited table t with the latest state
// record of its object: "" when they agree, otherwise what is wrong.
func (s *Store) rowAudited(ctx context.Context, q querier, t *tableSpec, r row) (string, error) {
	var action, hash string
	err := q.QueryRowContext(ctx, s.d.q(`SELECT action, object_hash FROM audit_log
		WHERE object_type = ? AND object_id = ? AND action IN ('create', 'change', 'delete', 'import', 'checkpoint')
		ORDER BY seq DESC LIMIT 1`), t.obj, r.int("id")).Scan(&action, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "is not in the audit log", nil
	case err != nil:
		return "", fmt.Errorf("casestore: audit records of %s %d: %w", t.obj, r.int("id"), err)
	case action == ActionDelete:
		return "exists, but the audit log deleted it", nil
	}
	h, err := rowHash(t, r)
	if err != nil {
		return "", err
	}
	if h != hash {
		return "differs from its audit record", nil
	}
	return "", nil
}

// tamperedError is a credential row (user, token, session) that is not as
// the audit log left it.
type tamperedError struct {
	t   *tableSpec
	id  int64
	why string
}

func (e *tamperedError) Error() string {
	return fmt.Sprintf("casestore: %s %d %s (changed behind Vestigo's back)", e.t.obj, e.id, e.why)
}

// refuseTampered audits an authentication refused because a credential row
// is not as the audit log left it ("login-failed", never aggregated: only
// someone who writes the database causes it), logs it as an error and
// returns ErrUnauthorized.
func (s *Store) refuseTampered(ctx context.Context, te *tamperedError) error {
	s.log.Error("casestore: authentication refused: a credential row does not match the audit log",
		"object", te.t.obj, "id", te.id, "problem", te.why)
	err := s.write(context.WithoutCancel(ctx), system, func(o *op) error {
		return o.append(AuditRecord{Action: ActionLoginFailed, ObjectType: te.t.obj, ObjectID: te.id,
			Detail: mustDetail(map[string]any{"reason": te.t.obj + " row " + te.why + " (changed behind Vestigo's back)"})})
	})
	if err != nil {
		return errors.Join(fmt.Errorf("%s: %w", te.Error(), ErrUnauthorized), fmt.Errorf("casestore: audit the refusal: %w", err))
	}
	return fmt.Errorf("%s: %w", te.Error(), ErrUnauthorized)
}
