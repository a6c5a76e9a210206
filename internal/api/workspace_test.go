package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// TestSearch: the search box finds an address, a transaction, a block, an
// entity, a tag label and a case of the user's own agency only.
func TestSearch(t *testing.T) {
	e := newEnv(t)
	a, b := e.token("inv-a"), e.token("inv-b")
	ca := e.createCase(a, "RANSOM/2026/7", "Ransomware wave")
	rw := e.truth.Ransomware
	search := func(c cred, q string) []searchHit {
		t.Helper()
		var ans searchAnswer
		e.do("GET", "/api/v1/search?q="+q, c, nil).want(200).decode(&ans)
		return ans.Results
	}
	has := func(hits []searchHit, kind, ref string) bool {
		for _, h := range hits {
			if h.Kind == kind && h.Ref == ref {
				return true
			}
		}
		return false
	}
	if hits := search(a, rw.RansomAddresses[0]); !has(hits, "address", rw.RansomAddresses[0]) || hits[0].Network != "regtest" {
		t.Fatalf("address: %+v", hits)
	}
	if hits := search(a, rw.ConsolidationTxid); !has(hits, "tx", rw.ConsolidationTxid) {
		t.Fatalf("txid: %+v", hits)
	}
	if hits := search(a, "1"); !has(hits, "block", "1") || !has(hits, "entity", "1") {
		t.Fatalf("height 1: %+v", hits)
	}
	// entity:ADDRESS names the cluster's root, with its size.
	var cl struct {
		ClusterID uint64 `json:"cluster_id"`
		Size      uint64 `json:"size"`
	}
	e.do("GET", "/api/v1/cluster/"+rw.RansomAddresses[0], a, nil).want(200).decode(&cl)
	if hits := search(a, "entity:"+rw.RansomAddresses[0]); !has(hits, "entity", fmt.Sprint(cl.ClusterID)) || hits[0].Size != cl.Size || cl.Size < 2 {
		t.Fatalf("entity:ADDRESS: %+v, cluster %+v", hits, cl)
	}
	// The tag label "Ransom address" is on the first ransom address.
	hits := search(a, "ransom%20addr")
	if !has(hits, "tag", rw.RansomAddresses[0]) || hits[0].Label != "Ransom address" || hits[0].Target != "address" || !strings.Contains(hits[0].Detail, "victim report") {
		t.Fatalf("tag label: %+v", hits)
	}
	// Cases: by reference or title, of the agency's own only.
	if hits := search(a, "ransom"); !has(hits, "case", fmt.Sprint(ca.ID)) || !has(hits, "tag", rw.RansomAddresses[0]) {
		t.Fatalf("case of A: %+v", hits)
	}
	if hits := search(b, "ransom"); has(hits, "case", fmt.Sprint(ca.ID)) {
		t.Fatalf("B finds A's case: %+v", hits)
	}
	if hits := search(a, "no-such-thing-anywhere"); len(hits) != 0 {
		t.Fatalf("nothing: %+v", hits)
	}
	if hits := search(a, "ransom&limit=1"); len(hits) != 1 {
		t.Fatalf("limit 1: %+v", hits)
	}
	e.do("GET", "/api/v1/search?q=", a, nil).want(400)
	e.do("GET", "/api/v1/search?q="+strings.Repeat("x", maxSearchQuery+1), a, nil).want(400)
	e.do("GET", "/api/v1/search?q=x", anonymous, nil).want(401)
}

// TestEntityPage: GET /entity/{id} answers what GET /cluster/{address}
// answers for any member of the entity.
func TestEntityPage(t *testing.T) {
	e := newEnv(t)
	a := e.token("ro-a")
	addr := e.truth.Ransomware.RansomAddresses[0]
	var byAddr, byID map[string]any
	e.do("GET", "/api/v1/cluster/"+addr, a, nil).want(200).decode(&byAddr)
	id := int64(byAddr["cluster_id"].(float64))
	e.do("GET", fmt.Sprintf("/api/v1/entity/%d", id), a, nil).want(200).decode(&byID)
	for _, k := range []string{"cluster_id", "size", "total_received", "tags"} {
		if compactJSON(t, byAddr[k]) != compactJSON(t, byID[k]) {
			t.Fatalf("%s: by address %v, by id %v", k, byAddr[k], byID[k])
		}
	}
	e.do("GET", "/api/v1/entity/0", a, nil).want(400)
	e.do("GET", "/api/v1/entity/99999999", a, nil).want(404)
}

