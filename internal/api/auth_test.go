package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEveryRouteNeedsCredentials walks the route table: every route but
// /healthz and the login answers 401 with a JSON error to a request
// without credentials, with a made-up token and with a made-up session;
// so does a path outside the table.
func TestEveryRouteNeedsCredentials(t *testing.T) {
	e := newEnv(t)
	public := 0
	for _, rt := range e.srv.routes {
		path := concrete(rt.path, "1")
		if rt.perm == permPublic {
			public++
			if rt.path != "/healthz" && rt.path != "/api/v1/login" {
				t.Errorf("%s %s is public: only /healthz and the login may be", rt.method, rt.path)
			}
			continue
		}
		for name, c := range map[string]cred{
			"none":    anonymous,
			"token":   {bearer: "vgt_not-a-token"},
			"session": {cookie: "not-a-session", csrf: "x"},
			"scheme":  {},
		} {
			var res result
			if name == "scheme" {
				res = e.do(rt.method, path, c, nil, "Authorization", "Basic YWRtaW46YWRtaW4=")
			} else {
				res = e.do(rt.method, path, c, nil)
			}
			res.want(http.StatusUnauthorized)
			res.errorText()
			if ct := res.resp.Header.Get("Content-Type"); ct != jsonType {
				t.Errorf("%s (%s): Content-Type %q", res.what, name, ct)
			}
		}
	}
	if public != 2 {
		t.Fatalf("%d public routes, want 2", public)
	}
	e.do("GET", "/api/v1/no-such-thing", anonymous, nil).want(http.StatusUnauthorized).errorText()
	e.do("GET", "/", anonymous, nil).want(http.StatusUnauthorized).errorText()
	e.do("GET", "/healthz", anonymous, nil).want(http.StatusOK)
	for _, p := range []string{"/api/v1//me", "/api/v1/me/", "/api/v1/x/../me", "/healthz/"} {
		e.do("GET", p, anonymous, nil).want(http.StatusUnauthorized).errorText()
	}

	// With credentials the unrouted answer is 404, or 405 naming what is
	// allowed; always JSON.
	tok := e.token("inv-a")
	e.do("GET", "/api/v1/no-such-thing", tok, nil).want(http.StatusNotFound).errorText()
	e.do("GET", "/api/v1//me", tok, nil).want(http.StatusNotFound).errorText()
	res := e.do("PUT", "/api/v1/cases", tok, nil).want(http.StatusMethodNotAllowed)
	res.errorText()
	if allow := res.resp.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("405 Allow %q", allow)
	}
}

// TestSecurityHeaders checks the headers of answers of every kind.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	tok := e.token("inv-a")
	for _, res := range []result{
		e.do("GET", "/healthz", anonymous, nil),
		e.do("GET", "/api/v1/me", anonymous, nil),
		e.do("GET", "/api/v1/me", tok, nil),
		e.do("GET", "/api/v1/cases/999", tok, nil),
		e.do("GET", "/api/v1/tx/zz", tok, nil),
	} {
		h := res.resp.Header
		for k, want := range map[string]string{
			"Content-Type":           jsonType,
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
			"X-Frame-Options":        "DENY",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", res.what, k, got, want)
			}
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", res.what, csp)
		}
	}
}

