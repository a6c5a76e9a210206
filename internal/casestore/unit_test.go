package casestore

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"b": int64(2), "a": "x", "c": nil}, `{"a":"x","b":2,"c":null}`},
		{"quote\" backslash\\ nl\n tab\t bell\x07 del\x7f é 中 </script> \u2028", `"quote\" backslash\\ nl\n tab\t bell\u0007 del` + "\x7f é 中 </script> \u2028\""},
		{map[string]any{"z": []any{int64(-1), true, "s"}, "A": map[string]any{}}, `{"A":{},"z":[-1,true,"s"]}`},
		{[]string{"b", "a"}, `["b","a"]`},
	} {
		got, err := canonical(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("canonical(%v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := canonical(1.5); err == nil {
		t.Error("a float was encoded")
	}
}

// TestRecordHashGolden pins the hash of one record: it must never change
// (stored logs would stop verifying), and it is the same on every
// database, because it is computed from values, not from stored bytes.
// The expected values were computed independently, with Python:
//
//	c = json.dumps(rec, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()
//	hashlib.sha256(b'\0' * 32 + c).hexdigest()
func TestRecordHashGolden(t *testing.T) {
	r := AuditRecord{Seq: 1, At: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC), ActorID: 7, Actor: "ivan",
		AgencyID: 1, Action: "create", ObjectType: "note", ObjectID: 5, CaseID: 3, Detail: `{"k":"v"}`,
		ObjectHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", PrevHash: zeroHash}
	h, err := recordHash(&r)
	if err != nil {
		t.Fatal(err)
	}
	const want = "a1a52adf73f1cb0fc2c9a4b97eed3606e3d68d98ba1f08eefa6cea697e62f7a0"
	if h != want {
		t.Fatalf("record hash %s, want %s", h, want)
	}
	n, err := rowHash(tNotes, row{"id": int64(5), "case_id": int64(3), "item_id": int64(0), "text": "x",
		"version": int64(1), "created_by": int64(7), "created_at": int64(1), "updated_at": int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	const wantRow = "76de12253fbe74ef549fb8dea8895af3bfa8f359d8f132263e4656e349e9da29"
	if n != wantRow {
		t.Fatalf("row hash %s, want %s", n, wantRow)
	}
}

func TestPolicy(t *testing.T) {
	const ag, other = 1, 2
	p := func(r Role) Principal { return Principal{UserID: 10, Username: "u", AgencyID: ag, Role: r} }
	for _, tc := range []struct {
		role   Role
		pm     perm
		agency int64
		owner  int64
		want   error
	}{
		{RoleReadOnly, permRead, ag, 0, nil},
		{RoleReadOnly, permWrite, ag, 0, ErrForbidden},
		{RoleReadOnly, permAnnotate, ag, 0, ErrForbidden},
		{RoleReadOnly, permRead, other, 0, ErrNotFound},
		{RoleReadOnly, permRead, -1, 0, ErrNotFound},
		{RoleReviewer, permAnnotate, ag, 0, nil},
		{RoleReviewer, permWrite, ag, 0, ErrForbidden},
		{RoleReviewer, permAnnotateOwn, ag, 10, nil},
		{RoleReviewer, permAnnotateOwn, ag, 11, ErrForbidden},
		{RoleInvestigator, permWrite, ag, 0, nil},
		{RoleInvestigator, permAnnotateOwn, ag, 11, nil},
		{RoleInvestigator, permAdmin, ag, 0, ErrForbidden},
		{RoleInvestigator, permSelfOrAdmin, ag, 10, nil},
		{RoleInvestigator, permSelfOrAdmin, ag, 11, ErrForbidden},
		{RoleInvestigator, permWrite, other, 0, ErrNotFound},
		{RoleAdmin, permAdmin, ag, 0, nil},
		{RoleAdmin, permWrite, ag, 0, nil},
		{RoleAdmin, permAdmin, other, 0, ErrNotFound},
		{RoleAdmin, permAudit, ag, 0, nil},
		{RoleReviewer, permAudit, ag, 0, nil},
		{RoleInvestigator, permAudit, ag, 0, ErrForbidden},
		{RoleReadOnly, permAudit, ag, 0, ErrForbidden},
		{RoleReviewer, permAudit, other, 0, ErrNotFound},
		{"root", permRead, ag, 0, ErrUnauthorized},
	} {
		got, _ := decide(p(tc.role), tc.pm, tc.agency, tc.owner)
		if !errors.Is(got, tc.want) && got != tc.want {
			t.Errorf("%s %v on agency %d owner %d: %v, want %v", tc.role, tc.pm, tc.agency, tc.owner, got, tc.want)
		}
	}
	if got, _ := decide(Principal{}, permRead, 0, 0); got != ErrUnauthorized {
		t.Errorf("zero principal: %v", got)
	}
}

func TestPlaceholders(t *testing.T) {
	pg := dialect{postgres: true}
	if got := pg.q("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"); got != "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)" {
		t.Errorf("q = %s", got)
	}
	if got := (dialect{}).q("x = ?"); got != "x = ?" {
		t.Errorf("sqlite q = %s", got)
	}
}

// FuzzCanonicalDetail: any accepted detail is canonical JSON of the same
// value, and canonicalising it again changes nothing.
func FuzzCanonicalDetail(f *testing.F) {
	for _, s := range []string{`{}`, `{"b":1,"a":[true,null,"x"]}`, `{"n":1.5e3,"s":"\u0000"}`, `{"a":{"b":{"c":"</script>"}}}`, `[]`, `{"a":1} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := canonicalDetail(in)
		if err != nil {
			return
		}
		var a, b any
		if len(bytes.TrimSpace(in)) == 0 {
			if out != "{}" {
				t.Fatalf("empty detail gave %q", out)
			}
			return
		}
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if err := json.Unmarshal([]byte(out), &b); err != nil {
			t.Fatalf("output %q is not JSON: %v", out, err)
		}
		again, err := canonicalDetail(json.RawMessage(out))
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, out, again, err)
		}
	})
}
