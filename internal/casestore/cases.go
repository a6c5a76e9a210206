package casestore

import (
	"context"
	"errors"
	"fmt"
)

func caseFromRow(r row) Case {
	return Case{ID: r.int("id"), AgencyID: r.int("agency_id"), Reference: r.str("reference"), Title: r.str("title"),
		Status: CaseStatus(r.str("status")), LegalBasis: r.str("legal_basis"), LeadUserID: r.int("lead_user_id"),
		Opened: r.time("opened_at"), Closed: r.time("closed_at"), OriginAgency: r.str("origin_agency"),
		OriginPackageDigest: r.str("origin_package_digest"), OriginSenderKeyID: r.str("origin_sender_key_id"),
		ImportedAt: r.time("imported_at"), Version: r.int("version"), CreatedBy: r.int("created_by"),
		CreatedAt: r.time("created_at"), UpdatedAt: r.time("updated_at")}
}

func checkCase(c *Case) error {
	if err := checkText("reference", c.Reference, 1, maxReference, true); err != nil {
		return err
	}
	if err := checkText("title", c.Title, 1, maxTitle, true); err != nil {
		return err
	}
	if err := checkText("legal basis", c.LegalBasis, 0, maxLongText, false); err != nil {
		return err
	}
	if c.Status == "" {
		c.Status = StatusOpen
	}
	switch c.Status {
	case StatusOpen, StatusClosed, StatusArchived:
	default:
		return invalid("status", "%q (open, closed or archived)", c.Status)
	}
	if c.LeadUserID < 0 {
		return invalid("lead user", "negative id %d", c.LeadUserID)
	}
	if !c.Closed.IsZero() && !c.Opened.IsZero() && c.Closed.Before(c.Opened) {
		return invalid("closed", "before the case was opened")
	}
	return nil
}

// loadCase loads case id for an access pm by the principal.
func (o *op) loadCase(id int64, pm perm, what string) (row, error) {
	r, err := o.s.getRow(o.ctx, o.tx, tCases, id)
	agency := int64(-1)
	switch {
	case err == nil:
		agency = r.int("agency_id")
	case !errors.Is(err, errNoRow):
		return nil, err
	}
	if err := o.allow(pm, what, "case", id, agency, r.int("created_by")); err != nil {
		return nil, err
	}
	return r, nil
}

// load loads object id of a case-owned table t for an access pm: another
// agency's object is not found, and the owner the policy sees is its
// creator.
func (o *op) load(t *tableSpec, id int64, pm perm, what string) (row, error) {
	r, err := o.s.getRow(o.ctx, o.tx, t, id)
	agency := int64(-1)
	switch {
	case err == nil:
		if agency, err = o.caseAgency(r.int("case_id")); err != nil {
			return nil, err
		}
	case !errors.Is(err, errNoRow):
		return nil, err
	}
	if err := o.allow(pm, what, t.obj, id, agency, r.int("created_by")); err != nil {
		return nil, err
	}
	return r, nil
}

// checkMember checks that user id (0: none) belongs to the principal's
// agency.
func (o *op) checkMember(field string, id int64) error {
	if id == 0 {
		return nil
	}
	u, err := o.s.getRow(o.ctx, o.tx, tUsers, id)
	if errors.Is(err, errNoRow) || (err == nil && u.int("agency_id") != o.p.AgencyID) {
		return invalid(field, "no user %d in agency %s", id, o.p.Agency)
	}
	return err
}

func (o *op) referenceTaken(ref string, except int64) error {
	var n int
	err := o.tx.QueryRowContext(o.ctx, o.s.d.q(`SELECT COUNT(*) FROM cases WHERE agency_id = ? AND reference = ? AND id <> ?`),
		o.p.AgencyID, ref, except).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("casestore: case reference %q is taken in agency %s: %w", ref, o.p.Agency, ErrConflict)
	}
	return nil
}

