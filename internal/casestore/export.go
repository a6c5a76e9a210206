package casestore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ExportCase returns everything of a case: the case, its subjects, items,
// notes, tags, findings, exhibit metadata (the files are ExhibitFiles'),
// tasks, and the audit records about the case. Exporting sends a whole case
// away, so it needs the right to change case content (admins and
// investigators; a refusal is audited). The export is audited ("export");
// that record is not in the returned set.
func (s *Store) ExportCase(ctx context.Context, p Principal, caseID int64) (*CaseRecords, error) {
	var rec CaseRecords
	err := s.write(ctx, p, func(o *op) error {
		c, err := o.loadCase(caseID, permWrite, fmt.Sprintf("export case %d", caseID))
		if err != nil {
			return err
		}
		rec = CaseRecords{Case: caseFromRow(c)}
		if err := collect(o, tSubjects, caseID, subjectFromRow, &rec.Subjects); err != nil {
			return err
		}
		if err := collect(o, tItems, caseID, itemFromRow, &rec.Items); err != nil {
			return err
		}
		if err := collect(o, tNotes, caseID, noteFromRow, &rec.Notes); err != nil {
			return err
		}
		if err := collect(o, tTags, caseID, tagFromRow, &rec.Tags); err != nil {
			return err
		}
		if err := collect(o, tFindings, caseID, findingFromRow, &rec.Findings); err != nil {
			return err
		}
		if err := collect(o, tExhibits, caseID, exhibitFromRow, &rec.Exhibits); err != nil {
			return err
		}
		if err := collect(o, tTasks, caseID, taskFromRow, &rec.Tasks); err != nil {
			return err
		}
		rows, err := s.queryRows(ctx, o.tx, tAudit, "WHERE case_id = ? ORDER BY seq", caseID)
		if err != nil {
			return err
		}
		rec.Audit = []AuditRecord{}
		for _, r := range rows {
			rec.Audit = append(rec.Audit, auditFromRow(r))
		}
		return o.append(AuditRecord{Action: ActionExport, ObjectType: "case", ObjectID: caseID, CaseID: caseID,
			Detail: mustDetail(map[string]any{"items": int64(len(rec.Items)), "findings": int64(len(rec.Findings)),
				"exhibits": int64(len(rec.Exhibits)), "audit_records": int64(len(rec.Audit))})})
	})
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

func collect[T any](o *op, t *tableSpec, caseID int64, conv func(row) T, out *[]T) error {
	rows, err := o.s.listRows(o.ctx, o.tx, t, "case_id = ?", caseID)
	if err != nil {
		return err
	}
	*out = make([]T, 0, len(rows))
	for _, r := range rows {
		*out = append(*out, conv(r))
	}
	return nil
}

// ImportCase creates a new case in the principal's agency from an exported
// one (e.g. read from a case package): the case keeps its reference,
// title, status, legal basis and dates, and records the origin (agency,
// package digest, sender key) and when it was imported; items and findings
// keep their provenance exactly, Actor and At included; notes and tags
// follow their items. Lead user, assignees and authors of another
// installation are not carried over (created_by is the importer). Exhibit
// files must already be in the exhibit store (StoreExhibitFile). The
// sender's audit records are not copied (the package keeps them); every
// imported row is audited "import". ErrConflict when the reference is
// taken in the agency.
func (s *Store) ImportCase(ctx context.Context, p Principal, rec *CaseRecords, origin Origin) (Case, error) {
	if err := CheckImport(rec, origin); err != nil {
		return Case{}, err
	}
	c := rec.Case
	var out Case
	err := s.write(ctx, p, func(o *op) error {
		if err := o.allow(permWrite, "import case "+c.Reference, "case", 0, p.AgencyID, 0); err != nil {
			return err
		}
		if err := o.referenceTaken(c.Reference, 0); err != nil {
			return err
		}
		// Under the writer lock: a file removed as unused
		// (RemoveUnusedExhibitFile) cannot vanish after this check.
		if err := s.exhibitFilesPresent(rec.Exhibits); err != nil {
			return err
		}
		stamp := func(t int64) int64 {
			if t == 0 {
				return micros(o.now)
			}
			return t
		}
		caseID, err := s.insertRow(ctx, o.tx, tCases, row{"agency_id": p.AgencyID, "reference": c.Reference, "title": c.Title,
			"status": string(c.Status), "legal_basis": c.LegalBasis, "lead_user_id": int64(0),
			"opened_at": micros(c.Opened), "closed_at": micros(c.Closed), "origin_agency": origin.Agency,
			"origin_package_digest": origin.PackageDigest, "origin_sender_key_id": origin.SenderKeyID,
			"imported_at": micros(o.now), "version": int64(1), "created_by": p.UserID,
			"created_at": stamp(micros(c.CreatedAt)), "updated_at": micros(o.now)})
		if err != nil {
			return err
		}
		if err := o.record(ActionImport, tCases, caseID, caseID, map[string]any{"origin_agency": origin.Agency,
			"package_digest": origin.PackageDigest, "sender_key_id": origin.SenderKeyID, "origin_case_id": c.ID,
			"reference": c.Reference}); err != nil {
			return err
		}
		ins := func(t *tableSpec, r row, origID int64) (int64, error) {
			r["case_id"] = caseID
			r["created_by"] = p.UserID
			if t.hasCol("version") {
				r["version"] = int64(1)
				r["updated_at"] = micros(o.now)
			}
			id, err := s.insertRow(ctx, o.tx, t, r)
			if err != nil {
				return 0, err
			}
			return id, o.record(ActionImport, t, id, caseID, map[string]any{"origin_id": origID})
		}
		for _, v := range rec.Subjects {
			if _, err := ins(tSubjects, row{"name": v.Name, "kind": string(v.Kind), "notes": v.Notes,
				"created_at": stamp(micros(v.CreatedAt))}, v.ID); err != nil {
				return err
			}
		}
		items := map[int64]int64{}
		for _, v := range rec.Items {
			pv, _ := checkProvenance("provenance", v.Provenance)
			id, err := ins(tItems, row{"kind": string(v.Kind), "chain": v.Chain, "network": v.Network, "ref": v.Ref,
				"label": v.Label, "provenance": pv, "created_at": stamp(micros(v.CreatedAt))}, v.ID)
			if err != nil {
				return err
			}
			items[v.ID] = id
		}
		for i, v := range rec.Notes {
			itemID := int64(0)
			if v.ItemID != 0 {
				var ok bool
				if itemID, ok = items[v.ItemID]; !ok {
					return invalid(fmt.Sprintf("notes[%d].item_id", i), "item %d is not in the case", v.ItemID)
				}
			}
			if _, err := ins(tNotes, row{"item_id": itemID, "text": v.Text, "created_at": stamp(micros(v.CreatedAt))}, v.ID); err != nil {
				return err
			}
		}
		for i, v := range rec.Tags {
			itemID, ok := items[v.ItemID]
			if !ok {
				return invalid(fmt.Sprintf("tags[%d].item_id", i), "item %d is not in the case", v.ItemID)
			}
			if _, err := ins(tTags, row{"item_id": itemID, "label": v.Label, "category": v.Category,
				"created_at": stamp(micros(v.CreatedAt))}, v.ID); err != nil {
				return err
			}
		}
		for _, v := range rec.Findings {
			params, result, _ := checkFinding(&v)
			pv, _ := checkProvenance("provenance", v.Provenance)
			if _, err := ins(tFindings, row{"kind": string(v.Kind), "title": v.Title, "params": params, "result": result,
				"provenance": pv, "created_at": stamp(micros(v.CreatedAt))}, v.ID); err != nil {
				return err
			}
		}
		for _, v := range rec.Exhibits {
			pv, _ := checkProvenance("provenance", v.Provenance)
			if _, err := ins(tExhibits, row{"name": v.Name, "media_type": v.MediaType, "size": v.Size, "sha256": v.SHA256,
				"provenance": pv, "tsa_token": hex.EncodeToString(v.TSAToken), "created_at": stamp(micros(v.CreatedAt))}, v.ID); err != nil {
				return err
			}
		}
		for _, v := range rec.Tasks {
			if _, err := ins(tTasks, row{"title": v.Title, "assignee_id": int64(0), "status": string(v.Status),
				"due_at": micros(v.Due), "created_at": stamp(micros(v.CreatedAt))}, v.ID); err != nil {
				return err
			}
		}
		r, err := s.getRow(ctx, o.tx, tCases, caseID)
		out = caseFromRow(r)
		return err
	})
	return out, err
}

// exhibitFilesPresent checks that the file of every exhibit is in the
// exhibit store with the exhibit's size.
func (s *Store) exhibitFilesPresent(exs []Exhibit) error {
	for i, ex := range exs {
		path, err := s.exhibitPath(ex.SHA256)
		if err != nil {
			return invalid(fmt.Sprintf("exhibits[%d]", i), "%v", err)
		}
		st, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			return invalid(fmt.Sprintf("exhibits[%d]", i), "file %s is not in the exhibit store (StoreExhibitFile first)", ex.SHA256)
		} else if err != nil {
			return fmt.Errorf("casestore: import: %w", err)
		} else if st.Size() != ex.Size {
			return invalid(fmt.Sprintf("exhibits[%d]", i), "size %d, the stored file has %d bytes", ex.Size, st.Size())
		}
	}
	return nil
}

