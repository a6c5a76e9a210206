package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// Case management over the case store. The store decides what the
// principal may see (another agency's objects are not found) and audits
// every change; the handlers check that an object named under a case
// belongs to that case.

// caseRoutes are the routes of cases and everything in them, users,
// tokens and the audit log.
func (s *Server) caseRoutes(caseID param, page []param) []*route {
	c := v1 + "/cases/{case}"
	obj := func(name, what string) []param { return []param{caseID, pathID(name, "the "+what+"'s id")} }
	return []*route{
		{method: "GET", path: v1 + "/cases", tag: "cases", sum: "The agency's cases", perm: permRead,
			params: append([]param{queryStr("status", "only cases of this status", "", "open", "closed", "archived"),
				queryBool("newest_first", "the most recently opened cases first")}, page...), handle: s.listCases},
		{method: "POST", path: v1 + "/cases", tag: "cases", sum: "Open a case", perm: permWrite, body: bodyJSON, request: "NewCase", status: http.StatusCreated, handle: s.createCase},
		{method: "GET", path: c, tag: "cases", sum: "A case", perm: permRead, params: []param{caseID}, handle: s.getCase},
		{method: "PATCH", path: c, tag: "cases", sum: "Change a case (give the version read)", perm: permWrite, params: []param{caseID}, body: bodyJSON, request: "CasePatch", handle: s.patchCase},
		{method: "DELETE", path: c, tag: "cases", sum: "Delete a case and everything in it", perm: permWrite, params: []param{caseID}, status: http.StatusNoContent, handle: s.deleteCase},
		{method: "GET", path: c + "/deconflict", tag: "cases", sum: "Items of the case that other cases of the agency also hold", perm: permRead, params: []param{caseID}, handle: s.deconflict},

		{method: "GET", path: c + "/subjects", tag: "subjects", sum: "The case's subjects", perm: permRead, params: []param{caseID}, handle: s.listSubjects},
		{method: "POST", path: c + "/subjects", tag: "subjects", sum: "Add a subject", perm: permWrite, params: []param{caseID}, body: bodyJSON, request: "NewSubject", status: http.StatusCreated, handle: s.createSubject},
		{method: "GET", path: c + "/subjects/{subject}", tag: "subjects", sum: "A subject", perm: permRead, params: obj("subject", "subject"), handle: s.getSubject},
		{method: "PATCH", path: c + "/subjects/{subject}", tag: "subjects", sum: "Change a subject (give the version read)", perm: permWrite, params: obj("subject", "subject"), body: bodyJSON, request: "SubjectPatch", handle: s.patchSubject},
		{method: "DELETE", path: c + "/subjects/{subject}", tag: "subjects", sum: "Delete a subject", perm: permWrite, params: obj("subject", "subject"), status: http.StatusNoContent, handle: s.deleteSubject},

		{method: "GET", path: c + "/items", tag: "items", sum: "The case's items of interest", perm: permRead, params: []param{caseID}, handle: s.listItems},
		{method: "POST", path: c + "/items", tag: "items", sum: "Add an item of interest (an address, a transaction or an entity); the server records where it resolved it", perm: permWrite, params: []param{caseID}, body: bodyJSON, request: "NewItem", status: http.StatusCreated, handle: s.createItem},
		{method: "GET", path: c + "/items/{item}", tag: "items", sum: "An item", perm: permRead, params: obj("item", "item"), handle: s.getItem},
		{method: "PATCH", path: c + "/items/{item}", tag: "items", sum: "Change an item's label (give the version read)", perm: permWrite, params: obj("item", "item"), body: bodyJSON, request: "ItemPatch", handle: s.patchItem},
		{method: "DELETE", path: c + "/items/{item}", tag: "items", sum: "Delete an item with its notes and tags", perm: permWrite, params: obj("item", "item"), status: http.StatusNoContent, handle: s.deleteItem},
		{method: "POST", path: c + "/items/{item}/tags", tag: "items", sum: "Put your own tag on an item", perm: permWrite, params: obj("item", "item"), body: bodyJSON, request: "NewItemTag", status: http.StatusCreated, handle: s.tagItem},
		{method: "GET", path: c + "/tags", tag: "items", sum: "The tags of the case's items", perm: permRead, params: []param{caseID}, handle: s.listItemTags},
		{method: "DELETE", path: c + "/tags/{tag}", tag: "items", sum: "Remove a tag from an item", perm: permWrite, params: obj("tag", "tag"), status: http.StatusNoContent, handle: s.deleteItemTag},

		{method: "GET", path: c + "/notes", tag: "notes", sum: "The case's notes (those on its items included)", perm: permRead, params: []param{caseID}, handle: s.listNotes},
		{method: "POST", path: c + "/notes", tag: "notes", sum: "Add a note to the case or one of its items", perm: permAnnotate, params: []param{caseID}, body: bodyJSON, request: "NewNote", status: http.StatusCreated, handle: s.createNote},
		{method: "GET", path: c + "/notes/{note}", tag: "notes", sum: "A note", perm: permRead, params: obj("note", "note"), handle: s.getNote},
		{method: "PATCH", path: c + "/notes/{note}", tag: "notes", sum: "Change a note's text (a reviewer only their own; give the version read)", perm: permAnnotate, params: obj("note", "note"), body: bodyJSON, request: "NotePatch", handle: s.patchNote},
		{method: "DELETE", path: c + "/notes/{note}", tag: "notes", sum: "Delete a note (a reviewer only their own)", perm: permAnnotate, params: obj("note", "note"), status: http.StatusNoContent, handle: s.deleteNote},

		{method: "GET", path: c + "/findings", tag: "findings", sum: "The case's findings", perm: permRead, params: []param{caseID}, handle: s.listFindings},
		{method: "POST", path: c + "/findings", tag: "findings", sum: "Run an analysis (trace, path, exposure, patterns, risk or screen) and store its result with its provenance", perm: permWrite, params: []param{caseID}, body: bodyJSON, request: "NewFinding", status: http.StatusCreated, handle: s.createFinding},
		{method: "GET", path: c + "/findings/{finding}", tag: "findings", sum: "A finding", perm: permRead, params: obj("finding", "finding"), handle: s.getFinding},
		{method: "DELETE", path: c + "/findings/{finding}", tag: "findings", sum: "Delete a finding", perm: permWrite, params: obj("finding", "finding"), status: http.StatusNoContent, handle: s.deleteFinding},

		{method: "GET", path: c + "/exhibits", tag: "exhibits", sum: "The case's exhibits", perm: permRead, params: []param{caseID}, handle: s.listExhibits},
		{method: "POST", path: c + "/exhibits", tag: "exhibits", sum: "Upload an exhibit", perm: permWrite, body: bodyUpload, status: http.StatusCreated,
			params: []param{caseID, queryStr("name", "the file name (required for a raw upload; overrides a multipart file name)", "")}, handle: s.uploadExhibit},
		{method: "GET", path: c + "/exhibits/{exhibit}", tag: "exhibits", sum: "An exhibit's metadata", perm: permRead, params: obj("exhibit", "exhibit"), handle: s.getExhibit},
		{method: "GET", path: c + "/exhibits/{exhibit}/content", tag: "exhibits", sum: "Download an exhibit (checked against its SHA-256 as it is read)", perm: permRead, params: obj("exhibit", "exhibit"), download: true, handle: s.downloadExhibit},
		{method: "DELETE", path: c + "/exhibits/{exhibit}", tag: "exhibits", sum: "Delete an exhibit from its case", perm: permWrite, params: obj("exhibit", "exhibit"), status: http.StatusNoContent, handle: s.deleteExhibit},

		{method: "GET", path: c + "/tasks", tag: "tasks", sum: "The case's tasks", perm: permRead, params: []param{caseID}, handle: s.listTasks},
		{method: "POST", path: c + "/tasks", tag: "tasks", sum: "Add a task", perm: permAnnotate, params: []param{caseID}, body: bodyJSON, request: "NewTask", status: http.StatusCreated, handle: s.createTask},
		{method: "GET", path: c + "/tasks/{task}", tag: "tasks", sum: "A task", perm: permRead, params: obj("task", "task"), handle: s.getTask},
		{method: "PATCH", path: c + "/tasks/{task}", tag: "tasks", sum: "Change a task (a reviewer only their own; give the version read)", perm: permAnnotate, params: obj("task", "task"), body: bodyJSON, request: "TaskPatch", handle: s.patchTask},
		{method: "DELETE", path: c + "/tasks/{task}", tag: "tasks", sum: "Delete a task (a reviewer only their own)", perm: permAnnotate, params: obj("task", "task"), status: http.StatusNoContent, handle: s.deleteTask},

		{method: "GET", path: v1 + "/audit", tag: "audit", sum: "The agency's audit log (or a case's), oldest first, after a sequence number", perm: permAudit,
			params: []param{queryInt("case", "only this case's records", 1, 1<<63-1, ""), queryInt("after", "records after this sequence number", 0, 1<<63-1, "0"),
				queryInt("limit", "records per page", 1, maxPageSize, "100")}, handle: s.listAudit},
		{method: "GET", path: v1 + "/audit/verify", tag: "audit", sum: "Verify the store: the audit log's hash chain, checkpoints, every object and exhibit file", perm: permAudit, handle: s.verifyAudit},

		{method: "GET", path: v1 + "/users", tag: "users", sum: "The agency's users", perm: permAdmin, handle: s.listUsers},
		{method: "POST", path: v1 + "/users", tag: "users", sum: "Create a user", perm: permAdmin, body: bodyJSON, request: "NewUser", status: http.StatusCreated, handle: s.createUser},
		{method: "GET", path: v1 + "/users/{user}", tag: "users", sum: "A user", perm: permAdmin, params: []param{pathID("user", "the user's id")}, handle: s.getUser},
		{method: "PATCH", path: v1 + "/users/{user}", tag: "users", sum: "Change a user's role, password or disabled state", perm: permAdmin, params: []param{pathID("user", "the user's id")}, body: bodyJSON, request: "UserPatch", handle: s.patchUser},
		{method: "GET", path: v1 + "/users/{user}/tokens", tag: "users", sum: "A user's API tokens (metadata only)", perm: permAdmin, params: []param{pathID("user", "the user's id")}, handle: s.listTokens},
		{method: "POST", path: v1 + "/users/{user}/tokens", tag: "users", sum: "Create an API token for a user (the secret is shown once)", perm: permAdmin, params: []param{pathID("user", "the user's id")}, body: bodyJSON, request: "NewToken", status: http.StatusCreated, handle: s.createToken},
		{method: "DELETE", path: v1 + "/tokens/{token}", tag: "users", sum: "Revoke an API token", perm: permAdmin, params: []param{pathID("token", "the token's id")}, status: http.StatusNoContent, handle: s.revokeToken},
		{method: "POST", path: v1 + "/me/password", tag: "session", sum: "Change your own password (give the current one)", perm: permRead, body: bodyJSON, request: "PasswordChange", status: http.StatusNoContent, handle: s.changePassword},
	}
}

