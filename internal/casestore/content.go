package casestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// getOwned returns object id of a case-owned table, if the principal may
// read it.
func getOwned[T any](ctx context.Context, s *Store, p Principal, t *tableSpec, id int64, conv func(row) T) (T, error) {
	var out T
	err := s.read(ctx, p, func(o *op) error {
		r, err := o.load(t, id, permRead, fmt.Sprintf("read %s %d", t.obj, id))
		if err == nil {
			out = conv(r)
		}
		return err
	})
	return out, err
}

// listOwned returns the objects of table t of a case, by id.
func listOwned[T any](ctx context.Context, s *Store, p Principal, t *tableSpec, caseID int64, conv func(row) T) ([]T, error) {
	out := []T{}
	err := s.read(ctx, p, func(o *op) error {
		if _, err := o.loadCase(caseID, permRead, fmt.Sprintf("list the %ss of case %d", t.obj, caseID)); err != nil {
			return err
		}
		rows, err := s.listRows(ctx, o.tx, t, "case_id = ?", caseID)
		for _, r := range rows {
			out = append(out, conv(r))
		}
		return err
	})
	return out, err
}

// createOwned inserts a row of t into a case (after the policy allows pm)
// and records it; fill may check more and complete the row.
func createOwned[T any](ctx context.Context, s *Store, p Principal, t *tableSpec, caseID int64, pm perm, r row,
	fill func(o *op) error, conv func(row) T) (T, error) {
	var out T
	err := s.write(ctx, p, func(o *op) error {
		if _, err := o.loadCase(caseID, pm, fmt.Sprintf("add a %s to case %d", t.obj, caseID)); err != nil {
			return err
		}
		r["case_id"] = caseID
		r["created_by"] = p.UserID
		r["created_at"] = micros(o.now)
		if t.hasCol("updated_at") {
			r["updated_at"] = micros(o.now)
			r["version"] = int64(1)
		}
		if fill != nil {
			if err := fill(o); err != nil {
				return err
			}
		}
		id, err := s.insertRow(ctx, o.tx, t, r)
		if err != nil {
			return err
		}
		if err := o.record(ActionCreate, t, id, caseID, nil); err != nil {
			return err
		}
		got, err := s.getRow(ctx, o.tx, t, id)
		out = conv(got)
		return err
	})
	return out, err
}

// updateOwned changes object id of t (the given version) after the policy
// allows pm.
func updateOwned[T any](ctx context.Context, s *Store, p Principal, t *tableSpec, id, version int64, pm perm, set row,
	check func(o *op, cur row) error, conv func(row) T) (T, error) {
	var out T
	if version <= 0 {
		return out, invalid("version", "missing (give the version read)")
	}
	err := s.write(ctx, p, func(o *op) error {
		cur, err := o.load(t, id, pm, fmt.Sprintf("change %s %d", t.obj, id))
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(o, cur); err != nil {
				return err
			}
		}
		set["updated_at"] = micros(o.now)
		if err := s.updateRow(ctx, o.tx, t, id, version, set); err != nil {
			return err
		}
		if err := o.record(ActionChange, t, id, cur.int("case_id"), map[string]any{"version": version + 1}); err != nil {
			return err
		}
		got, err := s.getRow(ctx, o.tx, t, id)
		out = conv(got)
		return err
	})
	return out, err
}

// deleteOwned deletes object id of t, and first the rows that depend on
// it (before is given the loaded row).
func (s *Store) deleteOwned(ctx context.Context, p Principal, t *tableSpec, id int64, pm perm, before func(o *op, r row) error) error {
	return s.write(ctx, p, func(o *op) error {
		r, err := o.load(t, id, pm, fmt.Sprintf("delete %s %d", t.obj, id))
		if err != nil {
			return err
		}
		if before != nil {
			if err := before(o, r); err != nil {
				return err
			}
		}
		return o.remove(t, id, r.int("case_id"))
	})
}

func (t *tableSpec) hasCol(name string) bool {
	for _, c := range t.cols {
		if c.name == name {
			return true
		}
	}
	return false
}