// CreateCase creates a case in the principal's agency from c's reference,
// title, status (default open), legal basis, lead user and dates (Opened
// defaults to now). ErrConflict when the reference is taken.
func (s *Store) CreateCase(ctx context.Context, p Principal, c Case) (Case, error) {
	if err := checkCase(&c); err != nil {
		return Case{}, err
	}
	var out Case
	err := s.write(ctx, p, func(o *op) error {
		if err := o.allow(permWrite, "create case "+c.Reference, "case", 0, p.AgencyID, 0); err != nil {
			return err
		}
		if err := o.referenceTaken(c.Reference, 0); err != nil {
			return err
		}
		if err := o.checkMember("lead user", c.LeadUserID); err != nil {
			return err
		}
		if c.Opened.IsZero() {
			c.Opened = o.now
		}
		if c.Status == StatusClosed && c.Closed.IsZero() {
			c.Closed = o.now
		}
		id, err := s.insertRow(ctx, o.tx, tCases, row{"agency_id": p.AgencyID, "reference": c.Reference, "title": c.Title,
			"status": string(c.Status), "legal_basis": c.LegalBasis, "lead_user_id": c.LeadUserID,
			"opened_at": micros(c.Opened), "closed_at": micros(c.Closed), "origin_agency": "", "origin_package_digest": "",
			"origin_sender_key_id": "", "imported_at": int64(0), "version": int64(1), "created_by": p.UserID,
			"created_at": micros(o.now), "updated_at": micros(o.now)})
		if err != nil {
			return err
		}
		if err := o.record(ActionCreate, tCases, id, id, map[string]any{"reference": c.Reference}); err != nil {
			return err
		}
		r, err := s.getRow(ctx, o.tx, tCases, id)
		out = caseFromRow(r)
		return err
	})
	return out, err
}

// GetCase returns a case of the principal's agency and audits the view.
func (s *Store) GetCase(ctx context.Context, p Principal, id int64) (Case, error) {
	var out Case
	err := s.write(ctx, p, func(o *op) error {
		r, err := o.loadCase(id, permRead, fmt.Sprintf("view case %d", id))
		if err != nil {
			return err
		}
		out = caseFromRow(r)
		return o.append(AuditRecord{Action: ActionView, ObjectType: "case", ObjectID: id, CaseID: id})
	})
	return out, err
}

// ListCases lists the cases of the principal's agency, by id (newest
// first if asked).
func (s *Store) ListCases(ctx context.Context, p Principal, f CaseFilter) ([]Case, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > 1000 || f.Offset < 0 {
		return nil, invalid("limit", "limit %d offset %d (limit 1..1000, offset ≥ 0)", f.Limit, f.Offset)
	}
	var out []Case
	err := s.read(ctx, p, func(o *op) error {
		if err := o.allow(permRead, "list cases", "agency", p.AgencyID, p.AgencyID, 0); err != nil {
			return err
		}
		tail := "WHERE agency_id = ?"
		args := []any{p.AgencyID}
		if f.Status != "" {
			tail += " AND status = ?"
			args = append(args, string(f.Status))
		}
		order := " ORDER BY id"
		if f.NewestFirst {
			order = " ORDER BY id DESC"
		}
		rows, err := s.queryRows(ctx, o.tx, tCases, tail+order+" LIMIT ? OFFSET ?", append(args, limit, f.Offset)...)
		for _, r := range rows {
			out = append(out, caseFromRow(r))
		}
		return err
	})
	return out, err
}