// requestTypes are the JSON bodies, by the schema names routes give.
var requestTypes = map[string]any{
	"Login": loginBody{}, "Screen": screenReq{}, "Trace": traceReq{}, "Risk": riskReq{},
	"NewCase": newCase{}, "CasePatch": casePatch{}, "NewSubject": newSubject{}, "SubjectPatch": subjectPatch{},
	"NewItem": newItem{}, "ItemPatch": itemPatch{}, "NewItemTag": newItemTag{}, "NewNote": newNote{}, "NotePatch": notePatch{},
	"NewFinding": newFinding{}, "NewTask": newTask{}, "TaskPatch": taskPatch{}, "NewUser": newUser{}, "UserPatch": userPatch{},
	"NewToken": newToken{}, "PasswordChange": passwordChange{}, "Language": languageBody{},
}

// list answers a list, never null.
func list[T any](c *call, v []T, err error) error {
	if err != nil {
		return err
	}
	if v == nil {
		v = []T{}
	}
	return c.ok(v)
}

// inCase checks that an object read by its id belongs to the case of the
// path; another case's object is not found here.
func inCase(c *call, objCase int64, err error) error {
	if err != nil {
		return err
	}
	if objCase != c.v.int("case", 0) {
		return fmt.Errorf("api: object of case %d under case %d: %w", objCase, c.v.int("case", 0), casestore.ErrNotFound)
	}
	return nil
}

