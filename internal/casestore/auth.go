package casestore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Secrets handed out: a session secret and an API token are 32 random
// bytes, base64url; a token starts with TokenPrefix so that it is
// recognisable (e.g. by secret scanners). Only their SHA-256 is stored.
const (
	TokenPrefix   = "vgt_"
	tokenShown    = 12 // characters of a token kept as its visible prefix
	maxSessionTTL = 30 * 24 * time.Hour
)

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s *Store) newSecret() (string, error) {
	b, err := s.random(32)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func agencyFromRow(r row) Agency {
	return Agency{ID: r.int("id"), Code: r.str("code"), Name: r.str("name"), CreatedAt: r.time("created_at")}
}

func userFromRow(r row) User {
	return User{ID: r.int("id"), AgencyID: r.int("agency_id"), Username: r.str("username"), Role: Role(r.str("role")),
		Disabled: r.bool("disabled"), CreatedAt: r.time("created_at")}
}

func tokenFromRow(r row) Token {
	return Token{ID: r.int("id"), UserID: r.int("user_id"), Name: r.str("name"), Prefix: r.str("prefix"),
		CreatedAt: r.time("created_at"), LastUsedAt: r.time("last_used_at"), Revoked: r.bool("revoked")}
}

// CreateAgency creates an agency. It is an installation operation (the
// operator's command line), audited as the system; ErrConflict when the
// code is taken.
func (s *Store) CreateAgency(ctx context.Context, code, name string) (Agency, error) {
	if err := checkCode("agency code", code, maxCode); err != nil {
		return Agency{}, err
	}
	if err := checkText("agency name", name, 1, maxName, true); err != nil {
		return Agency{}, err
	}
	var a Agency
	err := s.write(ctx, system, func(o *op) error {
		var n int
		if err := o.tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM agencies WHERE code = ?`), code).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("casestore: agency code %q is taken: %w", code, ErrConflict)
		}
		id, err := s.insertRow(ctx, o.tx, tAgencies, row{"code": code, "name": name, "created_at": micros(o.now)})
		if err != nil {
			return err
		}
		o.agency = id
		if err := o.record(ActionCreate, tAgencies, id, 0, nil); err != nil {
			return err
		}
		a = Agency{ID: id, Code: code, Name: name, CreatedAt: o.now}
		return nil
	})
	return a, err
}

// ListAgencies lists every agency (an installation operation).
func (s *Store) ListAgencies(ctx context.Context) ([]Agency, error) {
	rows, err := s.listRows(ctx, s.db, tAgencies, "")
	if err != nil {
		return nil, fmt.Errorf("casestore: list agencies: %w", err)
	}
	out := make([]Agency, len(rows))
	for i, r := range rows {
		out[i] = agencyFromRow(r)
	}
	return out, nil
}

// BootstrapAdmin creates an admin user in an agency. It is an installation
// operation (the operator's command line, e.g. for the first admin),
// audited as the system.
func (s *Store) BootstrapAdmin(ctx context.Context, agencyID int64, username, password string) (User, error) {
	if err := checkUser(username, RoleAdmin, password); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.write(ctx, system, func(o *op) error {
		var n int
		if err := o.tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM agencies WHERE id = ?`), agencyID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("casestore: agency %d: %w", agencyID, ErrNotFound)
		}
		o.agency = agencyID
		u, err = o.insertUser(agencyID, username, RoleAdmin, hash)
		return err
	})
	return u, err
}

func checkUser(username string, role Role, password string) error {
	if err := checkCode("username", username, maxUsername); err != nil {
		return err
	}
	if !knownRole(role) {
		return invalid("role", "%q (admin, investigator, reviewer or read-only)", role)
	}
	return checkPasswordInput(password)
}

func checkPasswordInput(pw string) error {
	if len(pw) < minPassword {
		return invalid("password", "shorter than %d bytes", minPassword)
	}
	return checkText("password", pw, minPassword, maxPassword, false)
}

