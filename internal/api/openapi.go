package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// openAPI builds the OpenAPI 3.0 document from the route table: every
// route's path, method, summary, parameters (with their bounds), request
// body, permission (x-vestigo-permission) and security. Request bodies are
// described from the Go types the handlers decode.
func (s *Server) openAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		op := map[string]any{
			"summary":              rt.sum,
			"operationId":          operationID(rt),
			"tags":                 []string{rt.tag},
			"x-vestigo-permission": rt.perm.String(),
			"responses":            responses(rt),
		}
		if rt.perm == permPublic {
			op["security"] = []any{}
		}
		if len(rt.params) > 0 {
			var ps []any
			for _, p := range rt.params {
				ps = append(ps, paramDoc(p))
			}
			op["parameters"] = ps
		}
		switch rt.body {
		case bodyJSON:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.request}}}}
		case bodyUpload:
			op["requestBody"] = map[string]any{"required": true,
				"description": fmt.Sprintf("the file: multipart/form-data with a part named %q, or the raw bytes with Content-Type and the name in the %q query parameter; at most %d bytes", uploadField, "name", s.maxExh),
				"content": map[string]any{
					"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{
						uploadField: map[string]any{"type": "string", "format": "binary"}}}},
					"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
				}}
		}
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	schemas := map[string]any{
		"Error": map[string]any{"type": "object", "required": []string{"error"},
			"properties": map[string]any{"error": map[string]any{"type": "string"}}},
	}
	for name, v := range requestTypes {
		schemas[name] = schemaOf(reflect.TypeOf(v))
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "Vestigo API",
			"version": s.version,
			"description": "The team server of Vestigo. Chain and analysis answers are the JSON that the vestigo command prints with --json " +
				"(amounts in integer satoshis). Authenticate with POST /api/v1/login (a session cookie; unsafe requests then need the " +
				"X-CSRF-Token header) or with Authorization: Bearer <token>. x-vestigo-permission names what each route requires: " +
				"read (every role), annotate (admin, investigator, reviewer), write (admin, investigator), audit (admin, reviewer), admin.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
		"security": []any{map[string]any{"session": []string{}}, map[string]any{"bearer": []string{}}},
	}
}

func operationID(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, part := range strings.Split(strings.TrimPrefix(rt.path, v1), "/") {
		part = strings.Trim(part, "{}")
		part = strings.NewReplacer(".", "_", "-", "_").Replace(part)
		if part != "" {
			b.WriteString("_" + part)
		}
	}
	return b.String()
}

func paramDoc(p param) map[string]any {
	schema := map[string]any{"type": p.kind.openAPI()}
	if p.kind == kInt {
		schema["format"] = "int64"
		schema["minimum"] = p.min
		schema["maximum"] = p.max
	}
	if p.kind == kString {
		schema["maxLength"] = maxParamLen
	}
	if len(p.enum) > 0 {
		schema["enum"] = p.enum
	}
	if p.def != "" {
		switch p.kind {
		case kInt:
			n, _ := strconv.ParseInt(p.def, 10, 64)
			schema["default"] = n
		case kBool:
			schema["default"] = p.def == "true"
		default:
			schema["default"] = p.def
		}
	}
	in := "query"
	if p.inPath {
		in = "path"
	}
	return map[string]any{"name": p.name, "in": in, "description": p.desc, "required": p.required || p.inPath, "schema": schema}
}

func responses(rt *route) map[string]any {
	errRef := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{
			"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	status := rt.success()
	ok := map[string]any{"description": "success"}
	switch {
	case rt.download:
		ok["content"] = map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
	case rt.stream:
		ok["description"] = "server-sent events: progress {hop, frontier, txs_read, elapsed_ms}, then result (the JSON of the plain route) or error {error}"
		ok["content"] = map[string]any{eventStreamType: map[string]any{"schema": map[string]any{"type": "string"}}}
	case status != http.StatusNoContent:
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{}}}
	}
	r := map[string]any{strconv.Itoa(status): ok, "400": errRef("invalid input")}
	if rt.perm != permPublic {
		r["401"] = errRef("no or bad credentials")
		r["403"] = errRef("the role lacks the permission, or a missing CSRF token")
	}
	if len(rt.params) > 0 || rt.perm != permPublic {
		r["404"] = errRef("not found")
	}
	if rt.body != bodyNone {
		r["413"] = errRef("body too large")
	}
	if rt.path == v1+"/login" {
		r["401"] = errRef("wrong username or password")
		r["429"] = errRef("too many failed logins; see Retry-After")
	}
	return r
}

var timeType = reflect.TypeOf(time.Time{})
var rawType = reflect.TypeOf(json.RawMessage{})

// schemaOf describes a Go type as encoding/json reads it.
func schemaOf(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(t.Elem())
		s["nullable"] = true
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type)
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	}
	return map[string]any{}
}
