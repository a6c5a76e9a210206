package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// apiStub stands for the API server: it answers every request with 401
// and records that it was asked.
type apiStub struct{ paths []string }

func (a *apiStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.paths = append(a.paths, r.URL.Path)
	w.WriteHeader(http.StatusUnauthorized)
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRouting: the API's paths go to the API; the workspace's pages get
// the one HTML page under the strict policy; assets are served with ETags;
// anything else is 404 and only GET and HEAD are answered outside the API.
func TestRouting(t *testing.T) {
	api := &apiStub{}
	h, err := Handler(Config{API: api})
	if err != nil {
		t.Fatal(err)
	}
	index, err := fs.ReadFile(embedded, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/healthz", "/api", "/api/v1/me", "/api/v1/cases/1", "/api/nope", "/api/v1/../../etc/passwd"} {
		if r := get(t, h, "GET", p); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want the API's 401", p, r.StatusCode)
		}
	}
	if r := get(t, h, "DELETE", "/api/v1/cases/1"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("DELETE on the API: %d", r.StatusCode)
	}
	if len(api.paths) != 7 {
		t.Errorf("the API saw %v", api.paths)
	}
	for _, p := range []string{"/", "/login", "/search", "/cases", "/graph", "/address/bc1qxyz", "/tx/00ab", "/block/100",
		"/entity/42", "/cases/7"} {
		r := get(t, h, "GET", p)
		if r.StatusCode != 200 || body(t, r) != string(index) {
			t.Errorf("%s: %d, not the workspace's page", p, r.StatusCode)
			continue
		}
		if r.Header.Get("Content-Security-Policy") != ContentSecurityPolicy || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
			r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", p, r.Header)
		}
	}
	for _, p := range []string{"/address/", "/nope", "/cases/", "/index.html", "/assets/", "/assets/nope.js", "/assets/../index.html",
		"/address//x", "/graph/"} {
		if r := get(t, h, "GET", p); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.StatusCode)
		}
	}
	if r := get(t, h, "POST", "/login"); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /login: %d", r.StatusCode)
	}
	r := get(t, h, "GET", "/assets/app.js")
	etag := r.Header.Get("ETag")
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") || etag == "" {
		t.Fatalf("app.js: %d %v", r.StatusCode, r.Header)
	}
	if r := get(t, h, "GET", "/assets/app.js", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("app.js again: %d, want 304", r.StatusCode)
	}
	if r := get(t, h, "HEAD", "/assets/favicon.svg"); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: %d %v", r.StatusCode, r.Header)
	}
}

// TestPageIsInert: the HTML page loads code and styles only from the
// bundle's files, with nothing inline for the policy to forbid.
func TestPageIsInert(t *testing.T) {
	b, err := fs.ReadFile(embedded, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !regexp.MustCompile(`src="/assets/[\w.-]+\.js"`).MatchString(m) {
			t.Errorf("script without a bundle src: %s", m)
		}
	}
	if regexp.MustCompile(`<script[^>]*>[^<]+</script>`).MatchString(page) || regexp.MustCompile(`(?i)\son\w+=|\sstyle=|<style`).MatchString(page) {
		t.Error("the page has inline code or styles")
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "/assets/") {
			t.Errorf("the page loads %s from outside the bundle", m[1])
		} else if _, err := fs.Stat(embedded, "dist"+m[1]); err != nil {
			t.Errorf("the page loads %s, which the bundle lacks", m[1])
		}
	}
	if !strings.Contains(ContentSecurityPolicy, "script-src 'self';") || strings.Contains(ContentSecurityPolicy, "unsafe") {
		t.Errorf("policy %q", ContentSecurityPolicy)
	}
}

// TestLanguages: the languages a user may choose are the workspace's
// message catalogues.
func TestLanguages(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("..", "..", "web", "src", "i18n"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	want := slices.Clone(casestore.Languages)
	slices.Sort(want)
	if !slices.Equal(dirs, want) {
		t.Fatalf("catalogues %v, store languages %v", dirs, want)
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "web", "src", "i18n.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range casestore.Languages {
		if !strings.Contains(string(src), "{ code: '"+l+"'") {
			t.Errorf("i18n.js LOCALES lacks %s", l)
		}
	}
}

// TestDevelopmentDir: --web-dir serves a build from disk, and a directory
// without the page is refused at start.
func TestDevelopmentDir(t *testing.T) {
	if _, err := Handler(Config{API: &apiStub{}, Dir: t.TempDir()}); err == nil {
		t.Fatal("an empty directory was accepted")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>dev</title>"), 0o644)
	os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("export {}"), 0o644)
	h, err := Handler(Config{API: &apiStub{}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, h, "GET", "/tx/ab"); body(t, r) != "<!doctype html><title>dev</title>" {
		t.Fatal("not the directory's page")
	}
	if r := get(t, h, "GET", "/assets/app.js"); body(t, r) != "export {}" {
		t.Fatal("not the directory's asset")
	}
	if _, err := Handler(Config{}); err == nil {
		t.Fatal("no API accepted")
	}
}