func (o *op) insertUser(agencyID int64, username string, role Role, hash string) (User, error) {
	var n int
	if err := o.tx.QueryRowContext(o.ctx, o.s.d.q(`SELECT COUNT(*) FROM users WHERE username = ?`), username).Scan(&n); err != nil {
		return User{}, err
	}
	if n > 0 {
		return User{}, fmt.Errorf("casestore: username %q is taken: %w", username, ErrConflict)
	}
	id, err := o.s.insertRow(o.ctx, o.tx, tUsers, row{"agency_id": agencyID, "username": username, "role": string(role),
		"password_hash": hash, "disabled": int64(0), "created_at": micros(o.now)})
	if err != nil {
		return User{}, err
	}
	if err := o.record(ActionCreate, tUsers, id, 0, map[string]any{"username": username, "role": string(role)}); err != nil {
		return User{}, err
	}
	return User{ID: id, AgencyID: agencyID, Username: username, Role: role, CreatedAt: o.now}, nil
}

// CreateUser creates a user in the admin's agency.
func (s *Store) CreateUser(ctx context.Context, p Principal, username string, role Role, password string) (User, error) {
	if err := checkUser(username, role, password); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.write(ctx, p, func(o *op) error {
		if err := o.allow(permAdmin, "create user "+username, "user", 0, p.AgencyID, 0); err != nil {
			return err
		}
		u, err = o.insertUser(p.AgencyID, username, role, hash)
		return err
	})
	return u, err
}

// userOf loads user id for a change by p; another agency's user is not
// found.
func (o *op) userOf(pm perm, what string, id int64) (row, error) {
	r, err := o.s.getRow(o.ctx, o.tx, tUsers, id)
	agency := int64(-1)
	if err == nil {
		agency = r.int("agency_id")
	} else if !errors.Is(err, errNoRow) {
		return nil, err
	}
	if err := o.allow(pm, what, "user", id, agency, id); err != nil {
		return nil, err
	}
	return r, nil
}

// GetUser returns a user of the principal's agency.
func (s *Store) GetUser(ctx context.Context, p Principal, id int64) (User, error) {
	var u User
	err := s.read(ctx, p, func(o *op) error {
		r, err := o.userOf(permRead, fmt.Sprintf("read user %d", id), id)
		if err == nil {
			u = userFromRow(r)
		}
		return err
	})
	return u, err
}

// ListUsers lists the users of the principal's agency.
func (s *Store) ListUsers(ctx context.Context, p Principal) ([]User, error) {
	var out []User
	err := s.read(ctx, p, func(o *op) error {
		if err := o.allow(permRead, "list users", "agency", p.AgencyID, p.AgencyID, 0); err != nil {
			return err
		}
		rows, err := s.listRows(ctx, o.tx, tUsers, "agency_id = ?", p.AgencyID)
		for _, r := range rows {
			out = append(out, userFromRow(r))
		}
		return err
	})
	return out, err
}