// --- subjects ---------------------------------------------------------------

func subjectFromRow(r row) Subject {
	return Subject{ID: r.int("id"), CaseID: r.int("case_id"), Name: r.str("name"), Kind: SubjectKind(r.str("kind")),
		Notes: r.str("notes"), Version: r.int("version"), CreatedBy: r.int("created_by"),
		CreatedAt: r.time("created_at"), UpdatedAt: r.time("updated_at")}
}

func checkSubject(v *Subject) error {
	if err := checkText("name", v.Name, 1, maxName*2, true); err != nil {
		return err
	}
	if v.Kind == "" {
		v.Kind = SubjectUnknown
	}
	switch v.Kind {
	case SubjectPerson, SubjectOrganisation, SubjectUnknown:
	default:
		return invalid("kind", "%q (person, organisation or unknown)", v.Kind)
	}
	return checkText("notes", v.Notes, 0, maxLongText, false)
}

// CreateSubject adds a subject (name, kind, notes of v) to a case.
func (s *Store) CreateSubject(ctx context.Context, p Principal, caseID int64, v Subject) (Subject, error) {
	if err := checkSubject(&v); err != nil {
		return Subject{}, err
	}
	return createOwned(ctx, s, p, tSubjects, caseID, permWrite,
		row{"name": v.Name, "kind": string(v.Kind), "notes": v.Notes}, nil, subjectFromRow)
}

// GetSubject returns a subject.
func (s *Store) GetSubject(ctx context.Context, p Principal, id int64) (Subject, error) {
	return getOwned(ctx, s, p, tSubjects, id, subjectFromRow)
}

// ListSubjects lists a case's subjects.
func (s *Store) ListSubjects(ctx context.Context, p Principal, caseID int64) ([]Subject, error) {
	return listOwned(ctx, s, p, tSubjects, caseID, subjectFromRow)
}

// UpdateSubject changes a subject's name, kind and notes to v's (v.ID,
// v.Version as read).
func (s *Store) UpdateSubject(ctx context.Context, p Principal, v Subject) (Subject, error) {
	if err := checkSubject(&v); err != nil {
		return Subject{}, err
	}
	return updateOwned(ctx, s, p, tSubjects, v.ID, v.Version, permWrite,
		row{"name": v.Name, "kind": string(v.Kind), "notes": v.Notes}, nil, subjectFromRow)
}

// DeleteSubject deletes a subject.
func (s *Store) DeleteSubject(ctx context.Context, p Principal, id int64) error {
	return s.deleteOwned(ctx, p, tSubjects, id, permWrite, nil)
}

// --- items ------------------------------------------------------------------

func itemFromRow(r row) Item {
	return Item{ID: r.int("id"), CaseID: r.int("case_id"), Kind: ItemKind(r.str("kind")), Chain: r.str("chain"),
		Network: r.str("network"), Ref: r.str("ref"), Label: r.str("label"), Provenance: parseProvenance(r.str("provenance")),
		Version: r.int("version"), CreatedBy: r.int("created_by"), CreatedAt: r.time("created_at"),
		UpdatedAt: r.time("updated_at")}
}

func checkItem(v *Item) error {
	switch v.Kind {
	case ItemAddress, ItemTx, ItemEntity:
	default:
		return invalid("kind", "%q (address, tx or entity)", v.Kind)
	}
	if err := checkText("chain", v.Chain, 1, maxShort, true); err != nil {
		return err
	}
	if err := checkText("network", v.Network, 1, maxShort, true); err != nil {
		return err
	}
	if err := checkText("ref", v.Ref, 1, maxRef, true); err != nil {
		return err
	}
	return checkText("label", v.Label, 0, maxLabel, true)
}

// withActor is a provenance completed by the store: who stored it, when.
func withActor(pv Provenance, p Principal, at time.Time) Provenance {
	pv.Actor, pv.At = p.Username, at
	return pv
}

