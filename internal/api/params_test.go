package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

var testDecl = []param{
	pathID("case", "a case"),
	queryInt("hops", "hops", 1, 64, "6"),
	queryBool("unspent", "unspent"),
	queryStr("model", "model", "haircut", "haircut", "fifo"),
	queryStr("since", "since", ""),
}

func TestCheckParams(t *testing.T) {
	path := func(v string) func(string) string { return func(string) string { return v } }
	for _, tc := range []struct {
		path, query string
		err         string
	}{
		{"7", "", ""},
		{"7", "hops=64&unspent=true&model=fifo&since=2024-01-01", ""},
		{"0", "", "out of range"},
		{"x", "", "not an integer"},
		{" ", "", "empty"},
		{"7", "hops=65", "out of range"},
		{"7", "hops=1e3", "not an integer"},
		{"7", "unspent=yes", "not true or false"},
		{"7", "model=poison", "not one of"},
		{"7", "case=3", "unknown query parameter"},
		{"7", "hops=1&hops=1", "given 2 times"},
		{"7", "since=" + strings.Repeat("x", maxParamLen+1), "too long"},
		{"7", "since=%ff", "not UTF-8"},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		v, err := checkParams(testDecl, path(tc.path), q)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s ? %s: %v", tc.path, tc.query, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s ? %s: error %v, want %q", tc.path, tc.query, err, tc.err)
		case err != nil:
			if st, _ := statusOf(err); st != http.StatusBadRequest {
				t.Errorf("%s ? %s: status %d", tc.path, tc.query, st)
			}
		case tc.err == "":
			if v.int("case", 0) != 7 || v.int("hops", 6) < 1 || v.str("model", "haircut") == "" {
				t.Errorf("%s ? %s: values %v", tc.path, tc.query, v.raw)
			}
		}
	}
	v, _ := checkParams(testDecl, path("7"), url.Values{})
	if v.int("hops", 6) != 6 || v.bool("unspent") || v.str("model", "haircut") != "haircut" || v.has("since") {
		t.Fatalf("defaults %v", v.raw)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("reading an undeclared parameter does not panic")
		}
	}()
	v.str("undeclared", "")
}

// FuzzCheckParams: whatever the query, checkParams either refuses it with
// a 400 or accepts values within their declarations.
func FuzzCheckParams(f *testing.F) {
	for _, s := range []string{"", "hops=3", "hops=-1&model=fifo", "unspent=1&since=x", "a=b&a=c", "hops=99999999999999999999", "%zz"} {
		f.Add("5", s)
	}
	f.Fuzz(func(t *testing.T, pathValue, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		v, err := checkParams(testDecl, func(string) string { return pathValue }, q)
		if err != nil {
			if st, _ := statusOf(err); st != http.StatusBadRequest {
				t.Fatalf("status %d for %v", st, err)
			}
			return
		}
		if id := v.int("case", 0); id < 1 {
			t.Fatalf("case %d accepted", id)
		}
		if h := v.int("hops", 6); h < 1 || h > 64 {
			t.Fatalf("hops %d accepted", h)
		}
		if m := v.str("model", "haircut"); m != "haircut" && m != "fifo" {
			t.Fatalf("model %q accepted", m)
		}
		if s := v.str("since", ""); len(s) > maxParamLen || !utf8.ValidString(s) {
			t.Fatalf("since %q accepted", s)
		}
		v.bool("unspent")
	})
}