// TestLanguageSetting: the language persists per user; changing it needs
// the session's CSRF token, which GET /me gives back to a reloaded page.
func TestLanguageSetting(t *testing.T) {
	e := newEnv(t)
	s := e.login("rev-a")
	var me meAnswer
	e.do("GET", "/api/v1/me", s, nil).want(200).decode(&me)
	if me.Language != "" || me.CSRFToken != s.csrf || me.Username != "rev-a" {
		t.Fatalf("me: %+v", me)
	}
	noCSRF := s
	noCSRF.csrf = ""
	e.do("PUT", "/api/v1/me/language", noCSRF, map[string]string{"language": "sq"}).want(403)
	e.do("PUT", "/api/v1/me/language", s, map[string]string{"language": "de"}).want(400)
	e.do("PUT", "/api/v1/me/language", s, map[string]string{"language": "sr-Cyrl"}).want(204)
	e.do("GET", "/api/v1/me", e.login("rev-a"), nil).want(200).decode(&me)
	if me.Language != "sr-Cyrl" {
		t.Fatalf("language after a new login: %q", me.Language)
	}
	// A token has no session: no CSRF token in /me.
	var byToken meAnswer
	e.do("GET", "/api/v1/me", e.token("rev-a"), nil).want(200).decode(&byToken)
	if byToken.CSRFToken != "" || byToken.Language != "sr-Cyrl" {
		t.Fatalf("me by token: %+v", byToken)
	}
	var other meAnswer
	e.do("GET", "/api/v1/me", e.token("inv-a"), nil).want(200).decode(&other)
	if other.Language != "" {
		t.Fatalf("another user's language: %q", other.Language)
	}
}

// TestTraceEvents: the event stream reports each hop, then the very trace
// GET /trace/{from} answers; bad parameters are a JSON error before any
// event.
func TestTraceEvents(t *testing.T) {
	e := newEnv(t)
	a := e.token("inv-a")
	from := "entity:" + e.truth.Ransomware.RansomAddresses[0]
	q := "?hops=8&direction=forward"
	plain := e.do("GET", "/api/v1/trace/"+from+q, a, nil).want(200)

	req, err := http.NewRequestWithContext(context.Background(), "GET", e.url+"/api/v1/trace/"+from+"/events"+q, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != eventStreamType {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	type event struct{ name, data string }
	var events []event
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var cur event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		case line == "":
			events = append(events, cur)
			cur = event{}
		}
	}
	if len(events) < 3 {
		t.Fatalf("events: %+v", events)
	}
	last := events[len(events)-1]
	if last.name != "result" {
		t.Fatalf("last event %q: %s", last.name, last.data)
	}
	if got, want := compactBody(t, []byte(last.data)), compactBody(t, plain.body); got != want {
		t.Fatalf("streamed result differs from GET /trace:\n%s\n%s", got, want)
	}
	prevHop := 0
	for _, ev := range events[:len(events)-1] {
		var p progressEvent
		if ev.name != "progress" || json.Unmarshal([]byte(ev.data), &p) != nil || p.Hop != prevHop+1 || p.Frontier <= 0 {
			t.Fatalf("progress event %+v after hop %d", ev, prevHop)
		}
		prevHop = p.Hop
	}
	if prevHop < 8 {
		t.Fatalf("%d hops reported, want at least 8", prevHop)
	}
	e.do("GET", "/api/v1/trace/"+from+"/events?hops=0", a, nil).want(400)
	e.do("GET", "/api/v1/trace/"+from+"/events", anonymous, nil).want(401)
}

// TestSearchEmptyInstallation: before any import (no index, no clusters,
// no tags) the search box answers with nothing found, never an error.
func TestSearchEmptyInstallation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ws, err := workspace.Open(filepath.Join(dir, "data"), workspace.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	store, err := casestore.Open(ctx, filepath.Join(dir, "cases.db"), casestore.Options{Argon2: casestore.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ag, err := store.CreateAgency(ctx, "E-PD", "Empty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.BootstrapAdmin(ctx, ag.ID, "admin", "an admin password"); err != nil {
		t.Fatal(err)
	}
	p, err := store.AuthenticatePassword(ctx, "admin", "an admin password")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := store.CreateToken(ctx, p, p.UserID, "t")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Workspace: ws, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{t: t, url: hs.URL}
	for _, q := range []string{"ransom", "123", "entity:7", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", strings.Repeat("ab", 32)} {
		var ans searchAnswer
		e.do("GET", "/api/v1/search?q="+q, cred{bearer: tok}, nil).want(200).decode(&ans)
		if len(ans.Results) != 0 {
			t.Errorf("%s: %+v", q, ans.Results)
		}
	}
}
