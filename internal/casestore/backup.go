package casestore

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// DumpFormat names the dump format in its header.
const DumpFormat = "vestigo-casestore-dump/1"

// DumpHeader is the first line of a dump.
type DumpHeader struct {
	Format        string           `json:"format"`
	SchemaVersion int              `json:"schema_version"`
	Backend       string           `json:"backend"` // where it was dumped from
	Counts        map[string]int64 `json:"counts"`  // rows per table
}

// dumpLine is every other line: one row of one table.
type dumpLine struct {
	Table string         `json:"table"`
	Row   map[string]any `json:"row"`
}

// Dump writes the whole store as JSON lines: a DumpHeader, then every row
// of every table (in foreign-key order, each table by id), all read in one
// snapshot (REPEATABLE READ on PostgreSQL). Exhibit files are not in it:
// copy those listed by ExhibitFiles. Sessions are not in it (they are the
// running installation's credentials; a restored store starts without any,
// see Load); their audit records are. Schema migrations are the header's
// schema version.
func (s *Store) Dump(ctx context.Context, w io.Writer) error {
	tx, err := s.db.BeginTx(ctx, s.d.snapshot())
	if err != nil {
		return fmt.Errorf("casestore: dump: %w", err)
	}
	defer tx.Rollback()
	h := DumpHeader{Format: DumpFormat, SchemaVersion: SchemaVersion(), Backend: s.d.String(), Counts: map[string]int64{}}
	for _, t := range dumpTables {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&n); err != nil {
			return fmt.Errorf("casestore: dump: count %s: %w", t.name, err)
		}
		h.Counts[t.name] = n
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("casestore: dump: %w", err)
	}
	for _, t := range dumpTables {
		rs, err := tx.QueryContext(ctx, t.selectSQL()+" ORDER BY "+t.key)
		if err != nil {
			return fmt.Errorf("casestore: dump %s: %w", t.name, err)
		}
		var n int64
		err = scanRows(t, rs, func(r row) error {
			n++
			return enc.Encode(dumpLine{Table: t.name, Row: r})
		})
		if err != nil {
			return fmt.Errorf("casestore: dump %s: %w", t.name, err)
		}
		if n != h.Counts[t.name] {
			return fmt.Errorf("casestore: dump %s: %d rows, counted %d (not a snapshot?)", t.name, n, h.Counts[t.name])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("casestore: dump: %w", err)
	}
	return nil
}

// Empty reports whether the store holds nothing at all (no row, no audit
// record): what Load requires.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	for _, t := range allTables {
		if t == tHead {
			continue
		}
		var n int64
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&n); err != nil {
			return false, fmt.Errorf("casestore: %w", err)
		}
		if n > 0 {
			return false, nil
		}
	}
	return true, nil
}

// Load restores a dump into an empty store (no row, no audit record),
// keeping every id and the audit log as they were, so that Verify passes
// on the restored store once the exhibit files are copied back. A dump
// holds no sessions: for every session its log says is open, Load appends
// a "delete" record (by the system, reason "not restored"), so the
// restored log ends them and every earlier record, anchors included, stays
// as it was. New ids continue after every id the log has ever named. All
// or nothing: one transaction. The dump must be of this build's schema
// version; every row is checked against the table's columns.
func (s *Store) Load(ctx context.Context, r io.Reader) error {
	_, err := s.load(ctx, r, nil)
	return err
}

// LoadVerified is Load followed, in the same transaction, by Verify with v:
// the load is committed only when the loaded store verifies without a
// problem. Otherwise nothing is loaded (the store stays empty) and the
// report comes back with an error matching ErrVerification. Copy the
// exhibit files in first (PutExhibitContent): Verify checks them too.
func (s *Store) LoadVerified(ctx context.Context, r io.Reader, v Verifier) (*VerifyReport, error) {
	return s.load(ctx, r, &v)
}