// --- cases ---------------------------------------------------------------------

type newCase struct {
	Reference  string               `json:"reference"`
	Title      string               `json:"title"`
	Status     casestore.CaseStatus `json:"status,omitempty"`
	LegalBasis string               `json:"legal_basis,omitempty"`
	LeadUserID int64                `json:"lead_user_id,omitempty"`
	Opened     time.Time            `json:"opened,omitzero"`
}

type casePatch struct {
	Version    int64                 `json:"version"`
	Reference  *string               `json:"reference,omitempty"`
	Title      *string               `json:"title,omitempty"`
	Status     *casestore.CaseStatus `json:"status,omitempty"`
	LegalBasis *string               `json:"legal_basis,omitempty"`
	LeadUserID *int64                `json:"lead_user_id,omitempty"`
	Opened     *time.Time            `json:"opened,omitempty"`
	Closed     *time.Time            `json:"closed,omitempty"`
}

func (s *Server) listCases(c *call) error {
	cs, err := s.store.ListCases(c.ctx, c.p, casestore.CaseFilter{Status: casestore.CaseStatus(c.v.str("status", "")),
		Limit: int(c.v.int("limit", 100)), Offset: int(c.v.int("offset", 0)), NewestFirst: c.v.bool("newest_first")})
	return list(c, cs, err)
}