// UpdateCase changes a case's reference, title, status, legal basis, lead
// user and dates to c's. c.Version must be the version read (ErrConflict
// otherwise); closing a case without a Closed date sets it to now. It
// returns the case as stored, with its new version.
func (s *Store) UpdateCase(ctx context.Context, p Principal, c Case) (Case, error) {
	if err := checkCase(&c); err != nil {
		return Case{}, err
	}
	if c.Version <= 0 {
		return Case{}, invalid("version", "missing (give the version read)")
	}
	var out Case
	err := s.write(ctx, p, func(o *op) error {
		if _, err := o.loadCase(c.ID, permWrite, fmt.Sprintf("change case %d", c.ID)); err != nil {
			return err
		}
		if err := o.referenceTaken(c.Reference, c.ID); err != nil {
			return err
		}
		if err := o.checkMember("lead user", c.LeadUserID); err != nil {
			return err
		}
		if c.Status == StatusClosed && c.Closed.IsZero() {
			c.Closed = o.now
		}
		err := s.updateRow(ctx, o.tx, tCases, c.ID, c.Version, row{"reference": c.Reference, "title": c.Title,
			"status": string(c.Status), "legal_basis": c.LegalBasis, "lead_user_id": c.LeadUserID,
			"opened_at": micros(c.Opened), "closed_at": micros(c.Closed), "updated_at": micros(o.now)})
		if err != nil {
			return err
		}
		if err := o.record(ActionChange, tCases, c.ID, c.ID, map[string]any{"version": c.Version + 1}); err != nil {
			return err
		}
		r, err := s.getRow(ctx, o.tx, tCases, c.ID)
		out = caseFromRow(r)
		return err
	})
	return out, err
}

// caseChildren are the case-owned tables in the order a case's rows are
// deleted (referencing tables first).
var caseChildren = []*tableSpec{tTags, tNotes, tFindings, tExhibits, tTasks, tSubjects, tItems}

// DeleteCase deletes a case and everything in it, each row with its own
// audit record. Exhibit files stay in the content store (another case may
// hold the same file; Verify only checks files of live exhibits).
func (s *Store) DeleteCase(ctx context.Context, p Principal, id int64) error {
	return s.write(ctx, p, func(o *op) error {
		if _, err := o.loadCase(id, permWrite, fmt.Sprintf("delete case %d", id)); err != nil {
			return err
		}
		for _, t := range caseChildren {
			rows, err := s.listRows(ctx, o.tx, t, "case_id = ?", id)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if err := o.remove(t, r.int("id"), id); err != nil {
					return err
				}
			}
		}
		return o.remove(tCases, id, id)
	})
}

// remove deletes one row and records it.
func (o *op) remove(t *tableSpec, id, caseID int64) error {
	if err := o.s.deleteRow(o.ctx, o.tx, t, id); err != nil {
		return err
	}
	return o.record(ActionDelete, t, id, caseID, nil)
}

// Deconflict returns the items of a case (addresses and entities) whose
// reference also appears in other cases of the principal's agency, with
// those cases.
func (s *Store) Deconflict(ctx context.Context, p Principal, caseID int64) ([]DeconflictHit, error) {
	var out []DeconflictHit
	err := s.read(ctx, p, func(o *op) error {
		if _, err := o.loadCase(caseID, permRead, fmt.Sprintf("deconflict case %d", caseID)); err != nil {
			return err
		}
		items, err := s.listRows(ctx, o.tx, tItems, "case_id = ? AND kind IN ('address', 'entity')", caseID)
		if err != nil {
			return err
		}
		for _, it := range items {
			rs, err := o.tx.QueryContext(ctx, s.d.q(`SELECT i.id, c.id, c.reference, c.title FROM items i
				JOIN cases c ON c.id = i.case_id
				WHERE i.ref = ? AND i.kind = ? AND i.chain = ? AND i.network = ? AND c.agency_id = ? AND c.id <> ?
				ORDER BY c.id, i.id`),
				it.str("ref"), it.str("kind"), it.str("chain"), it.str("network"), p.AgencyID, caseID)
			if err != nil {
				return err
			}
			hit := DeconflictHit{ItemID: it.int("id"), Kind: ItemKind(it.str("kind")), Chain: it.str("chain"),
				Network: it.str("network"), Ref: it.str("ref")}
			for rs.Next() {
				var ref CaseItemRef
				if err := rs.Scan(&ref.ItemID, &ref.CaseID, &ref.Reference, &ref.Title); err != nil {
					rs.Close()
					return err
				}
				hit.Others = append(hit.Others, ref)
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return err
			}
			if len(hit.Others) > 0 {
				out = append(out, hit)
			}
		}
		return nil
	})
	return out, err
}
