package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
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
	// The tag label "Ransom address" is on the first ransom address.
	hits := search(a, "ransom%20addr")
	if !has(hits, "tag", rw.RansomAddresses[0]) || hits[0].Label != "Ransom address" || !strings.Contains(hits[0].Detail, "victim report") {
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