// CheckImport validates the records of an import as ImportCase does
// before it touches the store: the origin, the case and every record, that
// item ids are unique and notes and tags refer to items of the records,
// and that every exhibit names its content by a lower-case hex SHA-256.
// What it cannot check without the store (the reference free in the
// agency, the permission, the exhibit files present) ImportCase checks in
// its transaction. An importer calls it before it stores any exhibit file.
// It may complete rec as ImportCase would (a missing case status is
// "open"). Errors match ErrInvalid and name the record
// ("casestore: invalid notes[2].text: empty").
func CheckImport(rec *CaseRecords, origin Origin) error {
	if rec == nil {
		return invalid("records", "none")
	}
	return checkImport(rec, origin)
}

// checkImport validates every record of an import before anything is
// written.
func checkImport(rec *CaseRecords, origin Origin) error {
	if err := checkText("origin agency", origin.Agency, 1, maxName, true); err != nil {
		return err
	}
	if err := checkText("origin package digest", origin.PackageDigest, 0, maxName, true); err != nil {
		return err
	}
	if err := checkText("origin sender key id", origin.SenderKeyID, 0, maxName, true); err != nil {
		return err
	}
	if err := checkCase(&rec.Case); err != nil {
		return err
	}
	at := func(kind string, i int, err error) error {
		var ie *InvalidError
		if errors.As(err, &ie) {
			return invalid(fmt.Sprintf("%s[%d].%s", kind, i, ie.Field), "%s", ie.Problem)
		}
		return err
	}
	for i := range rec.Subjects {
		if err := checkSubject(&rec.Subjects[i]); err != nil {
			return at("subjects", i, err)
		}
	}
	items := map[int64]bool{}
	for i := range rec.Items {
		if err := checkItem(&rec.Items[i]); err != nil {
			return at("items", i, err)
		}
		if _, err := checkProvenance("provenance", rec.Items[i].Provenance); err != nil {
			return at("items", i, err)
		}
		if items[rec.Items[i].ID] {
			return invalid(fmt.Sprintf("items[%d].id", i), "%d is given twice", rec.Items[i].ID)
		}
		items[rec.Items[i].ID] = true
	}
	for i, n := range rec.Notes {
		if err := checkText("text", n.Text, 1, maxLongText, false); err != nil {
			return at("notes", i, err)
		}
		if n.ItemID != 0 && !items[n.ItemID] {
			return invalid(fmt.Sprintf("notes[%d].item_id", i), "item %d is not in the case", n.ItemID)
		}
	}
	for i, t := range rec.Tags {
		if err := checkText("label", t.Label, 1, maxLabel, true); err != nil {
			return at("tags", i, err)
		}
		if !items[t.ItemID] {
			return invalid(fmt.Sprintf("tags[%d].item_id", i), "item %d is not in the case", t.ItemID)
		}
		if err := checkText("category", t.Category, 0, maxName, true); err != nil {
			return at("tags", i, err)
		}
	}
	for i := range rec.Findings {
		if _, _, err := checkFinding(&rec.Findings[i]); err != nil {
			return at("findings", i, err)
		}
	}
	for i, ex := range rec.Exhibits {
		if err := checkExhibitMeta(ex.Name, ex.MediaType); err != nil {
			return at("exhibits", i, err)
		}
		if _, err := checkProvenance("provenance", ex.Provenance); err != nil {
			return at("exhibits", i, err)
		}
		if ex.Size < 0 || len(ex.TSAToken) > 1<<20 {
			return invalid(fmt.Sprintf("exhibits[%d]", i), "bad size or token")
		}
		if len(ex.SHA256) != 64 || strings.Trim(ex.SHA256, "0123456789abcdef") != "" {
			return invalid(fmt.Sprintf("exhibits[%d].sha256", i), "%q is not a lower-case hex SHA-256", ex.SHA256)
		}
	}
	for i := range rec.Tasks {
		if err := checkTask(&rec.Tasks[i]); err != nil {
			return at("tasks", i, err)
		}
	}
	return nil
}
