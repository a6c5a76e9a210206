package casestore

import (
	"errors"
	"fmt"
)

// ErrSchemaTooNew is returned by Open for a store written by a newer
// Vestigo (a schema version this build does not know).
var ErrSchemaTooNew = errors.New("schema newer than this build")

// ErrVerification is returned by LoadVerified when the loaded store does
// not verify (nothing is loaded then; the report names the problems).
var ErrVerification = errors.New("verification found problems")

// InvalidError is input rejected before it reaches the store: Field names
// the input, Problem says what is wrong. It matches ErrInvalid.
type InvalidError struct {
	Field   string
	Problem string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("casestore: invalid %s: %s", e.Field, e.Problem)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// deniedError is a refusal by the policy. It is returned to the caller
// (matching ErrNotFound, ErrForbidden or ErrUnauthorized) after the attempt
// has been written to the audit log.
type deniedError struct {
	base    error  // ErrNotFound, ErrForbidden or ErrUnauthorized
	what    string // e.g. "change note 5"
	reason  string // e.g. "role read-only may not change case content"
	objType string
	objID   int64
}

func (e *deniedError) Error() string {
	if e.base == ErrNotFound {
		// Say nothing about whether it exists elsewhere.
		return fmt.Sprintf("casestore: %s: %s %d not found", e.what, e.objType, e.objID)
	}
	return fmt.Sprintf("casestore: %s: %v (%s)", e.what, e.base, e.reason)
}

func (e *deniedError) Unwrap() error { return e.base }
