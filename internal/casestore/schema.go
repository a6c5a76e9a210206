package casestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// colKind is a column's type: a 64-bit integer or text.
type colKind int

const (
	cInt colKind = iota
	cText
)

type column struct {
	name   string
	kind   colKind
	nohash bool // left out of the object's canonical hash
}

// tableSpec describes one table as the migrations create it: its columns in
// order, and, for audited tables, the object type its rows are audited as.
type tableSpec struct {
	name    string
	obj     string // object type of audit records; "" for tables not audited
	cols    []column
	key     string // primary key column ("id", or "seq" for the audit log)
	caseCol bool   // rows belong to a case (column case_id)
}

func cols(spec string) []column {
	var out []column
	for _, f := range strings.Fields(spec) {
		c := column{name: f, kind: cInt}
		if n, ok := strings.CutSuffix(f, ":t"); ok {
			c = column{name: n, kind: cText}
		}
		if n, ok := strings.CutSuffix(c.name, "!"); ok {
			c.name, c.nohash = n, true
		}
		out = append(out, c)
	}
	return out
}

// The tables, in an order that satisfies the foreign keys (Load inserts in
// this order). schema_migrations is not among them.
var (
	tAgencies = &tableSpec{name: "agencies", obj: "agency", key: "id",
		cols: cols("id code:t name:t created_at")}
	tUsers = &tableSpec{name: "users", obj: "user", key: "id",
		cols: cols("id agency_id username:t role:t password_hash:t disabled created_at")}
	tTokens = &tableSpec{name: "api_tokens", obj: "token", key: "id",
		cols: cols("id user_id name:t secret_sha256:t prefix:t created_at last_used_at! revoked")}
	tSessions = &tableSpec{name: "sessions", obj: "session", key: "id",
		cols: cols("id user_id secret_sha256:t csrf:t created_at expires_at")}
	tCases = &tableSpec{name: "cases", obj: "case", key: "id",
		cols: cols("id agency_id reference:t title:t status:t legal_basis:t lead_user_id opened_at closed_at " +
			"origin_agency:t origin_package_digest:t origin_sender_key_id:t imported_at version created_by created_at updated_at")}
	tSubjects = &tableSpec{name: "subjects", obj: "subject", key: "id", caseCol: true,
		cols: cols("id case_id name:t kind:t notes:t version created_by created_at updated_at")}
	tItems = &tableSpec{name: "items", obj: "item", key: "id", caseCol: true,
		cols: cols("id case_id kind:t chain:t network:t ref:t label:t provenance:t version created_by created_at updated_at")}
	tNotes = &tableSpec{name: "notes", obj: "note", key: "id", caseCol: true,
		cols: cols("id case_id item_id text:t version created_by created_at updated_at")}
	tTags = &tableSpec{name: "item_tags", obj: "tag", key: "id", caseCol: true,
		cols: cols("id case_id item_id label:t category:t created_by created_at")}
	tFindings = &tableSpec{name: "findings", obj: "finding", key: "id", caseCol: true,
		cols: cols("id case_id kind:t title:t params:t result:t provenance:t created_by created_at")}
	tExhibits = &tableSpec{name: "exhibits", obj: "exhibit", key: "id", caseCol: true,
		cols: cols("id case_id name:t media_type:t size sha256:t provenance:t tsa_token:t created_by created_at")}
	tTasks = &tableSpec{name: "tasks", obj: "task", key: "id", caseCol: true,
		cols: cols("id case_id title:t assignee_id status:t due_at version created_by created_at updated_at")}
	tCheckpoints = &tableSpec{name: "checkpoints", obj: "checkpoint", key: "id",
		cols: cols("id seq head_hash:t key_id:t public_key:t signature:t tsa_token:t created_at")}
	tAudit = &tableSpec{name: "audit_log", key: "seq",
		cols: cols("seq at actor_id actor:t agency_id action:t object_type:t object_id case_id detail:t object_hash:t prev_hash:t hash:t")}
	tHead = &tableSpec{name: "audit_head", key: "id",
		cols: cols("id seq hash:t")}
	tSettings = &tableSpec{name: "user_settings", key: "user_id",
		cols: cols("user_id language:t updated_at")}

	allTables = []*tableSpec{tAgencies, tUsers, tSettings, tTokens, tSessions, tCases, tSubjects, tItems, tNotes, tTags,
		tFindings, tExhibits, tTasks, tCheckpoints, tAudit, tHead}

	// dumpTables are the tables of a dump: all but sessions, which are
	// credentials of one running installation (a restored store starts
	// with none; see Load).
	dumpTables = []*tableSpec{tAgencies, tUsers, tSettings, tTokens, tCases, tSubjects, tItems, tNotes, tTags,
		tFindings, tExhibits, tTasks, tCheckpoints, tAudit, tHead}
)

// tableByObj finds an audited table by its object type.
func tableByObj(obj string) *tableSpec {
	for _, t := range allTables {
		if t.obj == obj && obj != "" {
			return t
		}
	}
	return nil
}

// row is one row: column name → int64 or string.
type row map[string]any

func (r row) int(c string) int64 {
	v, _ := r[c].(int64)
	return v
}

func (r row) str(c string) string {
	v, _ := r[c].(string)
	return v
}

func (r row) time(c string) time.Time { return fromMicros(r.int(c)) }

func (r row) bool(c string) bool { return r.int(c) != 0 }

