package api

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the type of a parameter.
type kind int

const (
	kString kind = iota
	kInt
	kBool
)

func (k kind) openAPI() string {
	switch k {
	case kInt:
		return "integer"
	case kBool:
		return "boolean"
	}
	return "string"
}

// param declares one path or query parameter of a route. The middleware
// rejects undeclared query parameters, repeated ones and values outside
// the declaration before a handler runs; the OpenAPI document shows the
// same declaration.
type param struct {
	name     string
	inPath   bool
	kind     kind
	desc     string
	required bool // path parameters always are
	// min and max bound an integer (inclusive).
	min, max int64
	// def is the documented default (the handler applies it).
	def  string
	enum []string
}

// maxParamLen bounds a string parameter's bytes.
const maxParamLen = 1024

// Helpers that build the common declarations.

func pathStr(name, desc string) param {
	return param{name: name, inPath: true, kind: kString, desc: desc, required: true}
}

func pathID(name, desc string) param {
	return param{name: name, inPath: true, kind: kInt, desc: desc, required: true, min: 1, max: 1<<63 - 1}
}

func queryStr(name, desc, def string, enum ...string) param {
	return param{name: name, kind: kString, desc: desc, def: def, enum: enum}
}

func queryInt(name, desc string, min, max int64, def string) param {
	return param{name: name, kind: kInt, desc: desc, min: min, max: max, def: def}
}

func queryBool(name, desc string) param {
	return param{name: name, kind: kBool, desc: desc, def: "false"}
}

// values are a request's checked parameters.
type values struct {
	declared []param
	raw      map[string]string // present parameters only
}

// check validates the path and query parameters of a request against the
// declarations.
func checkParams(decl []param, path func(string) string, q url.Values) (values, error) {
	v := values{declared: decl, raw: map[string]string{}}
	for name, vs := range q {
		i := slices.IndexFunc(decl, func(p param) bool { return p.name == name && !p.inPath })
		if i < 0 {
			return v, badRequest("unknown query parameter %q", clip(name))
		}
		if len(vs) != 1 {
			return v, badRequest("query parameter %q given %d times", name, len(vs))
		}
	}
	for _, p := range decl {
		var s string
		var present bool
		if p.inPath {
			s = path(p.name)
			present = true
		} else if vs, ok := q[p.name]; ok {
			s, present = vs[0], true
		}
		if !present {
			if p.required {
				return v, badRequest("query parameter %q is required", p.name)
			}
			continue
		}
		if err := p.check(s); err != nil {
			return v, err
		}
		v.raw[p.name] = s
	}
	return v, nil
}

func (p param) check(s string) error {
	where := "query parameter"
	if p.inPath {
		where = "path parameter"
	}
	if len(s) > maxParamLen || !utf8.ValidString(s) {
		return badRequest("%s %q is too long or not UTF-8", where, p.name)
	}
	if p.inPath && strings.TrimSpace(s) == "" {
		return badRequest("%s %q is empty", where, p.name)
	}
	switch p.kind {
	case kInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return badRequest("%s %q: %q is not an integer", where, p.name, clip(s))
		}
		if n < p.min || n > p.max {
			return badRequest("%s %q: %d is out of range (%d to %d)", where, p.name, n, p.min, p.max)
		}
	case kBool:
		if _, err := strconv.ParseBool(s); err != nil {
			return badRequest("%s %q: %q is not true or false", where, p.name, clip(s))
		}
	default:
		if len(p.enum) > 0 && !slices.Contains(p.enum, s) {
			return badRequest("%s %q: %q is not one of %s", where, p.name, clip(s), strings.Join(p.enum, ", "))
		}
	}
	return nil
}

// clip bounds user input echoed in a message.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

func (v values) decl(name string, k kind) {
	i := slices.IndexFunc(v.declared, func(p param) bool { return p.name == name })
	if i < 0 || v.declared[i].kind != k {
		// A handler reading a parameter its route does not declare is a
		// bug of this package; the route tests reach every handler.
		panic(fmt.Sprintf("api: parameter %q (kind %d) is not declared by the route", name, k))
	}
}

// has reports whether the request gave the parameter.
func (v values) has(name string) bool {
	i := slices.IndexFunc(v.declared, func(p param) bool { return p.name == name })
	if i < 0 {
		panic(fmt.Sprintf("api: parameter %q is not declared by the route", name))
	}
	_, ok := v.raw[name]
	return ok
}

func (v values) str(name, def string) string {
	v.decl(name, kString)
	if s, ok := v.raw[name]; ok {
		return strings.TrimSpace(s)
	}
	return def
}

func (v values) int(name string, def int64) int64 {
	v.decl(name, kInt)
	if s, ok := v.raw[name]; ok {
		n, _ := strconv.ParseInt(s, 10, 64) // checked
		return n
	}
	return def
}

func (v values) bool(name string) bool {
	v.decl(name, kBool)
	b, _ := strconv.ParseBool(v.raw[name]) // checked; absent is false
	return b
}
