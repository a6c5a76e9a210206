package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// TestAgencyIsolation: a user of agency B asking for anything of a case
// of agency A gets 404, exactly as for a case that does not exist, also
// when naming A's objects under a case of B; each attempt is audited.
func TestAgencyIsolation(t *testing.T) {
	e := newEnv(t)
	a, b := e.token("inv-a"), e.token("inv-b")
	ca := e.createCase(a, "A/1", "Case of A")
	cb := e.createCase(b, "B/1", "Case of B")
	var note casestore.Note
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/notes", ca.ID), a, map[string]any{"text": "secret of A"}).want(201).decode(&note)

	missing := e.do("GET", "/api/v1/cases/999999", b, nil).want(http.StatusNotFound).errorText()
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", fmt.Sprintf("/api/v1/cases/%d", ca.ID), nil},
		{"PATCH", fmt.Sprintf("/api/v1/cases/%d", ca.ID), map[string]any{"version": ca.Version, "title": "taken over"}},
		{"DELETE", fmt.Sprintf("/api/v1/cases/%d", ca.ID), nil},
		{"GET", fmt.Sprintf("/api/v1/cases/%d/notes", ca.ID), nil},
		{"POST", fmt.Sprintf("/api/v1/cases/%d/notes", ca.ID), map[string]any{"text": "planted"}},
		{"GET", fmt.Sprintf("/api/v1/cases/%d/notes/%d", ca.ID, note.ID), nil},
		// A's note under B's own case.
		{"GET", fmt.Sprintf("/api/v1/cases/%d/notes/%d", cb.ID, note.ID), nil},
		{"PATCH", fmt.Sprintf("/api/v1/cases/%d/notes/%d", cb.ID, note.ID), map[string]any{"version": note.Version, "text": "changed"}},
		{"DELETE", fmt.Sprintf("/api/v1/cases/%d/notes/%d", cb.ID, note.ID), nil},
	} {
		msg := e.do(r.method, r.path, b, r.body).want(http.StatusNotFound).errorText()
		if msg != missing {
			t.Errorf("%s %s: %q, a missing case says %q", r.method, r.path, msg, missing)
		}
	}
	var cases []casestore.Case
	e.do("GET", "/api/v1/cases", b, nil).want(200).decode(&cases)
	if len(cases) != 1 || cases[0].ID != cb.ID {
		t.Fatalf("B lists %+v", cases)
	}
	// A's case and note are unchanged.
	var got casestore.Case
	e.do("GET", fmt.Sprintf("/api/v1/cases/%d", ca.ID), a, nil).want(200).decode(&got)
	var notes []casestore.Note
	e.do("GET", fmt.Sprintf("/api/v1/cases/%d/notes", ca.ID), a, nil).want(200).decode(&notes)
	if got.Title != "Case of A" || got.Version != ca.Version || len(notes) != 1 || notes[0].Text != "secret of A" {
		t.Fatalf("A's case changed: %+v %+v", got, notes)
	}
	if d := e.denials("admin-b", "inv-b"); len(d) < 6 {
		t.Fatalf("B's attempts on A's case: %d denials audited: %+v", len(d), d)
	}
}