// TestStatusOf is the error mapping, message included.
func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		msg    string
	}{
		{fmt.Errorf("casestore: x: %w", casestore.ErrNotFound), 404, "not found"},
		{&casestore.InvalidError{Field: "title", Problem: "empty"}, 400, "invalid title: empty"},
		{fmt.Errorf("casestore: change case 3: %w (role read-only may not)", casestore.ErrForbidden), 403, "forbidden"},
		{fmt.Errorf("casestore: %w", casestore.ErrUnauthorized), 401, "unauthorised"},
		{fmt.Errorf("casestore: case reference %q is taken in agency X: %w", "1", casestore.ErrConflict), 409, "conflict: "},
		{fmt.Errorf("workspace: %w: %q is not a hash (64 hex digits)", chain.ErrInvalid, "ab"), 400, `"ab" is not a hash (64 hex digits)`},
		{fmt.Errorf("trace: %w: 70 hops (1 to 64)", chain.ErrInvalid), 400, "70 hops (1 to 64)"},
		{fmt.Errorf("index: transaction x: %w", chain.ErrNotFound), 404, "not found"},
		{fmt.Errorf("workspace: %w /srv/secret/data (run vestigo import)", workspace.ErrNoData), 404, "not found: the server holds no index for this"},
		{fmt.Errorf("workspace: %w: 2 indexes; choose one with --network", workspace.ErrAmbiguous), 400, "choose one with the network parameter"},
		{fmt.Errorf("entity: %w", entity.ErrNoClusters), 409, "cluster store"},
		{&http.MaxBytesError{Limit: 5}, 413, "request body too large"},
		{fmt.Errorf("casestore: read exhibit: %w", &http.MaxBytesError{Limit: 5}), 413, "request body too large"},
		{&casestore.InvalidError{Field: "content", Problem: "larger than the limit of 5 bytes"}, 413, "request body too large"},
		{errors.New("open /srv/secret/cases.db: permission denied"), 500, "internal error"},
		{badRequest("hops %d", 3), 400, "hops 3"},
		{&apiError{status: 429, msg: "slow down", retryAfter: 3}, 429, "slow down"},
	} {
		st, msg := statusOf(tc.err)
		if st != tc.status || !strings.Contains(msg, tc.msg) {
			t.Errorf("%v: %d %q, want %d %q", tc.err, st, msg, tc.status, tc.msg)
		}
		if strings.Contains(msg, "/srv/secret") {
			t.Errorf("%v: %q leaks a path", tc.err, msg)
		}
	}
}

// TestLoginLimiter drives the token buckets with a clock.
func TestLoginLimiter(t *testing.T) {
	l := newLoginLimiter(3, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if ok, _ := l.take(t0, "user:a", "ip:1"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	ok, retry := l.take(t0, "user:a", "ip:2")
	if ok || retry != time.Minute {
		t.Fatalf("4th attempt: %v %v", ok, retry)
	}
	// The other address is untouched by the refusal: a different user can
	// still try from it.
	if ok, _ := l.take(t0, "user:b", "ip:2"); !ok {
		t.Fatal("ip:2 was charged for a refused attempt")
	}
	if ok, retry := l.take(t0.Add(30*time.Second), "user:a", "ip:3"); ok || retry != 30*time.Second {
		t.Fatalf("half refilled: %v %v", ok, retry)
	}
	if ok, _ := l.take(t0.Add(time.Minute), "user:a", "ip:3"); !ok {
		t.Fatal("refilled bucket refused")
	}
	l.give(t0.Add(time.Minute), "user:a")
	if ok, _ := l.take(t0.Add(time.Minute), "user:a", "ip:4"); !ok {
		t.Fatal("a given-back token is not there")
	}
	// A clock going backwards refills nothing and breaks nothing.
	if ok, _ := l.take(t0, "user:a", "ip:5"); ok {
		t.Fatal("an earlier time refilled the bucket")
	}
	// The table is bounded.
	for i := 0; i < maxBuckets+10; i++ {
		l.take(t0, "ip:"+strconv.Itoa(i))
	}
	if len(l.buckets) > maxBuckets {
		t.Fatalf("%d buckets", len(l.buckets))
	}
	if retrySeconds(1500*time.Millisecond) != 2 || retrySeconds(0) != 1 {
		t.Fatal("retrySeconds")
	}
}

func TestPublicMessage(t *testing.T) {
	for in, want := range map[string]string{
		"workspace: invalid input: \"x\" is not a hash":  `"x" is not a hash`,
		"casestore: invalid title: empty":                "invalid title: empty",
		"trace: invalid input: path search limits (1–2)": "path search limits (1–2)",
		"plain":                  "plain",
		"a\nb   c":               "a b c",
		strings.Repeat("x", 400): strings.Repeat("x", 300) + "…",
	} {
		if got := publicMessage(errors.New(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// failingReader yields data, then fails at its end (as the store's checked
// reader does for altered content).
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(b []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(b, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestCopyHoldingLast(t *testing.T) {
	for _, size := range []int{0, 1, 100, 32 << 10, 32<<10 + 1, 100_000} {
		data := bytes.Repeat([]byte{7}, size)
		var out bytes.Buffer
		if err := copyHoldingLast(&out, &failingReader{data: bytes.Clone(data), err: io.EOF}); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("%d bytes: %v, %d copied", size, err, out.Len())
		}
		out.Reset()
		bad := errors.New("content differs")
		err := copyHoldingLast(&out, &failingReader{data: bytes.Clone(data), err: bad})
		if err != bad || (size > 0 && out.Len() >= size) {
			t.Fatalf("%d bytes, failing at the end: %v, %d copied", size, err, out.Len())
		}
	}
}