func (s *Server) createCase(c *call) error {
	var b newCase
	if err := c.decode(&b); err != nil {
		return err
	}
	cs, err := s.store.CreateCase(c.ctx, c.p, casestore.Case{Reference: b.Reference, Title: b.Title, Status: b.Status,
		LegalBasis: b.LegalBasis, LeadUserID: b.LeadUserID, Opened: b.Opened})
	if err != nil {
		return err
	}
	return c.created(cs)
}

func (s *Server) getCase(c *call) error {
	cs, err := s.store.GetCase(c.ctx, c.p, c.v.int("case", 0))
	if err != nil {
		return err
	}
	return c.ok(cs)
}

func (s *Server) patchCase(c *call) error {
	var b casePatch
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Version <= 0 {
		return badRequest("version is required (the version read)")
	}
	cs, err := s.store.GetCase(c.ctx, c.p, c.v.int("case", 0))
	if err != nil {
		return err
	}
	cs.Version = b.Version
	set(&cs.Reference, b.Reference)
	set(&cs.Title, b.Title)
	set(&cs.Status, b.Status)
	set(&cs.LegalBasis, b.LegalBasis)
	set(&cs.LeadUserID, b.LeadUserID)
	set(&cs.Opened, b.Opened)
	set(&cs.Closed, b.Closed)
	if cs, err = s.store.UpdateCase(c.ctx, c.p, cs); err != nil {
		return err
	}
	return c.ok(cs)
}

// set copies a patch field that was given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *Server) deleteCase(c *call) error {
	if err := s.store.DeleteCase(c.ctx, c.p, c.v.int("case", 0)); err != nil {
		return err
	}
	return c.noContent()
}

func (s *Server) deconflict(c *call) error {
	hs, err := s.store.Deconflict(c.ctx, c.p, c.v.int("case", 0))
	return list(c, hs, err)
}

// --- subjects ------------------------------------------------------------------

type newSubject struct {
	Name  string                `json:"name"`
	Kind  casestore.SubjectKind `json:"kind,omitempty"`
	Notes string                `json:"notes,omitempty"`
}

type subjectPatch struct {
	Version int64                  `json:"version"`
	Name    *string                `json:"name,omitempty"`
	Kind    *casestore.SubjectKind `json:"kind,omitempty"`
	Notes   *string                `json:"notes,omitempty"`
}

func (s *Server) listSubjects(c *call) error {
	v, err := s.store.ListSubjects(c.ctx, c.p, c.v.int("case", 0))
	return list(c, v, err)
}

func (s *Server) createSubject(c *call) error {
	var b newSubject
	if err := c.decode(&b); err != nil {
		return err
	}
	v, err := s.store.CreateSubject(c.ctx, c.p, c.v.int("case", 0), casestore.Subject{Name: b.Name, Kind: b.Kind, Notes: b.Notes})
	if err != nil {
		return err
	}
	return c.created(v)
}

func (s *Server) subject(c *call) (casestore.Subject, error) {
	v, err := s.store.GetSubject(c.ctx, c.p, c.v.int("subject", 0))
	return v, inCase(c, v.CaseID, err)
}

