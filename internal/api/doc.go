// Package api is the REST API of "vestigo serve", the team server: a
// versioned JSON API under /api/v1/ for every question the command line
// answers about the chain, and for case management over the case store.
//
// Concepts:
//
//   - The route table (routes.go) is the one description of the API: each
//     route's method and path, summary, parameters, body and the permission
//     it needs. The mux, the parameter checks, the authorisation middleware
//     and the OpenAPI 3.0 document (GET /api/v1/openapi.json) are all built
//     from it, so they cannot disagree.
//   - Authentication: POST /api/v1/login exchanges a username and password
//     for a session cookie (HttpOnly, SameSite=Strict, Secure over TLS) and
//     a CSRF token; cookie-authenticated unsafe requests (POST, PUT, PATCH,
//     DELETE) must repeat that token in the X-CSRF-Token header. Scripts
//     send "Authorization: Bearer <token>" instead and need no CSRF token.
//     Only /healthz and the login itself answer without credentials;
//     everything else answers 401. Failed logins are rate limited per
//     username and per client address (429 with Retry-After).
//   - Authorisation: each route needs read, annotate, write, audit or admin
//     permission; one middleware checks the principal's role against it and
//     records every denial in the audit log. Agency isolation is the
//     store's: another agency's case is not found (404).
//   - Chain and analysis answers are the same JSON the command line prints
//     with --json (the structs of packages chain, index and entity). A
//     finding is never a client's claim: the server runs the named analysis
//     itself and stores its result with its provenance (index tip, ledger,
//     Vestigo version, parameters).
//
// Errors: every failure is a JSON body {"error": "..."} with a status from
// one mapping (statusOf): invalid input 400, missing or bad credentials
// 401, not allowed 403, not found 404, conflict 409, body too large 413,
// too many login attempts 429; anything else is 500 "internal error" with
// the detail in the log only.
package api
