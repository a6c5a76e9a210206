package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// apiError is an error whose message is meant for the client: it says what
// was wrong with the request and nothing about the server.
type apiError struct {
	status int
	msg    string
	// retryAfter is sent as Retry-After (seconds) when positive.
	retryAfter int
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

// errTooLarge is a body beyond its limit.
var errTooLarge = errors.New("request body too large")

// statusOf maps an error to its status code and the message the client
// sees: the one place where store, index and analysis errors become HTTP.
// Messages of invalid input are the client's own business and are shown;
// every other message is generic, so that no internal detail (a path, a
// query, another agency's data) leaks.
func statusOf(err error) (int, string) {
	var ae *apiError
	var mbe *http.MaxBytesError
	var ie *casestore.InvalidError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.As(err, &mbe), errors.Is(err, errTooLarge),
		errors.As(err, &ie) && ie.Field == "content" && strings.HasPrefix(ie.Problem, "larger than"):
		return http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, casestore.ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorised"
	case errors.Is(err, casestore.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, casestore.ErrNotFound), errors.Is(err, chain.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, workspace.ErrNoData):
		return http.StatusNotFound, "not found: the server holds no index for this"
	case errors.Is(err, casestore.ErrConflict):
		return http.StatusConflict, "conflict: " + publicMessage(err)
	case errors.Is(err, entity.ErrNoClusters):
		return http.StatusConflict, "the index has no cluster store yet (vestigo cluster build)"
	case errors.Is(err, workspace.ErrAmbiguous):
		return http.StatusBadRequest, "the input matches several indexed networks; choose one with the network parameter"
	case errors.Is(err, casestore.ErrInvalid), errors.Is(err, chain.ErrInvalid):
		return http.StatusBadRequest, publicMessage(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "request cancelled"
	default:
		return http.StatusInternalServerError, "internal error"
	}
}

// publicMessage is the message of an input error without the prefixes of
// the layers it passed through ("workspace: invalid input: x" becomes
// "x"), on one line and bounded.
func publicMessage(err error) string {
	msg := err.Error()
	for {
		p, rest, ok := strings.Cut(msg, ": ")
		if !ok || !layerPrefix[p] {
			break
		}
		msg = rest
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	if msg == "" {
		msg = "invalid input"
	}
	return msg
}

// layerPrefix are the package prefixes and sentinel texts errors carry.
var layerPrefix = map[string]bool{
	"api": true, "workspace": true, "index": true, "trace": true, "entity": true, "detect": true, "btc": true,
	"chain": true, "cluster": true, "tags": true, "casestore": true,
	chain.ErrInvalid.Error(): true, chain.ErrNotFound.Error(): true, casestore.ErrInvalid.Error(): true,
	casestore.ErrConflict.Error(): true,
}

// encodeJSON encodes v as the command line prints it: indented by two
// spaces, HTML escaped (encoding/json's default), one trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := encodeJSON(v)
	if err != nil {
		return fmt.Errorf("api: encode response: %w", err)
	}
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
}

// writeError writes err's status and public message.
func writeError(w http.ResponseWriter, err error) int {
	status, msg := statusOf(err)
	var ae *apiError
	if errors.As(err, &ae) && ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	writeJSON(w, status, errorBody{Error: msg})
	return status
}

// errorsIsAny reports whether err matches one of targets.
func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