func (s *Server) getSubject(c *call) error {
	v, err := s.subject(c)
	if err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) patchSubject(c *call) error {
	var b subjectPatch
	if err := c.decode(&b); err != nil {
		return err
	}
	v, err := s.subject(c)
	if err != nil {
		return err
	}
	v.Version = b.Version
	set(&v.Name, b.Name)
	set(&v.Kind, b.Kind)
	set(&v.Notes, b.Notes)
	if v, err = s.store.UpdateSubject(c.ctx, c.p, v); err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) deleteSubject(c *call) error {
	if _, err := s.subject(c); err != nil {
		return err
	}
	if err := s.store.DeleteSubject(c.ctx, c.p, c.v.int("subject", 0)); err != nil {
		return err
	}
	return c.noContent()
}

// --- items ---------------------------------------------------------------------

// newItem is an item of interest. An address or transaction is looked up
// in the server's indexes: when found, its chain and network are the
// index's and its provenance names the index tip; otherwise network is
// required and the reference must be valid on it.
type newItem struct {
	Kind    casestore.ItemKind `json:"kind"`
	Ref     string             `json:"ref"`
	Label   string             `json:"label,omitempty"`
	Chain   string             `json:"chain,omitempty"`
	Network string             `json:"network,omitempty"`
}

type itemPatch struct {
	Version int64  `json:"version"`
	Label   string `json:"label"`
}

func (s *Server) listItems(c *call) error {
	v, err := s.store.ListItems(c.ctx, c.p, c.v.int("case", 0))
	return list(c, v, err)
}

func (s *Server) createItem(c *call) error {
	var b newItem
	if err := c.decode(&b); err != nil {
		return err
	}
	it, err := s.resolveItem(b)
	if err != nil {
		return err
	}
	if it, err = s.store.AddItem(c.ctx, c.p, c.v.int("case", 0), it); err != nil {
		return err
	}
	return c.created(it)
}

func (s *Server) resolveItem(b newItem) (casestore.Item, error) {
	if b.Chain != "" && b.Chain != string(chain.Bitcoin) {
		return casestore.Item{}, badRequest("chain %q is not supported (btc)", clip(b.Chain))
	}
	if err := checkNetwork(b.Network); err != nil {
		return casestore.Item{}, err
	}
	if err := required("ref", b.Ref); err != nil {
		return casestore.Item{}, err
	}
	return s.ws.ResolveItem(workspace.ItemRequest{Kind: b.Kind, Ref: b.Ref, Network: b.Network, Label: b.Label, Via: "api", Version: s.version})
}

func (s *Server) item(c *call) (casestore.Item, error) {
	v, err := s.store.GetItem(c.ctx, c.p, c.v.int("item", 0))
	return v, inCase(c, v.CaseID, err)
}

func (s *Server) getItem(c *call) error {
	v, err := s.item(c)
	if err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) patchItem(c *call) error {
	var b itemPatch
	if err := c.decode(&b); err != nil {
		return err
	}
	if _, err := s.item(c); err != nil {
		return err
	}
	v, err := s.store.UpdateItemLabel(c.ctx, c.p, c.v.int("item", 0), b.Version, b.Label)
	if err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) deleteItem(c *call) error {
	if _, err := s.item(c); err != nil {
		return err
	}
	if err := s.store.DeleteItem(c.ctx, c.p, c.v.int("item", 0)); err != nil {
		return err
	}
	return c.noContent()
}

type newItemTag struct {
	Label    string `json:"label"`
	Category string `json:"category,omitempty"`
}

func (s *Server) tagItem(c *call) error {
	var b newItemTag
	if err := c.decode(&b); err != nil {
		return err
	}
	if _, err := s.item(c); err != nil {
		return err
	}
	t, err := s.store.TagItem(c.ctx, c.p, c.v.int("item", 0), b.Label, b.Category)
	if err != nil {
		return err
	}
	return c.created(t)
}

func (s *Server) listItemTags(c *call) error {
	v, err := s.store.ListItemTags(c.ctx, c.p, c.v.int("case", 0))
	return list(c, v, err)
}