// SetPassword sets a user's password: the user's own, or any of the
// agency's users' by an admin. Every session of the user ends (each with
// its "delete" record, reason "password changed"), the caller's own
// included: whoever held the old password is logged out. API tokens stay
// (RevokeUserTokens revokes them).
func (s *Store) SetPassword(ctx context.Context, p Principal, userID int64, password string) error {
	if err := checkPasswordInput(password); err != nil {
		return err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	return s.write(ctx, p, func(o *op) error {
		if _, err := o.userOf(permSelfOrAdmin, fmt.Sprintf("set the password of user %d", userID), userID); err != nil {
			return err
		}
		if err := s.updateRow(ctx, o.tx, tUsers, userID, 0, row{"password_hash": hash}); err != nil {
			return err
		}
		if err := o.record(ActionChange, tUsers, userID, 0, map[string]any{"changed": "password"}); err != nil {
			return err
		}
		return o.endSessions("password changed", false, "user_id = ?", userID)
	})
}

// SetUserRole changes a user's role (admin only).
func (s *Store) SetUserRole(ctx context.Context, p Principal, userID int64, role Role) error {
	if !knownRole(role) {
		return invalid("role", "%q (admin, investigator, reviewer or read-only)", role)
	}
	return s.write(ctx, p, func(o *op) error {
		if _, err := o.userOf(permAdmin, fmt.Sprintf("set the role of user %d", userID), userID); err != nil {
			return err
		}
		if err := s.updateRow(ctx, o.tx, tUsers, userID, 0, row{"role": string(role)}); err != nil {
			return err
		}
		return o.record(ActionChange, tUsers, userID, 0, map[string]any{"changed": "role", "role": string(role)})
	})
}

// DisableUser disables a user (admin only): their password and tokens stop
// working and their sessions end (each with its "delete" record, reason
// "user disabled"). The account is kept (the audit log names it).
func (s *Store) DisableUser(ctx context.Context, p Principal, userID int64) error {
	return s.setDisabled(ctx, p, userID, true)
}

// EnableUser enables a disabled user again (admin only).
func (s *Store) EnableUser(ctx context.Context, p Principal, userID int64) error {
	return s.setDisabled(ctx, p, userID, false)
}

func (s *Store) setDisabled(ctx context.Context, p Principal, userID int64, disabled bool) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	return s.write(ctx, p, func(o *op) error {
		if _, err := o.userOf(permAdmin, fmt.Sprintf("%s user %d", verb, userID), userID); err != nil {
			return err
		}
		if err := s.updateRow(ctx, o.tx, tUsers, userID, 0, row{"disabled": b2i(disabled)}); err != nil {
			return err
		}
		if err := o.record(ActionChange, tUsers, userID, 0, map[string]any{"changed": "disabled", "disabled": disabled}); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		return o.endSessions("user disabled", false, "user_id = ?", userID)
	})
}

// principalOf builds the principal of user row u.
func (s *Store) principalOf(ctx context.Context, q querier, u row) (Principal, error) {
	var code string
	if err := q.QueryRowContext(ctx, s.d.q(`SELECT code FROM agencies WHERE id = ?`), u.int("agency_id")).Scan(&code); err != nil {
		return Principal{}, fmt.Errorf("casestore: agency of user %d: %w", u.int("id"), err)
	}
	return Principal{UserID: u.int("id"), Username: u.str("username"), AgencyID: u.int("agency_id"), Agency: code,
		Role: Role(u.str("role"))}, nil
}

