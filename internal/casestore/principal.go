package casestore

import "errors"

// Role is what a user may do inside their agency.
type Role string

// The roles, from most to least privileged.
const (
	RoleAdmin        Role = "admin"        // manages users and tokens of the agency, and everything below
	RoleInvestigator Role = "investigator" // creates and changes cases, items, notes, findings, exhibits, tasks
	RoleReviewer     Role = "reviewer"     // reads everything of the agency, writes notes and review tasks only
	RoleReadOnly     Role = "read-only"    // reads
)

// Principal is an authenticated user, as every request and audit record
// names it.
type Principal struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	AgencyID int64  `json:"agency_id"`
	Agency   string `json:"agency"` // the agency's short code, e.g. "KOS-PD"
	Role     Role   `json:"role"`
}

// Errors of the store. Callers test them with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("unauthorised") // bad or expired credentials
	ErrForbidden    = errors.New("forbidden")    // authenticated, but not allowed
	ErrConflict     = errors.New("conflict")     // unique key taken, stale version
	ErrInvalid      = errors.New("invalid")      // input rejected before it reaches the store
)