func (s *Server) deleteItemTag(c *call) error {
	ts, err := s.store.ListItemTags(c.ctx, c.p, c.v.int("case", 0))
	if err != nil {
		return err
	}
	id := c.v.int("tag", 0)
	found := false
	for _, t := range ts {
		found = found || t.ID == id
	}
	if !found {
		return fmt.Errorf("api: tag %d in case %d: %w", id, c.v.int("case", 0), casestore.ErrNotFound)
	}
	if err := s.store.DeleteItemTag(c.ctx, c.p, id); err != nil {
		return err
	}
	return c.noContent()
}

// --- notes ---------------------------------------------------------------------

type newNote struct {
	Text   string `json:"text"`
	ItemID int64  `json:"item_id,omitempty"`
}

type notePatch struct {
	Version int64  `json:"version"`
	Text    string `json:"text"`
}

func (s *Server) listNotes(c *call) error {
	v, err := s.store.ListNotes(c.ctx, c.p, c.v.int("case", 0))
	return list(c, v, err)
}

func (s *Server) createNote(c *call) error {
	var b newNote
	if err := c.decode(&b); err != nil {
		return err
	}
	n, err := s.store.AddNote(c.ctx, c.p, c.v.int("case", 0), b.ItemID, b.Text)
	if err != nil {
		return err
	}
	return c.created(n)
}

func (s *Server) note(c *call) (casestore.Note, error) {
	v, err := s.store.GetNote(c.ctx, c.p, c.v.int("note", 0))
	return v, inCase(c, v.CaseID, err)
}

func (s *Server) getNote(c *call) error {
	v, err := s.note(c)
	if err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) patchNote(c *call) error {
	var b notePatch
	if err := c.decode(&b); err != nil {
		return err
	}
	if _, err := s.note(c); err != nil {
		return err
	}
	v, err := s.store.UpdateNote(c.ctx, c.p, c.v.int("note", 0), b.Version, b.Text)
	if err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) deleteNote(c *call) error {
	if _, err := s.note(c); err != nil {
		return err
	}
	if err := s.store.DeleteNote(c.ctx, c.p, c.v.int("note", 0)); err != nil {
		return err
	}
	return c.noContent()
}

// --- findings ------------------------------------------------------------------

// newFinding asks the server to run an analysis and keep its result: the
// client names the analysis and its parameters, never the result.
type newFinding struct {
	Analysis string          `json:"analysis"`
	Title    string          `json:"title"`
	Params   json.RawMessage `json:"params"`
}

func (s *Server) listFindings(c *call) error {
	v, err := s.store.ListFindings(c.ctx, c.p, c.v.int("case", 0))
	return list(c, v, err)
}

func (s *Server) createFinding(c *call) error {
	var b newFinding
	if err := c.decode(&b); err != nil {
		return err
	}
	mk, ok := analyses[b.Analysis]
	if !ok {
		return badRequest("analysis %q is not one of %s", clip(b.Analysis), analysisNames())
	}
	a := mk()
	if len(b.Params) == 0 {
		return badRequest("params are required")
	}
	if err := strictJSON(b.Params, a); err != nil {
		return badRequest("params: %s", err)
	}
	if err := a.normalise(); err != nil {
		return err
	}
	// Ask the store whether the principal may add to the case before the
	// analysis runs (it asks again when storing).
	if _, err := s.store.GetCase(c.ctx, c.p, c.v.int("case", 0)); err != nil {
		return err
	}
	res, ix, err := a.run(c.ctx, s)
	if err != nil {
		return err
	}
	params, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("api: encode params: %w", err)
	}
	result, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("api: encode result: %w", err)
	}
	pv, err := workspace.Provenance(ix, params, s.version)
	if err != nil {
		return err
	}
	f, err := s.store.AddFinding(c.ctx, c.p, c.v.int("case", 0), casestore.Finding{
		Kind: casestore.FindingKind(b.Analysis), Title: b.Title, Params: params, Result: result, Provenance: pv})
	if err != nil {
		return err
	}
	return c.created(f)
}

func (s *Server) finding(c *call) (casestore.Finding, error) {
	v, err := s.store.GetFinding(c.ctx, c.p, c.v.int("finding", 0))
	return v, inCase(c, v.CaseID, err)
}