// AddItem adds an item of interest (kind, chain, network, ref, label and
// provenance of v) to a case; the provenance's Actor and At are set by the
// store.
func (s *Store) AddItem(ctx context.Context, p Principal, caseID int64, v Item) (Item, error) {
	if err := checkItem(&v); err != nil {
		return Item{}, err
	}
	if _, err := checkProvenance("provenance", v.Provenance); err != nil {
		return Item{}, err
	}
	r := row{"kind": string(v.Kind), "chain": v.Chain, "network": v.Network, "ref": v.Ref, "label": v.Label}
	return createOwned(ctx, s, p, tItems, caseID, permWrite, r, func(o *op) (err error) {
		r["provenance"], err = checkProvenance("provenance", withActor(v.Provenance, p, o.now))
		return err
	}, itemFromRow)
}

// GetItem returns an item.
func (s *Store) GetItem(ctx context.Context, p Principal, id int64) (Item, error) {
	return getOwned(ctx, s, p, tItems, id, itemFromRow)
}

// ListItems lists a case's items.
func (s *Store) ListItems(ctx context.Context, p Principal, caseID int64) ([]Item, error) {
	return listOwned(ctx, s, p, tItems, caseID, itemFromRow)
}

// UpdateItemLabel changes an item's label (what it is and where it came
// from do not change: add another item instead).
func (s *Store) UpdateItemLabel(ctx context.Context, p Principal, id, version int64, label string) (Item, error) {
	if err := checkText("label", label, 0, maxLabel, true); err != nil {
		return Item{}, err
	}
	return updateOwned(ctx, s, p, tItems, id, version, permWrite, row{"label": label}, nil, itemFromRow)
}

