// Package web serves Vestigo's browser workspace: the single-page app built
// from web/src by web/build.mjs into dist/ and embedded in the binary, in
// front of the JSON API of package api.
//
// Concepts: the handler routes /api/ and /healthz to the API server, which
// authenticates and authorises every request; it serves the bundle's files
// under /assets/ and the app's one HTML page for each of the workspace's
// own paths (/address/…, /cases/…, /graph …), where the app's router takes
// over. The static files carry no data, so they need no credentials; the
// pages get everything from the versioned API, with the session cookie and
// its CSRF token. The HTML is served with a strict Content-Security-Policy
// (scripts and styles only from this origin, no inline code), so a tag
// label that holds markup can never run.
//
// Errors: Handler fails only on a development directory without the
// bundle's index.html; a missing asset answers 404 and any other method
// than GET or HEAD outside the API 405.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var embedded embed.FS

// Config is what the handler needs.
type Config struct {
	// API answers /api/ and /healthz (the api.Server's handler).
	API http.Handler
	// Dir, when set, serves the workspace from this directory instead of
	// the embedded build: for developing it (web/build.mjs --out DIR).
	Dir string
}

// ContentSecurityPolicy is the policy of the workspace's page: its own
// scripts, styles, images (and data:/blob: images of the graph export),
// requests only to its own origin, no frames, no plugins, no inline code.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// appPaths are the workspace's own paths (exact) and prefixes (ending in
// "/"): the router of the app renders them.
var appPaths = []string{"/", "/login", "/search", "/cases", "/graph",
	"/address/", "/tx/", "/block/", "/entity/", "/cases/"}

// IsAppPath reports whether p is a page of the workspace.
func IsAppPath(p string) bool {
	for _, a := range appPaths {
		if strings.HasSuffix(a, "/") && a != "/" {
			if strings.HasPrefix(p, a) && len(p) > len(a) {
				return true
			}
		} else if p == a {
			return true
		}
	}
	return false
}

type handler struct {
	api   http.Handler
	files fs.FS
	dev   bool

	mu    sync.Mutex
	etags map[string]string // embedded files: name → ETag
}

// Handler builds the workspace's handler around the API's.
func Handler(cfg Config) (http.Handler, error) {
	if cfg.API == nil {
		return nil, errors.New("web: no API handler")
	}
	h := &handler{api: cfg.API, etags: map[string]string{}}
	if cfg.Dir != "" {
		h.files, h.dev = os.DirFS(cfg.Dir), true
	} else {
		sub, err := fs.Sub(embedded, "dist")
		if err != nil {
			return nil, fmt.Errorf("web: embedded workspace: %w", err)
		}
		h.files = sub
	}
	if _, err := fs.Stat(h.files, "index.html"); err != nil {
		return nil, fmt.Errorf("web: the workspace has no index.html (build it: cd web && node build.mjs): %w", err)
	}
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/healthz" || p == "/api" || strings.HasPrefix(p, "/api/") {
		h.api.ServeHTTP(w, r)
		return
	}
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case strings.HasPrefix(p, "/assets/") && path.Clean(p) == p:
		h.file(w, r, strings.TrimPrefix(p, "/"), "public, no-cache")
	case p == "/favicon.ico":
		h.file(w, r, "assets/favicon.svg", "public, no-cache")
	case IsAppPath(p) && path.Clean(p) == p:
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.file(w, r, "index.html", "no-cache")
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

// file answers one file of the bundle with its ETag, so browsers
// revalidate instead of downloading it again.
func (h *handler) file(w http.ResponseWriter, r *http.Request, name, cache string) {
	b, err := fs.ReadFile(h.files, name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	etag := h.etag(name, b)
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Cache-Control", cache)
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func (h *handler) etag(name string, b []byte) string {
	if h.dev {
		sum := sha256.Sum256(b)
		return `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.etags[name]; ok {
		return e
	}
	sum := sha256.Sum256(b)
	e := `"` + hex.EncodeToString(sum[:8]) + `"`
	h.etags[name] = e
	return e
}