// TestRolePermissions: the route table's permission decides; a refused
// role gets 403 and the refusal is in the audit log.
func TestRolePermissions(t *testing.T) {
	e := newEnv(t)
	inv := e.token("inv-a")
	cs := e.createCase(inv, "A/7", "Roles")
	caseURL := fmt.Sprintf("/api/v1/cases/%d", cs.ID)
	for _, tc := range []struct {
		user         string
		method, path string
		body         any
		status       int
	}{
		{"ro-a", "GET", caseURL, nil, 200},
		{"ro-a", "POST", "/api/v1/cases", map[string]any{"reference": "A/8", "title": "x"}, 403},
		{"ro-a", "PATCH", caseURL, map[string]any{"version": cs.Version, "title": "x"}, 403},
		{"ro-a", "DELETE", caseURL, nil, 403},
		{"ro-a", "POST", caseURL + "/notes", map[string]any{"text": "x"}, 403},
		{"ro-a", "POST", caseURL + "/findings", map[string]any{"analysis": "risk", "title": "x", "params": map[string]any{"address": "x"}}, 403},
		{"ro-a", "GET", "/api/v1/audit", nil, 403},
		{"ro-a", "GET", "/api/v1/users", nil, 403},
		{"rev-a", "POST", caseURL + "/notes", map[string]any{"text": "reviewed"}, 201},
		{"rev-a", "POST", caseURL + "/tasks", map[string]any{"title": "check the trace"}, 201},
		{"rev-a", "POST", "/api/v1/cases", map[string]any{"reference": "A/9", "title": "x"}, 403},
		{"rev-a", "GET", "/api/v1/audit", nil, 200},
		{"rev-a", "GET", "/api/v1/audit/verify", nil, 200},
		{"rev-a", "POST", "/api/v1/users", map[string]any{"username": "x", "role": "admin", "password": "password-x"}, 403},
		{"inv-a", "GET", "/api/v1/audit", nil, 403},
		{"inv-a", "GET", "/api/v1/users", nil, 403},
		{"inv-a", "POST", fmt.Sprintf("/api/v1/users/%d/tokens", e.users["inv-a"].UserID), map[string]any{"name": "mine"}, 403},
		{"admin-a", "GET", "/api/v1/users", nil, 200},
		{"admin-a", "GET", "/api/v1/audit", nil, 200},
	} {
		before := len(e.denials("admin-a", tc.user))
		res := e.do(tc.method, tc.path, e.token(tc.user), tc.body).want(tc.status)
		after := len(e.denials("admin-a", tc.user))
		if tc.status == 403 {
			if msg := res.errorText(); !strings.Contains(msg, "forbidden") {
				t.Errorf("%s %s as %s: %q", tc.method, tc.path, tc.user, msg)
			}
			if after != before+1 {
				t.Errorf("%s %s as %s: %d denials recorded, want 1", tc.method, tc.path, tc.user, after-before)
			}
		} else if after != before {
			t.Errorf("%s %s as %s: a denial recorded for an allowed request", tc.method, tc.path, tc.user)
		}
	}
	// The store's own finer rule: a reviewer changes only their own notes.
	var notes []casestore.Note
	e.do("GET", caseURL+"/notes", inv, nil).want(200).decode(&notes)
	var invNote casestore.Note
	e.do("POST", caseURL+"/notes", inv, map[string]any{"text": "by the investigator"}).want(201).decode(&invNote)
	e.do("PATCH", fmt.Sprintf("%s/notes/%d", caseURL, invNote.ID), e.token("rev-a"), map[string]any{"version": invNote.Version, "text": "x"}).want(403)
	e.do("PATCH", fmt.Sprintf("%s/notes/%d", caseURL, notes[0].ID), e.token("rev-a"), map[string]any{"version": notes[0].Version, "text": "revised"}).want(200)
}

// TestUsersAndTokens: an admin creates a user and a token for them; the
// token works until revoked; a disabled user's token stops working.
func TestUsersAndTokens(t *testing.T) {
	e := newEnv(t)
	admin := e.token("admin-a")
	var u casestore.User
	e.do("POST", "/api/v1/users", admin, map[string]any{"username": "analyst", "role": "investigator", "password": "analyst-password"}).want(201).decode(&u)
	if strings.Contains(string(e.do("GET", fmt.Sprintf("/api/v1/users/%d", u.ID), admin, nil).want(200).body), "password") {
		t.Fatal("a user answer mentions the password")
	}
	var tok tokenAnswer
	e.do("POST", fmt.Sprintf("/api/v1/users/%d/tokens", u.ID), admin, map[string]any{"name": "script"}).want(201).decode(&tok)
	if !strings.HasPrefix(tok.Secret, casestore.TokenPrefix) {
		t.Fatalf("token %+v", tok)
	}
	c := cred{bearer: tok.Secret}
	var me casestore.Principal
	e.do("GET", "/api/v1/me", c, nil).want(200).decode(&me)
	if me.Username != "analyst" || me.Role != casestore.RoleInvestigator || me.Agency != "A-PD" {
		t.Fatalf("me %+v", me)
	}
	var list []casestore.Token
	e.do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", u.ID), admin, nil).want(200).decode(&list)
	if len(list) != 1 || strings.Contains(string(e.do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", u.ID), admin, nil).body), tok.Secret) {
		t.Fatalf("tokens %+v", list)
	}
	e.do("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), admin, map[string]any{"role": "read-only"}).want(200)
	e.do("POST", "/api/v1/cases", c, map[string]any{"reference": "x", "title": "x"}).want(403)
	e.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), admin, nil).want(204)
	e.do("GET", "/api/v1/me", c, nil).want(401)

	// Another agency's admin sees none of it.
	e.do("GET", fmt.Sprintf("/api/v1/users/%d", u.ID), e.token("admin-b"), nil).want(404)

	// Disabling ends the user's sessions and tokens.
	e.do("POST", fmt.Sprintf("/api/v1/users/%d/tokens", u.ID), admin, map[string]any{"name": "second"}).want(201).decode(&tok)
	e.do("GET", "/api/v1/me", cred{bearer: tok.Secret}, nil).want(200)
	e.do("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), admin, map[string]any{"disabled": true}).want(200)
	e.do("GET", "/api/v1/me", cred{bearer: tok.Secret}, nil).want(401)

	// A user changes their own password with the current one.
	s := e.login("inv-a")
	e.do("POST", "/api/v1/me/password", s, map[string]any{"current_password": "wrong-one", "new_password": "a new password"}).want(403)
	e.do("POST", "/api/v1/me/password", s, map[string]any{"current_password": pw("inv-a"), "new_password": "a new password"}).want(204)
	e.do("POST", "/api/v1/login", anonymous, map[string]string{"username": "inv-a", "password": "a new password"}).want(200)
}
