package api

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

const (
	sessionCookie = "vestigo_session"
	csrfHeader    = "X-CSRF-Token"
	// maxCredential bounds a username, password, token or cookie value.
	maxCredential = 1024
)

// session is what a cookie-authenticated request carries: the token its
// unsafe requests must repeat.
type session struct {
	CSRF string
}

var errNoCredentials = errorf(http.StatusUnauthorized, "authentication required: log in (POST /api/v1/login) or send Authorization: Bearer <token>")

// authenticate finds the principal of a request: a bearer token, else the
// session cookie (then session is set: CSRF applies). Without either it is
// 401.
func (s *Server) authenticate(r *http.Request) (casestore.Principal, *session, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > maxCredential {
			return casestore.Principal{}, nil, errorf(http.StatusUnauthorized, "the Authorization header must be Bearer <token>")
		}
		p, err := s.store.AuthenticateToken(r.Context(), tok)
		if err != nil {
			return casestore.Principal{}, nil, unauthorised(err)
		}
		return p, nil, nil
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return casestore.Principal{}, nil, errNoCredentials
	}
	if len(ck.Value) > maxCredential {
		return casestore.Principal{}, nil, errorf(http.StatusUnauthorized, "invalid or expired session")
	}
	p, csrf, err := s.store.Session(r.Context(), ck.Value)
	if err != nil {
		return casestore.Principal{}, nil, unauthorised(err)
	}
	return p, &session{CSRF: csrf}, nil
}

// unauthorised turns a failed credential check into 401, keeping other
// failures (the store down) as they are.
func unauthorised(err error) error {
	if errorsIsAny(err, casestore.ErrUnauthorized, casestore.ErrNotFound, casestore.ErrInvalid, casestore.ErrForbidden) {
		return errorf(http.StatusUnauthorized, "invalid, expired or revoked credentials")
	}
	return err
}

// peerIP is the address of the connection's peer.
func peerIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return net.ParseIP(host)
}

// trusted says whether the peer is one of the configured reverse proxies.
func (s *Server) trusted(r *http.Request) bool {
	ip := peerIP(r)
	if ip == nil {
		return false
	}
	for _, n := range s.proxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the client's address: the peer's, or, when the peer is a
// trusted reverse proxy, the last address it appended to X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	if s.trusted(r) {
		fwd := r.Header.Values("X-Forwarded-For")
		if len(fwd) > 0 {
			parts := strings.Split(fwd[len(fwd)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	if ip := peerIP(r); ip != nil {
		return ip.String()
	}
	return r.RemoteAddr
}

// secure says whether the client reached the server over TLS: directly, or
// through a trusted proxy that says so (X-Forwarded-Proto), or always when
// the server is told so.
func (s *Server) secure(r *http.Request) bool {
	return s.secureCookies || r.TLS != nil || (s.trusted(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// loginBody is the body of POST /login.
type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// loginAnswer is the answer of a login: who, the CSRF token to send with
// unsafe requests, and when the session ends.
type loginAnswer struct {
	Principal casestore.Principal `json:"principal"`
	CSRFToken string              `json:"csrf_token"`
	Expires   time.Time           `json:"expires"`
}

func (s *Server) login(c *call) error {
	var b loginBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Username == "" || b.Password == "" || len(b.Username) > maxCredential || len(b.Password) > maxCredential {
		return badRequest("username and password are required (at most %d bytes each)", maxCredential)
	}
	keys := []string{"user:" + strings.ToLower(strings.TrimSpace(b.Username)), "ip:" + s.clientIP(c.r)}
	ok, retry := s.logins.take(s.now(), keys...)
	if !ok {
		return &apiError{status: http.StatusTooManyRequests, msg: "too many failed logins; try again later", retryAfter: retrySeconds(retry)}
	}
	p, err := s.store.AuthenticatePassword(c.ctx, b.Username, b.Password)
	if err != nil {
		if errorsIsAny(err, casestore.ErrUnauthorized, casestore.ErrNotFound, casestore.ErrInvalid, casestore.ErrForbidden) {
			return errorf(http.StatusUnauthorized, "wrong username or password")
		}
		return err
	}
	s.logins.give(s.now(), keys...)
	// A new login never keeps a session the browser already had.
	if old, err := c.r.Cookie(sessionCookie); err == nil && old.Value != "" && len(old.Value) <= maxCredential {
		if err := s.store.DeleteSession(c.ctx, old.Value); err != nil {
			return err
		}
	}
	secret, csrf, expires, err := s.store.CreateSession(c.ctx, p, s.ttl)
	if err != nil {
		return err
	}
	http.SetCookie(c.w, &http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secure(c.r), Expires: expires, MaxAge: int(s.ttl.Seconds()),
	})
	if inf, _ := c.ctx.Value(infoKey{}).(*info); inf != nil {
		inf.user = p.Username
	}
	return c.ok(loginAnswer{Principal: p, CSRFToken: csrf, Expires: expires.UTC()})
}

func (s *Server) logout(c *call) error {
	if ck, err := c.r.Cookie(sessionCookie); err == nil && ck.Value != "" && c.r.Header.Get("Authorization") == "" {
		if err := s.store.DeleteSession(c.ctx, ck.Value); err != nil {
			return err
		}
	}
	http.SetCookie(c.w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secure(c.r), MaxAge: -1})
	return c.noContent()
}

// meAnswer is GET /me: the principal, the user's language and, for a
// cookie session, its CSRF token (a reloaded page of the workspace reads
// it here; it is never in a cookie).
type meAnswer struct {
	casestore.Principal
	Language  string `json:"language"`
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) me(c *call) error {
	lang, err := s.store.Language(c.ctx, c.p)
	if err != nil {
		return err
	}
	a := meAnswer{Principal: c.p, Language: lang}
	if c.sess != nil {
		a.CSRFToken = c.sess.CSRF
	}
	return c.ok(a)
}

// languageBody is PUT /me/language.
type languageBody struct {
	Language string `json:"language"`
}

func (s *Server) setLanguage(c *call) error {
	var b languageBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if err := s.store.SetLanguage(c.ctx, c.p, b.Language); err != nil {
		return err
	}
	return c.noContent()
}
