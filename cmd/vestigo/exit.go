package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/backup"
	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// Exit codes, decided here and nowhere else.
const (
	exitOK          = 0
	exitFailure     = 1   // the command failed (I/O, a node, a corrupt store…)
	exitUsage       = 2   // bad flags, arguments or input values
	exitNotFound    = 3   // the block, transaction or address is not indexed
	exitProblems    = 4   // a verification found problems
	exitDenied      = 5   // bad credentials, or not allowed
	exitRefused     = 6   // a case package or backup was refused (tampered, not for us, unknown sender, store not empty…)
	exitInterrupted = 130 // stopped by SIGINT/SIGTERM; work so far is committed
)

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errProblems reports that a check ran and found problems (already printed).
var errProblems = errors.New("problems found")

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue), errors.Is(err, chain.ErrInvalid), errors.Is(err, workspace.ErrAmbiguous), errors.Is(err, casestore.ErrInvalid):
		return exitUsage
	case errors.Is(err, chain.ErrNotFound), errors.Is(err, casestore.ErrNotFound):
		return exitNotFound
	case errors.Is(err, casestore.ErrUnauthorized), errors.Is(err, casestore.ErrForbidden), errors.Is(err, workspace.ErrNoPassphrase),
		errors.Is(err, casepack.ErrPassphrase):
		return exitDenied
	case errors.Is(err, casepack.ErrNotForYou), errors.Is(err, casepack.ErrSignature), errors.Is(err, casepack.ErrTampered),
		errors.Is(err, casepack.ErrUnsafePath), errors.Is(err, casepack.ErrTooLarge), errors.Is(err, casepack.ErrFormat),
		errors.Is(err, casepack.ErrUnknownSender), errors.Is(err, backup.ErrFormat), errors.Is(err, backup.ErrCorrupt),
		errors.Is(err, backup.ErrUnsafePath), errors.Is(err, backup.ErrTooLarge), errors.Is(err, backup.ErrNotEmpty), errors.Is(err, backup.ErrUntrusted):
		return exitRefused
	case errors.Is(err, errProblems):
		return exitProblems
	default:
		return exitFailure
	}
}

// report prints err as one line on stderr and returns the exit code.
func report(stderr io.Writer, err error) int {
	code := exitCode(err)
	if err == nil {
		return code
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if code == exitInterrupted {
		msg = "interrupted; everything committed so far is kept, run the command again to resume"
	}
	fmt.Fprintf(stderr, "vestigo: %s\n", msg)
	return code
}