func (s *Server) getFinding(c *call) error {
	v, err := s.finding(c)
	if err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) deleteFinding(c *call) error {
	if _, err := s.finding(c); err != nil {
		return err
	}
	if err := s.store.DeleteFinding(c.ctx, c.p, c.v.int("finding", 0)); err != nil {
		return err
	}
	return c.noContent()
}

// --- tasks ---------------------------------------------------------------------

type newTask struct {
	Title      string               `json:"title"`
	AssigneeID int64                `json:"assignee_id,omitempty"`
	Status     casestore.TaskStatus `json:"status,omitempty"`
	Due        time.Time            `json:"due,omitzero"`
}

type taskPatch struct {
	Version    int64                 `json:"version"`
	Title      *string               `json:"title,omitempty"`
	AssigneeID *int64                `json:"assignee_id,omitempty"`
	Status     *casestore.TaskStatus `json:"status,omitempty"`
	Due        *time.Time            `json:"due,omitempty"`
}

func (s *Server) listTasks(c *call) error {
	v, err := s.store.ListTasks(c.ctx, c.p, c.v.int("case", 0))
	return list(c, v, err)
}

func (s *Server) createTask(c *call) error {
	var b newTask
	if err := c.decode(&b); err != nil {
		return err
	}
	t, err := s.store.CreateTask(c.ctx, c.p, c.v.int("case", 0), casestore.Task{Title: b.Title, AssigneeID: b.AssigneeID,
		Status: b.Status, Due: b.Due})
	if err != nil {
		return err
	}
	return c.created(t)
}

func (s *Server) task(c *call) (casestore.Task, error) {
	v, err := s.store.GetTask(c.ctx, c.p, c.v.int("task", 0))
	return v, inCase(c, v.CaseID, err)
}

func (s *Server) getTask(c *call) error {
	v, err := s.task(c)
	if err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) patchTask(c *call) error {
	var b taskPatch
	if err := c.decode(&b); err != nil {
		return err
	}
	v, err := s.task(c)
	if err != nil {
		return err
	}
	v.Version = b.Version
	set(&v.Title, b.Title)
	set(&v.AssigneeID, b.AssigneeID)
	set(&v.Status, b.Status)
	set(&v.Due, b.Due)
	if v, err = s.store.UpdateTask(c.ctx, c.p, v); err != nil {
		return err
	}
	return c.ok(v)
}

func (s *Server) deleteTask(c *call) error {
	if _, err := s.task(c); err != nil {
		return err
	}
	if err := s.store.DeleteTask(c.ctx, c.p, c.v.int("task", 0)); err != nil {
		return err
	}
	return c.noContent()
}

// --- audit -----------------------------------------------------------------------

func (s *Server) listAudit(c *call) error {
	rs, err := s.store.ListAudit(c.ctx, c.p, casestore.AuditFilter{CaseID: c.v.int("case", 0), AfterSeq: c.v.int("after", 0),
		Limit: int(c.v.int("limit", 100))})
	return list(c, rs, err)
}

// verifySummary is what the API says of a verification: the whole
// installation's log is checked, but problems may name other agencies'
// objects, so only their number and whether the log holds are told; the
// operator reads them with vestigo audit verify on the server.
type verifySummary struct {
	OK          bool      `json:"ok"`
	Records     int64     `json:"records"`
	HeadSeq     int64     `json:"head_seq"`
	HeadHash    string    `json:"head_hash"`
	Checkpoints int       `json:"checkpoints"`
	Problems    int       `json:"problems"`
	Unchecked   int       `json:"unchecked"`
	CheckedAt   time.Time `json:"checked_at"`
	Details     string    `json:"details"`
}

// minVerifyInterval spaces verifications (each re-hashes every exhibit):
// a request within it gets the last result.
const minVerifyInterval = time.Minute

func (s *Server) verifyAudit(c *call) error {
	if err := s.store.Audit(c.ctx, c.p, casestore.Event{Action: casestore.ActionView, ObjectType: "audit-verify"}); err != nil {
		return err
	}
	s.verifyMu.Lock()
	defer s.verifyMu.Unlock()
	if s.lastVerify == nil || s.now().Sub(s.lastVerify.CheckedAt) >= minVerifyInterval {
		rep, err := s.store.Verify(c.ctx, s.verifier)
		if err != nil {
			return err
		}
		s.lastVerify = &verifySummary{OK: rep.OK(), Records: rep.Records, HeadSeq: rep.HeadSeq, HeadHash: rep.HeadHash,
			Checkpoints: rep.Checkpoints, Problems: len(rep.Problems), Unchecked: len(rep.Unchecked), CheckedAt: s.now().UTC(),
			Details: "the problems are listed by vestigo audit verify, run by the installation's operator"}
	}
	return c.ok(s.lastVerify)
}