// DeleteItem deletes an item with its notes and tags.
func (s *Store) DeleteItem(ctx context.Context, p Principal, id int64) error {
	return s.deleteOwned(ctx, p, tItems, id, permWrite, func(o *op, r row) error {
		for _, t := range []*tableSpec{tTags, tNotes} {
			rows, err := s.listRows(ctx, o.tx, t, "item_id = ?", id)
			if err != nil {
				return err
			}
			for _, c := range rows {
				if err := o.remove(t, c.int("id"), r.int("case_id")); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// checkItemOf checks that item id (0: none) is an item of case caseID.
func (o *op) checkItemOf(caseID, id int64) error {
	if id == 0 {
		return nil
	}
	var n int
	if err := o.tx.QueryRowContext(o.ctx, o.s.d.q(`SELECT COUNT(*) FROM items WHERE id = ? AND case_id = ?`), id, caseID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return invalid("item", "no item %d in case %d", id, caseID)
	}
	return nil
}

// --- notes ------------------------------------------------------------------

func noteFromRow(r row) Note {
	return Note{ID: r.int("id"), CaseID: r.int("case_id"), ItemID: r.int("item_id"), Text: r.str("text"),
		Version: r.int("version"), CreatedBy: r.int("created_by"), CreatedAt: r.time("created_at"),
		UpdatedAt: r.time("updated_at")}
}

// AddNote adds a note to a case (itemID 0) or to one of its items.
// Reviewers may add notes.
func (s *Store) AddNote(ctx context.Context, p Principal, caseID, itemID int64, text string) (Note, error) {
	if err := checkText("text", text, 1, maxLongText, false); err != nil {
		return Note{}, err
	}
	return createOwned(ctx, s, p, tNotes, caseID, permAnnotate, row{"item_id": itemID, "text": text},
		func(o *op) error { return o.checkItemOf(caseID, itemID) }, noteFromRow)
}

// GetNote returns a note.
func (s *Store) GetNote(ctx context.Context, p Principal, id int64) (Note, error) {
	return getOwned(ctx, s, p, tNotes, id, noteFromRow)
}

// ListNotes lists a case's notes, those on its items included.
func (s *Store) ListNotes(ctx context.Context, p Principal, caseID int64) ([]Note, error) {
	return listOwned(ctx, s, p, tNotes, caseID, noteFromRow)
}

// UpdateNote changes a note's text (a reviewer only their own notes).
func (s *Store) UpdateNote(ctx context.Context, p Principal, id, version int64, text string) (Note, error) {
	if err := checkText("text", text, 1, maxLongText, false); err != nil {
		return Note{}, err
	}
	return updateOwned(ctx, s, p, tNotes, id, version, permAnnotateOwn, row{"text": text}, nil, noteFromRow)
}

// DeleteNote deletes a note (a reviewer only their own).
func (s *Store) DeleteNote(ctx context.Context, p Principal, id int64) error {
	return s.deleteOwned(ctx, p, tNotes, id, permAnnotateOwn, nil)
}

// --- tags on items ------------------------------------------------------------

func tagFromRow(r row) ItemTag {
	return ItemTag{ID: r.int("id"), CaseID: r.int("case_id"), ItemID: r.int("item_id"), Label: r.str("label"),
		Category: r.str("category"), CreatedBy: r.int("created_by"), CreatedAt: r.time("created_at")}
}

// TagItem puts a user tag (label, category) on an item.
func (s *Store) TagItem(ctx context.Context, p Principal, itemID int64, label, category string) (ItemTag, error) {
	if err := checkText("label", label, 1, maxLabel, true); err != nil {
		return ItemTag{}, err
	}
	if err := checkText("category", category, 0, maxName, true); err != nil {
		return ItemTag{}, err
	}
	var out ItemTag
	err := s.write(ctx, p, func(o *op) error {
		it, err := o.load(tItems, itemID, permWrite, fmt.Sprintf("tag item %d", itemID))
		if err != nil {
			return err
		}
		caseID := it.int("case_id")
		id, err := s.insertRow(ctx, o.tx, tTags, row{"case_id": caseID, "item_id": itemID, "label": label,
			"category": category, "created_by": p.UserID, "created_at": micros(o.now)})
		if err != nil {
			return err
		}
		if err := o.record(ActionCreate, tTags, id, caseID, nil); err != nil {
			return err
		}
		r, err := s.getRow(ctx, o.tx, tTags, id)
		out = tagFromRow(r)
		return err
	})
	return out, err
}

// ListItemTags lists the tags of a case's items.
func (s *Store) ListItemTags(ctx context.Context, p Principal, caseID int64) ([]ItemTag, error) {
	return listOwned(ctx, s, p, tTags, caseID, tagFromRow)
}

// DeleteItemTag removes a tag from an item.
func (s *Store) DeleteItemTag(ctx context.Context, p Principal, id int64) error {
	return s.deleteOwned(ctx, p, tTags, id, permWrite, nil)
}

// --- findings -----------------------------------------------------------------

func findingFromRow(r row) Finding {
	return Finding{ID: r.int("id"), CaseID: r.int("case_id"), Kind: FindingKind(r.str("kind")), Title: r.str("title"),
		Params: json.RawMessage(r.str("params")), Result: json.RawMessage(r.str("result")),
		Provenance: parseProvenance(r.str("provenance")), CreatedBy: r.int("created_by"), CreatedAt: r.time("created_at")}
}

func checkFinding(v *Finding) (params, result string, err error) {
	switch v.Kind {
	case FindingTrace, FindingPath, FindingExposure, FindingPatterns, FindingRisk, FindingScreen, FindingDeposits, FindingOther:
	default:
		return "", "", invalid("kind", "%q (trace, path, exposure, patterns, risk, screen, deposits or other)", v.Kind)
	}
	if err := checkText("title", v.Title, 1, maxTitle, true); err != nil {
		return "", "", err
	}
	if params, err = checkJSON("params", v.Params, maxJSON); err != nil {
		return "", "", err
	}
	if result, err = checkJSON("result", v.Result, maxJSON); err != nil {
		return "", "", err
	}
	if _, err := checkProvenance("provenance", v.Provenance); err != nil {
		return "", "", err
	}
	return params, result, nil
}

// AddFinding stores an analysis result (kind, title, params, result,
// provenance of v) in a case; the JSON is kept as given (compacted), the
// provenance's Actor and At are set by the store.
func (s *Store) AddFinding(ctx context.Context, p Principal, caseID int64, v Finding) (Finding, error) {
	params, result, err := checkFinding(&v)
	if err != nil {
		return Finding{}, err
	}
	r := row{"kind": string(v.Kind), "title": v.Title, "params": params, "result": result}
	return createOwned(ctx, s, p, tFindings, caseID, permWrite, r, func(o *op) (err error) {
		r["provenance"], err = checkProvenance("provenance", withActor(v.Provenance, p, o.now))
		return err
	}, findingFromRow)
}

// GetFinding returns a finding.
func (s *Store) GetFinding(ctx context.Context, p Principal, id int64) (Finding, error) {
	return getOwned(ctx, s, p, tFindings, id, findingFromRow)
}

// ListFindings lists a case's findings.
func (s *Store) ListFindings(ctx context.Context, p Principal, caseID int64) ([]Finding, error) {
	return listOwned(ctx, s, p, tFindings, caseID, findingFromRow)
}

// DeleteFinding deletes a finding.
func (s *Store) DeleteFinding(ctx context.Context, p Principal, id int64) error {
	return s.deleteOwned(ctx, p, tFindings, id, permWrite, nil)
}

// --- tasks --------------------------------------------------------------------

func taskFromRow(r row) Task {
	return Task{ID: r.int("id"), CaseID: r.int("case_id"), Title: r.str("title"), AssigneeID: r.int("assignee_id"),
		Status: TaskStatus(r.str("status")), Due: r.time("due_at"), Version: r.int("version"),
		CreatedBy: r.int("created_by"), CreatedAt: r.time("created_at"), UpdatedAt: r.time("updated_at")}
}

func checkTask(v *Task) error {
	if err := checkText("title", v.Title, 1, maxTitle, true); err != nil {
		return err
	}
	if v.Status == "" {
		v.Status = TaskTodo
	}
	switch v.Status {
	case TaskTodo, TaskDoing, TaskDone:
	default:
		return invalid("status", "%q (todo, doing or done)", v.Status)
	}
	if v.AssigneeID < 0 {
		return invalid("assignee", "negative id %d", v.AssigneeID)
	}
	return nil
}

// CreateTask adds a task (title, assignee, status, due of v) to a case.
// Reviewers may add tasks.
func (s *Store) CreateTask(ctx context.Context, p Principal, caseID int64, v Task) (Task, error) {
	if err := checkTask(&v); err != nil {
		return Task{}, err
	}
	return createOwned(ctx, s, p, tTasks, caseID, permAnnotate,
		row{"title": v.Title, "assignee_id": v.AssigneeID, "status": string(v.Status), "due_at": micros(v.Due)},
		func(o *op) error { return o.checkMember("assignee", v.AssigneeID) }, taskFromRow)
}

// GetTask returns a task.
func (s *Store) GetTask(ctx context.Context, p Principal, id int64) (Task, error) {
	return getOwned(ctx, s, p, tTasks, id, taskFromRow)
}

// ListTasks lists a case's tasks.
func (s *Store) ListTasks(ctx context.Context, p Principal, caseID int64) ([]Task, error) {
	return listOwned(ctx, s, p, tTasks, caseID, taskFromRow)
}

// UpdateTask changes a task's title, assignee, status and due date to v's
// (v.ID, v.Version as read; a reviewer only their own tasks).
func (s *Store) UpdateTask(ctx context.Context, p Principal, v Task) (Task, error) {
	if err := checkTask(&v); err != nil {
		return Task{}, err
	}
	return updateOwned(ctx, s, p, tTasks, v.ID, v.Version, permAnnotateOwn,
		row{"title": v.Title, "assignee_id": v.AssigneeID, "status": string(v.Status), "due_at": micros(v.Due)},
		func(o *op, _ row) error { return o.checkMember("assignee", v.AssigneeID) }, taskFromRow)
}

// DeleteTask deletes a task (a reviewer only their own).
func (s *Store) DeleteTask(ctx context.Context, p Principal, id int64) error {
	return s.deleteOwned(ctx, p, tTasks, id, permAnnotateOwn, nil)
}