// micros is t as stored: microseconds since 1970 UTC, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// querier is a *sql.Tx or *sql.DB.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (t *tableSpec) colNames() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.name
	}
	return out
}

func (t *tableSpec) selectSQL() string {
	return "SELECT " + strings.Join(t.colNames(), ", ") + " FROM " + t.name
}

// normalise turns a driver value into int64 or string by the column's kind.
func normalise(t *tableSpec, c column, v any) (any, error) {
	switch c.kind {
	case cInt:
		switch v := v.(type) {
		case int64:
			return v, nil
		case int32:
			return int64(v), nil
		case int:
			return int64(v), nil
		}
	case cText:
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
	}
	return nil, fmt.Errorf("casestore: %s.%s holds %T (%v), not the column's type", t.name, c.name, v, v)
}

// scanRows reads every row of rs, whose columns are t.cols in order.
func scanRows(t *tableSpec, rs *sql.Rows, each func(row) error) error {
	defer rs.Close()
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return err
		}
		r := make(row, len(t.cols))
		for i, c := range t.cols {
			v, err := normalise(t, c, vals[i])
			if err != nil {
				return err
			}
			r[c.name] = v
		}
		if err := each(r); err != nil {
			return err
		}
	}
	return rs.Err()
}

// errNoRow is getRow's "no such row"; callers turn it into a denial or
// ErrNotFound.
var errNoRow = errors.New("no such row")

func (s *Store) getRow(ctx context.Context, q querier, t *tableSpec, id int64) (row, error) {
	rs, err := q.QueryContext(ctx, s.d.q(t.selectSQL()+" WHERE "+t.key+" = ?"), id)
	if err != nil {
		return nil, err
	}
	var out row
	err = scanRows(t, rs, func(r row) error { out = r; return nil })
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errNoRow
	}
	return out, nil
}

// listRows returns the rows matching where (may be ""), ordered by key.
func (s *Store) listRows(ctx context.Context, q querier, t *tableSpec, where string, args ...any) ([]row, error) {
	tail := ""
	if where != "" {
		tail = "WHERE " + where
	}
	return s.queryRows(ctx, q, t, tail+" ORDER BY "+t.key, args...)
}

// queryRows returns the rows of "SELECT columns FROM table " + tail.
func (s *Store) queryRows(ctx context.Context, q querier, t *tableSpec, tail string, args ...any) ([]row, error) {
	rs, err := q.QueryContext(ctx, s.d.q(t.selectSQL()+" "+tail), args...)
	if err != nil {
		return nil, err
	}
	var out []row
	err = scanRows(t, rs, func(r row) error { out = append(out, r); return nil })
	return out, err
}

// insertRow inserts r (every column but the key) and returns the new key.
func (s *Store) insertRow(ctx context.Context, q querier, t *tableSpec, r row) (int64, error) {
	names := make([]string, 0, len(t.cols))
	args := make([]any, 0, len(t.cols))
	for _, c := range t.cols {
		if c.name == t.key {
			continue
		}
		v, ok := r[c.name]
		if !ok {
			return 0, fmt.Errorf("casestore: insert into %s without %s", t.name, c.name)
		}
		names = append(names, c.name)
		args = append(args, v)
	}
	query := "INSERT INTO " + t.name + " (" + strings.Join(names, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ") RETURNING " + t.key
	var id int64
	if err := q.QueryRowContext(ctx, s.d.q(query), args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("casestore: insert into %s: %w", t.name, err)
	}
	return id, nil
}

// insertFull inserts r with every column, key included (Load).
func (s *Store) insertFull(ctx context.Context, q querier, t *tableSpec, r row) error {
	args := make([]any, len(t.cols))
	for i, c := range t.cols {
		v, ok := r[c.name]
		if !ok {
			return fmt.Errorf("casestore: %s row without %s", t.name, c.name)
		}
		args[i] = v
	}
	query := "INSERT INTO " + t.name + " (" + strings.Join(t.colNames(), ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	_, err := q.ExecContext(ctx, s.d.q(query), args...)
	return err
}

// updateRow sets the columns of set on row id. With version > 0 the row
// must still have that version, which is then increased (ErrConflict
// otherwise).
func (s *Store) updateRow(ctx context.Context, q querier, t *tableSpec, id, version int64, set row) error {
	var parts []string
	var args []any
	for _, c := range t.cols { // column order: a stable statement text
		if v, ok := set[c.name]; ok {
			parts = append(parts, c.name+" = ?")
			args = append(args, v)
		}
	}
	query := "UPDATE " + t.name + " SET " + strings.Join(parts, ", ")
	if version > 0 {
		query += ", version = version + 1"
	}
	query += " WHERE id = ?"
	args = append(args, id)
	if version > 0 {
		query += " AND version = ?"
		args = append(args, version)
	}
	res, err := q.ExecContext(ctx, s.d.q(query), args...)
	if err != nil {
		return fmt.Errorf("casestore: update %s %d: %w", t.obj, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("casestore: %s %d was changed by someone else (version %d is stale): %w", t.obj, id, version, ErrConflict)
	}
	return nil
}

func (s *Store) deleteRow(ctx context.Context, q querier, t *tableSpec, id int64) error {
	_, err := q.ExecContext(ctx, s.d.q("DELETE FROM "+t.name+" WHERE id = ?"), id)
	if err != nil {
		return fmt.Errorf("casestore: delete %s %d: %w", t.obj, id, err)
	}
	return nil
}