// TestSessionAndCSRF logs in with a password: the cookie's attributes, the
// CSRF token required (constant-time compared) on unsafe requests of the
// session and not on safe ones nor on token requests, refusals audited,
// and logout ending the session.
func TestSessionAndCSRF(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", "/api/v1/login", anonymous, map[string]string{"username": "inv-a", "password": pw("inv-a")}).want(200)
	var ck *http.Cookie
	for _, c := range res.resp.Cookies() {
		if c.Name == sessionCookie {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure || ck.MaxAge != 3600 {
		t.Fatalf("session cookie %+v", ck)
	}
	if strings.Contains(string(res.body), ck.Value) {
		t.Fatal("the login answer repeats the session secret")
	}
	s := e.login("inv-a")
	body := map[string]any{"reference": "2026/1", "title": "Ransom"}

	noCSRF := cred{cookie: s.cookie}
	e.do("GET", "/api/v1/cases", noCSRF, nil).want(200)
	e.do("GET", "/api/v1/me", noCSRF, nil).want(200)
	e.do("POST", "/api/v1/cases", noCSRF, body).want(http.StatusForbidden).errorText()
	e.do("POST", "/api/v1/cases", cred{cookie: s.cookie, csrf: s.csrf + "x"}, body).want(http.StatusForbidden)
	e.do("POST", "/api/v1/cases", cred{cookie: s.cookie, csrf: s.csrf[:len(s.csrf)-1]}, body).want(http.StatusForbidden)
	if d := e.denials("admin-a", "inv-a"); len(d) != 3 || !strings.Contains(d[0].Detail, "csrf") {
		t.Fatalf("CSRF refusals in the audit log: %+v", d)
	}
	var cs struct{ ID int64 }
	e.do("POST", "/api/v1/cases", s, body).want(201).decode(&cs)
	e.do("DELETE", "/api/v1/cases/"+strconv.FormatInt(cs.ID, 10), noCSRF, nil).want(http.StatusForbidden)

	// A token needs no CSRF token (a browser does not send it by itself).
	tok := e.token("inv-a")
	e.do("POST", "/api/v1/cases", tok, map[string]any{"reference": "2026/2", "title": "Token"}).want(201)
	// A token wins over a cookie: no CSRF check applies to it.
	e.do("POST", "/api/v1/cases", cred{bearer: tok.bearer, cookie: s.cookie}, map[string]any{"reference": "2026/3", "title": "Both"}).want(201)

	e.do("POST", "/api/v1/logout", noCSRF, nil).want(http.StatusForbidden)
	e.do("POST", "/api/v1/logout", s, nil).want(http.StatusNoContent)
	e.do("GET", "/api/v1/me", noCSRF, nil).want(http.StatusUnauthorized)

	// Logging in again with a session cookie ends that session.
	old := e.login("inv-a")
	e.do("POST", "/api/v1/login", cred{cookie: old.cookie}, map[string]string{"username": "inv-a", "password": pw("inv-a")}).want(200)
	e.do("GET", "/api/v1/me", old, nil).want(http.StatusUnauthorized)

	// An expired session is refused.
	s = e.login("inv-a")
	e.clock.add(61 * time.Minute)
	e.do("GET", "/api/v1/me", s, nil).want(http.StatusUnauthorized)
}

// TestSecureCookieOverTLS: the cookie is Secure when the request came over
// TLS.
func TestSecureCookieOverTLS(t *testing.T) {
	e := newEnv(t)
	ts := httptest.NewTLSServer(e.srv.Handler())
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/login", strings.NewReader(`{"username":"inv-a","password":"`+pw("inv-a")+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs := resp.Cookies()
	if resp.StatusCode != 200 || len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly {
		t.Fatalf("status %d, cookies %+v", resp.StatusCode, cs)
	}
}

// TestLoginRateLimit: failures per username and per client address are
// limited to loginBurst, then 429 with Retry-After until the bucket
// refills (on the injected clock); successful logins cost nothing.
func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 2*loginBurst; i++ {
		e.login("rev-a")
	}
	bad := map[string]string{"username": "inv-a", "password": "wrong password"}
	for i := 0; i < loginBurst; i++ {
		if msg := e.do("POST", "/api/v1/login", anonymous, bad).want(http.StatusUnauthorized).errorText(); msg != "wrong username or password" {
			t.Fatalf("failure %d: %q", i, msg)
		}
	}
	good := map[string]string{"username": "inv-a", "password": pw("inv-a")}
	res := e.do("POST", "/api/v1/login", anonymous, good).want(http.StatusTooManyRequests)
	res.errorText()
	if ra, err := strconv.Atoi(res.resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > int(loginRefill.Seconds()) {
		t.Fatalf("Retry-After %q", res.resp.Header.Get("Retry-After"))
	}
	e.clock.add(loginRefill)
	e.do("POST", "/api/v1/login", anonymous, good).want(200)

	// Per client address: unknown usernames from the same address.
	e.clock.add(loginBurst * loginRefill)
	for i := 0; i < loginBurst; i++ {
		e.do("POST", "/api/v1/login", anonymous, map[string]string{"username": "nobody" + strconv.Itoa(i), "password": "x-password"}).want(http.StatusUnauthorized)
	}
	e.do("POST", "/api/v1/login", anonymous, map[string]string{"username": "someone-else", "password": "x-password"}).want(http.StatusTooManyRequests)
	// Failures are aggregated per username and minute: sum their attempts.
	e.store.FlushAuthFailures(context.Background())
	var failed int
	for _, r := range e.audit("admin-a") {
		if r.Action == "login-failed" {
			var d struct {
				Attempts int `json:"attempts"`
			}
			if err := json.Unmarshal([]byte(r.Detail), &d); err != nil || d.Attempts == 0 {
				d.Attempts = 1
			}
			failed += d.Attempts
		}
	}
	if failed != loginBurst {
		t.Fatalf("%d failed logins audited for agency A, want %d", failed, loginBurst)
	}
}

// TestLoginInput: malformed login bodies are 400 or 415, never 500.
func TestLoginInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		body   []byte
		ct     string
		status int
	}{
		{[]byte(`{"username":"inv-a"}`), "application/json", 400},
		{[]byte(`{"username":"inv-a","password":"x","extra":1}`), "application/json", 400},
		{[]byte(`{"username":"inv-a","password":"x"} {}`), "application/json", 400},
		{[]byte(`[`), "application/json", 400},
		{[]byte(`username=inv-a&password=x`), "application/x-www-form-urlencoded", 415},
		{[]byte(`{"username":"` + strings.Repeat("a", 2000) + `","password":"x"}`), "application/json", 400},
	} {
		e.do("POST", "/api/v1/login", anonymous, tc.body, "Content-Type", tc.ct).want(tc.status).errorText()
	}
}