func (s *Store) load(ctx context.Context, r io.Reader, v *Verifier) (*VerifyReport, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.UseNumber()
	var h DumpHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("casestore: load: header: %w", err)
	}
	if h.Format != DumpFormat {
		return nil, fmt.Errorf("casestore: load: format %q, want %q: %w", h.Format, DumpFormat, ErrInvalid)
	}
	if h.SchemaVersion != SchemaVersion() {
		return nil, fmt.Errorf("casestore: load: dump of schema version %d, this build has %d: %w", h.SchemaVersion, SchemaVersion(), ErrInvalid)
	}
	byName := map[string]*tableSpec{}
	order := map[string]int{}
	for i, t := range dumpTables {
		byName[t.name] = t
		order[t.name] = i
	}
	s.lockWriter()
	defer s.unlockWriter()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("casestore: load: %w", err)
	}
	defer tx.Rollback()
	seq, _, err := s.d.lockHead(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("casestore: load: %w", err)
	}
	for _, t := range allTables {
		if t == tHead {
			continue
		}
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&n); err != nil {
			return nil, fmt.Errorf("casestore: load: %w", err)
		}
		if n > 0 || seq > 0 {
			return nil, fmt.Errorf("casestore: load: the store is not empty (%s has %d rows): %w", t.name, n, ErrConflict)
		}
	}
	counts := map[string]int64{}
	cur := 0
	for line := 2; ; line++ {
		var dl dumpLine
		if err := dec.Decode(&dl); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("casestore: load: line %d: %w", line, err)
		}
		t, ok := byName[dl.Table]
		if !ok {
			return nil, fmt.Errorf("casestore: load: line %d: unknown table %q: %w", line, dl.Table, ErrInvalid)
		}
		if order[t.name] < cur {
			return nil, fmt.Errorf("casestore: load: line %d: table %s out of order: %w", line, t.name, ErrInvalid)
		}
		cur = order[t.name]
		rw, err := rowFromDump(t, dl.Row)
		if err != nil {
			return nil, fmt.Errorf("casestore: load: line %d: %w", line, err)
		}
		if t == tHead {
			if rw.int("id") != 1 {
				return nil, fmt.Errorf("casestore: load: line %d: audit head id %d: %w", line, rw.int("id"), ErrInvalid)
			}
			_, err = tx.ExecContext(ctx, s.d.q(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), rw.int("seq"), rw.str("hash"))
		} else {
			err = s.insertFull(ctx, tx, t, rw)
		}
		if err != nil {
			return nil, fmt.Errorf("casestore: load: line %d: %s: %w", line, t.name, err)
		}
		counts[t.name]++
	}
	var diff []string
	for _, t := range dumpTables {
		if counts[t.name] != h.Counts[t.name] {
			diff = append(diff, fmt.Sprintf("%s %d of %d", t.name, counts[t.name], h.Counts[t.name]))
		}
	}
	for name := range h.Counts {
		if _, ok := byName[name]; !ok {
			diff = append(diff, fmt.Sprintf("%s is not a table of a dump", name))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		return nil, fmt.Errorf("casestore: load: rows read differ from the header (%s; truncated dump?): %w",
			strings.Join(diff, ", "), ErrInvalid)
	}
	for _, t := range allTables {
		if t.key != "id" || t == tHead {
			continue
		}
		var next int64
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COALESCE(MAX(m), 0) + 1 FROM (
			SELECT MAX(id) AS m FROM `+t.name+` UNION ALL SELECT MAX(object_id) AS m FROM audit_log WHERE object_type = ?) AS ids`),
			t.obj).Scan(&next); err != nil {
			return nil, fmt.Errorf("casestore: load: the ids of %s: %w", t.name, err)
		}
		if err := s.d.setIdentity(ctx, tx, t.name, next); err != nil {
			return nil, fmt.Errorf("casestore: load: reset the ids of %s: %w", t.name, err)
		}
	}
	if err := s.endDumpedSessions(ctx, tx); err != nil {
		return nil, fmt.Errorf("casestore: load: %w", err)
	}
	var rep *VerifyReport
	if v != nil {
		if rep, err = s.verifyIn(ctx, tx, *v); err != nil {
			return nil, fmt.Errorf("casestore: load: %w", err)
		}
		if !rep.OK() {
			return rep, fmt.Errorf("casestore: load: the loaded store does not verify (%d problems; the first: %s); nothing was loaded: %w",
				len(rep.Problems), rep.First(), ErrVerification)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("casestore: load: commit: %w", err)
	}
	return rep, nil
}

// endDumpedSessions appends, after a load, a "delete" record for every
// session the loaded log says is open (the dump holds no session rows).
func (s *Store) endDumpedSessions(ctx context.Context, tx *sql.Tx) error {
	rows, err := s.queryRows(ctx, tx, tAudit, "WHERE object_type = 'session' AND action IN ('create', 'delete') ORDER BY seq")
	if err != nil {
		return fmt.Errorf("the sessions of the log: %w", err)
	}
	open := map[int64]AuditRecord{}
	for _, r := range rows {
		rec := auditFromRow(r)
		if rec.Action == ActionCreate {
			open[rec.ObjectID] = rec
		} else {
			delete(open, rec.ObjectID)
		}
	}
	if len(open) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(open))
	for id := range open {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	o := &op{s: s, ctx: ctx, tx: tx, p: system, now: s.now(), locked: true}
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&o.seq, &o.head); err != nil {
		return fmt.Errorf("read the audit head: %w", err)
	}
	for _, id := range ids {
		var uid int64
		var d map[string]any
		if json.Unmarshal([]byte(open[id].Detail), &d) == nil {
			if n, ok := d["user_id"].(float64); ok {
				uid = int64(n)
			}
		}
		o.agency = open[id].AgencyID
		if err := o.append(AuditRecord{Action: ActionDelete, ObjectType: tSessions.obj, ObjectID: id,
			Detail: mustDetail(map[string]any{"user_id": uid, "reason": "not restored (a dump holds no sessions)"})}); err != nil {
			return err
		}
	}
	return nil
}

func rowFromDump(t *tableSpec, m map[string]any) (row, error) {
	if len(m) != len(t.cols) {
		return nil, fmt.Errorf("%s row has %d columns, want %d: %w", t.name, len(m), len(t.cols), ErrInvalid)
	}
	r := row{}
	for _, c := range t.cols {
		v, ok := m[c.name]
		if !ok {
			return nil, fmt.Errorf("%s row without %s: %w", t.name, c.name, ErrInvalid)
		}
		switch c.kind {
		case cInt:
			n, ok := v.(json.Number)
			if !ok {
				return nil, fmt.Errorf("%s.%s is not an integer: %w", t.name, c.name, ErrInvalid)
			}
			i, err := n.Int64()
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %v: %w", t.name, c.name, err, ErrInvalid)
			}
			r[c.name] = i
		case cText:
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s.%s is not a string: %w", t.name, c.name, ErrInvalid)
			}
			if strings.IndexByte(s, 0) >= 0 {
				return nil, fmt.Errorf("%s.%s holds a NUL character: %w", t.name, c.name, ErrInvalid)
			}
			r[c.name] = s
		}
	}
	return r, nil
}