// AuthenticatePassword checks a username and password. Success is audited
// as "login", failure as "login-failed" (with the username given, at most
// one record per username a minute: see the package documentation); a
// failure is ErrUnauthorized whatever the reason (unknown user, wrong
// password, disabled account, a user row that differs from its audit
// record).
func (s *Store) AuthenticatePassword(ctx context.Context, username, password string) (Principal, error) {
	var (
		u      row
		p      Principal
		ok     bool
		why    = "unknown user"
		tamper string
	)
	shown := username
	if len(shown) > maxUsername*2 || checkText("username", shown, 0, maxUsername*2, true) != nil {
		shown = fmt.Sprintf("%q", truncate(shown, maxUsername))
	}
	if checkCode("username", username, maxUsername) == nil && len(password) <= maxPassword {
		// The row and its audit record in one snapshot.
		err := s.readSnapshot(ctx, func(tx *sql.Tx) error {
			rows, err := s.listRows(ctx, tx, tUsers, "username = ?", username)
			if err != nil || len(rows) != 1 {
				return err
			}
			u = rows[0]
			if tamper, err = s.rowAudited(ctx, tx, tUsers, u); err != nil {
				return err
			}
			p, err = s.principalOf(ctx, tx, u)
			return err
		})
		if err != nil {
			return Principal{}, fmt.Errorf("casestore: authenticate: %w", err)
		}
	}
	if u != nil {
		match, err := checkPassword(u.str("password_hash"), password)
		if err != nil {
			return Principal{}, fmt.Errorf("casestore: authenticate %s: %w", username, err)
		}
		switch {
		case !match:
			why = "wrong password"
		case u.bool("disabled"):
			why = "account disabled"
		case tamper != "":
			return Principal{}, s.refuseTampered(ctx, &tamperedError{t: tUsers, id: p.UserID, why: tamper})
		default:
			ok = true
		}
	} else {
		// As long as a check of a real hash, whether or not the user exists.
		_, _ = s.hashPassword(password)
	}
	if ok {
		err := s.write(ctx, p, func(o *op) error {
			return o.append(AuditRecord{Action: ActionLogin, ObjectType: "user", ObjectID: p.UserID,
				Detail: mustDetail(map[string]any{"method": "password"})})
		})
		if err != nil {
			return Principal{}, err
		}
		return p, nil
	}
	actor := Principal{Username: shown}
	if u != nil {
		actor = p
	}
	if err := s.loginFailed(ctx, failure{kind: "password", key: shown, actor: actor, objType: "user", objID: actor.UserID,
		base: map[string]any{"method": "password", "username": shown}, reason: why}); err != nil {
		return Principal{}, err
	}
	return Principal{}, fmt.Errorf("casestore: login of %s: %w", shown, ErrUnauthorized)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// CreateToken creates an API token for a user: one's own, or any of the
// agency's users' by an admin. The secret is returned once.
func (s *Store) CreateToken(ctx context.Context, p Principal, userID int64, name string) (secret string, id int64, err error) {
	if err := checkText("token name", name, 1, maxTokenName, true); err != nil {
		return "", 0, err
	}
	sec, err := s.newSecret()
	if err != nil {
		return "", 0, err
	}
	secret = TokenPrefix + sec
	err = s.write(ctx, p, func(o *op) error {
		u, err := o.userOf(permSelfOrAdmin, fmt.Sprintf("create a token for user %d", userID), userID)
		if err != nil {
			return err
		}
		if u.bool("disabled") {
			return invalid("user", "user %d is disabled", userID)
		}
		id, err = s.insertRow(ctx, o.tx, tTokens, row{"user_id": userID, "name": name, "secret_sha256": secretHash(secret),
			"prefix": secret[:tokenShown], "created_at": micros(o.now), "last_used_at": int64(0), "revoked": int64(0)})
		if err != nil {
			return err
		}
		return o.record(ActionCreate, tTokens, id, 0, map[string]any{"user_id": userID, "name": name})
	})
	if err != nil {
		return "", 0, err
	}
	return secret, id, nil
}

// ListTokens lists a user's tokens (their own, or as an admin).
func (s *Store) ListTokens(ctx context.Context, p Principal, userID int64) ([]Token, error) {
	var out []Token
	err := s.read(ctx, p, func(o *op) error {
		if _, err := o.userOf(permSelfOrAdmin, fmt.Sprintf("list the tokens of user %d", userID), userID); err != nil {
			return err
		}
		rows, err := s.listRows(ctx, o.tx, tTokens, "user_id = ?", userID)
		for _, r := range rows {
			out = append(out, tokenFromRow(r))
		}
		return err
	})
	return out, err
}

// AuthenticateToken returns the principal of a live token's user and
// records its use; ErrUnauthorized for an unknown or revoked token, a
// disabled user, or a token or user row that differs from its audit record.
// Refusals are audited as "login-failed" with the token's visible prefix,
// at most one record per prefix a minute (see the package documentation).
func (s *Store) AuthenticateToken(ctx context.Context, secret string) (Principal, error) {
	var (
		t      row
		p      Principal
		tamper string
		uerr   error
	)
	err := s.readSnapshot(ctx, func(tx *sql.Tx) error {
		rows, err := s.queryRows(ctx, tx, tTokens, "WHERE secret_sha256 = ?", secretHash(secret))
		if err != nil || len(rows) == 0 {
			return err
		}
		t = rows[0]
		if tamper, err = s.rowAudited(ctx, tx, tTokens, t); err != nil {
			return err
		}
		p, uerr = s.activeUser(ctx, tx, t.int("user_id"))
		return nil
	})
	if err != nil {
		return Principal{}, fmt.Errorf("casestore: token: %w", err)
	}
	if t == nil {
		return Principal{}, s.tokenFailed(ctx, secret, 0, "unknown token")
	}
	id := t.int("id")
	var te *tamperedError
	switch {
	case tamper != "":
		return Principal{}, s.refuseTampered(ctx, &tamperedError{t: tTokens, id: id, why: tamper})
	case t.bool("revoked"):
		return Principal{}, s.tokenFailed(ctx, secret, id, "revoked token")
	case errors.As(uerr, &te):
		return Principal{}, s.refuseTampered(ctx, te)
	case errors.Is(uerr, ErrUnauthorized):
		return Principal{}, s.tokenFailed(ctx, secret, id, "user disabled")
	case uerr != nil:
		return Principal{}, uerr
	}
	s.lockWriter()
	defer s.unlockWriter()
	if _, err := s.db.ExecContext(ctx, s.d.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), micros(s.now()), id); err != nil {
		return Principal{}, fmt.Errorf("casestore: token: record its use: %w", err)
	}
	return p, nil
}

