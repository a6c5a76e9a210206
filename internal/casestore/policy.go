package casestore

import "fmt"

// perm is a kind of access the policy decides on.
type perm int

const (
	permRead        perm = iota // read anything of the agency: every role
	permWrite                   // create, change, delete case content: admin, investigator
	permAnnotate                // add notes and tasks: admin, investigator, reviewer
	permAnnotateOwn             // change or delete a note or task: admin, investigator; a reviewer their own
	permAdmin                   // manage the agency's users and tokens: admin
	permSelfOrAdmin             // a user's own password and tokens: that user, or an admin of the agency
	permAudit                   // read the audit log: admin, reviewer
)

func (pm perm) String() string {
	switch pm {
	case permRead:
		return "read"
	case permWrite:
		return "change case content"
	case permAnnotate:
		return "add notes and tasks"
	case permAnnotateOwn:
		return "change notes and tasks"
	case permAdmin:
		return "manage users and tokens"
	case permSelfOrAdmin:
		return "manage another user's credentials"
	case permAudit:
		return "read the audit log"
	}
	return "?"
}

func knownRole(r Role) bool {
	switch r {
	case RoleAdmin, RoleInvestigator, RoleReviewer, RoleReadOnly:
		return true
	}
	return false
}

// decide is the one authorisation rule of the store: may principal p do pm
// to an object of agency (-1: the object does not exist) owned by owner
// (the user who created it, or the user it concerns; 0 if none)? It
// returns nil, or the error to refuse with and the reason to audit.
//
// Another agency's object is ErrNotFound, exactly as a missing one, so a
// refusal never tells that it exists. Within the agency a missing role is
// ErrForbidden.
func decide(p Principal, pm perm, agency, owner int64) (error, string) {
	if p.UserID <= 0 || p.AgencyID <= 0 || !knownRole(p.Role) {
		return ErrUnauthorized, "no authenticated principal"
	}
	if agency != p.AgencyID {
		return ErrNotFound, "not found or not visible"
	}
	allowed := false
	switch pm {
	case permRead:
		allowed = true
	case permWrite:
		allowed = p.Role == RoleAdmin || p.Role == RoleInvestigator
	case permAnnotate:
		allowed = p.Role != RoleReadOnly
	case permAnnotateOwn:
		allowed = p.Role == RoleAdmin || p.Role == RoleInvestigator || (p.Role == RoleReviewer && owner == p.UserID)
	case permAdmin:
		allowed = p.Role == RoleAdmin
	case permSelfOrAdmin:
		allowed = p.Role == RoleAdmin || owner == p.UserID
	case permAudit:
		allowed = p.Role == RoleAdmin || p.Role == RoleReviewer
	}
	if !allowed {
		return ErrForbidden, fmt.Sprintf("role %s may not %s", p.Role, pm)
	}
	return nil, ""
}