// --- users and tokens ------------------------------------------------------------

type newUser struct {
	Username string         `json:"username"`
	Role     casestore.Role `json:"role"`
	Password string         `json:"password"`
}

type userPatch struct {
	Role     *casestore.Role `json:"role,omitempty"`
	Disabled *bool           `json:"disabled,omitempty"`
	Password *string         `json:"password,omitempty"`
}

func (s *Server) listUsers(c *call) error {
	v, err := s.store.ListUsers(c.ctx, c.p)
	return list(c, v, err)
}

func (s *Server) createUser(c *call) error {
	var b newUser
	if err := c.decode(&b); err != nil {
		return err
	}
	u, err := s.store.CreateUser(c.ctx, c.p, b.Username, b.Role, b.Password)
	if err != nil {
		return err
	}
	return c.created(u)
}

func (s *Server) getUser(c *call) error {
	u, err := s.store.GetUser(c.ctx, c.p, c.v.int("user", 0))
	if err != nil {
		return err
	}
	return c.ok(u)
}

func (s *Server) patchUser(c *call) error {
	var b userPatch
	if err := c.decode(&b); err != nil {
		return err
	}
	id := c.v.int("user", 0)
	if b.Role == nil && b.Disabled == nil && b.Password == nil {
		return badRequest("nothing to change: give role, disabled or password")
	}
	if _, err := s.store.GetUser(c.ctx, c.p, id); err != nil {
		return err
	}
	if b.Password != nil {
		if err := s.store.SetPassword(c.ctx, c.p, id, *b.Password); err != nil {
			return err
		}
	}
	if b.Role != nil {
		if err := s.store.SetUserRole(c.ctx, c.p, id, *b.Role); err != nil {
			return err
		}
	}
	if b.Disabled != nil {
		change := s.store.EnableUser
		if *b.Disabled {
			change = s.store.DisableUser
		}
		if err := change(c.ctx, c.p, id); err != nil {
			return err
		}
	}
	return s.getUser(c)
}

type newToken struct {
	Name string `json:"name"`
}

// tokenAnswer shows a new token's secret, once.
type tokenAnswer struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Secret string `json:"token"`
}

func (s *Server) listTokens(c *call) error {
	v, err := s.store.ListTokens(c.ctx, c.p, c.v.int("user", 0))
	return list(c, v, err)
}

func (s *Server) createToken(c *call) error {
	var b newToken
	if err := c.decode(&b); err != nil {
		return err
	}
	secret, id, err := s.store.CreateToken(c.ctx, c.p, c.v.int("user", 0), b.Name)
	if err != nil {
		return err
	}
	return c.created(tokenAnswer{ID: id, Name: b.Name, Secret: secret})
}

func (s *Server) revokeToken(c *call) error {
	if err := s.store.RevokeToken(c.ctx, c.p, c.v.int("token", 0)); err != nil {
		return err
	}
	return c.noContent()
}

type passwordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

func (s *Server) changePassword(c *call) error {
	var b passwordChange
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Current == "" || len(b.Current) > maxCredential {
		return badRequest("current_password is required")
	}
	keys := []string{"user:" + strings.ToLower(c.p.Username), "ip:" + s.clientIP(c.r)}
	ok, retry := s.logins.take(s.now(), keys...)
	if !ok {
		return &apiError{status: http.StatusTooManyRequests, msg: "too many failed password checks; try again later", retryAfter: retrySeconds(retry)}
	}
	if _, err := s.store.AuthenticatePassword(c.ctx, c.p.Username, b.Current); err != nil {
		if errors.Is(err, casestore.ErrUnauthorized) {
			return errorf(http.StatusForbidden, "the current password is wrong")
		}
		return err
	}
	s.logins.give(s.now(), keys...)
	if err := s.store.SetPassword(c.ctx, c.p, c.p.UserID, b.New); err != nil {
		return err
	}
	return c.noContent()
}
