package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// Defaults of Config.
const (
	DefaultMaxBody    = 1 << 20   // JSON bodies
	DefaultMaxExhibit = 256 << 20 // exhibit uploads
	DefaultSessionTTL = 8 * time.Hour
)

const jsonType = "application/json; charset=utf-8"

// Config is what a Server needs.
type Config struct {
	// Workspace answers the chain questions; open it read-only.
	Workspace *workspace.Workspace
	// Store holds users, sessions, tokens, cases and the audit log.
	Store  *casestore.Store
	Logger *slog.Logger     // default: discard
	Clock  func() time.Time // default: time.Now
	// Version is Vestigo's version, recorded in every finding.
	Version string
	// MaxBody bounds a JSON request body (default 1 MiB); MaxExhibit an
	// exhibit upload (default 256 MiB).
	MaxBody, MaxExhibit int64
	// SessionTTL is how long a login session lasts (default 8 h).
	SessionTTL time.Duration
	// Verifier checks checkpoints and time-stamp tokens in audit verify
	// (the installation's public signing keys, the TSA's CA).
	Verifier casestore.Verifier
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (the client's address for rate limits,
	// TLS for Secure cookies).
	TrustedProxies []*net.IPNet
	// SecureCookies marks session cookies Secure whatever the request says
	// (the server is only reached over TLS).
	SecureCookies bool
}

// Server is the API server: an http.Handler over the route table.
type Server struct {
	ws            *workspace.Workspace
	store         *casestore.Store
	log           *slog.Logger
	now           func() time.Time
	version       string
	verifier      casestore.Verifier
	proxies       []*net.IPNet
	secureCookies bool
	verifyMu      sync.Mutex
	lastVerify    *verifySummary
	maxBody       int64
	maxExh        int64
	ttl           time.Duration

	routes   []*route
	mux      *http.ServeMux
	patterns []string // registered on mux, in order
	logins   *loginLimiter
	openapi  []byte
}

// New checks the configuration and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Workspace == nil {
		return nil, errors.New("api: no workspace")
	}
	if cfg.Store == nil {
		return nil, errors.New("api: no case store")
	}
	if cfg.MaxBody < 0 || cfg.MaxExhibit < 0 || cfg.SessionTTL < 0 {
		return nil, errors.New("api: negative limit or session lifetime")
	}
	s := &Server{ws: cfg.Workspace, store: cfg.Store, log: cfg.Logger, now: cfg.Clock, version: cfg.Version, verifier: cfg.Verifier,
		proxies: cfg.TrustedProxies, secureCookies: cfg.SecureCookies,
		maxBody: cfg.MaxBody, maxExh: cfg.MaxExhibit, ttl: cfg.SessionTTL}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.version == "" {
		s.version = "unknown"
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.maxExh == 0 {
		s.maxExh = DefaultMaxExhibit
	}
	if s.ttl == 0 {
		s.ttl = DefaultSessionTTL
	}
	s.logins = newLoginLimiter(loginBurst, loginRefill)
	s.routes = s.table()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		pattern := rt.method + " " + rt.path
		s.mux.Handle(pattern, s.wrap(rt))
		s.patterns = append(s.patterns, pattern)
	}
	doc, err := encodeJSON(s.openAPI())
	if err != nil {
		return nil, fmt.Errorf("api: OpenAPI document: %w", err)
	}
	s.openapi = doc
	return s, nil
}

// Handler returns the server's handler: security headers and logging
// around the route table; anything outside it answers 401 without
// credentials and 404 (or 405) with them.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

// Security headers of every response: JSON that no browser sniffs, frames,
// runs scripts in or caches.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Type", jsonType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// info is what the access log says of a request; the middleware fills
// it as it goes.
type info struct {
	status int
	user   string
}

type infoKey struct{}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	info  *info
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.info.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (Flush for
// server-sent events).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	inf := &info{}
	sw := &statusWriter{ResponseWriter: w, info: inf}
	setSecurityHeaders(w.Header())
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, inf))
	defer func() {
		v := recover()
		switch {
		case v == http.ErrAbortHandler:
			inf.status = -1 // the response was cut off on purpose
		case v != nil:
			s.log.Error("api: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if !sw.wrote {
				writeError(sw, errors.New("panic"))
			}
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", inf.status,
			"duration", s.now().Sub(start), "user", inf.user)
		if v == http.ErrAbortHandler {
			panic(v)
		}
	}()
	// A path that is not clean ("//", "..", a trailing "/") matches no
	// route: the mux's redirect to the clean path would answer before any
	// authentication.
	if _, pattern := s.mux.Handler(r); pattern == "" || path.Clean(r.URL.Path) != r.URL.Path {
		s.unrouted(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// unrouted answers a request outside the route table: 401 without
// credentials, else the mux's own verdict (404, or 405 with Allow) as a
// JSON error.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.authenticate(r); err != nil {
		writeError(w, err)
		return
	}
	h, _ := s.mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch rec.status {
	case http.StatusMethodNotAllowed:
		writeError(w, errorf(rec.status, "method %s is not allowed here", r.Method))
	default:
		writeError(w, errorf(http.StatusNotFound, "no such route"))
	}
}