// tokenFailed records a refused token ("login-failed", with the token's
// visible prefix, never the secret; aggregated per prefix) and returns
// ErrUnauthorized.
func (s *Store) tokenFailed(ctx context.Context, secret string, id int64, why string) error {
	shown := truncate(secret, tokenShown)
	if checkText("token", shown, 0, tokenShown, true) != nil {
		shown = fmt.Sprintf("%q", shown)
	}
	if err := s.loginFailed(ctx, failure{kind: "token", key: shown, actor: Principal{Username: "token " + shown},
		objType: "token", objID: id, base: map[string]any{"method": "token", "prefix": shown}, reason: why}); err != nil {
		return err
	}
	return fmt.Errorf("casestore: token %s…: %w", shown, ErrUnauthorized)
}

// RevokeToken revokes a token: its user's, or as an admin of the agency.
func (s *Store) RevokeToken(ctx context.Context, p Principal, id int64) error {
	return s.write(ctx, p, func(o *op) error {
		what := fmt.Sprintf("revoke token %d", id)
		t, err := s.getRow(ctx, o.tx, tTokens, id)
		agency, owner := int64(-1), int64(0)
		if err == nil {
			owner = t.int("user_id")
			if u, err := s.getRow(ctx, o.tx, tUsers, owner); err == nil {
				agency = u.int("agency_id")
			}
		} else if !errors.Is(err, errNoRow) {
			return err
		}
		if err := o.allow(permSelfOrAdmin, what, "token", id, agency, owner); err != nil {
			return err
		}
		if err := s.updateRow(ctx, o.tx, tTokens, id, 0, row{"revoked": int64(1)}); err != nil {
			return err
		}
		return o.record(ActionChange, tTokens, id, 0, map[string]any{"changed": "revoked"})
	})
}

// RevokeUserTokens revokes every live API token of a user of the admin's
// agency (admin only), each with its "change" record, and returns how many
// it revoked.
func (s *Store) RevokeUserTokens(ctx context.Context, p Principal, userID int64) (int, error) {
	n := 0
	err := s.write(ctx, p, func(o *op) error {
		n = 0
		if _, err := o.userOf(permAdmin, fmt.Sprintf("revoke the tokens of user %d", userID), userID); err != nil {
			return err
		}
		rows, err := s.listRows(ctx, o.tx, tTokens, "user_id = ? AND revoked = 0", userID)
		if err != nil {
			return err
		}
		for _, t := range rows {
			id := t.int("id")
			if err := s.updateRow(ctx, o.tx, tTokens, id, 0, row{"revoked": int64(1)}); err != nil {
				return err
			}
			if err := o.record(ActionChange, tTokens, id, 0, map[string]any{"changed": "revoked",
				"reason": "every token of the user revoked"}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