// headerRecorder keeps what the mux's fallback handler sets and drops its
// plain-text body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

// call is one request to a route, authenticated and checked.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	route *route
	p     casestore.Principal
	sess  *session // the cookie session, nil for a bearer token
	v     values
}

func (c *call) ok(v any) error      { return writeJSON(c.w, http.StatusOK, v) }
func (c *call) created(v any) error { return writeJSON(c.w, http.StatusCreated, v) }
func (c *call) noContent() error {
	c.w.Header().Del("Content-Type")
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// decode reads the JSON body into dst: one object of known fields.
func (c *call) decode(dst any) error {
	if mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "the body must be application/json")
	}
	d := json.NewDecoder(c.r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(dst); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("the body is not the expected JSON: %s", clip(strings.TrimPrefix(err.Error(), "json: ")))
	}
	if _, err := d.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("the body holds more than one JSON value")
	}
	return nil
}

// isUnsafe reports methods that change something.
func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// wrap is the middleware of one route: authentication, CSRF, the
// permission check, parameters, the body limit, then the handler.
func (s *Server) wrap(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inf, _ := r.Context().Value(infoKey{}).(*info)
		c := &call{s: s, w: w, r: r, ctx: r.Context(), route: rt}
		if rt.perm != permPublic {
			p, sess, err := s.authenticate(r)
			if err != nil {
				writeError(w, err)
				return
			}
			c.p, c.sess = p, sess
			if inf != nil {
				inf.user = p.Username
			}
			if sess != nil && isUnsafe(r.Method) {
				got := r.Header.Get(csrfHeader)
				if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
					s.deny(c, "csrf")
					writeError(w, errorf(http.StatusForbidden, "missing or wrong %s header", csrfHeader))
					return
				}
			}
			if !rt.perm.allows(p.Role) {
				s.deny(c, "role")
				writeError(w, errorf(http.StatusForbidden, "forbidden: the %s role may not %s", p.Role, rt.perm))
				return
			}
		}
		limit := s.maxBody
		if rt.body == bodyUpload {
			limit = s.maxExh + uploadSlack
		}
		if r.ContentLength > limit {
			writeError(w, errTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		v, err := checkParams(rt.params, r.PathValue, r.URL.Query())
		if err != nil {
			writeError(w, err)
			return
		}
		c.v = v
		if rt.body == bodyNone && r.ContentLength > 0 {
			writeError(w, badRequest("this route takes no body"))
			return
		}
		err = rt.handle(c)
		if sw, ok := w.(*statusWriter); ok && err == nil && sw.info.status != rt.success() {
			// The OpenAPI document names the route's success status.
			s.log.Error("api: a route answered with another status than it declares", "method", r.Method, "route", rt.path,
				"status", sw.info.status, "declared", rt.success())
		}
		if err != nil {
			status, _ := statusOf(err)
			if status >= 500 {
				s.log.Error("api: request failed", "method", r.Method, "route", rt.path, "err", err)
			} else {
				s.log.Debug("api: request refused", "method", r.Method, "route", rt.path, "err", err)
			}
			if sw, ok := w.(*statusWriter); ok && sw.wrote {
				return // the response was under way; the log has it
			}
			writeError(w, err)
		}
	})
}

// deny records a refused request in the audit log.
func (s *Server) deny(c *call, why string) {
	detail, _ := json.Marshal(map[string]string{"route": c.route.method + " " + c.route.path, "path": c.r.URL.Path, "reason": why})
	ev := casestore.Event{Action: casestore.ActionDenied, ObjectType: "route", Detail: detail}
	if err := s.store.Audit(context.WithoutCancel(c.ctx), c.p, ev); err != nil {
		s.log.Error("api: audit of a denial failed", "user", c.p.Username, "route", c.route.path, "err", err)
	}
}
